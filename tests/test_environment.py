"""The conda environment installs exactly the pinned set of requirements.txt, torch pinned to the CPU-tested build."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_conda_environment_installs_the_pinned_requirements_and_the_package():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python=3.11" in env["dependencies"] and pip == ["-r requirements.txt", "-e ."]


def test_every_requirement_is_pinned_and_torch_is_the_tested_build():
    text = (ROOT / "requirements.txt").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all("==" in line for line in lines), [line for line in lines if "==" not in line]
    assert "torch==2.13.0" in lines
