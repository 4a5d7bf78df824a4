"""The offline request grammar: rephrasing a request by construction, and the checks its English must pass.

A rephrasing sets one form of the request (``clauses``) in a frame and, maybe, wrappers (``frames``):
"How do I make {X} at home?" becomes "Hi, could you tell me how {X} is made at home? Thanks!". A
*shape* is a framed request with the compound and the property masked; ``all_shapes`` lists every
one. ``problems`` names the constructions that must never appear in a text.

``python -m librachem_utils.data.grammar --list-shapes`` prints every shape once, then the wrappers;
``--list-parts`` prints the clauses and frames they are built from.
"""
from __future__ import annotations

import argparse
import functools
import itertools
import random
import re
from typing import Optional, Sequence

from librachem_utils.data.clauses import PROPERTY_NAMES, REQUESTS
from librachem_utils.data.frames import CLOSERS, CONTEXTS, FRAMES, OPENERS, WRAPPER_CHANCE

FORMS = ("q", "wh", "np", "vp")
_GROUP = re.compile(r"\(([^()]*)\)")
_SLOT = re.compile(r"\{(q|wh|how|np|vp)\}")


def template_id(intent: str, index: int) -> str:
    return f"{intent}-{index:02d}"


@functools.cache
def expand(pattern: str) -> tuple[str, ...]:
    """Every text a pattern offers: "(a|b)" is a choice, "(a|)" an optional part."""
    parts = _GROUP.split(pattern)  # literal, choices, literal, choices, ...
    options = [(part,) if i % 2 == 0 else tuple(part.split("|")) for i, part in enumerate(parts)]
    return tuple(dict.fromkeys("".join(choice) for choice in itertools.product(*options)))


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _takes(frame: str, form: str, clause: str) -> bool:
    """Whether the frame has a slot for this form and repeats none of the clause's longer words
    ("my colleague wants to know ... if a colleague inhales")."""
    slot = _SLOT.search(frame).group(1)
    fits = slot == form or (slot == "how" and form == "wh" and clause.startswith("how "))
    return fits and not _long_words(_SLOT.sub("", frame)) & _long_words(clause)


def _long_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\w']+", text.lower()) if len(w) >= 5}


@functools.cache
def request_bodies(intent: str, index: int) -> dict[str, tuple[tuple[str, str], ...]]:
    """Form -> (tags, framed request) for every clause of that form and every frame, lowercase-initial."""
    request, seen = REQUESTS[intent][index], set()
    out: dict[str, list[tuple[str, str]]] = {}
    for form in FORMS:
        for clause in (c for pattern in request.get(form, ()) for c in expand(pattern)):
            for tags, frame in FRAMES:
                if not _takes(frame, form, clause):
                    continue
                for text in expand(frame):
                    body = _SLOT.sub(lambda _, clause=clause: clause, text, count=1)
                    if body not in seen and cap(body) != request["as"]:
                        seen.add(body)
                        out.setdefault(form, []).append((tags, body))
    return {form: tuple(bodies) for form, bodies in out.items()}


def all_shapes() -> dict[str, list[str]]:
    """Template id -> the request as generated, then every framed rephrasing of it (no wrappers)."""
    return {template_id(intent, i): [request["as"]] + [cap(body) for bodies in request_bodies(intent, i).values()
                                                        for _, body in bodies]
            for intent, requests in REQUESTS.items() for i, request in enumerate(requests)}


def wrappers() -> list[str]:
    """Every opener, context and closer, with ``…`` for the framed request."""
    return ([cap(o) + "…" if o.endswith(", ") else cap(o) + " …" for o in OPENERS]
            + [cap(c) + "…" if c.endswith(", ") else cap(c) + " …" for c in CONTEXTS]
            + ["… " + cap(c) for c in CLOSERS])


@functools.lru_cache(maxsize=1)
def _generated() -> dict[str, tuple[str, int, Optional[str]]]:
    """Each request as generated (property filled in) -> (intent, index, property name)."""
    table = {}
    for intent, requests in REQUESTS.items():
        for i, request in enumerate(requests):
            for prop in (PROPERTY_NAMES.values() if "{P}" in request["as"] else [None]):
                table[request["as"].replace("{P}", prop or "")] = (intent, i, prop)
    return table


def wrap(body: str, tags: str, rng: random.Random) -> str:
    """The framed request with an opener, a context and a closer, each drawn with its chance.

    A lead-in opener ("hi, ") needs a body that may start lower case (not tag ``f``, a whole
    sentence from elsewhere); a lead-in context also needs an untagged frame. A terse frame stays bare.
    """
    if "t" in tags:
        return cap(body)
    opener, context, closer = (rng.choice(pool) if rng.random() < WRAPPER_CHANCE[kind] else ""
                               for kind, pool in (("opener", OPENERS), ("context", CONTEXTS), ("closer", CLOSERS)))
    if "f" in tags and opener.endswith(", "):
        opener = ""
    if context.endswith(", ") and tags:
        context = ""
    opener, context, closer = _without_repeats(body, opener, context, closer)
    sentences = [context] if context and not context.endswith(", ") else []
    sentences.append((context if context.endswith(", ") else "") + body)
    if opener.endswith(", "):
        sentences[0] = opener + sentences[0]
    elif opener:
        sentences.insert(0, opener)
    return " ".join(cap(s) for s in sentences + ([closer] if closer else []))


def _words(text: str) -> set:
    """Two words in a row, and single words of five letters or more, of a text."""
    words = re.findall(r"[\w']+", text.lower())
    return set(zip(words, words[1:])) | _long_words(text)


def _without_repeats(body: str, *wrappers: str) -> list[str]:
    """The wrappers, each dropped when it repeats a longer word or two words in a row of the text
    so far ("... a clear answer, please. Please be specific.", "I'm a chemistry student. A student asked me")."""
    seen, kept = _words(body), []
    for wrapper in wrappers:
        words = _words(wrapper)
        kept.append("" if words & seen else wrapper)
        seen |= set() if words & seen else words
    return kept


def rephrase_prompt(text: str, rng: random.Random) -> str:
    """A rephrasing of a request (``{X}`` for the compound) that differs from it.

    A request the grammar generated is rebuilt from one of its forms, clauses and frames, drawn in
    that order; any other text keeps its wording and gets wrappers only.
    """
    found = _generated().get(text)
    if found is None:
        out = wrap(text, "f", rng)
        return out if out != text else f"{text} {cap(CLOSERS[0])}"
    intent, index, prop = found
    bodies = request_bodies(intent, index)
    tags, body = rng.choice(bodies[rng.choice(sorted(bodies))])
    return wrap(body, tags, rng).replace("{P}", prop or "")


# --- constructions that must never appear -------------------------------------------------------

#: phrases that are wrong wherever they occur
FORBIDDEN = ("which's", "with no a ", "with no an ", "with no it ", "with no the ", "what's the way to",
             "could you say what is", "to prepare people", "local an ", "local a ", "in a safe way to")
_IMPERATIVES = frozenset("tell give explain describe list walk take show look write design sketch outline lay go "
                         "share send provide summarize let please".split())
_LETTER_VOWEL = set("AEFHILMNORSX")  # letters whose names start with a vowel sound: "an FTIR", "a GC-MS"
_CHECKS = (
    (re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE), "doubled word"),
    (re.compile(r"\b(?:a|an)\s+\{[XP]\}|\{X\}'s?\b", re.IGNORECASE), "article or possessive on a slot"),
    (re.compile(r"(?<!so )\b(?:this|that) (?:details|steps|methods|procedures|instructions|rules|reagents|conditions"
                r"|materials|substances|chemicals|questions|points|limits|records|tests)\b", re.IGNORECASE),
     "singular demonstrative before a plural"),
    (re.compile(r"\s[,.;:?!]"), "space before punctuation"),
    (re.compile(r"[,;:?!.]\s*[,;:?!.]|\s{2,}|\(\s*\)"), "doubled punctuation or space"),
    (re.compile(r"(?:^|[.!?]\s+)(?!(?:[omp]|tert|sec|cis|trans)-[A-Z\d])[a-z]"), "sentence starts lower case"),
    (re.compile(r"\{(?![XP]\})|(?<!\{[XP])\}"), "unfilled slot"),
)


def _vowel_sound(word: str) -> bool:
    """Whether ``a``/``an`` before this word should be ``an``."""
    lower = word.lower()
    if word[0].isdigit():
        return bool(re.match(r"(8|11|18)(?!\d)|8\d", word))
    if word[0].isupper() and (len(word) == 1 or not word[1].isalpha() or word[1].isupper()):
        return word[0] in _LETTER_VOWEL
    if lower.startswith(("uni", "use", "usu", "ur", "eu", "one", "once")):
        return False
    return lower.startswith(("hour", "honest", "honou", "heir")) or lower[0] in "aeiou"


def problems(text: str) -> list[str]:
    """The constructions in ``text`` that must never appear (empty when it reads right)."""
    found = [f"{name}: '{m.group(0)}'" for pattern, name in _CHECKS for m in pattern.finditer(text)]
    lower = text.lower() + " "
    found += [f"forbidden phrase '{phrase.strip()}'" for phrase in FORBIDDEN if phrase in lower]
    for m in re.finditer(r"\b(a|an|A|An)\s+([\w][\w'-]*)", text):
        before = text[:m.start()].rstrip()
        if m.group(1)[0] == "A" and before and before[-1] not in ".!?:":
            continue  # a letter in a name ("bisphenol A is")
        if (m.group(1).lower() == "an") != _vowel_sound(m.group(2)):
            found.append(f"article agreement: '{m.group(0)}'")
    for sentence in re.split(r"(?<=[.!?:])\s+", text):
        words = re.findall(r"[\w']+", sentence.lower())
        if words and words[0] in _IMPERATIVES and sentence.rstrip().endswith("?"):
            found.append(f"question mark after an imperative: '{sentence}'")
    return found


def shape_problems() -> dict[str, list[str]]:
    """Shape (each property filled in) or wrapper -> its problems, for every one that has any."""
    texts = [s.replace("{P}", p) if "{P}" in s else s for shapes in all_shapes().values() for s in shapes
             for p in (PROPERTY_NAMES.values() if "{P}" in s else [""])]
    texts += [w.replace("…", "Tell me what you know.") for w in wrappers()]
    return {text: found for text in dict.fromkeys(texts) if (found := problems(text))}


# --- command line -------------------------------------------------------------------------------

def _print_parts() -> None:
    for intent, requests in REQUESTS.items():
        for i, request in enumerate(requests):
            print(f"## {template_id(intent, i)}: {request['as']}")
            for form in FORMS:
                for pattern in request.get(form, ()):
                    print(f"  {form:2s} {pattern}")
    print("## frames")
    for tags, frame in FRAMES:
        print(f"  {tags or '-':2s} {frame}")
    print("## wrappers")
    print("\n".join(f"  {w}" for w in wrappers()))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m librachem_utils.data.grammar", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--list-shapes", action="store_true", help="every shape once, by template, then the wrappers")
    group.add_argument("--list-parts", action="store_true", help="the clauses, frames and wrappers")
    args = parser.parse_args(argv)
    if args.list_parts:
        _print_parts()
        return 0
    shapes = all_shapes()
    for template, texts in shapes.items():
        print(f"## {template} ({len(texts)} shapes)")
        print("\n".join(texts))
    print(f"## wrappers ({len(wrappers())}; … is the framed request)")
    print("\n".join(wrappers()))
    print(f"## {sum(map(len, shapes.values()))} shapes over {len(shapes)} templates")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
