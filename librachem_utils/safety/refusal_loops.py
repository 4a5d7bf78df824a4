"""Degenerate text for the refusal detector (``refusal``): no letters or digits, or a loop.

A word loop is 12 words or more of which at most a quarter are distinct; a character loop is a unit
of up to 8 characters repeated 4 times or more, covering half the text. ``periodic_share`` is a
cheap upper bound on what ``CHARACTER_LOOP`` can cover, so the loop regex runs only where a loop
is possible.
"""
from __future__ import annotations

import re

__all__ = ["CHARACTER_LOOP", "CHARACTER_LOOP_MIN_SHARE", "is_degenerate", "periodic_share"]

_ALPHANUMERIC = re.compile(r"[^\W_]")
_LOOP_MIN_WORDS = 12
_LOOP_MAX_DISTINCT_SHARE = 0.25
CHARACTER_LOOP = re.compile(r"(.{1,8}?)\1{3,}", re.DOTALL)
CHARACTER_LOOP_MIN_SHARE = 0.5
# A unit of p characters repeated 4 times or more is a run of 3p characters each equal to the one p
# places before: with the text as bytes, a run of 3p zero bytes in the text XOR itself shifted by p.
_PERIODIC_RUNS = {p: re.compile(rb"\x00{%d,}" % (3 * p)) for p in range(1, 9)}


def is_degenerate(text: str) -> bool:
    """No letters or digits, a word loop or a character loop (lowercased text)."""
    if not _ALPHANUMERIC.search(text):
        return True
    words = text.split()
    if len(words) >= _LOOP_MIN_WORDS and len(set(words)) <= _LOOP_MAX_DISTINCT_SHARE * len(words):
        return True
    needed = CHARACTER_LOOP_MIN_SHARE * len(text.strip())
    if periodic_share(text) < needed:  # a cheap upper bound on what the loop regex can cover
        return False
    return sum(m.end() - m.start() for m in CHARACTER_LOOP.finditer(text)) >= needed


def periodic_share(text: str) -> int:
    """An upper bound on the characters that character loops cover (each bytes-equal run counted
    once per period; a character outside Latin-1 becomes ``?``, which only loosens the bound)."""
    data = text.encode("latin-1", "replace")
    whole, size, covered = int.from_bytes(data, "big"), len(data), 0
    for period, runs in _PERIODIC_RUNS.items():
        if size <= period:
            break
        diff = ((whole >> (8 * period)) ^ (whole & ((1 << (8 * (size - period))) - 1))).to_bytes(size - period, "big")
        if bytes(3 * period) in diff:
            covered += sum(m.end() - m.start() + period for m in runs.finditer(diff))
    return covered
