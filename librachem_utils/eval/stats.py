"""The statistics behind the metrics: percentile bootstrap CIs, McNemar's exact test, Holm's
correction and Cohen's kappa (numpy and scipy only).

A rate is the mean of n 0/1 outcomes with k ones, and the number of ones in a resample of n rows
drawn with replacement is Binomial(n, k/n), so drawing that number *is* the row resample, exact and
vectorized. A paired difference draws the four cells (both correct, only A, only B, neither) from
the matching multinomial.
"""
from __future__ import annotations

import zlib
from typing import Optional, Sequence

import numpy as np
from scipy.stats import binomtest

ALPHA = 0.05  # 95% intervals, significance at 0.05


def group_rng(seed: int, *names: str) -> np.random.Generator:
    """A generator seeded from ``seed`` and the names of a group: stable whatever else is computed."""
    return np.random.default_rng([seed, zlib.crc32("\x1f".join(names).encode())])


def rounded(value: float) -> float:
    """``value`` to 6 significant digits, as ``metrics.json`` stores numbers."""
    return float(f"{float(value):.6g}")


def rate_with_ci(outcomes: np.ndarray, resamples: int, rng: np.random.Generator) -> dict:
    """Mean of 0/1 ``outcomes`` with its percentile bootstrap 95% CI and n (all None when n = 0)."""
    n = int(len(outcomes))
    if n == 0:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0}
    share = float(np.count_nonzero(outcomes)) / n
    low, high = np.quantile(rng.binomial(n, share, size=resamples) / n, [ALPHA / 2, 1 - ALPHA / 2])
    return {"value": rounded(share), "ci_low": rounded(low), "ci_high": rounded(high), "n": n}


def paired_difference_ci(cells: Sequence[int], resamples: int, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile bootstrap 95% CI of accuracy A - B from the cells (both, only A, only B, neither)."""
    n = int(sum(cells))
    draws = rng.multinomial(n, np.asarray(cells, dtype=float) / n, size=resamples)
    low, high = np.quantile((draws[:, 1] - draws[:, 2]) / n, [ALPHA / 2, 1 - ALPHA / 2])
    return rounded(low), rounded(high)


def mcnemar_exact_p(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs against 1/2."""
    if only_a + only_b == 0:
        return 1.0
    return rounded(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone, capped at 1), in the input order."""
    order = np.argsort(pvalues, kind="stable")
    m, running, adjusted = len(pvalues), 0.0, [0.0] * len(pvalues)
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[index]))
        adjusted[index] = rounded(running)
    return adjusted


def cohen_kappa(confusion: Sequence[Sequence[int]]) -> Optional[float]:
    """Cohen's kappa of a square confusion matrix; None where chance agreement is 1 (undefined)."""
    table = np.asarray(confusion, dtype=float)
    total = table.sum()
    if total == 0:
        return None
    observed = np.trace(table) / total
    expected = float(table.sum(axis=0) @ table.sum(axis=1)) / total ** 2
    return None if expected == 1 else rounded((observed - expected) / (1 - expected))


def paired_cells(a: np.ndarray, b: np.ndarray) -> list[int]:
    """The 2x2 counts of two boolean arrays: [a & b, a & ~b, ~a & b, ~a & ~b]."""
    return [int(np.sum(a & b)), int(np.sum(a & ~b)), int(np.sum(~a & b)), int(np.sum(~a & ~b))]
