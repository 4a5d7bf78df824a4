"""The pieces of a response, for the refusal detector (``refusal``): sentences, cut where a pivot starts.

A sentence ends after ``. ! ? ; :``, a line break or ``。！？；``, not after an item number at a line
start ("2. Stir ...") or a common abbreviation. A pivot (``refusal_turns.PIVOT``) starts a new
piece inside a sentence, unless words that introduce content lie inside an "if" clause ("If you
want to know how it works in general, ..."). Each piece records what the detector needs besides its
words: whether it starts at a pivot, opens with a persona label or a list item, stands inside a
quotation, opens the text, or asks a question.
"""
from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from librachem_utils.safety import refusal_content as mark
from librachem_utils.safety import refusal_turns as turning

__all__ = ["Piece", "pieces_of"]


class Piece(NamedTuple):
    low: str  # lowercased, padded with a leading space
    raw: str  # the same piece in its original case
    turn: int  # it starts at a pivot: 1 a turning conjunction ("but"), 2 words that introduce content
    persona: bool  # it starts with a persona label at a line start
    item: bool  # it starts an item of a bulleted or numbered list
    quoted: bool  # it is inside a quotation (a story, a monologue)
    first: bool  # it opens the text
    asks: bool  # it ends with a question mark, or with a colon before a question ("What's the context: ...?")


_SENTENCE_END = re.compile(  # not after an item number at a line start ("2. Stir ...")
    r"[.!?;:\n。！？；](?<!\b[dm]r\.)(?<!\bmrs\.)(?<!\bms\.)(?<!\bst\.)(?<!\bvs\.)(?<!\be\.g\.)(?<!\bi\.e\.)"
    r"(?<!^\d\.)(?<!^\d\d\.)(?<!^\d\))(?:(?<=[\n。！？；])|(?=\s))", re.MULTILINE)
_QUOTES = re.compile(r'["“”]')


def _sentences(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, starts a line) of each sentence, whitespace left out, empty ones dropped."""
    out, start = [], 0
    for end in [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]:
        chunk = text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        if lead < len(chunk):
            line_start = start == 0 or "\n" in chunk[:lead] or text[start - 1] == "\n"
            out.append((start + lead, start + len(chunk.rstrip()), line_start))
        start = end
    return out


_CLAUSE_SIGN = re.compile(r"[,;:.!?—–\n]")


def _in_condition(low: str, at: int, flat: str) -> bool:
    """Whether words that introduce content at ``at`` lie inside an "if" clause ("If you want to know how
    it works in general, I'm glad to talk about that"): there they are part of the condition."""
    if not turning.CONTENT_PIVOT.match(flat, at):
        return False
    clause = _CLAUSE_SIGN.split(low[max(0, at - 120):at])[-1].lstrip(" \"'(")
    return clause.startswith("if ")


def _opens_item(raw: str, start: int, line_start: bool) -> bool:
    """Whether a sentence starting at ``start`` opens an item of a bulleted or numbered list."""
    return line_start and bool(mark.LIST_ITEM.match(raw, start))


def pieces_of(text: str, low: str, flat: str) -> list[Piece]:
    """The pieces of ``text`` (``low`` is its lowercased form, ``flat`` that padded, with spaces for
    line breaks): sentences, cut where a pivot starts."""
    raw = text if len(low) == len(text) else low
    pivots = [m.start() for m in turning.PIVOT.finditer(flat) if not _in_condition(low, m.start(), flat)]
    quotes = [m.start() for m in _QUOTES.finditer(raw)] if '"' in raw or "“" in raw else []
    out, sentences = [], _sentences(low)
    asked = [low[end - 1] == "?" for _, end, _ in sentences]
    for number, (start, end, line_start) in enumerate(sentences):
        label = turning.PERSONA.match(raw, start, end) if line_start else None
        following = sentences[number + 1] if number + 1 < len(sentences) else None
        if label and raw[label.end():end].strip():
            start = end - len(raw[label.end():end].lstrip())
        elif label and (following and _opens_item(raw, following[0], following[2]) or (
                raw[start].isalpha() and (following is None or following[2])
                and not turning.PERSONA_NAME.match(" " + low[start:end]))):
            label = None  # "What's important to know:" over a list, "Balanced:" alone on its line: headings
        item = _opens_item(raw, start, line_start)
        quoted = raw[start] in '"“' or bisect.bisect_left(quotes, start) % 2 == 1
        cuts = [start] + pivots[bisect.bisect_right(pivots, start):bisect.bisect_left(pivots, end)] + [end]
        for i, (left, right) in enumerate(zip(cuts, cuts[1:])):
            if right > left:
                turn = 0 if i == 0 and left not in pivots else 1 + bool(turning.CONTENT_PIVOT.match(flat, left))
                piece = " " + low[left:right]
                asks = piece.rstrip(" \"'”)").endswith("?") or (
                    right == end and low[end - 1] == ":" and number + 1 < len(asked) and asked[number + 1])
                out.append(Piece(piece, raw[left:right], turn, bool(label) and i == 0, item and i == 0, quoted,
                                  not out, asks))
    return out
