"""Learning-rate schedules and time boxes shared by the pretraining scripts.

`warmup_cosine` is the schedule of every pretraining stage (text encoders, VAE, transformers):
a linear warm-up to the peak, then a cosine down to `floor` x peak at the last step.
`warmup_times_cosine` is the judge's: the warm-up multiplies a cosine that starts at step 0.

`StepBudget` fits a run's length to a wall-clock budget, so that one command can pretrain every
stage "in N minutes" on any machine: the run starts with a provisional length, times its first
steps, and then fixes its total number of steps to what the budget allows. The warm-up is the
same either way (it does not depend on the total), so the steps taken before the fit are the
steps of the fitted schedule. The fitted length is saved with the training state, so a run
resumed after a kill keeps it.
"""
from __future__ import annotations

import math
import time


def warmup_cosine(step: int, peak: float, warmup: int, total: int, floor: float = 0.1, start: int = 0) -> float:
    """Linear warm-up from `start` over `warmup` steps, then cosine from `peak` to `floor * peak` at `total`."""
    if step - start < warmup:
        return peak * (step - start + 1) / warmup
    progress = min(1.0, (step - start - warmup) / max(1, total - start - warmup))
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def warmup_times_cosine(step: int, peak: float, total: int, warmup: int = 200, floor: float = 0.1) -> float:
    """A linear warm-up over `warmup` steps, times a cosine over all `total` steps from `peak` to `floor * peak`
    (so the warm-up climbs towards a peak that is already decaying)."""
    return peak * min(1.0, (step + 1) / warmup) * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * step / total)))


class StepBudget:
    """Decide a run's total steps from a time budget (seconds), after timing `probe_steps` steps.

    Usage in a training loop: `total = budget.update(step, total)` after each step; it returns
    `total` unchanged until the probe is done, then the fitted total (never below the steps
    already taken + 1, never above `max_steps` when that is set)."""

    def __init__(self, seconds: float, probe_steps: int = 20, max_steps: int | None = None):
        self.seconds, self.probe_steps, self.max_steps = seconds, probe_steps, max_steps
        self.started: tuple[int, float] | None = None
        self.fitted = False

    def update(self, step: int, total: int, spent_before: float = 0.0) -> int:
        """`spent_before`: seconds of the budget used by earlier runs of the same stage (a resume)."""
        if self.fitted or self.seconds <= 0:
            return total
        now = time.perf_counter()
        if self.started is None:
            self.started = (step, now)
            return total
        first, t0 = self.started
        if step - first < self.probe_steps:
            return total
        per_step = (now - t0) / (step - first)
        left = max(0.0, self.seconds - spent_before - (now - t0))
        fitted = step + max(1, int(left / per_step))
        self.fitted = True
        return min(fitted, self.max_steps) if self.max_steps else fitted
