"""Run the numbered notebooks headlessly with papermill.

    python -m librachem_utils.run --params params/default.yaml [--only 02,03] [--from 04]

Params are validated before any notebook starts; the params file may lie anywhere. The notebooks
are the project's own ``notebooks/`` (beside the package; failing that, in the params file's
project), unless ``--notebooks`` names others. Each notebook gets ``params_file`` and the file's
validated values (``params``) as parameters and is executed into ``runs/<run_name>/notebooks/``;
the runner's own progress bar stays in the terminal.
The first failing notebook stops the run with its name and the failing cell's error; the seconds
each notebook took go to ``runs/<run_name>/timings.json``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import librachem_utils
from librachem_utils.core import files
from librachem_utils.core import params as params_mod
from librachem_utils.core.schema import STEPS

#: the project the package lives in (a clone, or an editable install)
PROJECT = Path(librachem_utils.__file__).resolve().parents[1]


class RunError(RuntimeError):
    """A notebook failed; the message names it and the failing cell's error."""


def select_steps(only: Optional[str] = None, start: Optional[str] = None) -> list[str]:
    """The steps to run, in order: all, those named by ``only`` ("02,03", "05_judge_eval" or
    "judge_eval"), or from ``start`` on."""
    def find(token: str) -> str:
        token = token.strip()
        for step in STEPS:
            number, name = step.split("_", 1)
            if token in (step, name) or number == token.zfill(2):
                return step
        raise ValueError(f"unknown step '{token}': choose from {', '.join(STEPS)}")

    if only and start:
        raise ValueError("give --only or --from, not both")
    if only:
        wanted = {find(tok) for tok in only.split(",") if tok.strip()}
        return [step for step in STEPS if step in wanted]
    if start:
        return list(STEPS[STEPS.index(find(start)):])
    return list(STEPS)


def notebooks_folder(cfg: params_mod.RunConfig) -> Path:
    """The project's ``notebooks/``: beside the package, else in the params file's project root."""
    for folder in (PROJECT / "notebooks", cfg.paths.root / "notebooks"):
        if folder.is_dir():
            return folder
    raise RunError(f"no notebooks/ beside the package ({PROJECT}) or in {cfg.paths.root}: give --notebooks")


def execute(cfg: params_mod.RunConfig, steps: Sequence[str], notebooks_dir: Optional[Path] = None,
            progress: bool = True) -> dict[str, float]:
    """Execute ``steps`` in order; return seconds per notebook. Raises ``RunError`` on a failure."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebooks_dir = Path(notebooks_dir) if notebooks_dir else notebooks_folder(cfg)
    out_dir = cfg.paths.notebooks
    out_dir.mkdir(parents=True, exist_ok=True)
    timings_file = cfg.paths.run_dir / "timings.json"
    timings = files.read_json(timings_file) if timings_file.is_file() else {}
    injected = {"params_file": str(cfg.source), "params": cfg.params.to_dict()}
    for step in steps:
        source = notebooks_dir / f"{step}.ipynb"
        if not source.is_file():
            raise RunError(f"{step}: no notebook at {source}")
        print(f"[{cfg.params.run_name}] {step}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(source), str(out_dir / source.name), parameters=injected, cwd=str(notebooks_dir),
                kernel_name="python3", progress_bar=progress, log_output=False,
            )
        except PapermillExecutionError as err:
            raise RunError(
                f"{step} failed in cell {err.exec_count}: {err.ename}: {err.evalue} "
                f"(executed copy: {out_dir / source.name})"
            ) from None
        timings[step] = round(time.perf_counter() - started, 2)
        files.write_json(timings_file, timings)
    return timings


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m librachem_utils.run", description=__doc__.split("\n")[0])
    parser.add_argument("--params", required=True, help="a params YAML file, e.g. params/default.yaml")
    parser.add_argument("--only", help="comma-separated steps, e.g. 02,03")
    parser.add_argument("--from", dest="start", help="run this step and every later one, e.g. 04")
    parser.add_argument("--notebooks", type=Path, help="folder of the notebooks (default: the project's notebooks/)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        cfg = params_mod.load(args.params)
        steps = select_steps(args.only, args.start)
        timings = execute(cfg, steps, args.notebooks, progress=not args.no_progress)
    except (params_mod.ParamsError, ValueError, RunError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2 if isinstance(err, (params_mod.ParamsError, ValueError)) else 1
    total = sum(timings[step] for step in steps)
    print(f"done: {', '.join(f'{s} {timings[s]:.1f}s' for s in steps)} (total {total:.1f}s) -> {cfg.paths.run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
