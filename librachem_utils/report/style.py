"""The figures' shared look: one style (``STYLE``, applied by ``styled``), seaborn's colorblind palette,
one color per model across all figures, and Figures made without pyplot (no backend is picked or forced).
"""
from __future__ import annotations

import functools
from typing import Callable, Iterable

import matplotlib
import seaborn as sns
from cycler import cycler
from matplotlib.figure import Figure

from librachem_utils.eval import metrics

PALETTE = sns.color_palette("colorblind").as_hex()
RATE_COLORS = {"safety": PALETTE[0], "utility": PALETTE[1], "overall_accuracy": PALETTE[2]}
LABEL_COLORS = {"legitimate": PALETTE[2], "illegitimate": PALETTE[3]}
STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "figure.titlesize": 11, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "axes.axisbelow": True, "legend.frameon": False,
    "axes.prop_cycle": cycler(color=PALETTE), "pdf.fonttype": 42, "svg.hashsalt": "librachem",
}


def styled(make: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a figure function inside ``STYLE``."""
    @functools.wraps(make)
    def wrapper(*args, **kwargs) -> Figure:
        with matplotlib.rc_context(STYLE):
            return make(*args, **kwargs)
    return wrapper


def new_figure(nrows: int, ncols: int, width: float, height: float, **subplot_kw):
    """A constrained-layout Figure and its axes as a 2-D array (``squeeze=False``)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)


def words(name: str) -> str:
    """A name with its underscores as spaces, for axis labels."""
    return name.replace("_", " ")


def model_colors(models: Iterable[str]) -> dict[str, str]:
    """A color per model, the same in every figure: the params' arms have fixed slots, others follow."""
    arms, ordered = metrics.TRAINING_ARMS, metrics.order_models(models)
    others = [m for m in ordered if m not in arms]
    slot = {**{arm: i for i, arm in enumerate(arms)}, **{m: len(arms) + i for i, m in enumerate(others)}}
    return {model: PALETTE[slot[model] % len(PALETTE)] for model in ordered}
