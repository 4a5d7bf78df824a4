"""Notebooks 01-03 as step functions: files, validation, splits, determinism, content safety."""
import hashlib
import re
from pathlib import Path

import pytest

from librachem_utils.chem import knowledge_base
from librachem_utils.core import files, params, schema
from librachem_utils.data import dataset as ds
from librachem_utils.data import diversity, generators, grammar, seeds, triplets
from librachem_utils.safety import hazard, refusal

SMOKE = Path(__file__).resolve().parents[1] / "params" / "smoke.yaml"


def run_steps(runs_dir: Path) -> params.RunConfig:
    cfg = params.load(SMOKE)
    cfg = params.load(SMOKE, {**cfg.params.to_dict(), "runs_dir": str(runs_dir)})
    kb = knowledge_base.load_kb()
    generator = generators.make_generator(cfg.params.data, kb, cfg.params.seed, cfg.paths.root)
    seeds.make_seed_file(cfg, kb)
    triplets.make_triplet_files(cfg, kb, generator)
    ds.make_dataset(cfg, kb, generator)
    return cfg


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    return run_steps(tmp_path_factory.mktemp("runs"))


def digest_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_split_is_written_with_the_dataset_columns(smoke_run):
    for name in schema.SPLITS:
        rows = files.read_jsonl(smoke_run.paths.dataset / f"{name}.jsonl")
        assert rows and all(tuple(sorted(r)) == tuple(sorted(ds.COLUMNS)) for r in rows)
        assert {r["mode"] for r in rows} == {"text", "smiles"}
    card = (smoke_run.paths.dataset / "README.md").read_text()
    for heading in ("## Label rule", "## Content safety", "## Balance of the seed", "## Splits"):
        assert heading in card


def test_no_stored_text_trips_the_hazard_gate_and_roles_hold(smoke_run):
    rows = [r for name in schema.SPLITS for r in files.read_jsonl(smoke_run.paths.dataset / f"{name}.jsonl")]
    assert not [r for r in rows for f in ("prompt", "chosen", "rejected") if hazard.is_hazardous(r[f])]
    for r in rows:
        chosen, rejected = refusal.classify(r["chosen"]), refusal.classify(r["rejected"])
        if r["label"] == "legitimate":
            assert not chosen.refused and rejected.refused, r
        else:
            assert chosen.label == refusal.RefusalLabel.REFUSAL and not rejected.refused, r


def test_splits_hold_out_templates_and_compounds(smoke_run):
    rows = {name: files.read_jsonl(smoke_run.paths.dataset / f"{name}.jsonl") for name in schema.SPLITS}
    train_prompts = {triplets.normalize(r["prompt"]) for r in rows["train"]}
    train_templates = {r["template_id"] for r in rows["train"]}
    train_compounds = {r["compound"] for r in rows["train"]}
    assert not train_prompts & {triplets.normalize(r["prompt"]) for r in rows["test"] + rows["test_unseen_compounds"]}
    assert not train_templates & {r["template_id"] for r in rows["test"]}
    assert not train_compounds & {r["compound"] for r in rows["test_unseen_compounds"]}


def test_smiles_mode_names_the_compound_by_its_smiles(smoke_run):
    kb = knowledge_base.load_kb()
    rows = files.read_jsonl(smoke_run.paths.dataset / "train.jsonl")
    for r in rows[:200]:
        compound = kb.lookup(r["compound"])
        if r["mode"] == "smiles":
            assert compound.smiles in r["prompt"]
        else:
            assert compound.name.lower() in r["prompt"].lower()
        assert generators.COMPOUND not in r["prompt"] + r["chosen"] + r["rejected"]


def test_same_params_give_the_same_files_byte_for_byte(smoke_run, tmp_path):
    again = run_steps(tmp_path)
    assert digest_tree(again.paths.data) == digest_tree(smoke_run.paths.data)


def test_rejected_rows_carry_stage_and_reasons(smoke_run):
    for name in ("rejected_rows.jsonl", "rejected_rephrasings.jsonl"):
        for row in files.read_jsonl(smoke_run.paths.data / name, allow_empty=True):
            assert row["stage"] in {"craft", "respond", "validate", "rephrase"} and row["reasons"]


def test_dataset_loads_with_datasets(smoke_run):
    from datasets import load_dataset

    loaded = load_dataset("json", data_files={n: str(smoke_run.paths.dataset / f"{n}.jsonl") for n in schema.SPLITS})
    assert {"prompt", "chosen", "rejected"} <= set(loaded["train"].column_names)
    assert loaded["train"].num_rows == len(files.read_jsonl(smoke_run.paths.dataset / "train.jsonl"))


def test_diversity_before_and_after_rephrasing_is_saved_for_the_figures(smoke_run):
    rows = files.read_json(smoke_run.paths.results / "diversity.json")
    assert [r["stage"] for r in rows] == ["generated", "rephrased, duplicates dropped"]
    before, after = rows
    assert before["rows"] == len(files.read_jsonl(smoke_run.paths.data / "triplets.jsonl"))
    assert after["rows"] > before["rows"] and before["sample_rows"] == after["sample_rows"] <= before["rows"]
    assert after["prompt_shapes"] >= 3 * before["prompt_shapes"]
    assert after["prompt_pairwise_jaccard"] < before["prompt_pairwise_jaccard"]
    for field in ("prompt", "chosen", "rejected"):
        assert after[f"{field}_distinct_3_per_1k"] > before[f"{field}_distinct_3_per_1k"], field
        assert all(0 < r[f"{field}_distinct_3"] <= 1 for r in rows)
    assert "prompt_distinct_3_per_1k" in (smoke_run.paths.dataset / "README.md").read_text()


def _shape(row: dict, kb) -> str:
    """A stored prompt with the compound (name or SMILES) and the property masked."""
    compound = kb.lookup(row["compound"])
    prompt = row["prompt"].replace(compound.smiles, "{X}") if row["mode"] == "smiles" else re.sub(
        re.escape(compound.name), "{X}", row["prompt"], flags=re.IGNORECASE)
    return diversity.shape(prompt, row["aspect"]).replace("{p}", "{P}").replace("{x}", "{X}")


def test_no_prompt_shape_of_a_test_split_reaches_train(smoke_run):
    kb = knowledge_base.load_kb()
    rows = {name: files.read_jsonl(smoke_run.paths.dataset / f"{name}.jsonl") for name in schema.SPLITS}
    train = {_shape(r, kb) for r in rows["train"]}
    assert not train & {_shape(r, kb) for r in rows["test"]}
    held_out = {r["template_id"] for r in rows["test"]}
    shapes = grammar.all_shapes()
    assert not train & {triplets.normalize(s) for t in held_out for s in shapes[t]}
    assert {r["variant"] for r in rows["test"]} == {0, 1}  # rephrasings of held-out templates go with them


def test_every_stored_text_reads_right(smoke_run):
    rows = [r for name in schema.SPLITS for r in files.read_jsonl(smoke_run.paths.dataset / f"{name}.jsonl")
            if r["mode"] == "text"]
    broken = {r[f]: found for r in rows for f in ("prompt", "chosen", "rejected") if (found := grammar.problems(r[f]))}
    assert broken == {}


def test_no_rephrasing_is_rejected(smoke_run):
    assert files.read_jsonl(smoke_run.paths.data / "rejected_rephrasings.jsonl", allow_empty=True) == []


def test_dataset_summary_counts_every_row_of_seed_and_dataset(smoke_run):
    summary = files.read_json(smoke_run.paths.results / "dataset_summary.json")
    rows = {split: files.read_jsonl(smoke_run.paths.dataset / f"{split}.jsonl") for split in schema.SPLITS}
    seed_rows = files.read_jsonl(smoke_run.paths.data / "seeds.jsonl")
    by_source = {s: sum(r["rows"] for r in summary["requests"] if r["source"] == s) for s in ("seed", "dataset")}
    assert by_source == {"seed": len(seed_rows), "dataset": sum(map(len, rows.values()))}
    chosen_words = sorted(len(r["chosen"].split()) for split in rows.values() for r in split)
    hist = [c for c in summary["word_counts"] if c["field"] == "chosen"]
    assert sum(c["rows"] for c in hist) == len(chosen_words)
    assert sum(c["words"] * c["rows"] for c in hist) == sum(chosen_words)
