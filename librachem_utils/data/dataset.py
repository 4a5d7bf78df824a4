"""TEXT and SMILES modes, the splits, and the exported dataset with its card (notebook 03).

Splits:

- ``test``: rows whose prompt template is held out (a share of each intent's templates, chosen by
  the seed), so test phrasings were never seen in training;
- ``test_unseen_compounds``: every row about a held-out share of each compound class;
- ``train``: the rest.

A test row whose normalized prompt also occurs in train is removed from the test split (counted).
Each split is one JSON Lines file with columns ``prompt, chosen, rejected`` plus metadata; it loads
with ``datasets.load_dataset("json", ...)`` and feeds TRL's DPOTrainer as it is.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Sequence

from librachem_utils.chem.knowledge_base import KnowledgeBase
from librachem_utils.core import files, provenance
from librachem_utils.core.params import SplitParams
from librachem_utils.core.schema import COMPOUND_CLASSES, ILLEGITIMATE, LEGITIMATE, SPLITS
from librachem_utils.core.tables import to_markdown
from librachem_utils.data import diversity, grammar, rephrase
from librachem_utils.data.generators import Generator, render
from librachem_utils.data.seeds import balance_table, read_seed_file, rule_table
from librachem_utils.data.triplets import normalize

COLUMNS = ("prompt", "chosen", "rejected", "label", "intent", "compound", "compound_class", "mode",
           "template_id", "aspect", "variant", "triplet_id")


def render_modes(rows: Sequence[dict], kb: KnowledgeBase, modes: Sequence[str]) -> list[dict]:
    """One row per (row, mode): the placeholder replaced by the name or the canonical SMILES."""
    out = []
    for mode in modes:
        for row in rows:
            compound = kb.lookup(row["compound"])
            texts = {f: render(row[f], compound, mode) for f in ("prompt", "chosen", "rejected")}
            out.append({**row, **texts, "mode": mode})
    return out


def held_out(rows: Sequence[dict], params: SplitParams, seed: int) -> tuple[set[str], set[str]]:
    """(held-out template ids, held-out compounds), chosen per intent and per class by ``seed``."""
    rng = random.Random(f"{seed}:splits")
    templates_by_intent, compounds_by_class = defaultdict(set), defaultdict(set)
    for row in rows:
        templates_by_intent[row["intent"]].add(row["template_id"])
        compounds_by_class[row["compound_class"]].add(row["compound"])

    def pick(pool: set[str], share: float) -> list[str]:
        n = round(share * len(pool))
        n = max(n, 1) if share > 0 and len(pool) > 1 else n
        return rng.sample(sorted(pool), min(n, len(pool) - 1))

    templates = {t for intent in sorted(templates_by_intent)
                 for t in pick(templates_by_intent[intent], params.test_template_share)}
    compounds = {c for cls in COMPOUND_CLASSES if cls in compounds_by_class
                 for c in pick(compounds_by_class[cls], params.unseen_compound_share)}
    return templates, compounds


def split(rows: Sequence[dict], params: SplitParams, seed: int) -> tuple[dict[str, list[dict]], dict]:
    """Assign rows to the splits; returns (splits, report of what was held out and removed)."""
    templates, compounds = held_out(rows, params, seed)
    splits: dict[str, list[dict]] = {name: [] for name in SPLITS}
    for row in rows:
        name = ("test_unseen_compounds" if row["compound"] in compounds
                else "test" if row["template_id"] in templates else "train")
        splits[name].append(row)
    train_prompts = {normalize(r["prompt"]) for r in splits["train"]}
    removed = {}
    for name in SPLITS[1:]:
        before = len(splits[name])
        splits[name] = [r for r in splits[name] if normalize(r["prompt"]) not in train_prompts]
        removed[name] = before - len(splits[name])
    report = {"held_out_templates": sorted(templates), "held_out_compounds": sorted(compounds),
              "removed_as_seen_in_train": removed}
    return splits, report


def split_table(splits: dict[str, list[dict]]) -> list[dict]:
    """Rows per split, mode and label."""
    counts = Counter((name, r["mode"], r["label"]) for name, rows in splits.items() for r in rows)
    modes = sorted({mode for _, mode, _ in counts})
    return [{"split": name, "mode": mode, LEGITIMATE: counts[(name, mode, LEGITIMATE)],
             ILLEGITIMATE: counts[(name, mode, ILLEGITIMATE)]} for name in splits for mode in modes]


def write_splits(out_dir: Path, splits: dict[str, list[dict]]) -> dict[str, Path]:
    """Write one JSON Lines file per split (columns in a fixed set), atomically."""
    return {name: files.write_jsonl(out_dir / f"{name}.jsonl", ({c: r.get(c) for c in COLUMNS} for r in rows))
            for name, rows in splits.items()}


def dataset_card(*, splits: dict[str, list[dict]], balance: Sequence[dict], split_report: dict,
                 diversity_rows: Sequence[dict], rejected: dict[str, int], generation: dict,
                 params_hash: str, versions: dict[str, str]) -> str:
    """The dataset card (README.md beside the files)."""
    counts = "\n".join(f"- `{name}.jsonl`: {len(rows)} rows" for name, rows in splits.items())
    templates, compounds = (", ".join(split_report[k]) for k in ("held_out_templates", "held_out_compounds"))
    return f"""# LibraChemQA (reproduction)

DPO triplets (`prompt`, `chosen`, `rejected`) of chemistry requests, legitimate and illegitimate,
about the same compounds. For a legitimate request, chosen is a helpful answer grounded in the
knowledge base and rejected an over-refusal; for an illegitimate request, chosen is a refusal that
names the concern and offers a safe alternative, and rejected is compliance-shaped but empty.

Load it with `datasets.load_dataset("json", data_files={{"train": "train.jsonl", ...}})`; the
`prompt`, `chosen` and `rejected` columns feed TRL's `DPOTrainer` as they are.

## Files and counts

{counts}

Columns: {", ".join(f"`{c}`" for c in COLUMNS)}. `mode` is `text` (compound by name) or `smiles`
(compound by canonical SMILES); `variant` 0 is the generated row, k > 0 its k-th rephrasing.

{to_markdown(split_table(splits))}
## Splits

- `test` holds the rows of held-out prompt templates ({templates}), with every rephrasing of them:
  no train prompt is built from their clauses, so these phrasings are never seen in train.
- `test_unseen_compounds` holds every row about {len(split_report["held_out_compounds"])} held-out compounds:
  {compounds}.
- Test rows whose prompt also occurs in train were removed: {split_report["removed_as_seen_in_train"]}.

## Balance of the seed (requests per intent and label)

{to_markdown(balance)}
## Label rule

A request's label follows its intent and the compound's class (legitimate / illegitimate):

{to_markdown(rule_table())}
## Generation

{to_markdown([{"key": k, "value": v} for k, v in generation.items()])}
Rows rejected by validation, by stage: {dict(sorted(rejected.items())) or "none"}.

{diversity_section(diversity_rows)}
## Content safety

Every text was checked by the hazard gate (`librachem_utils.safety.hazard`), which flags procedure-like
content (ordered steps with reagents, quantities, conditions; acquisition or weaponization
instructions); flagged rows are in `rejected_rows.jsonl`, not here. Rejected (compliant) responses
to illegitimate requests are compliance-shaped but contain no reagents, quantities, conditions or
steps. The compound lists hold names and identifiers from public lists only.

## Provenance

Params hash `{params_hash}`; library versions: {", ".join(f"{k} {v}" for k, v in sorted(versions.items()))}.
"""


def diversity_section(diversity_rows: Sequence[dict]) -> str:
    """The card's paragraph and table on wording diversity before and after rephrasing."""
    shapes = sum(map(len, grammar.all_shapes().values()))
    return f"""Diversity before and after rephrasing and duplicate removal, on texts with the compound and the
values masked: `prompt_shapes` counts distinct prompts with the property masked too (all rows); the
n-gram and similarity measures use {diversity_rows[0]["sample_rows"]} rows drawn at random from each stage, so more
rows alone cannot move them. `*_distinct_n_per_1k`: distinct word n-grams per 1,000 rows of the
sample (higher = more varied); `*_distinct_n`: distinct over all n-grams of the sample;
`*_pairwise_jaccard`: mean word 3-gram Jaccard of random pairs (lower = more varied). The offline
grammar frames the requests in {shapes} ways before openers, contexts and closers are added
(`python -m librachem_utils.data.grammar --list-shapes` lists them).

{to_markdown(diversity.diversity_table(diversity_rows))}"""


def dataset_summary(splits: dict[str, list[dict]], seed_rows: Sequence[dict]) -> dict:
    """What the data figures need, small enough to commit: request counts and word-count histograms.

    ``requests``: rows per source (``seed`` or ``dataset``), split, mode, intent and label (the seed
    has no split or mode: None). ``word_counts``: dataset rows per label, field (prompt, chosen,
    rejected) and length in words.
    """
    requests = Counter((None, None, s["intent"], s["label"]) for s in seed_rows)
    dataset = Counter((split, r["mode"], r["intent"], r["label"]) for split, rows in splits.items() for r in rows)
    words = Counter((r["label"], field, len(r[field].split()))
                    for rows in splits.values() for r in rows for field in diversity.TEXT_FIELDS)
    return {
        "requests": [{"source": source, "split": split, "mode": mode, "intent": intent, "label": label, "rows": n}
                     for source, counts in (("seed", requests), ("dataset", dataset))
                     for (split, mode, intent, label), n in sorted(counts.items(), key=lambda kv: str(kv[0]))],
        "word_counts": [{"label": label, "field": field, "words": n_words, "rows": n}
                        for (label, field, n_words), n in sorted(words.items())],
    }


def make_dataset(cfg, kb: KnowledgeBase, generator: Generator) -> dict:
    """Step 03: rephrase, drop duplicates, render both modes, split, and write the dataset and card."""
    data, seed = cfg.params.data, cfg.params.seed
    triplets = files.read_jsonl(cfg.paths.data / "triplets.jsonl")
    augmented, rejected = rephrase.augment(triplets, generator, data.rephrase.variants, kb, data.triplets)
    unique, duplicates = rephrase.dedupe(augmented, data.rephrase.near_duplicate_jaccard)
    sample = min(diversity.SAMPLE_ROWS, len(triplets), len(unique))  # one sample size, so stages compare
    diversity_rows = [{"stage": "generated", **diversity.diversity(triplets, seed, sample)},
                      {"stage": "rephrased, duplicates dropped", **diversity.diversity(unique, seed, sample)}]
    splits, report = split(render_modes(unique, kb, data.rephrase.modes), data.splits, seed)
    paths = list(write_splits(cfg.paths.dataset, splits).values())
    paths.append(files.write_jsonl(cfg.paths.data / "rejected_rephrasings.jsonl", rejected))
    paths.append(files.write_json(cfg.paths.results / "diversity.json", diversity_rows))
    rejected_rows = files.read_jsonl(cfg.paths.data / "rejected_rows.jsonl", allow_empty=True)
    rejected_counts = Counter(r["stage"] for r in rejected_rows)
    rejected_counts.update(r["stage"] for r in rejected)
    generation = {"backend": data.generator.backend, "seed": seed, "rephrase variants": data.rephrase.variants,
                  "near-duplicate Jaccard": data.rephrase.near_duplicate_jaccard,
                  "modes": ", ".join(data.rephrase.modes),
                  "triplets generated": len(triplets), "rows after rephrasing": len(augmented),
                  "exact duplicates dropped": duplicates["exact"], "near duplicates dropped": duplicates["near"]}
    seed_rows = [seed.to_dict() for seed in read_seed_file(cfg.paths.data / "seeds.jsonl", kb)]
    paths.append(files.write_json(cfg.paths.results / "dataset_summary.json", dataset_summary(splits, seed_rows)))
    card = dataset_card(splits=splits, balance=balance_table(seed_rows),
                        split_report=report, diversity_rows=diversity_rows, rejected=dict(rejected_counts),
                        generation=generation, params_hash=cfg.params_hash, versions=provenance.library_versions())
    paths.append(files.write_text(cfg.paths.dataset / "README.md", card))
    return {"splits": {k: len(v) for k, v in splits.items()}, "duplicates": duplicates, "rejected": len(rejected),
            "diversity": diversity_rows, "split_report": report, "split_table": split_table(splits), "paths": paths}
