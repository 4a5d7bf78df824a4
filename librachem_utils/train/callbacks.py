"""Trainer callbacks and measurements: the per-step log, a quiet progress bar, peak memory, and ``fit``."""
from __future__ import annotations

import contextlib
import re
import resource
import time
from pathlib import Path
from typing import Sequence

import torch
from transformers import PrinterCallback, ProgressCallback, TrainerCallback
from transformers.utils.notebook import NotebookProgressCallback

from librachem_utils.core import files


class StepLog(TrainerCallback):
    """Keeps one row per logged step (``step``, ``arm``, ``phase`` + the trainer's metrics)."""

    def __init__(self, arm: str, phase: str):
        self.arm, self.phase = arm, phase
        self.rows: list[dict] = []
        self.summary: dict = {}

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = dict(logs or {})
        if "train_runtime" in logs:  # the end-of-training summary, not a step
            self.summary = logs
            return
        self.rows.append({"step": state.global_step, "arm": self.arm, "phase": self.phase, **logs})


class QuietProgress(ProgressCallback):
    """The trainer's progress bar without a printed line per logged step (the step log keeps them)."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        pass


@contextlib.contextmanager
def quiet_library_bars():
    """No progress bars from dataset maps and weight loading while training (the trainer's own bar stays)."""
    import datasets
    from transformers.utils import logging as hf_logging

    datasets_on, transformers_on = datasets.is_progress_bar_enabled(), hf_logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if datasets_on:
            datasets.enable_progress_bars()
        if transformers_on:
            hf_logging.enable_progress_bar()


def write_log(log_file: Path, phase: str, rows: Sequence[dict]) -> None:
    """Replace ``phase``'s rows of an arm's log with ``rows``, keeping its other phases."""
    kept = [row for row in files.read_jsonl(log_file, allow_empty=True) if row["phase"] != phase] \
        if log_file.is_file() else []
    files.write_jsonl(log_file, kept + list(rows))


class PeakMemory:
    """Peak memory of a block: CUDA max allocated on a GPU, else the peak RSS of this process.

    On Linux the RSS high-water mark is reset at the start of the block, so the figure is the block's
    own peak; elsewhere it is the process's peak so far (``kind`` says which).
    """

    def __enter__(self) -> PeakMemory:
        self.cuda = torch.cuda.is_available()
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
            self.kind = "cuda_max_allocated"
        else:
            try:
                Path("/proc/self/clear_refs").write_text("5")
                self.kind = "rss_peak"
            except OSError:
                self.kind = "rss_peak_of_process"
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            self.mb = torch.cuda.max_memory_allocated() / 2**20
        elif self.kind == "rss_peak":
            status = Path("/proc/self/status").read_text()
            self.mb = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        else:
            self.mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit(trainer, log: StepLog, progress: bool) -> dict:
    """Train; return steps, runtime, tokens per second, peak memory while training and the final metrics."""
    for default in (PrinterCallback, ProgressCallback, NotebookProgressCallback):  # the last: in a notebook
        trainer.remove_callback(default)
    if progress:
        trainer.add_callback(QuietProgress)
    with PeakMemory() as memory:
        started = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - started
    tokens = int(next((row["num_tokens"] for row in reversed(log.rows) if "num_tokens" in row), 0))
    runtime = log.summary.get("train_runtime", wall)
    return {
        "steps": trainer.state.global_step, "train_runtime_s": round(runtime, 2), "train_tokens": tokens,
        "tokens_per_s": round(tokens / runtime, 1) if runtime else None,
        "peak_memory_mb": round(memory.mb, 1), "memory_kind": memory.kind,
        "weights_mb": round(trainer.model.get_memory_footprint() / 2**20, 3),
        "final_metrics": final_metrics(log.rows), "train_loss": log.summary.get("train_loss"),
    }


def final_metrics(rows: Sequence[dict]) -> dict:
    if not rows:
        return {}
    return {key: value for key, value in rows[-1].items() if key not in ("arm", "phase")}
