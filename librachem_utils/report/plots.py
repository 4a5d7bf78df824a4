"""Figures from saved results: each function takes results (paths or loaded data), returns a Figure.

Figures are plain ``matplotlib.figure.Figure`` objects made without pyplot, so nothing here picks or
forces a backend: ``save_all`` writes them to files and a notebook shows them inline either way.
One style (``STYLE``, applied inside each function) and seaborn's colorblind palette throughout.

``save_all(run_dir, out_dir)`` writes every figure whose inputs exist (see ``FIGURES``) as PNG and
PDF with reproducible bytes, and the results table as ``results_table.md`` / ``results_table.tex``.
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import matplotlib
import numpy as np
import seaborn as sns
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from librachem_utils.core import files, tables
from librachem_utils.eval import metrics as metrics_mod
from librachem_utils.core.schema import INTENTS, LABELS, LEGITIMATE, MODES
from librachem_utils.eval.metrics import RATE_NAMES

PALETTE = sns.color_palette("colorblind").as_hex()
RATE_COLORS = {"safety": PALETTE[0], "utility": PALETTE[1], "overall_accuracy": PALETTE[2]}
LABEL_COLORS = {"legitimate": PALETTE[2], "illegitimate": PALETTE[3]}
DPI = 150
STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "figure.titlesize": 11, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "axes.axisbelow": True, "legend.frameon": False,
    "axes.prop_cycle": cycler(color=PALETTE), "pdf.fonttype": 42, "svg.hashsalt": "librachem",
}
#: file name -> one-line caption, in the order a reader meets them
FIGURES = {
    "fig_balance": "Requests per intent and label: the seed and the dataset in each mode.",
    "fig_lengths": "Lengths of prompts and of chosen and rejected responses, by label.",
    "fig_diversity": "Wording diversity of the dataset before and after rephrasing and duplicate removal.",
    "fig_training": "Training curves per arm: losses, and DPO reward margin and accuracy.",
    "fig_main": "Safety, utility and overall accuracy per model with 95% bootstrap CIs, TEXT and SMILES.",
    "fig_dilemma": "The dual-use dilemma: safety against utility per model, with the Pareto frontier.",
    "fig_overrefusal": "Over-refusal by intent: the share of legitimate requests each model refuses.",
    "fig_judges": "Agreement between judges: confusion matrices and Cohen's kappa.",
}
_PNG_METADATA = {"Software": None}
_PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}


def styled(make: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a figure function inside the module's style."""
    @functools.wraps(make)
    def wrapper(*args, **kwargs) -> Figure:
        with matplotlib.rc_context(STYLE):
            return make(*args, **kwargs)
    return wrapper


def _figure(nrows: int, ncols: int, width: float, height: float, **subplot_kw):
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)


def _metrics(source: dict | str | Path) -> dict:
    return source if isinstance(source, dict) else metrics_mod.read_metrics(source)


def _nice(name: str) -> str:
    return name.replace("_", " ")


def model_colors(models: Iterable[str]) -> dict[str, str]:
    """A color per model, the same in every figure: the params' arms have fixed slots, others follow."""
    arms, ordered = metrics_mod.TRAINING_ARMS, metrics_mod.order_models(models)
    others = [m for m in ordered if m not in arms]
    slot = {**{arm: i for i, arm in enumerate(arms)}, **{m: len(arms) + i for i, m in enumerate(others)}}
    return {model: PALETTE[slot[model] % len(PALETTE)] for model in ordered}


# --- data ------------------------------------------------------------------------------------

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
    fig, axes = _figure(1, len(panels), 2.6 * len(panels) + 1.2, 4.2, sharey=True)
    for ax, (title, rows) in zip(axes[0], panels):
        table = _count_table(rows)
        sns.heatmap(table, ax=ax, annot=True, fmt="d", cmap="Blues", cbar=False, linewidths=0.5,
                    xticklabels=LABELS, yticklabels=[_nice(i) for i in INTENTS], vmin=0)
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
    fig, axes = _figure(1, 3, 11, 3.4)

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
    """The legend label of one diversity row: its stage and row count."""
    return f"{row['stage']} ({row['rows']} rows)"


@styled
def diversity_figure(diversity: Sequence[dict] | str | Path) -> Figure:
    """One panel per measure: distinct 1-3-grams (higher = more varied), mean pairwise 3-gram Jaccard (lower)."""
    rows = files.read_json(diversity) if isinstance(diversity, (str, Path)) else list(diversity)
    if not rows:
        raise ValueError("diversity_figure needs at least one row of diversity measures")
    measures = [("distinct_1", "distinct 1-grams ↑"), ("distinct_2", "distinct 2-grams ↑"),
                ("distinct_3", "distinct 3-grams ↑"), ("pairwise_jaccard", "mean pairwise 3-gram Jaccard ↓")]
    fields = ("prompt", "chosen", "rejected")
    fig, axes = _figure(1, len(measures), 12, 3.4)
    width = 0.8 / len(rows)
    x = np.arange(len(fields))
    for ax, (key, title) in zip(axes[0], measures):
        for i, row in enumerate(rows):
            values = [row.get(f"{field}_{key}", np.nan) for field in fields]
            bars = ax.bar(x + (i - (len(rows) - 1) / 2) * width, values, width, color=PALETTE[i],
                          label=_diversity_name(row))
            ax.bar_label(bars, fmt="%.3f", fontsize=6.5, padding=1)
        ax.set_xticks(x, ["prompts", "chosen", "rejected"])
        ax.set_title(title)
        ax.margins(y=0.15)
    axes[0][0].set_ylabel("share (0-1)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(rows))
    fig.suptitle("Wording diversity before and after rephrasing (↑ higher / ↓ lower = more varied)")
    return fig


# --- training --------------------------------------------------------------------------------

TRAINING_PANELS = (("pretrain", "loss", "pretraining loss"), ("sft", "loss", "SFT loss"), ("dpo", "loss", "DPO loss"),
                   ("dpo", "rewards/margins", "DPO reward margin"), ("dpo", "rewards/accuracies", "DPO reward accuracy"))


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
    arms = metrics_mod.order_models({arm for lines in series.values() for arm in lines})
    colors = model_colors(arms)
    ncols = min(3, len(series))
    nrows = math.ceil(len(series) / ncols)
    fig, axes = _figure(nrows, ncols, 3.8 * ncols, 2.9 * nrows + 0.5)
    for ax, (title, lines) in zip(axes.flat, series.items()):
        for arm in metrics_mod.order_models(lines):
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


# --- results ---------------------------------------------------------------------------------

def _groups(metrics: dict, split: str, mode: str) -> list[dict]:
    return [g for g in metrics["groups"] if g["split"] == split and g["mode"] == mode]


@styled
def main_figure(metrics: dict | str | Path, splits: Optional[Sequence[str]] = None) -> Figure:
    """Bars of safety, utility and overall accuracy per model with 95% CIs; columns TEXT | SMILES, rows splits."""
    metrics = _metrics(metrics)
    splits = list(splits or metrics["splits"])
    modes, models = metrics["modes"], metrics["models"]
    rates = ("safety", "utility", "overall_accuracy")
    panel_width = max(3.4, 0.65 * len(models) + 1.0)
    value_labels = len(models) <= 6  # with more models the bars are too thin to carry numbers; the table has them
    fig, axes = _figure(len(splits), len(modes), panel_width * len(modes) + 0.6, 3.2 * len(splits) + 0.8, sharey=True)
    width = 0.8 / len(rates)
    x = np.arange(len(models))
    for row, split in enumerate(splits):
        for col, mode in enumerate(modes):
            ax = axes[row][col]
            by_model = {g["model"]: g for g in _groups(metrics, split, mode)}
            for i, rate in enumerate(rates):
                present = [(xi, by_model[m][rate]) for xi, m in zip(x, models)
                           if m in by_model and by_model[m][rate]["value"] is not None]
                if not present:
                    continue
                xs = np.array([xi for xi, _ in present]) + (i - 1) * width
                values = np.array([c["value"] for _, c in present])
                errors = np.array([[c["value"] - c["ci_low"], c["ci_high"] - c["value"]] for _, c in present]).T
                ax.bar(xs, values, width, yerr=errors, color=RATE_COLORS[rate], label=RATE_NAMES[rate],
                       error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "0.25"})
                for xi, value in zip(xs, values) if value_labels else ():  # at the foot, so a zero shows too
                    ax.text(xi, 0.02, f"{value:.2f}", rotation=90, ha="center", va="bottom", fontsize=6.5,
                            color="white" if value > 0.2 else "0.2")
            ax.set_xticks(x, models, rotation=30, ha="right")
            ax.set_ylim(0, 1.05)
            rows = sorted({g["counts"]["rows"] for g in by_model.values()})
            n = f"{rows[0]}" if len(rows) == 1 else f"{rows[0]}-{rows[-1]}"
            ax.set_title(f"{split}, {mode.upper()}\n{n} prompts per model")
        axes[row][0].set_ylabel("share of requests")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(rates))
    fig.suptitle(f"Safety, utility and overall accuracy\n(95% bootstrap CI; judge: {metrics['primary_judge']})")
    return fig


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point beats on both coordinates (both maximized), by increasing x."""
    front = [p for p in points if not any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in points)]
    return sorted(set(front))


MARKERS = {"arm": "o", "sweep": "s", "baseline": "D"}
#: where a point's label may go: (dx, dy) in points, horizontal and vertical alignment; earlier wins ties
_LABEL_SPOTS = [(5, 6, "left", "bottom"), (5, -6, "left", "top"), (-5, 6, "right", "bottom"),
                (-5, -6, "right", "top"), (7, 0, "left", "center"), (-7, 0, "right", "center"),
                (0, 9, "center", "bottom"), (0, -9, "center", "top"), (12, 14, "left", "bottom"),
                (12, -14, "left", "top"), (-12, 14, "right", "bottom"), (-12, -14, "right", "top")]


def _label_box(x: float, y: float, spot: tuple, text: str, fontsize: float, px_per_pt: float) -> np.ndarray:
    """The approximate display box (x0, y0, x1, y1) of a label put at ``spot`` from the point (x, y)."""
    dx, dy, ha, va = spot
    width, height = 0.6 * fontsize * len(text) * px_per_pt, 1.2 * fontsize * px_per_pt
    x0 = x + dx * px_per_pt - {"left": 0, "center": width / 2, "right": width}[ha]
    y0 = y + dy * px_per_pt - {"bottom": 0, "center": height / 2, "top": height}[va]
    return np.array([x0, y0, x0 + width, y0 + height])


def _overlap(box: np.ndarray, others: Sequence[np.ndarray]) -> float:
    return sum(max(0.0, min(box[2], o[2]) - max(box[0], o[0])) * max(0.0, min(box[3], o[3]) - max(box[1], o[1]))
               for o in others)


def label_points(ax, points: dict[str, tuple[float, float]], whiskers: Optional[dict[str, tuple]] = None,
                 avoid: Sequence[tuple[float, float]] = (), fontsize: float = 8) -> None:
    """Name each point beside it, where the label covers other labels, points and whiskers least, inside the axes.

    ``whiskers`` maps a name to its (x_low, x_high, y_low, y_high) error bars; ``avoid`` lists other points to
    keep clear. Greedy, top point first; a label put further away gets a thin leader line. Call after the
    axes' limits and the figure's layout are final (``fig.draw_without_rendering()``).
    """
    px_per_pt = ax.figure.dpi / 72
    frame = ax.bbox.extents
    to_px = ax.transData.transform
    centers = {name: to_px(xy) for name, xy in points.items()}
    marker = 5 * px_per_pt
    obstacles = [np.array([x - marker, y - marker, x + marker, y + marker])
                 for x, y in list(centers.values()) + [to_px(xy) for xy in avoid]]
    for name, (x_low, x_high, y_low, y_high) in (whiskers or {}).items():
        (left, low), (right, high) = to_px((x_low, y_low)), to_px((x_high, y_high))
        x, y = centers[name]
        obstacles += [np.array([left, y - px_per_pt, right, y + px_per_pt]), np.array([x - px_per_pt, low, x + px_per_pt, high])]
    for name in sorted(points, key=lambda n: (-points[n][1], points[n][0])):
        x, y = centers[name]
        boxes = [_label_box(x, y, spot, name, fontsize, px_per_pt) for spot in _LABEL_SPOTS]

        def cost(i: int) -> tuple:
            box = boxes[i]
            outside = (box[2] - box[0]) * (box[3] - box[1]) - _overlap(box, [frame])
            return (_overlap(box, obstacles) + 10 * outside, i)

        best = min(range(len(boxes)), key=cost)
        dx, dy, ha, va = _LABEL_SPOTS[best]
        leader = {"arrowprops": {"arrowstyle": "-", "color": "0.5", "linewidth": 0.5}} if abs(dx) > 7 or abs(dy) > 9 else {}
        label = ax.annotate(name, points[name], xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                            fontsize=fontsize, color="0.15", zorder=4, **leader)
        label.set_in_layout(False)
        obstacles.append(boxes[best])


@styled
def dilemma_figure(metrics: dict | str | Path, split: str = "test") -> Figure:
    """Safety against utility, one point per model (95% CI whiskers), the Pareto frontier dashed; per mode.

    Markers: circle = training arm, square = beta or data-mix sweep arm, diamond = API baseline.
    """
    metrics = _metrics(metrics)
    modes = metrics["modes"]
    colors = model_colors(metrics["models"])
    fig, axes = _figure(1, len(modes), 5.0 * len(modes), 5.0, sharey=True)
    labels_per_mode = []
    for ax, mode in zip(axes[0], modes):
        points, whiskers = {}, {}
        for g in _groups(metrics, split, mode):
            utility, safety = g["utility"], g["safety"]
            if utility["value"] is None or safety["value"] is None:
                continue
            points[g["model"]] = (utility["value"], safety["value"])
            whiskers[g["model"]] = (utility["ci_low"], utility["ci_high"], safety["ci_low"], safety["ci_high"])
            ax.errorbar(utility["value"], safety["value"],
                        xerr=[[utility["value"] - utility["ci_low"]], [utility["ci_high"] - utility["value"]]],
                        yerr=[[safety["value"] - safety["ci_low"]], [safety["ci_high"] - safety["value"]]],
                        fmt=MARKERS[metrics_mod.model_kind(g["model"])], color=colors[g["model"]], markersize=7,
                        markeredgecolor="0.25", markeredgewidth=0.6, elinewidth=0.8, capsize=2, zorder=3)
        front = pareto_front(list(points.values()))
        if len(front) > 1:  # a staircase: what the models on the frontier attain, without interpolation
            ax.step(*zip(*front), where="pre", linestyle="--", color="0.4", linewidth=1, label="Pareto frontier", zorder=2)
        ax.scatter([1], [1], marker="*", s=90, color="0.2", zorder=3,
                   label="ideal: answers every legitimate\nand refuses every illegitimate request")
        ax.set_xlim(-0.02, 1.1)
        ax.set_ylim(-0.02, 1.1)
        ax.set_aspect("equal")
        ax.set_xlabel("utility (share of legitimate requests answered)")
        ax.set_title(f"{split}, {mode.upper()}")
        ax.legend(loc="lower left")
        labels_per_mode.append((points, whiskers))
    axes[0][0].set_ylabel("safety (share of illegitimate requests refused)")
    fig.suptitle(f"The dual-use dilemma: safety vs utility (judge: {metrics['primary_judge']})")
    fig.draw_without_rendering()
    for ax, (points, whiskers) in zip(axes[0], labels_per_mode):
        label_points(ax, points, whiskers, avoid=[(1, 1)])
    return fig


@styled
def overrefusal_figure(metrics: dict | str | Path, split: str = "test") -> Figure:
    """Heatmap model × legitimate intent of the share refused, one panel per mode; n in each cell."""
    metrics = _metrics(metrics)
    rows = [r for r in metrics["by_intent"] if r["split"] == split and r["label"] == LEGITIMATE]
    if not rows:
        raise ValueError(f"overrefusal_figure: no legitimate requests of split '{split}' in by_intent")
    models = metrics_mod.order_models({r["model"] for r in rows})
    intents = [i for i in INTENTS if any(r["intent"] == i for r in rows)]
    modes = [m for m in metrics["modes"] if any(r["mode"] == m for r in rows)]
    fig, axes = _figure(len(modes), 1, 1.1 * len(intents) + 3.2, (0.42 * len(models) + 1.2) * len(modes) + 0.8, sharex=True)
    for ax, mode in zip(axes[:, 0], modes):
        cells = {(r["model"], r["intent"]): r for r in rows if r["mode"] == mode}
        rates = np.array([[cells[(m, i)]["refusal_rate"] if (m, i) in cells else np.nan for i in intents] for m in models])
        notes = np.array([[f"{cells[(m, i)]['refusal_rate']:.2f}\nn={cells[(m, i)]['n']}" if (m, i) in cells else ""
                           for i in intents] for m in models])
        sns.heatmap(rates, ax=ax, annot=notes, fmt="", cmap="rocket_r", vmin=0, vmax=1, linewidths=0.5,
                    annot_kws={"fontsize": 7}, xticklabels=[_nice(i) for i in intents], yticklabels=models, cbar=False)
        ax.grid(False)
        ax.tick_params(axis="x", rotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        ax.tick_params(axis="y", rotation=0)
        ax.set_title(f"{split}, {mode.upper()}")
    fig.colorbar(axes[0, 0].collections[0], ax=axes[:, 0].tolist(), label="share of legitimate requests refused", shrink=0.8)
    fig.suptitle(f"Over-refusal by intent (judge: {metrics['primary_judge']})")
    return fig


@styled
def judges_figure(metrics: dict | str | Path) -> Figure:
    """A 2×2 confusion matrix (refused / answered) per pair of judges, titled with Cohen's kappa."""
    metrics = _metrics(metrics)
    pairs = metrics["judge_agreement"]
    if not pairs:
        raise ValueError("judges_figure needs at least two judges in the metrics")
    ncols = min(3, len(pairs))
    nrows = math.ceil(len(pairs) / ncols)
    fig, axes = _figure(nrows, ncols, 3.3 * ncols, 3.0 * nrows + 0.5)
    verdicts = ["refused", "answered"]
    for ax, pair in zip(axes.flat, pairs):
        table = np.array(pair["confusion"])
        share = table / max(1, table.sum())
        notes = np.array([[f"{table[i, j]}\n({share[i, j]:.0%})" for j in range(2)] for i in range(2)])
        sns.heatmap(share, ax=ax, annot=notes, fmt="", cmap="Blues", vmin=0, vmax=1, cbar=False, linewidths=0.5,
                    xticklabels=verdicts, yticklabels=verdicts, annot_kws={"fontsize": 9})
        ax.grid(False)
        ax.tick_params(axis="y", rotation=0)
        ax.set_xlabel(_nice(pair["judge_b"]))
        ax.set_ylabel(_nice(pair["judge_a"]))
        kappa = "undefined" if pair["kappa"] is None else f"{pair['kappa']:.2f}"
        ax.set_title(f"κ = {kappa}, n = {pair['n']}")
    for ax in axes.flat[len(pairs):]:
        ax.set_visible(False)
    fig.suptitle("Judge agreement on refused vs answered (rows where both judges decided)")
    return fig


# --- writing ---------------------------------------------------------------------------------

def save_figure(fig: Figure, out_dir: str | Path, name: str, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write ``fig`` as ``<out_dir>/<name>.<format>`` for each format, atomically and reproducibly."""
    written = []
    for fmt in formats:
        path = Path(out_dir) / f"{name}.{fmt}"
        with files.atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_PNG_METADATA if fmt == "png" else _PDF_METADATA)
        written.append(path)
    return written


def save_all(run_dir: str | Path, out_dir: str | Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write every figure whose inputs exist under ``run_dir``, and the results table; returns the paths.

    A figure whose input is absent (no metrics, no logs, one judge only...) is skipped with a printed note.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    summary_file, diversity_file = run_dir / "results" / "dataset_summary.json", run_dir / "results" / "diversity.json"
    metrics_file = run_dir / "results" / "metrics.json"
    logs = read_logs(run_dir / "logs") if (run_dir / "logs").is_dir() else {}
    metrics = metrics_mod.read_metrics(metrics_file) if metrics_file.is_file() else None
    summary = files.read_json(summary_file) if summary_file.is_file() else None

    def results_gap(need: str = "") -> Optional[str]:
        if metrics is None:
            return f"no {metrics_file}"
        if need == "test" and "test" not in metrics["splits"]:
            return "no test split in the metrics"
        if need == "judges" and not metrics["judge_agreement"]:
            return "only one judge in the metrics"
        return None

    plan = {  # name -> (make, why it is skipped, or None)
        "fig_balance": (lambda: balance_figure(summary), None if summary else f"no {summary_file}"),
        "fig_lengths": (lambda: lengths_figure(summary), None if summary else f"no {summary_file}"),
        "fig_diversity": (lambda: diversity_figure(diversity_file),
                          None if diversity_file.is_file() else f"no {diversity_file}"),
        "fig_training": (lambda: training_figure(logs),
                         None if training_series(logs) else f"no logged loss or DPO reward in {run_dir / 'logs'}"),
        "fig_main": (lambda: main_figure(metrics), results_gap()),
        "fig_dilemma": (lambda: dilemma_figure(metrics), results_gap("test")),
        "fig_overrefusal": (lambda: overrefusal_figure(metrics), results_gap("test")),
        "fig_judges": (lambda: judges_figure(metrics), results_gap("judges")),
    }
    written = []
    for name, (make, missing) in plan.items():
        if missing:
            print(f"[figures] {name}: skipped ({missing})")
            continue
        written += save_figure(make(), out_dir, name, formats)
    if metrics:
        table = metrics_mod.results_table(metrics)
        written.append(files.write_text(out_dir / "results_table.md", tables.to_markdown(table)))
        written.append(files.write_text(out_dir / "results_table.tex", tables.to_latex(table)))
    return written
