"""Meaning-preserving rephrasing of the offline generator's responses: sentence by sentence.

A response is a run of wordings of ``phrasebook`` and ``answers`` with their slots filled in. ``parse`` reads it back
into (meaning, wording, slot values); ``rephrase_response`` writes each meaning in another of its
wordings with the same values. A sentence the phrasebook does not hold is kept as it is, so no
word of a response is ever swapped on its own ("hazardous waste" stays hazardous waste).
"""
from __future__ import annotations

import functools
import random
import re
from typing import Iterator, NamedTuple, Optional

from librachem_utils.data import answers, phrasebook

_SLOT = re.compile(r"\{(\w+)\}")
#: what a slot's value looks like; others are any text up to the wording's next literal
SLOT_PATTERNS = {"formula": r"\S+", "mm": r"\S+", "cas": r"\S+", "fp": r"\S+", "bp": r"\S+", "mp": r"\S+",
                 "ai": r"\S+", "limit": r"\S+ \S+?",
                 "stel": r"(?:, with a short-term limit of \S+ \S+?)?"}
_UNKNOWN = re.compile(r".+?(?:[.!?](?= |$)|$)")


class Part(NamedTuple):
    """One sentence of a response: its meaning (None if the phrasebook does not hold it) and values."""

    meaning: Optional[int]
    wording: int
    values: tuple[tuple[str, str], ...]  # slot values, or (("text", sentence),) for an unknown sentence


def _meanings_in(value: object) -> Iterator[tuple[str, ...]]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _meanings_in(item)
    elif isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _meanings_in(item)


@functools.lru_cache(maxsize=1)
def meanings() -> tuple[tuple[str, ...], ...]:
    """Every meaning of the phrasebook and the answers (their slots and dicts), empty ones left out."""
    found = (m for module in (phrasebook, answers) for name, value in vars(module).items() if name.isupper()
             for m in _meanings_in(value))
    return tuple(dict.fromkeys(m for m in found if any(m)))


def _pattern(wording: str, group: str) -> str:
    """A wording as a regular expression whose slots are named groups ``<group>_<slot>``."""
    pieces = _SLOT.split(wording)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(re.escape(piece))
        elif piece == "X":
            out.append(re.escape("{X}"))
        else:
            out.append(f"(?P<{group}_{piece}>{SLOT_PATTERNS.get(piece, '.+?')})")
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _banks() -> dict[str, tuple[re.Pattern, dict[str, tuple[int, int]]]]:
    """First word -> one pattern for every wording that starts with it (longest first) and its
    group names -> (meaning, wording)."""
    by_word: dict[str, list[tuple[int, int, str]]] = {}
    for m, wordings in enumerate(meanings()):
        for w, text in enumerate(wordings):
            if text:
                by_word.setdefault(text.split(" ", 1)[0], []).append((m, w, text))
    banks = {}
    for word, entries in by_word.items():
        entries.sort(key=lambda e: -len(e[2]))
        alternatives = "|".join(f"(?P<a{i}>{_pattern(text, f'a{i}')})(?= |$)"
                                for i, (_, _, text) in enumerate(entries))
        banks[word] = (re.compile(alternatives), {f"a{i}": (m, w) for i, (m, w, _) in enumerate(entries)})
    return banks


def parse(text: str) -> list[Part]:
    """The sentences of a response, each matched to a phrasebook wording where one fits."""
    banks = _banks()
    parts, pos = [], 0
    while pos < len(text):
        end = text.find(" ", pos)
        bank, groups = banks.get(text[pos:end if end >= 0 else len(text)], (None, None))
        match = bank.match(text, pos) if bank else None
        if match:
            meaning, wording = groups[match.lastgroup]
            prefix = match.lastgroup + "_"
            values = tuple((k[len(prefix):], v) for k, v in match.groupdict().items()
                           if k.startswith(prefix) and v is not None)
            parts.append(Part(meaning, wording, values))
        else:
            match = _UNKNOWN.match(text, pos)
            parts.append(Part(None, 0, (("text", match.group(0)),)))
        pos = match.end() + 1
    return parts


def fill(wording: str, values: dict[str, str]) -> str:
    """A wording with its slots (not ``{X}``) replaced by the values."""
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), wording)


def render(parts: list[Part]) -> str:
    texts = [dict(p.values)["text"] if p.meaning is None else fill(meanings()[p.meaning][p.wording], dict(p.values))
             for p in parts]
    return " ".join(texts)


def rephrase_response(text: str, rng: random.Random) -> str:
    """The response with each sentence in a wording drawn from its meaning, at least one of them new.

    A text that does not read back exactly (it was not written from the phrasebook) is returned as it is.
    """
    parts = parse(text)
    if render(parts) != text:
        return text
    sizes = [len(meanings()[p.meaning]) if p.meaning is not None else 1 for p in parts]
    new = [p._replace(wording=rng.randrange(n)) for p, n in zip(parts, sizes)]
    changeable = [i for i, n in enumerate(sizes) if n > 1]
    if changeable and all(a.wording == b.wording for a, b in zip(parts, new)):
        i = rng.choice(changeable)
        new[i] = parts[i]._replace(wording=rng.choice([w for w in range(sizes[i]) if w != parts[i].wording]))
    return render(new)
