"""Text preparation and the word-list compiler of the refusal detector (``refusal``).

``prepared`` puts a response in the form every cue pattern expects: typographic apostrophes made
plain, Markdown emphasis and heading marks removed ("**Stay calm.**" reads as "Stay calm."), and a
space between an opening sign and the word after it ("(cwc" -> "( cwc"), so that every word start
follows a space or a line break. ``words`` compiles a list of alternatives, each anchored at a word
start (a literal space in front), grouped by their first characters: ``re`` finds the candidate
positions fast and tries one branch there instead of every alternative, which keeps the detector
above 2,000 responses per second on one core.
"""
from __future__ import annotations

import re

__all__ = ["prepared", "words", "words_source"]


def _top_level(alternatives: str) -> list[str]:
    """The alternatives of a regex source, split at the ``|`` outside groups and character sets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(alternatives):
        char = alternatives[i]
        if char == "\\":
            i += 1
        elif char == "[":
            i = alternatives.index("]", i + 2)
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            parts.append(alternatives[start:i])
            start = i + 1
        i += 1
    return parts + [alternatives[start:]]


_LITERAL = re.compile(r"[a-z' ]+")


def _expanded(alternative: str) -> list[str]:
    """An alternative that opens with a group of plain words, "(?:i|we) can't", as one alternative per
    word ("i can't", "we can't"), so that each can join its first letter's group."""
    if not alternative.startswith("(?:"):
        return [alternative]
    depth = 0
    for end, char in enumerate(alternative):  # noqa: B007 (end is read after the loop)
        depth += (char == "(") - (char == ")")
        if depth == 0:
            break
    words, rest = _top_level(alternative[3:end]), alternative[end + 1:]
    if rest[:1] in ("?", "*", "+", "{") or not all(_LITERAL.fullmatch(word) for word in words):
        return [alternative]
    return [word + rest for word in words]


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz' ")


def _trie(alternatives: list[str], depth: int) -> str:
    """The alternatives as one regex source, grouped by their first characters, ``depth`` levels deep."""
    groups: dict[str, list[str]] = {}
    rest = []
    for alternative in alternatives:
        if depth and alternative[:1] in _PLAIN and alternative[1:2] not in ("?", "*", "+", "{"):
            groups.setdefault(alternative[0], []).append(alternative[1:])
        else:
            rest.append(alternative)
    grouped = [char + (f"(?:{_trie(tails, depth - 1)})" if len(tails) > 1 else tails[0])
               for char, tails in groups.items()]
    return "|".join(grouped + rest)


def words_source(alternatives: str) -> str:
    """The regex source of ``words``: the alternatives, each after a space, grouped by their first characters."""
    parts = [part for whole in _top_level(alternatives) for part in _expanded(whole)]
    return f" (?:{_trie(parts, 3)})"


def words(alternatives: str, end: str = "") -> re.Pattern:
    """The alternatives, each at a word start (after a space), grouped by their first characters."""
    return re.compile(words_source(alternatives) + end)


_OPENING = re.compile(r"([(\[{\"“«¿¡—–…*•/'])(?<!\w')(?=[^\W\d_])")  # a quote, not an apostrophe
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)


_EMPHASIS = re.compile(r"(?<![\w*])\*(\w+)\*(?![\w*])")  # one emphasised word ("*can*"), not a narration
_CJK_MARK = re.compile(r"([。！？；，]|(?<![\u3400-\u9fff])(?:不过|但是|然而))(?=\S)")


def prepared(text: str) -> str:
    """``text`` with plain apostrophes, no Markdown emphasis or heading marks, a space between an
    opening sign (bracket, quote, dash, bullet) and the word after it, and a space after a Chinese or
    Japanese sentence mark and after a Chinese conjunction that opens a clause ("不过"), so that the
    words after them start after a space too."""
    text = text.replace("’", "'").replace("**", "").replace("__", "").replace("：", ":")
    if "*" in text:
        text = _EMPHASIS.sub(r"\1", text)
    if "#" in text:
        text = _HEADING.sub("", text)
    if not text.isascii():
        text = _CJK_MARK.sub(r"\1 ", text)
    return _OPENING.sub(r"\1 ", text)
