"""Loaders of other people's test sets, normalized to rows ``{prompt, label, ...}``.

Formats read (by file suffix: ``.csv`` (fields of any length), ``.jsonl``/``.json`` (JSON Lines, or
one JSON array of objects), ``.parquet``):

- the paper's test format: ``prompt``, ``true_label`` with 1 = legitimate, 0 = illegitimate;
- the common safe/unsafe prompt format (XSTest and the like): ``prompt``, ``label`` with
  ``safe``/``unsafe``, optional ``type``;
- any table with ``prompt`` and ``label`` holding legitimate/illegitimate.

The label column is ``label`` or ``true_label`` (not both); accepted values are legitimate /
illegitimate, safe / unsafe and 1 / 0 (numbers or strings; 1 = legitimate as in the paper), case and
surrounding spaces ignored. The label comes back as ``label`` ("legitimate" or "illegitimate");
``true_label`` is dropped and every other column is kept. With ``with_response`` a ``response`` (or
``completion``) column is required too and comes back as ``response``.

``load_training_set`` reads the paper's training layout (``prompt, chosen, rejected``, e.g. the released
LibraChemQA or ``data/dataset/paper/train.parquet``) into rows of those three texts.

A missing column, an empty value, an unknown label, an empty file or text that is not UTF-8 raises
``files.DataFileError`` naming the file, the row (CSV: its line; JSON Lines and Parquet: the n-th row)
and the column or value.
"""
from __future__ import annotations

import csv
import io as _stdio
import math
import sys
from pathlib import Path
from typing import Any, Iterator

from librachem_utils.core import files
from librachem_utils.core.files import DataFileError
from librachem_utils.core.schema import ILLEGITIMATE, LEGITIMATE

LABEL_COLUMNS = ("label", "true_label")
RESPONSE_COLUMNS = ("response", "completion")
LABEL_VALUES = {
    "legitimate": LEGITIMATE, "illegitimate": ILLEGITIMATE,
    "safe": LEGITIMATE, "unsafe": ILLEGITIMATE,
    "1": LEGITIMATE, "0": ILLEGITIMATE,
}
SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")


def load_test_set(path: str | Path, *, with_response: bool = False) -> list[dict]:
    """The rows of a test set (see the module docstring), in file order."""
    path = Path(path)
    records = list(read_records(path))
    if not records:
        raise DataFileError(f"{path}: the file is empty (no rows)")
    columns = set().union(*(row for _, row in records))
    label_column = _one_of(LABEL_COLUMNS, columns, path)
    response_column = _one_of(RESPONSE_COLUMNS, columns, path) if with_response else None
    rows = []
    for where, record in records:
        row = {key: value for key, value in record.items() if key not in (label_column, response_column)}
        row["prompt"] = text_value(record, "prompt", where)
        row["label"] = normalize_label(required_value(record, label_column, where), where, label_column)
        if response_column:
            row["response"] = text_value(record, response_column, where, allow_empty=True)
        rows.append(row)
    return rows


TRAINING_COLUMNS = ("prompt", "chosen", "rejected")


def load_training_set(path: str | Path) -> list[dict]:
    """The ``(prompt, chosen, rejected)`` rows of a file in the paper's training layout, in file order."""
    path = Path(path)
    records = list(read_records(path))
    if not records:
        raise DataFileError(f"{path}: the file is empty (no rows)")
    return [{column: text_value(record, column, where) for column in TRAINING_COLUMNS} for where, record in records]


def normalize_label(value: Any, where: str, column: str = "label") -> str:
    """"legitimate" or "illegitimate" for an accepted label value; else ``DataFileError``."""
    if isinstance(value, bool):  # JSON true/false is no label here: 1/0 means legitimate/illegitimate
        key = None
    elif isinstance(value, (int, float)):
        key = str(int(value)) if float(value).is_integer() else None
    else:
        key = str(value).strip().lower()
    if key not in LABEL_VALUES:
        raise DataFileError(f"{where}: column '{column}': unknown label {value!r} (expected legitimate/"
                            f"illegitimate, safe/unsafe or 1/0)")
    return LABEL_VALUES[key]


def read_records(path: Path) -> Iterator[tuple[str, dict]]:
    """(where, row) for each row of a CSV, JSON Lines, JSON array or Parquet file; ``where`` names
    the file and the row."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataFileError(f"{path}: unknown format '{suffix}' (expected {', '.join(SUFFIXES)})")
    if suffix == ".csv":
        yield from _csv_records(path)
    elif suffix == ".parquet":
        yield from _parquet_records(path)
    elif files.read_utf8(path).lstrip().startswith("["):
        rows = files.read_json(path)
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise DataFileError(f"{path}, row {number}: expected a JSON object, got {type(row).__name__}")
            yield f"{path}, row {number}", row
    else:
        for number, row in enumerate(files.read_jsonl(path, allow_empty=True), start=1):
            yield f"{path}, row {number}", row


def _csv_records(path: Path) -> Iterator[tuple[str, dict]]:
    text = files.read_utf8(path).removeprefix("\ufeff")  # a byte-order mark, as spreadsheets write
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a response may be megabytes (a repetition loop)
    reader = csv.DictReader(_stdio.StringIO(text, newline=""))
    for row in reader:
        where = f"{path}, line {reader.line_num}"
        if None in row or None in row.values():
            raise DataFileError(f"{where}: expected {len(reader.fieldnames)} fields")
        yield where, row


def _parquet_records(path: Path) -> Iterator[tuple[str, dict]]:
    import pandas

    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        frame = pandas.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise DataFileError(f"{path}: not a readable Parquet file ({type(err).__name__}: {err})") from None
    for number, row in enumerate(frame.to_dict(orient="records"), start=1):
        yield f"{path}, row {number}", {key: _plain(value) for key, value in row.items()}


def _plain(value: Any) -> Any:
    """A Parquet cell as a JSON-ready value: numpy scalars unwrapped, NaN as None."""
    value = value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value
    return None if isinstance(value, float) and math.isnan(value) else value


def _one_of(names: tuple[str, ...], columns: set[str], path: Path) -> str:
    present = [name for name in names if name in columns]
    if not present:
        raise DataFileError(f"{path}: missing column '{names[0]}' (or '{names[1]}'); columns: "
                            f"{', '.join(sorted(columns))}")
    if len(present) > 1:
        raise DataFileError(f"{path}: both columns '{present[0]}' and '{present[1]}'; keep one")
    return present[0]


def required_value(row: dict, column: str, where: str) -> Any:
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DataFileError(f"{where}: column '{column}' is missing or empty")
    return value


def text_value(row: dict, column: str, where: str, allow_empty: bool = False) -> str:
    value = row.get(column)
    if value is None:
        raise DataFileError(f"{where}: column '{column}' is missing")
    if not isinstance(value, str):
        raise DataFileError(f"{where}: column '{column}': expected text, got {value!r}")
    if not allow_empty and not value.strip():
        raise DataFileError(f"{where}: column '{column}' is empty")
    return value
