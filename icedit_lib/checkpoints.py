"""Atomic files and resumable training state, safetensors only (nothing is unpickled).

A training state is one safetensors file: the model's tensors under `model.`, the
optimizer's per-parameter tensors under `optim.`, and in its metadata the step, the
optimizer's scalar settings and any extra JSON. It is written to a temporary file and
renamed into place, so a kill at any moment leaves either the old or the new state.
Data and noise are drawn from generators seeded by (seed, step), so a resumed run
continues exactly where the killed one stopped without storing RNG state.
"""
from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def _sibling_name(path: Path, suffix: str = "") -> Path:
    """A fresh hidden name beside `path` for a temporary file or folder."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}{suffix}")


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside `path`; on success rename it onto `path`.

    On failure the temporary file is removed and `path` is left untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling_name(path, path.suffix or ".tmp")
    # created like any saved file (0o666 less the umask), unlike mkstemp's private 0o600
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: str | Path):
    """Yield a temporary folder beside `path`; on success swap it in for `path`.

    A kill leaves the old folder (or, in the instant between two renames, `path.old`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling_name(path)
    tmp.mkdir(0o777)  # less the umask, unlike mkdtemp's private 0o700: a shipped model folder is read by others
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def trim_step_log(path: str | Path, step: int) -> None:
    """Keep the lines of a JSON-lines log whose "step" is at most `step`, the state a run starts from:
    a fresh run (step 0) starts an empty log, and a resumed one drops the steps it is about to redo."""
    path = Path(path)
    if path.exists():
        kept = [line for line in path.read_text().splitlines(keepends=True)
                if line.strip() and json.loads(line).get("step", 0) <= step]
        atomic_write_text(path, "".join(kept))


def step_rng(seed: int, step: int) -> tuple[random.Random, torch.Generator]:
    """Python and torch generators for one training step, independent of history."""
    mixed = (seed * 1_000_003 + step) % (2 ** 63)
    return random.Random(mixed), torch.Generator().manual_seed(mixed)


class _StepData(torch.utils.data.IterableDataset):
    """Steps `start`, `start + 1`, ... of a run, each step's data `make(step)` made in DataLoader worker
    processes: worker w of n makes steps start + w, start + w + n, ..., and the DataLoader takes the workers
    in turn, so the training loop receives the steps in order, exactly the data it would have made itself."""

    def __init__(self, make, start: int, stop: int):
        super().__init__()
        self.make, self.start, self.stop = make, start, stop

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        for step in range(self.start + worker, self.stop, workers):
            yield step, self.make(step)


def step_data(make, start: int, stop: int, workers: int = 0):
    """(step, make(step)) for steps start..stop-1, in order: made here, or ahead of the training step in
    `workers` processes (`make` must pickle: a module-level function or a `functools.partial` of one). Since a
    step's data is a function of (seed, step) alone, both give the same data and a resumed run continues it."""
    if not workers:
        return ((step, make(step)) for step in range(start, stop))
    return iter(torch.utils.data.DataLoader(_StepData(make, start, stop), batch_size=None, num_workers=workers,
                                            prefetch_factor=4))


def _model_tensors(model: torch.nn.Module, trainable_only: bool) -> dict[str, torch.Tensor]:
    if trainable_only:  # adapters: the 12B base stays out of the checkpoint
        return {k: v for k, v in model.named_parameters() if v.requires_grad}
    return model.state_dict()


def save_training_state(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None,
                        step: int, extra: dict | None = None, ema: torch.nn.Module | None = None,
                        trainable_only: bool = False) -> None:
    # clone: tied weights (T5 shares its embedding) would otherwise share storage, which safetensors refuses
    tensors = {f"model.{k}": v.detach().cpu().clone() for k, v in _model_tensors(model, trainable_only).items()}
    if ema is not None:
        tensors.update({f"ema.{k}": v.detach().cpu().clone() for k, v in ema.state_dict().items()})
    meta = {"step": step, "extra": extra or {}, "trainable_only": trainable_only}
    if optimizer is not None:
        opt = optimizer.state_dict()
        for pid, state in opt["state"].items():
            for key, value in state.items():
                if torch.is_tensor(value):
                    tensors[f"optim.{pid}.{key}"] = value.detach().contiguous().cpu()
                else:
                    meta.setdefault("optim_scalars", {}).setdefault(str(pid), {})[key] = value
        meta["param_groups"] = opt["param_groups"]
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"icedit": json.dumps(meta)})


def load_training_state(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None,
                        ema: torch.nn.Module | None = None) -> dict:
    """Restore model (and optimizer, EMA) in place; return the metadata (step, extra)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()["icedit"])
    tensors = load_file(str(path))
    weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    if meta.get("trainable_only"):
        expected = set(_model_tensors(model, True))
        if set(weights) != expected:
            raise ValueError(f"{path} does not match this model's trainable parameters "
                             f"({len(set(weights) ^ expected)} names differ): another adapter configuration?")
        model.load_state_dict(weights, strict=False)
    else:
        model.load_state_dict(weights)
    if ema is not None:
        ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    if optimizer is not None and "param_groups" in meta:
        state: dict[int, dict] = {}
        for k, v in tensors.items():
            if k.startswith("optim."):
                _, pid, key = k.split(".", 2)
                state.setdefault(int(pid), {})[key] = v
        for pid, scalars in meta.get("optim_scalars", {}).items():
            state.setdefault(int(pid), {}).update(scalars)
        optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta


class TrainingRun:
    """The skeleton a training loop shares: resume from `work_dir/state.safetensors`, a progress bar, a step
    log (`log.jsonl`), a checkpoint every `checkpoint_minutes` and at the last step, wall time summed over
    resumes, and a length fitted to a time budget (`schedule.StepBudget`) that a resume keeps.

        run = TrainingRun(work_dir, model, opt, total=steps, desc="text")
        while run.step < run.total:
            loss = ...
            run.optimizer_step(loss, lr)   # or, after a step of its own, run.advance(loss)
        run.close()

    `ema` (with `ema_decay`) is a copy of the model averaged after every step and saved with the state.
    """

    def __init__(self, work_dir: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, total: int,
                 desc: str, checkpoint_minutes: float = 2.0, budget_minutes: float = 0.0, log_every: int = 50,
                 ema: torch.nn.Module | None = None, ema_decay: float = 0.0, log_path: str | Path | None = None,
                 trainable_only: bool = False, main_process: bool = True):
        from tqdm.auto import tqdm

        from .schedule import StepBudget

        self.work = Path(work_dir)
        self.state_path = self.work / "state.safetensors"
        self.log_path = Path(log_path) if log_path else self.work / "log.jsonl"
        # an adapter's state holds its own weights only; with several processes the first one logs and saves
        self.trainable_only, self.main_process = trainable_only, main_process
        self.model, self.optimizer, self.ema, self.total = model, optimizer, ema, total
        # an exponential moving average of the weights, updated after every optimizer step (what gets exported)
        self.ema_decay = ema_decay
        self._ema_pairs = (list(ema.parameters()), list(model.parameters())) if ema is not None and ema_decay else None
        self.checkpoint_s, self.log_every = checkpoint_minutes * 60, log_every
        self.budget = StepBudget(budget_minutes * 60, max_steps=total)
        self.step, elapsed, self.extra = 0, 0.0, {}
        if self.state_path.exists():
            meta = load_training_state(self.state_path, model, optimizer, ema=ema)
            self.step, self.extra = meta["step"], meta["extra"]
            elapsed = self.extra.get("elapsed_s", 0.0)
            if self.extra.get("fitted_steps"):  # the length fitted to the budget when the run began
                self.total, self.budget.fitted = self.extra["fitted_steps"], True
            if main_process:
                print(f"resumed from {self.state_path} at step {self.step} of {self.total}")
        if main_process:
            trim_step_log(self.log_path, self.step)  # the log holds this run's steps, never an earlier run's
        self.started, self.last_save = time.time() - elapsed, time.time()
        self.bar = tqdm(total=self.total, initial=self.step, desc=desc, dynamic_ncols=True, disable=not main_process)

    @property
    def elapsed(self) -> float:
        return time.time() - self.started

    def start_at(self, step: int, elapsed_s: float, **extra) -> None:
        """A run with no saved state that continues weights exported at `step` (a fresh optimizer)."""
        self.step, self.started = step, time.time() - elapsed_s
        self.extra.update(extra)
        self.bar.n = step
        self.bar.refresh()

    def optimizer_step(self, loss: torch.Tensor, lr: float, max_grad_norm: float | None = 1.0, **values) -> None:
        """The step every simple loop takes: set the learning rate, backpropagate, clip (unless `max_grad_norm` is
        None), step, update the EMA, then `advance`."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]],
                                           max_grad_norm)
        self.optimizer.step()
        if self._ema_pairs is not None:
            with torch.no_grad():  # one fused update of every EMA weight, no per-tensor Python loop
                torch._foreach_lerp_(*self._ema_pairs, 1 - self.ema_decay)
        self.advance(loss, **values)

    def advance(self, loss: torch.Tensor, **values) -> None:
        """After an optimizer step: count it, fit the length to the budget, log every `log_every`, save when due."""
        self.step += 1
        self.bar.update(1)
        if not self.budget.fitted:
            self.total = self.bar.total = self.budget.update(self.step, self.total)
        if self.step % self.log_every == 0 and self.main_process:
            value = loss.item()
            self.bar.set_postfix(loss=f"{value:.4f}")
            self.log({"step": self.step, "loss": value, "elapsed_s": round(self.elapsed, 1),
                      **{k: round(float(v), 5) for k, v in values.items()}})
        if time.time() - self.last_save > self.checkpoint_s or self.step >= self.total:
            self.save()

    def log(self, entry: dict) -> None:
        """One line of the step log (an evaluation, say); its folder is made with the first line, so a run that
        fails at once leaves none."""
        if self.main_process:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def save(self) -> None:
        if self.main_process:
            self.work.mkdir(parents=True, exist_ok=True)
            save_training_state(self.state_path, self.model, self.optimizer, self.step,
                                {**self.extra, "elapsed_s": self.elapsed,
                                 "fitted_steps": self.total if self.budget.fitted else 0}, ema=self.ema,
                                trainable_only=self.trainable_only)
        self.last_save = time.time()

    def close(self) -> None:
        self.bar.close()
