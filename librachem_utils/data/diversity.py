"""Wording diversity of a set of triplets, measured so that adding rows alone cannot raise or lower it.

- ``prompt_shapes``: distinct prompts once the compound and the property are masked (all rows);
- ``{field}_distinct_{n}_per_1k``: distinct word n-grams in a fixed-size random sample of rows,
  per 1,000 rows of the sample (higher = more varied);
- ``{field}_distinct_{n}``: the same n-grams over all n-grams of the sample (share, higher = more varied);
- ``{field}_pairwise_jaccard``: mean word 3-gram Jaccard over random pairs of the sample (lower = more varied).

Texts carry the compound as the placeholder and values are masked (``wording``), so neither a
compound name nor a number counts as wording.
"""
from __future__ import annotations

import functools
import itertools
import random
import re
from typing import Iterable, Optional, Sequence

from librachem_utils.data.clauses import PROPERTY_NAMES
from librachem_utils.data.triplets import normalize

TEXT_FIELDS = ("prompt", "chosen", "rejected")
#: rows per sample for the n-gram and similarity measures (fewer when a stage has fewer rows)
SAMPLE_ROWS = 1000
_WORD = re.compile(r"[\w\[\]'<>-]+")
_VALUE = re.compile(r"[^\s()]*\d[^\s()]*")


def ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    """The word n-grams of ``text``, lowercased, in order."""
    words = _WORD.findall(text.lower())
    return list(zip(*(words[i:] for i in range(n))))


def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    """The set of word n-grams; a text shorter than n is one shingle of all its words."""
    return frozenset(ngrams(text, n)) or frozenset({tuple(_WORD.findall(text.lower()))})


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def shape(prompt: str, aspect: Optional[str] = None) -> str:
    """A prompt with its property masked as ``{P}`` (the compound is the placeholder already), normalized."""
    return normalize(prompt.replace(PROPERTY_NAMES[aspect], "{P}") if aspect else prompt)


def wording(text: str) -> str:
    """The text with every value (a word holding a digit: 46.07, C2H6O, 64-17-5) masked as ``<n>``."""
    return _VALUE.sub("<n>", text)


def distinct_n(texts: Iterable[str], n: int) -> tuple[int, int]:
    """(distinct n-grams, all n-grams) over the wording of the texts."""
    total, distinct = 0, set()
    for text in texts:
        grams = ngrams(wording(text), n)
        total += len(grams)
        distinct.update(grams)
    return len(distinct), total


def mean_pairwise_similarity(texts: Sequence[str], seed: int, pairs: int = 2000) -> float:
    """Mean word 3-gram Jaccard over random pairs of texts (lower = more varied)."""
    if len(texts) < 2:
        return 0.0
    rng = random.Random(seed)
    all_pairs = len(texts) * (len(texts) - 1) // 2
    chosen = (itertools.combinations(range(len(texts)), 2) if all_pairs <= pairs
              else (tuple(rng.sample(range(len(texts)), 2)) for _ in range(pairs)))
    grams = functools.lru_cache(maxsize=None)(lambda i: shingles(wording(texts[i])))  # only the sampled texts
    sims = [jaccard(grams(i), grams(j)) for i, j in chosen]
    return sum(sims) / len(sims)


def diversity(rows: Sequence[dict], seed: int, sample_rows: int = SAMPLE_ROWS) -> dict[str, float]:
    """The measures above for prompts and both responses; ``sample_rows`` rows are drawn with ``seed``."""
    size = min(sample_rows, len(rows))
    sample = [rows[i] for i in sorted(random.Random(f"{seed}:diversity").sample(range(len(rows)), size))]
    shapes = {shape(r["prompt"], r.get("aspect")) for r in rows}
    report = {"rows": len(rows), "sample_rows": size, "prompt_shapes": len(shapes)}
    for field in TEXT_FIELDS:
        texts = [r[field] for r in sample]
        for n in (1, 2, 3):
            distinct, total = distinct_n(texts, n)
            report[f"{field}_distinct_{n}"] = round(distinct / total, 4) if total else 0.0
            report[f"{field}_distinct_{n}_per_1k"] = round(1000 * distinct / size, 1) if size else 0.0
        report[f"{field}_pairwise_jaccard"] = round(mean_pairwise_similarity(texts, seed), 4)
    return report


def diversity_table(stages: Sequence[dict]) -> list[dict]:
    """The measures of each stage (rows of ``diversity``, with ``stage``) as one row per measure, for the card."""
    measures = [k for k in stages[0] if k != "stage"]
    return [{"measure": k, **{s["stage"]: s[k] for s in stages}} for k in measures]
