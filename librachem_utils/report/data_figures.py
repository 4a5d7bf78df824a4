"""Figures of the data (steps 01-03): request balance, text lengths and wording diversity."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from librachem_utils.core import files
from librachem_utils.core.schema import INTENTS, LABELS, MODES
from librachem_utils.report.style import LABEL_COLORS, PALETTE, new_figure, styled, words


def _count_table(requests: Iterable[dict]) -> np.ndarray:
    counts = Counter()
    for row in requests:
        counts[(row["intent"], row["label"])] += row["rows"]
    return np.array([[counts[(intent, label)] for label in LABELS] for intent in INTENTS])


def _summary(source: dict | str | Path) -> dict:
    return source if isinstance(source, dict) else files.read_json(source)


@styled
def balance_figure(summary: dict | str | Path) -> Figure:
    """Heatmaps of requests per intent × label: the seed, then the dataset in each mode (all splits).

    ``summary`` is ``results/dataset_summary.json`` (``dataset.dataset_summary``) or its content.
    """
    requests = _summary(summary)["requests"]
    panels = [("seed", [r for r in requests if r["source"] == "seed"])]
    panels += [(f"dataset, {mode.upper()} (all splits)",
                [r for r in requests if r["source"] == "dataset" and r["mode"] == mode]) for mode in MODES]
    panels = [(title, rows) for title, rows in panels if rows]
    if not panels:
        raise ValueError("balance_figure needs request counts of the seed or the dataset")
    fig, axes = new_figure(1, len(panels), 2.6 * len(panels) + 1.2, 4.2, sharey=True)
    for ax, (title, rows) in zip(axes[0], panels):
        table = _count_table(rows)
        sns.heatmap(table, ax=ax, annot=True, fmt="d", cmap="Blues", cbar=False, linewidths=0.5,
                    xticklabels=LABELS, yticklabels=[words(i) for i in INTENTS], vmin=0)
        ax.grid(False)
        total = table.sum(axis=0)
        ax.set_title(f"{title}\n{total[0]} legitimate / {total[1]} illegitimate")
        ax.tick_params(axis="y", rotation=0)
    axes[0][0].set_ylabel("intent")
    fig.suptitle("Requests per intent and label")
    return fig


@styled
def lengths_figure(summary: dict | str | Path) -> Figure:
    """Word counts of prompts (by label) and of chosen vs rejected responses (per label).

    ``summary`` is ``results/dataset_summary.json`` (``dataset.dataset_summary``) or its content.
    """
    counts = _summary(summary)["word_counts"]
    if not counts:
        raise ValueError("lengths_figure needs word counts of the dataset")
    fig, axes = new_figure(1, 3, 11, 3.4)

    def histogram(ax, request_label, field, **style):
        part = [c for c in counts if c["label"] == request_label and c["field"] == field]
        ax.hist([c["words"] for c in part], bins=bins, weights=[c["rows"] for c in part], histtype="step",
                linewidth=1.5, **style)

    longest = max(c["words"] for c in counts)
    bins = np.histogram_bin_edges([0, longest], bins=min(40, longest + 1))
    for label in LABELS:
        rows = sum(c["rows"] for c in counts if c["label"] == label and c["field"] == "prompt")
        histogram(axes[0][0], label, "prompt", color=LABEL_COLORS[label], label=f"{label} (n = {rows})")
    axes[0][0].set_title("prompts")
    for ax, label in zip(axes[0][1:], LABELS):
        for field, color in (("chosen", PALETTE[0]), ("rejected", PALETTE[1])):
            histogram(ax, label, field, color=color, label=field)
        ax.set_title(f"responses to {label} requests")
    for ax in axes[0]:
        ax.set_xlabel("length (words)")
        ax.legend()
    axes[0][0].set_ylabel("rows")
    total = sum(c["rows"] for c in counts if c["field"] == "prompt")
    fig.suptitle(f"Text lengths in the dataset ({total} rows, all splits and modes)")
    return fig


def _diversity_name(row: dict) -> str:
    """The legend label of one diversity row: its stage, row count and the fixed sample size."""
    sample = f"; sample of {row['sample_rows']}" if row.get("sample_rows") else ""
    return f"{row['stage']} ({row['rows']} rows{sample})"


@styled
def diversity_figure(diversity: Sequence[dict] | str | Path) -> Figure:
    """Distinct prompt shapes, distinct 3-grams per 1,000 rows (both higher = more varied) and mean pairwise
    3-gram Jaccard (lower = more varied), each on the same fixed-size sample before and after rephrasing."""
    rows = files.read_json(diversity) if isinstance(diversity, (str, Path)) else list(diversity)
    if not rows:
        raise ValueError("diversity_figure needs at least one row of diversity measures")
    fields = ("prompt", "chosen", "rejected")
    fig, axes = new_figure(1, 3, 12, 3.4, width_ratios=(1, 2, 2))
    shapes = axes[0][0]
    bars = shapes.bar(np.arange(len(rows)), [row.get("prompt_shapes", np.nan) for row in rows],
                      color=[PALETTE[i] for i in range(len(rows))])
    shapes.bar_label(bars, fmt="%d", fontsize=6.5, padding=1)
    shapes.set_xticks(np.arange(len(rows)), [row["stage"].split(",")[0] for row in rows])
    shapes.set_title("distinct prompt shapes ↑")
    shapes.margins(y=0.15)
    width = 0.8 / len(rows)
    x = np.arange(len(fields))
    for ax, key, title, fmt in ((axes[0][1], "distinct_3_per_1k", "distinct 3-grams per 1,000 rows ↑", "%.0f"),
                                (axes[0][2], "pairwise_jaccard", "mean pairwise 3-gram Jaccard ↓", "%.3f")):
        for i, row in enumerate(rows):
            values = [row.get(f"{field}_{key}", np.nan) for field in fields]
            bars = ax.bar(x + (i - (len(rows) - 1) / 2) * width, values, width, color=PALETTE[i],
                          label=_diversity_name(row))
            ax.bar_label(bars, fmt=fmt, fontsize=6.5, padding=1)
        ax.set_xticks(x, ["prompts", "chosen", "rejected"])
        ax.set_title(title)
        ax.margins(y=0.15)
    handles, labels = axes[0][1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(rows))
    fig.suptitle("Wording diversity before and after rephrasing, on a fixed-size sample (masked compounds)")
    return fig
