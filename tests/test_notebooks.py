"""All six notebooks end to end on the smoke params, through the runner, as `make reproduce` runs them."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from librachem_utils import train
from librachem_utils.core import files
from librachem_utils.core.params import load
from librachem_utils.eval import metrics

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("01_seeds", "02_triplets", "03_rephrase", "04_dpo_qlora", "05_judge_eval", "06_figures")
PROGRESS_LINE = re.compile(r"\[\d+:\d\d[^\]]*/s\]")  # tqdm's "[00:01<00:02, 3.4it/s]"
#: one final line per bar, at most two bars per arm in a cell (05: loading and generating; 04: a stage's,
#: the LoRA vs QLoRA comparison's): ten for the smoke run's five arms
MAX_PROGRESS_LINES_PER_CELL = 10


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


def output_texts(cell: dict) -> list[str]:
    texts = []
    for output in cell.get("outputs", []):
        text = output.get("text", output.get("data", {}).get("text/plain", ""))
        texts.append("".join(text) if isinstance(text, list) else text)
    return texts


def test_every_step_records_its_provenance(smoke_run):
    for step in STEPS:
        record = files.read_json(smoke_run.paths.run_dir / "provenance" / f"{step}.json")
        assert record["params_hash"] == smoke_run.params_hash and record["artifacts"], step
    trained = files.read_json(smoke_run.paths.run_dir / "provenance" / "04_dpo_qlora.json")["artifacts"]
    assert {"results/train_metrics.json", "models/dpo_balanced/adapter_model.safetensors"} <= set(trained)


def test_saved_notebooks_hold_a_final_line_per_bar_and_no_library_noise(smoke_run):
    widgets = 0
    for step in STEPS:
        nb = json.loads((smoke_run.paths.notebooks / f"{step}.ipynb").read_text())
        widgets += len(nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
                       .get("state", {}))
        for number, cell in enumerate(nb["cells"]):
            texts = output_texts(cell)
            lines = [line for text in texts for line in re.split(r"[\r\n]", text) if PROGRESS_LINE.search(line)]
            assert len(lines) <= MAX_PROGRESS_LINES_PER_CELL, f"{step} cell {number}: {len(lines)} progress lines"
            assert not [line for line in lines if " 0%|" in line], f"{step} cell {number}: a bar's first state saved"
            assert not [t for t in texts if "kernels" in t or "IProgress not found" in t], f"{step} cell {number}"
    assert widgets > 0, "the bars ran as live widgets"


def test_every_arm_is_scored_on_every_split_and_mode(smoke_run):
    results = metrics.read_metrics(smoke_run.paths.results / "metrics.json")
    arms = train.arm_names(smoke_run.params.train)
    assert results["models"] == arms
    cells = {(g["model"], g["split"], g["mode"]) for g in results["groups"]}
    ev = smoke_run.params.eval
    assert cells == {(a, s, m) for a in arms for s in ev.splits for m in ev.modes}
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
