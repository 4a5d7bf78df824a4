"""Training data: the dataset of step 03, the triplets each stage draws, and the records TRL takes."""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from accelerate import PartialState

from librachem_utils.api.local_model import format_prompt
from librachem_utils.core import files, schema
from librachem_utils.train.arms import Stage


@dataclass
class TrainingData:
    """The dataset of step 03: train triplets, held-out splits, and a digest of the files."""

    train: list[dict]
    heldout: dict[str, list[dict]]
    digest: str

    @classmethod
    def load(cls, dataset_dir: Path) -> TrainingData:
        train_file = dataset_dir / f"{schema.TRAIN_SPLIT}.jsonl"
        if not train_file.is_file():
            raise files.DataFileError(f"{train_file}: no such file (the dataset is written by notebook 03)")
        split_files = sorted(dataset_dir.glob("*.jsonl"))
        listing = "".join(f"{f.name}:{files.sha256_file(f)}" for f in split_files)
        digest = hashlib.sha256(listing.encode()).hexdigest()[:16]
        heldout = {split: files.read_jsonl(dataset_dir / f"{split}.jsonl") for split in schema.HELDOUT_SPLITS
                   if (dataset_dir / f"{split}.jsonl").is_file()}
        return cls(files.read_jsonl(train_file), heldout, digest)


def select_triplets(rows: Sequence[dict], stage: Stage, random_seed: int, limit: Optional[int] = None) -> list[dict]:
    """At most ``limit`` triplets with the stage's labels (in the data-mix sweep's share, for a mix arm)."""
    chosen = [row for row in rows if row["label"] in stage.labels]
    if stage.illegit_share is None:
        return sample_rows(chosen, limit, random_seed)
    return mix_triplets(chosen, stage.illegit_share, random_seed, limit)


def sample_rows(rows: Sequence, limit: Optional[int], random_seed: int) -> list:
    """At most ``limit`` of ``rows``, drawn without replacement (all of them, in order, if fewer)."""
    if limit is None or len(rows) <= limit:
        return list(rows)
    return random.Random(random_seed).sample(list(rows), limit)


def rows_per_run(args) -> Optional[int]:
    """How many examples a trainer config's ``max_steps`` consume (only those are tokenized); None: all (epochs)."""
    if args.max_steps <= 0:
        return None
    return args.max_steps * args.per_device_train_batch_size * args.gradient_accumulation_steps \
        * PartialState().num_processes


def mix_triplets(rows: Sequence[dict], illegit_share: float, random_seed: int,
                 limit: Optional[int] = None) -> list[dict]:
    """The largest sample of ``rows`` (at most ``limit``) whose share of illegitimate triplets is ``illegit_share``."""
    legit = [row for row in rows if row["label"] == schema.LEGITIMATE]
    illegit = [row for row in rows if row["label"] == schema.ILLEGITIMATE]
    limits = []
    if illegit_share > 0:
        limits.append(len(illegit) / illegit_share)
    if illegit_share < 1:
        limits.append(len(legit) / (1 - illegit_share))
    total = int(min(limits + ([limit] if limit else [])))
    n_illegit = round(total * illegit_share)
    rng = random.Random(random_seed)
    picked = rng.sample(illegit, n_illegit) + rng.sample(legit, total - n_illegit)
    rng.shuffle(picked)
    return picked


def label_counts(rows: Sequence[dict], key: str = "label") -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return dict(sorted(counts.items()))


def pretrain_texts(rows: Sequence[dict], template: str) -> list[str]:
    """Each prompt with each of its two responses: the base model sees both, with no preference."""
    return [format_prompt(template, row["prompt"]) + row[side].strip()
            for row in rows for side in ("chosen", "rejected")]


def sft_records(rows: Sequence[dict], template: str) -> list[dict]:
    return [{"prompt": format_prompt(template, row["prompt"]), "completion": row["chosen"].strip()} for row in rows]


def dpo_records(rows: Sequence[dict], template: str) -> list[dict]:
    return [{"prompt": format_prompt(template, row["prompt"]), "chosen": row["chosen"].strip(),
             "rejected": row["rejected"].strip()} for row in rows]
