"""The dataset in the paper's layout as well, beside the JSON Lines (``data/dataset/paper/``):

- ``train.parquet``: ``prompt, chosen, rejected`` (every mode, as training uses them);
- ``<split>_<mode>.parquet`` for each held-out split and mode: ``prompt, true_label`` with 1 = legitimate,
  0 = illegitimate;
- ``hf/``: the same tables as one ``datasets.DatasetDict`` (``save_to_disk``), ready for ``push_to_hub``.

    python -m librachem_utils.data.paper_format push --params params/default.yaml --repo-id org/name [--private]

pushes the ``DatasetDict`` to the hub with the token in ``HF_TOKEN`` (nothing is pushed by the steps).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Optional, Sequence

from librachem_utils.core import files, schema

TRAIN_COLUMNS = ("prompt", "chosen", "rejected")
TEST_COLUMNS = ("prompt", "true_label")
TOKEN_ENV = "HF_TOKEN"


def paper_tables(dataset_dir: Path) -> dict[str, list[dict]]:
    """The paper-layout tables of a dataset folder's JSON Lines, by name (``train``, ``<split>_<mode>``)."""
    tables = {"train": [{k: row[k] for k in TRAIN_COLUMNS}
                        for row in files.read_jsonl(dataset_dir / f"{schema.TRAIN_SPLIT}.jsonl")]}
    for split in schema.HELDOUT_SPLITS:
        rows = files.read_jsonl(dataset_dir / f"{split}.jsonl", allow_empty=True)
        for mode in schema.MODES:
            table = [{"prompt": row["prompt"], "true_label": int(row["label"] == schema.LEGITIMATE)}
                     for row in rows if row["mode"] == mode]
            if table:  # a mode the params leave out has no file
                tables[f"{split}_{mode}"] = table
    return tables


def _frame(rows: list[dict], columns: Sequence[str]):
    import pandas

    return pandas.DataFrame(rows, columns=list(columns))


def write_paper_format(dataset_dir: Path, out_dir: Optional[Path] = None) -> list[Path]:
    """Write the Parquet files and the saved ``DatasetDict``; return the Parquet files."""
    from datasets import Dataset, DatasetDict

    out_dir = out_dir or dataset_dir / "paper"
    written, frames = [], {}
    for name, rows in paper_tables(dataset_dir).items():
        frames[name] = _frame(rows, TRAIN_COLUMNS if name == "train" else TEST_COLUMNS)
        with files.atomic_path(out_dir / f"{name}.parquet") as tmp:
            frames[name].to_parquet(tmp, index=False)
        written.append(out_dir / f"{name}.parquet")
    saved, staged = out_dir / "hf", out_dir / ".hf.tmp"
    shutil.rmtree(staged, ignore_errors=True)
    DatasetDict({name: Dataset.from_pandas(frame, preserve_index=False) for name, frame in frames.items()}
                ).save_to_disk(str(staged))
    shutil.rmtree(saved, ignore_errors=True)
    staged.rename(saved)  # the saved dataset appears whole or not at all
    return written


def push_to_hub(dataset_dir: Path, repo_id: str, *, private: bool = False) -> None:
    """Push the saved ``DatasetDict`` to ``repo_id`` with the token in ``HF_TOKEN``."""
    from datasets import load_from_disk

    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise ValueError(f"the environment variable {TOKEN_ENV} is not set: it must hold a hub token that may write")
    saved = dataset_dir / "paper" / "hf"
    if not saved.is_dir():
        raise FileNotFoundError(f"{saved}: no saved dataset (run 03_rephrase first)")
    load_from_disk(str(saved)).push_to_hub(repo_id, private=private, token=token)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from librachem_utils.core.params import ParamsError, load

    parser = argparse.ArgumentParser(prog="python -m librachem_utils.data.paper_format",
                                     description="The dataset in the paper's layout, pushed to the hub.")
    commands = parser.add_subparsers(dest="command", required=True)
    push = commands.add_parser("push", help=f"push data/dataset/paper/hf to the hub (token in {TOKEN_ENV})")
    push.add_argument("--params", required=True)
    push.add_argument("--repo-id", required=True, help="e.g. org/librachem-dpo")
    push.add_argument("--private", action="store_true")
    args = parser.parse_args(argv)
    try:
        push_to_hub(load(args.params).paths.dataset, args.repo_id, private=args.private)
    except (ParamsError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"pushed to https://huggingface.co/datasets/{args.repo_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
