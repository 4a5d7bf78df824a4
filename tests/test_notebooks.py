"""All six notebooks end to end on the smoke params, through the runner, as `make reproduce` runs them."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from librachem_utils.core import files
from librachem_utils.eval import metrics
from librachem_utils.train import stages
from librachem_utils.core.params import load

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("01_seeds", "02_triplets", "03_rephrase", "04_dpo_qlora", "05_judge_eval", "06_figures")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notebooks")
    params_file = tmp / "smoke.yaml"
    params_file.write_text((ROOT / "params" / "smoke.yaml").read_text() + f"runs_dir: {tmp / 'runs'}\n")
    result = subprocess.run([sys.executable, "-m", "librachem_utils.run", "--params", str(params_file),
                             "--notebooks", str(ROOT / "notebooks"), "--no-progress"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return load(params_file)


def test_every_notebook_ran_and_was_timed(smoke_run):
    timings = files.read_json(smoke_run.paths.run_dir / "timings.json")
    assert list(timings) == list(STEPS) and all(seconds > 0 for seconds in timings.values())
    for step in STEPS:
        cells = json.loads((smoke_run.paths.notebooks / f"{step}.ipynb").read_text())["cells"]
        assert not [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"], step


def test_every_arm_is_scored_on_every_split_and_mode(smoke_run):
    results = metrics.read_metrics(smoke_run.paths.results / "metrics.json")
    arms = stages.arm_names(smoke_run.params.train)
    assert results["models"] == arms
    cells = {(g["model"], g["split"], g["mode"]) for g in results["groups"]}
    assert cells == {(a, s, m) for a in arms for s in smoke_run.params.eval.splits for m in smoke_run.params.eval.modes}
    assert results["params_hash"] == smoke_run.params_hash
    assert {"rule", "hybrid", "librachem_official"} <= set(results["judge_info"])


def test_responses_carry_the_columns_a_reader_needs(smoke_run):
    rows = files.read_jsonl(smoke_run.paths.results / "responses" / "dpo_balanced.jsonl")
    assert {"prompt", "response", "label", "model", "split", "mode", "params_hash"} <= set(rows[0])
    assert all(isinstance(r["response"], str) for r in rows)


def test_figures_and_table_are_written(smoke_run):
    figures = smoke_run.figures_dir()
    for name in ("fig_balance", "fig_lengths", "fig_diversity", "fig_training", "fig_main", "fig_dilemma",
                 "fig_overrefusal", "fig_judges"):
        assert (figures / f"{name}.png").stat().st_size > 0 and (figures / f"{name}.pdf").is_file(), name
    assert (figures / "results_table.md").is_file() and (figures / "results_table.tex").is_file()


def test_a_rerun_of_05_reuses_the_responses(smoke_run):
    before = {p.name: p.stat().st_mtime_ns for p in (smoke_run.paths.results / "responses").iterdir()}
    result = subprocess.run([sys.executable, "-m", "librachem_utils.run", "--params", str(smoke_run.source),
                             "--notebooks", str(ROOT / "notebooks"), "--only", "05", "--no-progress"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    after = {p.name: p.stat().st_mtime_ns for p in (smoke_run.paths.results / "responses").iterdir()}
    assert after == before
