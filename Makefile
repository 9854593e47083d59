# The course's entry points. `make demo`, `make test`, `make lab` create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-unit test-notebooks notebooks lab clean

$(STAMP): pyproject.toml requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: on CPU machines pip then takes the offline CPU build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/python -m icedit_lib.demo --out-dir outputs

test: test-unit test-notebooks

test-unit: venv
	$(BIN)/python -m pytest -q tests

test-notebooks: venv
	ICEDIT_SMOKE=1 $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env notebooks

# Re-execute every notebook in place, full size, so committed outputs match the committed code and models.
notebooks: venv
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 notebooks/*.ipynb

lab: venv
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf $(VENV) outputs
