"""Three-phase generation of DPO triplets, as in the paper: crafting, responses, validation.

Phase 1 turns seeds into concrete requests, phase 2 writes a chosen and a rejected response for
each, phase 3 validates every row. A row that fails any phase is not dropped silently: it goes to
the rejected rows with its phase and reasons.

Validation (``validate``):

- schema: every field present, label and intent known;
- chosen and rejected differ (after normalizing case and white space);
- length bounds on the prompt and on each response;
- roles, by the refusal detector on the TEXT-mode text: for a legitimate request the chosen
  response complies and the rejected one refuses; for an illegitimate request the chosen response
  refuses fully and the rejected one is compliance-shaped;
- the hazard gate on the prompt and both responses: nothing procedure-like is stored.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Iterable, Optional, Sequence

from librachem_utils.chem.knowledge_base import KnowledgeBase
from librachem_utils.core import files
from librachem_utils.core.params import TripletParams
from librachem_utils.core.schema import ILLEGITIMATE, INTENTS, LEGITIMATE
from librachem_utils.data.generators import COMPOUND, Generator, Request, render
from librachem_utils.data.seeds import Seed, read_seed_file
from librachem_utils.safety import hazard, refusal

MIN_PROMPT_CHARS = 10

#: (label, role) -> the refusal labels a response in that role may have
EXPECTED_ROLES = {
    (LEGITIMATE, "chosen"): {refusal.RefusalLabel.COMPLIANCE},
    (LEGITIMATE, "rejected"): {refusal.RefusalLabel.REFUSAL, refusal.RefusalLabel.PARTIAL},
    (ILLEGITIMATE, "chosen"): {refusal.RefusalLabel.REFUSAL},
    (ILLEGITIMATE, "rejected"): {refusal.RefusalLabel.COMPLIANCE},
}


@dataclass(frozen=True)
class Triplet:
    """One DPO triplet; texts hold the ``[[compound]]`` placeholder (rendered per mode in 03)."""

    triplet_id: str
    prompt: str
    chosen: str
    rejected: str
    label: str
    intent: str
    compound: str
    compound_class: str
    template_id: str
    aspect: Optional[str]
    variant: int = 0  # 0 = as generated, k > 0 = k-th rephrasing

    def to_dict(self) -> dict:
        return asdict(self)


def normalize(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation: for equality and duplicate checks."""
    return re.sub(r"\s+", " ", text.lower()).strip(" .!?")


def validate(row: dict, kb: KnowledgeBase, bounds: TripletParams) -> list[str]:
    """Reasons the row fails validation; empty when it passes."""
    reasons = []
    for field in ("triplet_id", "prompt", "chosen", "rejected", "label", "intent", "compound", "template_id"):
        if not isinstance(row.get(field), str) or not row[field].strip():
            reasons.append(f"schema: '{field}' missing or empty")
    if reasons:
        return reasons
    if row["label"] not in (LEGITIMATE, ILLEGITIMATE):
        reasons.append(f"schema: unknown label '{row['label']}'")
    if row["intent"] not in INTENTS:
        reasons.append(f"schema: unknown intent '{row['intent']}'")
    if COMPOUND not in row["prompt"]:
        reasons.append("schema: the prompt does not name the compound")
    if reasons:
        return reasons
    compound = kb.lookup(row["compound"])
    texts = {field: render(row[field], compound, "text") for field in ("prompt", "chosen", "rejected")}
    if normalize(texts["chosen"]) == normalize(texts["rejected"]):
        reasons.append("chosen equals rejected")
    if not MIN_PROMPT_CHARS <= len(texts["prompt"]) <= bounds.max_chars:
        reasons.append(f"length: prompt has {len(texts['prompt'])} characters")
    for role in ("chosen", "rejected"):
        if not bounds.min_chars <= len(texts[role]) <= bounds.max_chars:
            reasons.append(f"length: {role} has {len(texts[role])} characters "
                           f"(bounds {bounds.min_chars}-{bounds.max_chars})")
        found = refusal.classify(texts[role]).label
        if found not in EXPECTED_ROLES[(row["label"], role)]:
            reasons.append(f"role: {role} of a {row['label']} request reads as {found.value}")
    for field, text in texts.items():
        verdict = hazard.check(text)
        if verdict.flagged:
            reasons.append(f"hazard gate: {field} flagged ({'; '.join(verdict.reasons)})")
    return reasons


def rejected_row(stage: str, reasons: Sequence[str], row: dict) -> dict:
    return {"stage": stage, "reasons": list(reasons), **row}


def assemble(requests: Sequence[Request], responses: Sequence) -> tuple[list[dict], list[dict]]:
    """Join requests with their responses; failures of phases 1-2 become rejected rows."""
    rows, rejected = [], []
    for req, resp in zip(requests, responses, strict=True):
        base = {k: v for k, v in req.to_dict().items() if k not in ("request_id", "seed_id", "error")}
        base["triplet_id"] = req.request_id
        if req.error:
            rejected.append(rejected_row("craft", [req.error], base))
        elif resp.error:
            rejected.append(rejected_row("respond", [resp.error], base))
        else:
            rows.append(Triplet(chosen=resp.chosen, rejected=resp.rejected, **base).to_dict())
    return rows, rejected


def validate_rows(rows: Iterable[dict], kb: KnowledgeBase, bounds: TripletParams,
                  stage: str = "validate") -> tuple[list[dict], list[dict]]:
    """Split rows into those that pass validation and rejected rows carrying their reasons."""
    kept, rejected = [], []
    for row in rows:
        reasons = validate(row, kb, bounds)
        (rejected.append(rejected_row(stage, reasons, row)) if reasons else kept.append(row))
    return kept, rejected


def build_triplets(seeds: Sequence[Seed], generator: Generator, kb: KnowledgeBase,
                   params: TripletParams) -> tuple[list[dict], list[dict]]:
    """Run the three phases; return (valid triplets, rejected rows), both in a stable order."""
    requests = generator.craft(seeds, params.requests_per_seed)
    crafted = [r for r in requests if not r.error]
    responses = iter(generator.respond(crafted))
    paired = [next(responses) if not r.error else None for r in requests]
    rows, rejected = assemble(requests, paired)
    kept, invalid = validate_rows(rows, kb, params)
    order = lambda r: r["triplet_id"]  # noqa: E731
    return sorted(kept, key=order), sorted(rejected + invalid, key=order)


def rejection_counts(rejected: Iterable[dict]) -> list[dict]:
    """Counts of rejected rows by stage and first reason kind, for the notebook."""
    counts = Counter((r["stage"], r["reasons"][0].split(":")[0]) for r in rejected)
    return [{"stage": s, "reason": k, "rows": n} for (s, k), n in sorted(counts.items())]


def make_triplet_files(cfg, kb: KnowledgeBase, generator: Generator) -> dict:
    """Step 02: seeds → triplets; writes ``data/triplets.jsonl`` and ``data/rejected_rows.jsonl``."""
    seeds = read_seed_file(cfg.paths.data / "seeds.jsonl", kb)
    kept, rejected = build_triplets(seeds, generator, kb, cfg.params.data.triplets)
    paths = [files.write_jsonl(cfg.paths.data / "triplets.jsonl", kept),
             files.write_jsonl(cfg.paths.data / "rejected_rows.jsonl", rejected)]
    return {"seeds": len(seeds), "triplets": len(kept), "rejected": len(rejected), "paths": paths}
