"""Figures of the results (step 05, from ``metrics.json``): rates per model, the safety-utility
dilemma with its Pareto frontier, the dual-use cell, over-refusal by intent, judge agreement and the
alignment tax."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from librachem_utils.core.schema import INTENTS, LEGITIMATE
from librachem_utils.eval import dual_use
from librachem_utils.eval import metrics as metrics_mod
from librachem_utils.eval.alignment_tax import BASE_MODEL
from librachem_utils.eval.metrics import RATE_NAMES
from librachem_utils.report.style import PALETTE, RATE_COLORS, model_colors, new_figure, styled, words


def _metrics(source: dict | str | Path) -> dict:
    return source if isinstance(source, dict) else metrics_mod.read_metrics(source)


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
    fig, axes = new_figure(len(splits), len(modes), panel_width * len(modes) + 0.6, 3.2 * len(splits) + 0.8,
                           sharey=True)
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


def _placement_cost(box: np.ndarray, obstacles: Sequence[np.ndarray], frame) -> float:
    """How much a label's box covers the obstacles, plus ten times its area outside the axes."""
    outside = (box[2] - box[0]) * (box[3] - box[1]) - _overlap(box, [frame])
    return _overlap(box, obstacles) + 10 * outside


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
        obstacles += [np.array([left, y - px_per_pt, right, y + px_per_pt]),
                      np.array([x - px_per_pt, low, x + px_per_pt, high])]
    for name in sorted(points, key=lambda n: (-points[n][1], points[n][0])):
        x, y = centers[name]
        boxes = [_label_box(x, y, spot, name, fontsize, px_per_pt) for spot in _LABEL_SPOTS]
        best = min((_placement_cost(box, obstacles, frame), i) for i, box in enumerate(boxes))[1]
        dx, dy, ha, va = _LABEL_SPOTS[best]
        far = abs(dx) > 7 or abs(dy) > 9
        leader = {"arrowprops": {"arrowstyle": "-", "color": "0.5", "linewidth": 0.5}} if far else {}
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
    fig, axes = new_figure(1, len(modes), 5.0 * len(modes), 5.0, sharey=True)
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
            ax.step(*zip(*front), where="pre", linestyle="--", color="0.4", linewidth=1, label="Pareto frontier",
                    zorder=2)
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
    fig, axes = new_figure(len(modes), 1, 1.1 * len(intents) + 3.2, (0.42 * len(models) + 1.2) * len(modes) + 0.8,
                           sharex=True)
    for ax, mode in zip(axes[:, 0], modes):
        cells = {(r["model"], r["intent"]): r for r in rows if r["mode"] == mode}
        rates = np.array([[cells[(m, i)]["refusal_rate"] if (m, i) in cells else np.nan for i in intents]
                          for m in models])
        notes = np.array([[f"{cells[(m, i)]['refusal_rate']:.2f}\nn={cells[(m, i)]['n']}" if (m, i) in cells else ""
                           for i in intents] for m in models])
        sns.heatmap(rates, ax=ax, annot=notes, fmt="", cmap="rocket_r", vmin=0, vmax=1, linewidths=0.5,
                    annot_kws={"fontsize": 7}, xticklabels=[words(i) for i in intents], yticklabels=models, cbar=False)
        ax.grid(False)
        ax.tick_params(axis="x", rotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        ax.tick_params(axis="y", rotation=0)
        ax.set_title(f"{split}, {mode.upper()}")
    fig.colorbar(axes[0, 0].collections[0], ax=axes[:, 0].tolist(), label="share of legitimate requests refused",
                 shrink=0.8)
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
    fig, axes = new_figure(nrows, ncols, 3.3 * ncols, 3.0 * nrows + 0.5)
    verdicts = ["refused", "answered"]
    for ax, pair in zip(axes.flat, pairs):
        table = np.array(pair["confusion"])
        share = table / max(1, table.sum())
        notes = np.array([[f"{table[i, j]}\n({share[i, j]:.0%})" for j in range(2)] for i in range(2)])
        sns.heatmap(share, ax=ax, annot=notes, fmt="", cmap="Blues", vmin=0, vmax=1, cbar=False, linewidths=0.5,
                    xticklabels=verdicts, yticklabels=verdicts, annot_kws={"fontsize": 9})
        ax.grid(False)
        ax.tick_params(axis="y", rotation=0)
        ax.set_xlabel(words(pair["judge_b"]))
        ax.set_ylabel(words(pair["judge_a"]))
        kappa = "undefined" if pair["kappa"] is None else f"{pair['kappa']:.2f}"
        ax.set_title(f"κ = {kappa}, n = {pair['n']}")
    for ax in axes.flat[len(pairs):]:
        ax.set_visible(False)
    fig.suptitle("Judge agreement on refused vs answered (rows where both judges decided)")
    return fig


#: the bars of ``alignment_tax_figure``: rate -> (label, color)
TAX_BARS = {"answered": ("answered", RATE_COLORS["utility"]), "answered_correctly": ("answered correctly", PALETTE[4])}


@styled
def alignment_tax_figure(metrics: dict | str | Path) -> Figure:
    """Per model, the checkable legitimate requests answered and answered correctly (95% CIs) next to the
    base's (hatched; dashed: its answered correctly), with each model's difference from the base on
    answered correctly and its Holm-adjusted McNemar p above its bars; columns splits, rows TEXT then
    SMILES (where present)."""
    metrics = _metrics(metrics)
    if "alignment_tax" not in metrics:
        raise ValueError("alignment_tax_figure: the metrics have no alignment_tax (saved before it was computed)")
    taxes = {(r["split"], r["mode"], r["model_a"]): r for r in metrics["alignment_tax"]}
    splits, modes = metrics["splits"], metrics["modes"]
    models = [BASE_MODEL] + [m for m in metrics["models"] if any(key[2] == m for key in taxes)]
    fig, axes = new_figure(len(modes), len(splits), max(3.4, 0.75 * len(models) + 1.2) * len(splits) + 0.6,
                           3.4 * len(modes) + 1.2, sharey=True)
    for row, mode in enumerate(modes):
        for col, split in enumerate(splits):
            _tax_panel(axes[row][col], metrics, split, mode, models, taxes)
        axes[row][0].set_ylabel("share of checkable legitimate requests")
    handles = [Patch(facecolor=color, label=label) for label, color in TAX_BARS.values()]
    handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="//", label=BASE_MODEL))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    fig.suptitle("The alignment tax: checkable legitimate requests answered, and answered with every fact right\n"
                 f"(95% bootstrap CI; Δ = model − {BASE_MODEL} on answered correctly, with its Holm-adjusted "
                 f"McNemar p;\njudge: {metrics['primary_judge']})")
    return fig


def _tax_panel(ax, metrics: dict, split: str, mode: str, models: Sequence[str], taxes: dict) -> None:
    by_model = {g["model"]: g for g in _groups(metrics, split, mode) if "answered_correctly" in g}
    width = 0.38
    for x, model in enumerate(models):
        for i, (rate, (_, color)) in enumerate(TAX_BARS.items()):
            cell = by_model[model][rate] if model in by_model else {"value": None}
            if cell["value"] is None:
                continue
            xi = x + (i - 0.5) * width
            error = [[cell["value"] - cell["ci_low"]], [cell["ci_high"] - cell["value"]]]
            ax.bar(xi, cell["value"], width, yerr=error, color=color, hatch="//" if model == BASE_MODEL else None,
                   edgecolor="white", linewidth=0, error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "0.25"})
            ax.text(xi, 0.02, f"{cell['value']:.2f}", rotation=90, ha="center", va="bottom", fontsize=6.5,
                    color="white" if cell["value"] > 0.2 else "0.2")  # at the foot, so a zero shows too
        tax = taxes.get((split, mode, model))
        if tax is not None:
            ax.text(x, 1.03, f"Δ {tax['difference']['value']:+.2f}\np = {tax['holm_p']:.2g}", ha="center",
                    va="bottom", fontsize=7, color="0.15")
    base = by_model.get(BASE_MODEL, {}).get("answered_correctly", {}).get("value")
    if base is not None:
        ax.axhline(base, color=TAX_BARS["answered_correctly"][1], linestyle="--", linewidth=0.8, zorder=1)
    ax.set_xticks(range(len(models)), models, rotation=30, ha="right")
    ax.set_ylim(0, 1.22)
    ax.set_yticks(np.linspace(0, 1, 6))
    counts = sorted({g["answered_correctly"]["n"] for g in by_model.values()}) or [0]
    n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    ax.set_title(f"{split}, {mode.upper()}\n{n} checkable request{'' if n == '1' else 's'} per model")


#: the bars of ``dual_use_figure``: rate -> color
DUAL_USE_COLORS = {"legitimate_answered": RATE_COLORS["utility"], "illegitimate_refused": RATE_COLORS["safety"]}


@styled
def dual_use_figure(metrics: dict | str | Path) -> Figure:
    """Per model, the legitimate synthesis requests answered and the illegitimate ones refused (95% CIs),
    with Youden's J above the bars and each rate's goal dashed; columns splits, rows TEXT then SMILES
    (where present)."""
    metrics = _metrics(metrics)
    if "dual_use" not in metrics:
        raise ValueError("dual_use_figure: the metrics have no dual_use (saved before it was computed)")
    cells = {(r["split"], r["mode"], r["model"]): r for r in metrics["dual_use"]}
    splits = [s for s in metrics["splits"] if any(key[0] == s for key in cells)]
    modes = [m for m in metrics["modes"] if any(key[1] == m for key in cells)]
    models = [m for m in metrics["models"] if any(key[2] == m for key in cells)]
    fig, axes = new_figure(len(modes), len(splits), max(3.4, 0.75 * len(models) + 1.2) * len(splits) + 0.6,
                           3.4 * len(modes) + 1.2, sharey=True)
    for row, mode in enumerate(modes):
        for col, split in enumerate(splits):
            _dual_use_panel(axes[row][col], [cells.get((split, mode, model)) for model in models], models)
            axes[row][col].set_title(f"{split}, {mode.upper()}")
        axes[row][0].set_ylabel("share of synthesis requests")
    handles = [Patch(facecolor=color, label=dual_use.RATE_NAMES[rate].lower())
               for rate, color in DUAL_USE_COLORS.items()]
    handles += axes[0][0].get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    fig.suptitle("The dual-use cell: the same synthesis request, legitimate (common compound) or not (restricted)\n"
                 "(95% bootstrap CI; J = answered + refused - 1, Youden's J; n: requests of each side;\n"
                 f"judge: {metrics['primary_judge']})")
    return fig


def _dual_use_panel(ax, records: Sequence[Optional[dict]], models: Sequence[str]) -> None:
    width = 0.38
    for x, record in enumerate(records):
        for i, (rate, color) in enumerate(DUAL_USE_COLORS.items()):
            xi = x + (i - 0.5) * width
            cell = record[rate] if record else {"value": None}
            if cell["value"] is None:
                ax.text(xi, 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=6.5, color="0.4")
                continue
            error = [[cell["value"] - cell["ci_low"]], [cell["ci_high"] - cell["value"]]]
            ax.bar(xi, cell["value"], width, yerr=error, color=color, error_kw={"elinewidth": 1, "capsize": 2,
                                                                                "ecolor": "0.25"})
            ax.text(xi, 0.02, f"{cell['value']:.2f}\nn={cell['n']}", rotation=90, ha="center", va="bottom",
                    fontsize=6.5, color="white" if cell["value"] > 0.3 else "0.2")  # at the foot: a zero shows too
        j = (record or {}).get("discrimination", {}).get("value")
        ax.text(x, 1.03, "J n/a" if j is None else f"J {j:.2f}", ha="center", va="bottom", fontsize=7, color="0.15")
    for rate, goal in dual_use.GOALS.items():
        ax.axhline(goal, color=DUAL_USE_COLORS[rate], linestyle="--", linewidth=0.8, zorder=1,
                   label=f"goal: {goal:.2f} {dual_use.RATE_NAMES[rate].lower()}")
    ax.set_xticks(range(len(models)), models, rotation=30, ha="right")
    ax.set_ylim(0, 1.15)
    ax.set_yticks(np.linspace(0, 1, 6))
