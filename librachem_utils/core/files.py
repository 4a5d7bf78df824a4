"""Atomic, traceable file I/O: every artifact is written to a temp file and renamed into place."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator


class DataFileError(ValueError):
    """A data file cannot be read as expected; the message names the file and row."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; artifacts are ordinary readable files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def dumps_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, stable across runs, so the same data gives the same bytes."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return write_text(path, dumps_json(obj))


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        return json.loads(read_utf8(path))
    except json.JSONDecodeError as err:
        raise DataFileError(f"{path}: invalid JSON at line {err.lineno}: {err.msg}") from None


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    """Write one JSON object per line, keys sorted, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
    return Path(path)


def read_jsonl(path: str | os.PathLike, *, allow_empty: bool = False) -> list[dict]:
    """Read JSON Lines; a bad row raises ``DataFileError`` naming the file and line."""
    path = Path(path)
    rows = []
    for lineno, line in enumerate(read_utf8(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFileError(f"{path}, line {lineno}: invalid JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise DataFileError(f"{path}, line {lineno}: expected a JSON object, got {type(row).__name__}")
        rows.append(row)
    if not rows and not allow_empty:
        raise DataFileError(f"{path}: the file is empty")
    return rows


def read_utf8(path: str | os.PathLike) -> str:
    """A file's text; a missing file or invalid UTF-8 is a ``DataFileError`` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataFileError(f"{path}, line {line}: not valid UTF-8 (byte {err.start})") from None


def json_digest(value: Any, length: int | None = 16) -> str:
    """The sha256 of a JSON-able value with its keys sorted (the same value gives the same hash), cut to
    ``length`` hex digits (None: all 64): the identity of what made an artifact."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:length]


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
