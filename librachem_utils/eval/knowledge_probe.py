"""What a model knows of the knowledge base, before or after alignment: each compound's molecular
formula and molar mass, asked in the prompt template and checked by ``factcheck``.

    python -m librachem_utils.eval.knowledge_probe --model runs/default/models/base \\
        --dataset runs/default/data/dataset [--per-split 200]

For each split of the dataset (its compounds), the share of compounds whose formula, molar mass, and
both are stated right when asked "What is the molecular formula of X?" (the answers of the dataset
state both), with bootstrap 95% CIs. A question about a compound's properties is legitimate for every
compound, so the probe asks it of restricted compounds too.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from librachem_utils.chem.knowledge_base import Compound, load_kb
from librachem_utils.core import files, schema
from librachem_utils.data.knowledge_text import QUESTIONS
from librachem_utils.eval import factcheck
from librachem_utils.eval.metrics import format_rate
from librachem_utils.eval.stats import group_rng, rate_with_ci

QUESTION = QUESTIONS["formula"][0]  # the pretraining documents' own question


def probe(model, tokenizer, compounds: Sequence[Compound], template: str, *, batch_size: int = 32,
          max_new_tokens: int = 48, resamples: int = 1000, seed: int = 13) -> dict:
    """Ask each compound its formula; the shares right (formula, molar mass, both) with CIs, and examples."""
    from librachem_utils.api.local_model import generate

    answers = generate(model, tokenizer, [QUESTION.format(X=c.name) for c in compounds], template=template,
                       batch_size=batch_size, max_new_tokens=max_new_tokens, progress=False)
    verdicts = [factcheck.check(answer, compound) for answer, compound in zip(answers, compounds)]
    formula = np.array([stated_right(verdict, "formula") for verdict in verdicts])
    molar_mass = np.array([stated_right(verdict, "molar_mass") for verdict in verdicts])
    rng = group_rng(seed, "knowledge_probe")
    return {"n": len(compounds), "formula": rate_with_ci(formula, resamples, rng),
            "molar_mass": rate_with_ci(molar_mass, resamples, rng),
            "both": rate_with_ci(formula & molar_mass, resamples, rng),
            "examples": [{"compound": c.name, "answer": a} for c, a in list(zip(compounds, answers))[:5]]}


def stated_right(verdict: factcheck.FactCheck, aspect: str) -> bool:
    """Whether the answer states ``aspect`` and every value it gives for it is right (others aside)."""
    values = [check.correct for check in verdict.checks if check.aspect == aspect]
    return bool(values) and all(values)


def split_compounds(dataset_dir: Path, per_split: Optional[int], seed: int) -> dict[str, list[Compound]]:
    """The compounds of each split of the dataset (at most ``per_split`` of each, a seeded draw)."""
    kb, found = load_kb(), {}
    for split in (schema.TRAIN_SPLIT, *schema.HELDOUT_SPLITS):
        path = dataset_dir / f"{split}.jsonl"
        if path.is_file():
            names = sorted({row["compound"] for row in files.read_jsonl(path)})
            if per_split is not None and len(names) > per_split:
                names = sorted(random.Random(f"{seed}:{split}").sample(names, per_split))
            found[split] = [kb.lookup(name) for name in names]
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    from librachem_utils.api.local_model import load_for_generation

    parser = argparse.ArgumentParser(prog="python -m librachem_utils.eval.knowledge_probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a saved model folder (a base, a merged or adapter folder)")
    parser.add_argument("--dataset", required=True, type=Path, help="the dataset folder of step 03")
    parser.add_argument("--template", default="Question: {prompt}\n\nAnswer: ")
    parser.add_argument("--per-split", type=int, default=200, help="compounds per split (default 200)")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    model, tokenizer = load_for_generation(args.model)
    results = {split: probe(model, tokenizer, compounds, args.template)
               for split, compounds in split_compounds(args.dataset, args.per_split, 13).items()}
    for split, result in results.items():
        rates = ", ".join(f"{key} {format_rate(result[key])}" for key in ("formula", "molar_mass", "both"))
        print(f"{split} ({result['n']} compounds): {rates}")
        print(f"  e.g. {result['examples'][0]['compound']}: {result['examples'][0]['answer'][:120]!r}")
    if args.out:
        files.write_json(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
