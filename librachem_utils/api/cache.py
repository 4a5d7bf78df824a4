"""The client's reply cache: validated replies in SQLite (WAL), one row per request, with a checksum.

A row is committed as soon as it is written, so a killed process loses only in-flight requests; a
row whose checksum does not match is deleted, so that its request is fetched again.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)


class ReplyCache:
    """Validated replies in SQLite: one row per request key, committed as soon as written."""

    SCHEMA = """CREATE TABLE IF NOT EXISTS replies (
        key TEXT PRIMARY KEY,     -- sha256 of the canonical request JSON
        request TEXT NOT NULL,    -- the canonical request JSON, for inspection
        value BLOB NOT NULL,      -- the reply text, UTF-8
        checksum TEXT NOT NULL,   -- sha256 of value
        created_at REAL NOT NULL
    )"""

    def __init__(self, path: Path):
        self.path = path
        self.connection = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")  # durable across a process kill
        self.connection.execute(self.SCHEMA)

    def get(self, key: str) -> tuple[Optional[str], bool]:
        """The cached text for ``key`` (or None) and whether a corrupted row was dropped."""
        row = self.connection.execute("SELECT value, checksum FROM replies WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None, False
        value, checksum = row
        try:
            if hashlib.sha256(value).hexdigest() != checksum:
                raise ValueError("checksum mismatch")
            return value.decode("utf-8"), False
        except (TypeError, ValueError) as err:  # not bytes, bad checksum, not UTF-8
            log.warning("api cache %s: dropping corrupted row %s (%s)", self.path, key[:12], err)
            self.connection.execute("DELETE FROM replies WHERE key = ?", (key,))
            return None, True

    def put(self, key: str, request_json: str, text: str) -> None:
        value = text.encode("utf-8")
        self.connection.execute(
            "INSERT OR REPLACE INTO replies (key, request, value, checksum, created_at) VALUES (?, ?, ?, ?, ?)",
            (key, request_json, value, hashlib.sha256(value).hexdigest(), time.time()),
        )

    def close(self) -> None:
        self.connection.close()
