"""The papermill runner: order, parameters, timings, a failing notebook that stops the run, and a
params file outside the project."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from librachem_utils import run
from librachem_utils.core import schema

ROOT = Path(__file__).resolve().parents[1]


def make_notebook(path, body):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    parameters = new_code_cell("params_file = None\nparams = None")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, new_code_cell(body)]
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    record = "import json, pathlib\npathlib.Path(params['runs_dir'], '{step}.json').write_text(json.dumps(params))"
    for step in schema.STEPS:
        make_notebook(notebooks / f"{step}.ipynb", record.format(step=step))
    params_file = tmp_path / "p.yaml"
    params_file.write_text(f"run_name: t\nseed: 7\nruns_dir: {tmp_path / 'runs'}\n")
    (tmp_path / "runs").mkdir()
    return tmp_path, notebooks, params_file


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "librachem_utils.run", "--no-progress", *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def test_select_steps():
    assert run.select_steps() == list(schema.STEPS)
    assert run.select_steps(only="03,2") == ["02_triplets", "03_rephrase"]
    assert run.select_steps(start="05") == ["05_judge_eval", "06_figures"]
    assert run.select_steps(only="judge_eval") == run.select_steps(only="05_judge_eval") == ["05_judge_eval"]
    with pytest.raises(ValueError, match="unknown step '09'"):
        run.select_steps(only="09")
    with pytest.raises(ValueError, match="not both"):
        run.select_steps(only="01", start="02")


def test_runs_selected_notebooks_with_params_and_timings(project):
    tmp_path, notebooks, params_file = project
    result = run_cli("--params", str(params_file), "--notebooks", str(notebooks), "--only", "02,03")
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "runs").glob("*.json"))
    assert written == ["02_triplets.json", "03_rephrase.json"]
    injected = json.loads((tmp_path / "runs" / "02_triplets.json").read_text())
    assert injected["seed"] == 7 and injected["run_name"] == "t"
    run_dir = tmp_path / "runs" / "t"
    assert sorted(p.name for p in (run_dir / "notebooks").iterdir()) == ["02_triplets.ipynb", "03_rephrase.ipynb"]
    timings = json.loads((run_dir / "timings.json").read_text())
    assert set(timings) == {"02_triplets", "03_rephrase"} and all(t > 0 for t in timings.values())


def test_failing_notebook_stops_the_run_and_is_named(project):
    tmp_path, notebooks, params_file = project
    make_notebook(notebooks / "02_triplets.ipynb", "raise RuntimeError('triplet validation broke')")
    result = run_cli("--params", str(params_file), "--notebooks", str(notebooks), "--from", "01")
    assert result.returncode == 1
    assert "02_triplets failed in cell" in result.stderr
    assert "RuntimeError: triplet validation broke" in result.stderr
    assert (tmp_path / "runs" / "01_seeds.json").exists()
    assert not (tmp_path / "runs" / "03_rephrase.json").exists(), "steps after the failure must not run"


def test_bad_params_stop_before_any_work(project):
    tmp_path, notebooks, params_file = project
    params_file.write_text(f"run_name: t\nrunz_dir: {tmp_path}\n")
    result = run_cli("--params", str(params_file), "--notebooks", str(notebooks))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {params_file}: key 'runz_dir': unknown key"
    assert not list((tmp_path / "runs").iterdir())


def test_a_params_file_outside_the_project_runs_the_projects_notebooks(tmp_path):
    experiment = tmp_path / "exp"
    experiment.mkdir()
    params_file = experiment / "my.yaml"
    params_file.write_text((ROOT / "params" / "smoke.yaml").read_text(), encoding="utf-8")
    result = run_cli("--params", str(params_file), "--only", "01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = experiment / "runs" / "smoke"  # relative paths resolve beside a params file outside any project
    assert (run_dir / "data" / "seeds.jsonl").is_file() and (run_dir / "notebooks" / "01_seeds.ipynb").is_file()
