"""Rephrasing augmentation, duplicate removal and diversity measures (notebook 03).

The paper rephrased all three texts of a triplet; so does ``augment``: each variant rephrases the
prompt and both responses, and the new row is validated again (roles and hazard gate) like any
generated row. ``dedupe`` then drops exact duplicates (same normalized prompt and responses) and
near duplicates (word 3-gram Jaccard of the whole triplet at or above a threshold) among rows of the
same compound and intent, where duplicates arise.
"""
from __future__ import annotations

import functools
import itertools
import random
import re
from collections import defaultdict
from typing import Iterable, Sequence

from librachem_utils.chem.knowledge_base import KnowledgeBase
from librachem_utils.data.generators import Generator
from librachem_utils.core.params import TripletParams
from librachem_utils.data.triplets import normalize, validate_rows

TEXT_FIELDS = ("prompt", "chosen", "rejected")
_WORD = re.compile(r"[\w\[\]'-]+")


def augment(rows: Sequence[dict], generator: Generator, variants: int, kb: KnowledgeBase,
            bounds: TripletParams) -> tuple[list[dict], list[dict]]:
    """Originals plus ``variants`` rephrasings of each; returns (rows, rejected rephrasings)."""
    out, rejected = list(rows), []
    for k in range(1, variants + 1):
        new = {field: generator.rephrase([r[field] for r in rows], k, "prompt" if field == "prompt" else "response")
               for field in TEXT_FIELDS}
        candidates, failed = [], []
        for i, row in enumerate(rows):
            texts = {field: new[field][i] for field in TEXT_FIELDS}
            variant = {**row, **texts, "variant": k, "triplet_id": f"{row['triplet_id']}~{k}"}
            (failed if any(t is None for t in texts.values()) else candidates).append(variant)
        kept, invalid = validate_rows(candidates, kb, bounds, stage="rephrase")
        out += kept
        rejected += invalid + [{"stage": "rephrase", "reasons": ["the backend returned no rephrasing"], **r} for r in failed]
    return out, rejected


def ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    """The word n-grams of ``text``, lowercased, in order."""
    words = _WORD.findall(text.lower())
    return list(zip(*(words[i:] for i in range(n))))


def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    """The set of word n-grams; a text shorter than n is one shingle of all its words."""
    return frozenset(ngrams(text, n)) or frozenset({tuple(_WORD.findall(text.lower()))})


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _row_text(row: dict) -> str:
    return " ".join(row[f] for f in TEXT_FIELDS)


def dedupe(rows: Sequence[dict], threshold: float) -> tuple[list[dict], dict[str, int]]:
    """Drop exact and near duplicates, keeping the first row of each cluster; returns (rows, counts)."""
    kept, counts = [], {"exact": 0, "near": 0}
    seen_exact: set[str] = set()
    groups: dict[tuple[str, str], list[frozenset]] = defaultdict(list)
    for row in rows:
        key = normalize(_row_text(row))
        if key in seen_exact:
            counts["exact"] += 1
            continue
        grams = shingles(_row_text(row))
        group = groups[(row["compound"], row["intent"])]
        if any(jaccard(grams, other) >= threshold for other in group):
            counts["near"] += 1
            continue
        seen_exact.add(key)
        group.append(grams)
        kept.append(row)
    return kept, counts


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the texts (higher = more varied wording)."""
    total, distinct = 0, set()
    for text in texts:
        grams = ngrams(text, n)
        total += len(grams)
        distinct.update(grams)
    return len(distinct) / total if total else 0.0


def mean_pairwise_similarity(texts: Sequence[str], seed: int, pairs: int = 2000) -> float:
    """Mean word 3-gram Jaccard over random pairs of texts (lower = more varied)."""
    if len(texts) < 2:
        return 0.0
    rng = random.Random(seed)
    all_pairs = len(texts) * (len(texts) - 1) // 2
    chosen = (itertools.combinations(range(len(texts)), 2) if all_pairs <= pairs
              else (tuple(rng.sample(range(len(texts)), 2)) for _ in range(pairs)))
    grams = functools.lru_cache(maxsize=None)(lambda i: shingles(texts[i]))  # only the sampled texts
    sims = [jaccard(grams(i), grams(j)) for i, j in chosen]
    return sum(sims) / len(sims)


def diversity(rows: Sequence[dict], seed: int) -> dict[str, float]:
    """Diversity of prompts and responses: distinct 1-3-grams and mean pairwise similarity."""
    report = {"rows": len(rows)}
    for field in TEXT_FIELDS:
        texts = [r[field] for r in rows]
        for n in (1, 2, 3):
            report[f"{field}_distinct_{n}"] = round(distinct_n(texts, n), 4)
        report[f"{field}_pairwise_jaccard"] = round(mean_pairwise_similarity(texts, seed), 4)
    return report
