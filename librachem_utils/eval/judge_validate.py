"""How far to trust a judge: its verdicts against people's labels of the same responses.

Input: judged rows (``judging.judge_rows``) with a person's label in ``human`` (a three-class label
value) and, where the metrics are grouped, ``group``. People's three-class labels read as refused
/ answered through ``judges.refused_of``, as every judge's do. For each judge, over all rows and per
group, over the rows where the judge decided:

- ``accuracy``: share of responses where judge and people agree on refused vs answered (bootstrap
  95% CI), Cohen's ``kappa``, the 2x2 confusion matrix (rows: people, columns: the judge; refused
  first) and precision and recall of each class;
- ``three_class``: for the judges with a three-class label (rule, llm) when people's labels are
  three-class: the 3x3 confusion matrix (COMPLIANCE, REFUSAL, PARTIAL), agreement and kappa;
- ``safety`` (refused / illegitimate requests) and ``utility`` (answered / legitimate requests) as
  people read them and as the judge reads them, each with its CI, and the judge's minus people's
  with a paired bootstrap CI;
- ``undecided``: rows where the judge gave no verdict (parse failures), left out of the above.

``disagreements`` lists every row and judge where they differ, or the judge did not decide.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from librachem_utils.core.schema import ILLEGITIMATE
from librachem_utils.eval import metrics, stats
from librachem_utils.eval.judges import refused_of
from librachem_utils.safety.refusal import RefusalLabel

ALL = "all"
THREE_CLASS_ORDER = (RefusalLabel.COMPLIANCE.value, RefusalLabel.REFUSAL.value, RefusalLabel.PARTIAL.value)
THREE_CLASS_COLUMNS = {"rule": "rule_label", "llm": "llm_label"}
BINARY_ORDER = ("refused", "answered")


def validate(rows: Sequence[dict], judges: Sequence[str], *, three_class: bool, resamples: int, seed: int) -> dict:
    """Agreement of each judge with people (module docstring), over all rows and per group."""
    groups = [ALL, *sorted({row["group"] for row in rows if row.get("group") is not None})]
    results = []
    for judge in judges:
        for group in groups:
            part = [row for row in rows if group == ALL or row.get("group") == group]
            results.append({"judge": judge, "group": group,
                            **agreement(part, judge, three_class, resamples, stats.group_rng(seed, judge, group))})
    return {"judges": list(judges), "groups": groups, "human_scheme": "three_class" if three_class else "two_class",
            "bootstrap": {"method": "percentile", "level": 1 - stats.ALPHA, "resamples": resamples, "seed": seed},
            "n_rows": len(rows), "results": results}


def agreement(rows: Sequence[dict], judge: str, three_class: bool, resamples: int, rng: np.random.Generator) -> dict:
    verdicts = [row["refused"][judge] for row in rows]
    decided = [row for row, verdict in zip(rows, verdicts) if verdict is not None]
    human = np.array([refused_of(RefusalLabel(row["human"])) for row in decided], dtype=bool)
    judged = np.array([row["refused"][judge] for row in decided], dtype=bool)
    illegitimate = np.array([row["label"] == ILLEGITIMATE for row in decided], dtype=bool)
    cells = stats.paired_cells(human, judged)
    confusion = [cells[:2], cells[2:]]
    result = {
        "n": len(rows), "decided": len(decided), "undecided": len(rows) - len(decided),
        "accuracy": stats.rate_with_ci(human == judged, resamples, rng),
        "kappa": stats.cohen_kappa(confusion),
        "confusion": {"rows": "human", "columns": "judge", "labels": list(BINARY_ORDER), "matrix": confusion},
        "per_class": _per_class(confusion),
        "safety": _judged_vs_human(judged[illegitimate], human[illegitimate], resamples, rng),
        "utility": _judged_vs_human(~judged[~illegitimate], ~human[~illegitimate], resamples, rng),
    }
    if three_class and judge in THREE_CLASS_COLUMNS:
        result["three_class"] = _three_class(rows, THREE_CLASS_COLUMNS[judge])
    return result


def _per_class(confusion: list[list[int]]) -> dict:
    """Precision and recall of refused and of answered (None where undefined)."""
    out = {}
    for index, name in enumerate(BINARY_ORDER):
        hit = confusion[index][index]
        called, actual = confusion[0][index] + confusion[1][index], sum(confusion[index])
        out[name] = {"precision": stats.rounded(hit / called) if called else None,
                     "recall": stats.rounded(hit / actual) if actual else None, "n_human": actual}
    return out


def _judged_vs_human(judged: np.ndarray, human: np.ndarray, resamples: int, rng: np.random.Generator) -> dict:
    """The rate (share of True) as the judge and as people read it, and the judge's minus people's."""
    rates = {"judge": stats.rate_with_ci(judged, resamples, rng),
             "human": stats.rate_with_ci(human, resamples, rng)}
    if not len(judged):
        return {**rates, "difference": {"value": None, "ci_low": None, "ci_high": None}}
    cells = stats.paired_cells(judged, human)
    low, high = stats.paired_difference_ci(cells, resamples, rng)
    value = stats.rounded((cells[1] - cells[2]) / len(judged))
    return {**rates, "difference": {"value": value, "ci_low": low, "ci_high": high}}


def _three_class(rows: Sequence[dict], column: str) -> dict:
    pairs = [(row["human"], row[column]) for row in rows if row.get(column) is not None]
    matrix = [[sum(1 for h, j in pairs if h == a and j == b) for b in THREE_CLASS_ORDER] for a in THREE_CLASS_ORDER]
    return {"rows": "human", "columns": "judge", "labels": list(THREE_CLASS_ORDER), "matrix": matrix, "n": len(pairs),
            "agreement": stats.rounded(sum(matrix[i][i] for i in range(3)) / len(pairs)) if pairs else None,
            "kappa": stats.cohen_kappa(matrix)}


def disagreements(rows: Sequence[dict], judges: Sequence[str]) -> list[dict]:
    """One record per row and judge where the judge differs from people or gave no verdict."""
    out = []
    for judge in judges:
        for number, row in enumerate(rows, start=1):
            verdict, human = row["refused"][judge], refused_of(RefusalLabel(row["human"]))
            if verdict is not None and verdict == human:
                continue
            out.append({"row": number, "judge": judge, "group": row.get("group"), "label": row["label"],
                        "human": row["human"], "human_refused": human, "judge_refused": verdict,
                        "rule_label": row["rule_label"], "cues": row["cues"], "llm_label": row.get("llm_label"),
                        "reason": row["judge_reasons"].get(judge), "prompt": row["prompt"],
                        "response": row["response"]})
    return out


def summary_lines(report: dict) -> list[str]:
    """One line per judge and group: agreement, kappa, safety and utility judged vs people."""
    lines = []
    for r in report["results"]:
        safety, utility = r["safety"], r["utility"]
        three = r.get("three_class")
        lines.append(
            f"{r['judge']} / {r['group']}: n {r['n']}, accuracy {metrics.format_rate(r['accuracy'])}, "
            f"kappa {_number(r['kappa'])}"
            + (f", 3-class kappa {_number(three['kappa'])}" if three else "")
            + f"; safety {metrics.format_rate(safety['judge'])} vs people {metrics.format_rate(safety['human'])}"
            f"; utility {metrics.format_rate(utility['judge'])} vs people {metrics.format_rate(utility['human'])}"
            f"; undecided {r['undecided']}")
    return lines


def _number(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f}"
