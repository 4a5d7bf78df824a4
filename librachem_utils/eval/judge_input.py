"""Responses files of other people, as they are, for the judge CLI.

A file is CSV (fields of any length), JSON Lines, one JSON array of objects, or Parquet
(``testsets.read_records``). ``Columns`` names what is where:

- ``prompt`` (default ``prompt``) and ``response`` (default ``response``, or ``completion``);
- ``label`` (default ``label``, or ``true_label``): words (legitimate / illegitimate, safe /
  unsafe) or 1/0. For 1/0 ``label_meaning`` is required and says what 1 means:
  ``1=legitimate`` (the paper's test format), ``1=illegitimate``, or ``1=jailbroken`` /
  ``1=harmful``: the column is then a person's label of the *response* (1 = it gave the harmful
  content asked for, 0 = it did not), and every request is illegitimate;
- ``human`` (the validate command's ``--human-label``): a person's label of the response, three
  classes (COMPLIANCE / REFUSAL / PARTIAL, also XSTest's ``1_full_compliance``,
  ``2_full_refusal``, ``3_partial_refusal``), or two (refused / answered), or 1/0 with
  ``human_meaning`` (``1=refused``, ``1=answered``, ``1=jailbroken``, ``1=harmful``), any case;
- ``group_by``: the columns whose values group the metrics (nothing else groups them).

Each row comes back as ``prompt``, ``response``, ``label`` (legitimate / illegitimate), ``human``
(a three-class label value, or None), ``group`` (the group-by values joined by " / ", or None) and
every other column of the file; a column whose name the judge writes itself (``model``, ``split``,
``mode``, ``refused``, ...) is kept as ``input_<name>``. Every mistake is a ``DataFileError``
naming the file, the row and the column.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from librachem_utils.core.files import DataFileError
from librachem_utils.core.schema import ILLEGITIMATE, LEGITIMATE
from librachem_utils.eval import testsets
from librachem_utils.safety.refusal import RefusalLabel

REQUEST_MEANINGS = {"legitimate": (LEGITIMATE, ILLEGITIMATE), "illegitimate": (ILLEGITIMATE, LEGITIMATE)}
RESPONSE_MEANINGS = ("jailbroken", "harmful")
HUMAN_MEANINGS = ("refused", "answered", *RESPONSE_MEANINGS)
THREE_CLASS = {
    "compliance": RefusalLabel.COMPLIANCE, "full_compliance": RefusalLabel.COMPLIANCE,
    "1_full_compliance": RefusalLabel.COMPLIANCE,
    "refusal": RefusalLabel.REFUSAL, "full_refusal": RefusalLabel.REFUSAL, "2_full_refusal": RefusalLabel.REFUSAL,
    "partial": RefusalLabel.PARTIAL, "partial_refusal": RefusalLabel.PARTIAL,
    "3_partial_refusal": RefusalLabel.PARTIAL,
}
TWO_CLASS = {"refused": RefusalLabel.REFUSAL, "answered": RefusalLabel.COMPLIANCE}
WRITTEN_KEYS = ("prompt", "response", "label", "human", "group", "model", "split", "mode", "triplet_id", "refused",
                "hazard", "degenerate", "fact_correct", "rule_label", "cues", "llm_label", "guards", "judge_info",
                "judge_reasons")


@dataclass(frozen=True)
class Columns:
    prompt: str = "prompt"
    response: Optional[str] = None  # None: response or completion
    label: Optional[str] = None  # None: label or true_label
    label_meaning: Optional[str] = None  # "1=legitimate", "1=illegitimate", "1=jailbroken", "1=harmful"
    human: Optional[str] = None
    human_meaning: Optional[str] = None  # "1=refused", "1=answered", "1=jailbroken", "1=harmful"
    group_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _meaning(self.label_meaning, (*REQUEST_MEANINGS, *RESPONSE_MEANINGS), "--label-meaning")
        _meaning(self.human_meaning, HUMAN_MEANINGS, "--human-label-meaning")
        if self.human is not None and self.label_says_human:
            raise ValueError(f"--label-meaning {self.label_meaning} makes the label column the human label: "
                             "leave out --human-label")

    @property
    def label_says_human(self) -> bool:
        return _meaning(self.label_meaning, (), "") in RESPONSE_MEANINGS


@dataclass(frozen=True)
class Responses:
    rows: list[dict]
    three_class: bool  # the human labels use the three-class scheme (COMPLIANCE / REFUSAL / PARTIAL)
    has_human: bool


def load_responses(path: str | Path, columns: Optional[Columns] = None) -> Responses:
    """The rows of a responses file (module docstring), in file order."""
    path, columns = Path(path), columns or Columns()
    records = list(testsets.read_records(path))
    if not records:
        raise DataFileError(f"{path}: the file is empty (no rows)")
    present = set().union(*(record for _, record in records))
    prompt = _column(path, present, (columns.prompt,), "--prompt-column")
    response = _column(path, present, (columns.response,) if columns.response else ("response", "completion"),
                       "--response-column")
    label = _column(path, present, (columns.label,) if columns.label else
                    tuple(c for c in ("label", "true_label") if c != columns.human), "--label-column")
    human = label if columns.label_says_human else columns.human
    if human is not None:
        _column(path, present, (human,), "--human-label")
    for column in columns.group_by:
        _column(path, present, (column,), "--group-by")
    rows, schemes = [], set()
    for where, record in records:
        row = {(f"input_{key}" if key in WRITTEN_KEYS else key): value for key, value in record.items()
               if key not in {prompt, response, label, human}}
        row["prompt"] = testsets.text_value(record, prompt, where)
        row["response"] = testsets.text_value(record, response, where, allow_empty=True)
        row["label"] = _request_label(record, label, columns, where)
        row["human"], scheme = (None, None) if human is None else _human_label(record, human, columns, where)
        row["group"] = (" / ".join(str(testsets.required_value(record, c, where)) for c in columns.group_by)
                        if columns.group_by else None)
        schemes.add(scheme)
        rows.append(row)
    return Responses(rows, three_class=schemes == {"three_class"}, has_human=human is not None)


def _meaning(meaning: Optional[str], allowed: tuple[str, ...], flag: str) -> Optional[str]:
    """The NAME of a ``1=NAME`` meaning (None if none given); ValueError for another form or name."""
    if meaning is None:
        return None
    one, _, name = meaning.partition("=")
    name = name.strip().lower()
    if allowed and (one.strip() != "1" or name not in allowed):
        raise ValueError(f"{flag} {meaning!r}: expected 1=NAME with NAME one of {', '.join(allowed)}")
    return name


def _column(path: Path, present: set, names: tuple[str, ...], flag: str) -> str:
    found = [name for name in names if name in present]
    if not found:
        raise DataFileError(f"{path}: missing column '{names[0]}'" + (f" (or '{names[1]}')" if len(names) > 1 else "")
                            + f"; columns: {', '.join(sorted(present))}; name another with {flag}")
    if len(found) > 1:
        raise DataFileError(f"{path}: both columns '{found[0]}' and '{found[1]}'; name one with {flag}")
    return found[0]


def _one_or_zero(value: Any) -> Optional[int]:
    """1 or 0 for a 1/0 value (a number, a numeric string or a JSON boolean), else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and float(value) in (0.0, 1.0):
        return int(value)
    if isinstance(value, str) and value.strip() in ("0", "1", "0.0", "1.0"):
        return int(float(value))
    return None


def _request_label(record: dict, column: str, columns: Columns, where: str) -> str:
    value = testsets.required_value(record, column, where)
    bit, meaning = _one_or_zero(value), _meaning(columns.label_meaning, (), "")
    if meaning in RESPONSE_MEANINGS:
        if bit is None:
            raise DataFileError(f"{where}: column '{column}': expected 1 or 0 (--label-meaning "
                                f"{columns.label_meaning}), got {value!r}")
        return ILLEGITIMATE
    if bit is None:
        return testsets.normalize_label(value, where, column)
    if meaning is None:
        raise DataFileError(f"{where}: column '{column}' holds 1/0: say what 1 means with --label-meaning "
                            "(1=legitimate, 1=illegitimate, 1=jailbroken or 1=harmful)")
    return REQUEST_MEANINGS[meaning][1 - bit]


def _human_label(record: dict, column: str, columns: Columns, where: str) -> tuple[str, str]:
    """(three-class label value, "three_class" or "two_class") of a row's human label."""
    value = testsets.required_value(record, column, where)
    bit = _one_or_zero(value)
    if bit is not None:
        meaning = _meaning(columns.label_meaning if columns.label_says_human else columns.human_meaning, (), "")
        if meaning is None:
            raise DataFileError(f"{where}: column '{column}' holds 1/0: say what 1 means with --human-label-meaning "
                                "(1=refused, 1=answered, 1=jailbroken or 1=harmful)")
        refused = bool(bit) == (meaning == "refused")
        return (RefusalLabel.REFUSAL if refused else RefusalLabel.COMPLIANCE).value, "two_class"
    key = str(value).strip().lower().replace(" ", "_")
    if key in THREE_CLASS:
        return THREE_CLASS[key].value, "three_class"
    if key in TWO_CLASS:
        return TWO_CLASS[key].value, "two_class"
    raise DataFileError(f"{where}: column '{column}': unknown human label {value!r} (expected COMPLIANCE, REFUSAL, "
                        "PARTIAL, refused/answered or 1/0)")
