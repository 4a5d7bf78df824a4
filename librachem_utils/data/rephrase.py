"""Rephrasing augmentation and duplicate removal (notebook 03).

The paper rephrased all three texts of a triplet; so does ``augment``: each variant rephrases the
prompt and both responses, and the new row is validated again (roles and hazard gate) like any
generated row. ``dedupe`` then drops exact duplicates (same normalized prompt and responses) and
near duplicates (word 3-gram Jaccard of the whole triplet at or above a threshold) among rows of the
same compound and intent, where duplicates arise.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from librachem_utils.chem.knowledge_base import KnowledgeBase
from librachem_utils.core.params import TripletParams
from librachem_utils.data.diversity import TEXT_FIELDS, jaccard, shingles
from librachem_utils.data.generators import Generator
from librachem_utils.data.triplets import normalize, validate_rows


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
        rejected += invalid + [{"stage": "rephrase", "reasons": ["the backend returned no rephrasing"], **r}
                               for r in failed]
    return out, rejected


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
