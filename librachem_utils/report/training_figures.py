"""Figures of training (step 04): losses, DPO reward margin and accuracy per arm, from the step logs."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from librachem_utils.core import files
from librachem_utils.eval import metrics
from librachem_utils.report.style import model_colors, new_figure, styled

TRAINING_PANELS = (("pretrain", "loss", "pretraining loss"), ("sft", "loss", "SFT loss"), ("dpo", "loss", "DPO loss"),
                   ("dpo", "rewards/margins", "DPO reward margin"),
                   ("dpo", "rewards/accuracies", "DPO reward accuracy"))


def read_logs(logs_dir: str | Path) -> dict[str, list[dict]]:
    """Each arm's training log rows, from ``logs/<arm>.jsonl``."""
    return {path.stem: files.read_jsonl(path, allow_empty=True) for path in sorted(Path(logs_dir).glob("*.jsonl"))}


def _running_mean(values: np.ndarray) -> np.ndarray:
    window = max(1, len(values) // 20)
    return np.convolve(values, np.ones(window) / window, mode="valid") if window > 1 else values


def training_series(logs: dict[str, list[dict]]) -> dict[str, dict[str, np.ndarray]]:
    """Panel title -> arm -> array of (step, value), for the ``TRAINING_PANELS`` that have logged values."""
    series = {}
    for phase, key, title in TRAINING_PANELS:
        lines = {}
        for arm, rows in logs.items():
            points = sorted((row["step"], row[key]) for row in rows
                            if row.get("phase") == phase and isinstance(row.get(key), (int, float)) and "step" in row)
            if points:
                lines[arm] = np.array(points, dtype=float)
        if lines:
            series[title] = lines
    return series


@styled
def training_figure(logs: dict[str, list[dict]] | str | Path) -> Figure:
    """Small multiples of loss, reward margin and reward accuracy per step; one line per arm."""
    series = training_series(read_logs(logs) if isinstance(logs, (str, Path)) else logs)
    if not series:
        raise ValueError("training_figure found no logged loss or DPO reward in the logs")
    arms = metrics.order_models({arm for lines in series.values() for arm in lines})
    colors = model_colors(arms)
    ncols = min(3, len(series))
    nrows = math.ceil(len(series) / ncols)
    fig, axes = new_figure(nrows, ncols, 3.8 * ncols, 2.9 * nrows + 0.5)
    for ax, (title, lines) in zip(axes.flat, series.items()):
        for arm in metrics.order_models(lines):
            steps, values = lines[arm].T
            smooth = _running_mean(values)
            ax.plot(steps, values, color=colors[arm], alpha=0.25, linewidth=0.8)
            ax.plot(steps[len(steps) - len(smooth):], smooth, color=colors[arm], linewidth=1.6)
        if title == "DPO reward accuracy":
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(title)
        ax.set_xlabel("optimizer step")
    for ax in axes.flat[len(series):]:
        ax.set_visible(False)
    fig.legend([Line2D([], [], color=colors[arm], linewidth=1.6) for arm in arms], arms,
               loc="outside lower center", ncols=min(6, len(arms)))
    fig.suptitle("Training curves (faint: every step; solid: running mean over 5% of the steps)")
    return fig
