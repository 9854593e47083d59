# The course's entry points. `make demo`, `make test`, `make lab` create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-unit test-notebooks notebooks lab clean remeasure stale-states mini-judge mini-adapters mini-lora mini-moe \
	mini-clip table-training-free table-fine-tuning table-scaling-free table-scaling-moe table-moe-routing table-metric-agreement

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

# Re-execute every notebook in place, full size, so committed outputs match the committed code and models, and stamp
# each with the digest of those inputs (`tests/test_notebooks.py` fails when the stamp no longer matches).
notebooks: venv
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 notebooks/*.ipynb
	$(BIN)/python -m icedit_lib.notebook notebooks/*.ipynb

# After the shipped Fill base or VAE changes: retrain everything that depends on it and regenerate every table.
# `make -j2 remeasure` runs two single-thread lanes (47 min on the 2-core CPU in session 18 with 4000-step adapters;
# the distilled 12000-step adapters take 33 and 37 min at one thread each, so expect about 80 min); states cached for
# another base are removed first so nothing resumes from them, and those of this base kept, so a killed run resumes.
ONE_THREAD := OMP_NUM_THREADS=1 $(BIN)/python -m
remeasure: table-training-free table-fine-tuning table-scaling-free table-scaling-moe table-moe-routing table-metric-agreement

# States trained on another base are removed; states of this base are kept, so a killed `make remeasure` resumes.
stale-states: venv
	@base=$$(cat data/models/mini/*/*.safetensors | sha256sum | cut -c1-16); \
	if [ "$$(cat checkpoints/remeasure_base 2>/dev/null)" != "$$base" ]; then \
		rm -rf checkpoints/mini_lora checkpoints/mini_moe checkpoints/judge results/fine_tuning/adapters results/fine_tuning/work; \
		mkdir -p checkpoints && echo $$base > checkpoints/remeasure_base; echo "states of another base removed"; fi

mini-judge: stale-states
	$(ONE_THREAD) icedit_lib.train_judge --base mini --adapter none --output-dir data/models/mini_judge --threads 1

mini-adapters: mini-lora mini-moe

mini-lora: stale-states
	$(ONE_THREAD) icedit_lib.train --base mini --adapter lora --text-encoder-rank 16 --caption-distill 1 --output-dir data/models/mini_lora --work-dir checkpoints/mini_lora --max-steps 12000 --eval-n 64 --threads 1

mini-moe: stale-states
	$(ONE_THREAD) icedit_lib.train --base mini --adapter moe --text-encoder-rank 16 --caption-distill 1 --output-dir data/models/mini_moe --work-dir checkpoints/mini_moe --max-steps 12000 --eval-n 64 --threads 1

table-training-free: stale-states
	$(ONE_THREAD) icedit_lib.experiments training-free --out-dir results/training_free

table-fine-tuning: mini-adapters
	$(ONE_THREAD) icedit_lib.experiments fine-tuning --out-dir results/fine_tuning --n 64 --steps 28 --train-steps 1000

table-scaling-free: mini-judge
	$(ONE_THREAD) icedit_lib.experiments scaling --out-dir results/scaling_training_free --adapter none --judge mini-judge

table-scaling-moe: mini-judge mini-moe
	$(ONE_THREAD) icedit_lib.experiments scaling --out-dir results/scaling_moe --adapter mini-moe --judge mini-judge

# The miniature's CLIP depends on ShapesWorld alone, not on the base: trained once, kept (delete it to retrain).
mini-clip: venv
	test -f data/models/mini_clip/model.safetensors || $(ONE_THREAD) icedit_lib.mini_clip --output-dir data/models/mini_clip \
		--work-dir checkpoints/mini_clip --steps 4000 --width 128 --threads 1

table-metric-agreement: table-fine-tuning mini-clip
	$(ONE_THREAD) icedit_lib.metric_agreement --clip data/models/mini_clip --out-dir results/metric_agreement

table-moe-routing: mini-moe
	$(ONE_THREAD) icedit_lib.experiments moe-routing --out-dir results/moe_routing

lab: venv
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf $(VENV) outputs
