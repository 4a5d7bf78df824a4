"""Steps 01-03 of the pipeline run the way the tests need them: a params file whose generator is the
local OpenAI-compatible server, run through the papermill runner in a subprocess (as a user runs it)
or in this process (the functions the notebooks call)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import yaml

from librachem_utils.chem import knowledge_base
from librachem_utils.core import params
from librachem_utils.data import generators, seeds, triplets

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
KEY_ENV = "LIBRACHEM_FAULTS_API_KEY"
SECRET = "sk-faults-5e1d7a93c04b28f6aa71"
DATA_FILES = ("seeds.jsonl", "triplets.jsonl", "rejected_rows.jsonl")
RUNNER_TIMEOUT_S = 180


def write_params(folder: Path, name: str, *, base_url: str, cache: Path, runs_dir: Optional[Path] = None,
                 backend: str = "openai", variants: int = 1, **api) -> Path:
    """A params file for steps 01-03: 246 seeds, the openai backend on the local server."""
    values = {
        "run_name": name, "seed": 13, "runs_dir": str(runs_dir or folder / "runs"),
        "data": {
            "seeds": {"legit_compounds": 24, "restricted_compounds": 12},
            "generator": {"backend": backend, "api": {
                "base_url": base_url, "model": "fake-model", "api_key_env": KEY_ENV, "cache_path": str(cache),
                "concurrency": 16, "max_retries": 6, "timeout_s": 1.5, **api,
            }},
            "rephrase": {"variants": variants, "modes": ["text"]},
        },
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def runner_command(params_file: Path, steps: str) -> list[str]:
    return [sys.executable, "-m", "librachem_utils.run", "--params", str(params_file), "--only", steps,
            "--notebooks", str(NOTEBOOKS), "--no-progress"]


def runner_env() -> dict:
    return {**os.environ, KEY_ENV: SECRET}


def run_steps(params_file: Path, steps: str = "01,02") -> subprocess.CompletedProcess:
    return subprocess.run(runner_command(params_file, steps), capture_output=True, text=True, cwd=ROOT,
                          env=runner_env(), timeout=RUNNER_TIMEOUT_S)


def data_dir(params_file: Path) -> Path:
    return params.load(params_file).paths.data


def data_bytes(params_file: Path) -> dict[str, bytes]:
    folder = data_dir(params_file)
    return {name: (folder / name).read_bytes() for name in DATA_FILES}


def in_process(params_file: Path, steps: tuple[str, ...] = ("01", "02")):
    """Steps 01/02 in this process (the functions the notebooks call); returns the generator."""
    cfg, kb = params.load(params_file), knowledge_base.load_kb()
    generator = generators.make_generator(cfg.params.data, kb, cfg.params.seed, cfg.paths.root)
    if hasattr(generator, "client"):
        generator.client.progress = False
    if "01" in steps:
        seeds.make_seed_file(cfg, kb)
    if "02" in steps:
        triplets.make_triplet_files(cfg, kb, generator)
    return generator


def failure(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-4000:]}"
