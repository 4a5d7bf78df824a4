"""One function per notebook: each does its step's work, records its provenance
(``<run>/provenance/<step>.json``) and returns what the notebook shows (a dict of tables and paths).

    python -m librachem_utils.steps 05 --params params/smoke.yaml     # a step without Jupyter

``setup`` is every notebook's opening: it quiets known library noise, makes each progress bar in a
notebook one live widget that leaves one line in the saved output, loads the params and prints the
run. ``colab_setup`` is the work of the notebooks' Colab cell. This module imports only the standard
library (and ``core.schema``) at the top, so that the Colab cell can import it before the pinned set
is installed.
"""
from __future__ import annotations

import argparse
import inspect
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from librachem_utils.core.schema import STEPS

if TYPE_CHECKING:
    from librachem_utils.core.params import RunConfig
    from librachem_utils.eval.judges import JudgeSetup

#: what the Colab runtime brings and the pinned set must not replace under it (``install_colab_set``)
COLAB_KEEPS = ("torch", "ipykernel", "jupyterlab")


# --- opening a notebook ------------------------------------------------------------------------

def _project_around(folder: Path) -> Optional[Path]:
    """The project folder (``pyproject.toml`` beside ``librachem_utils/``) holding ``folder``, if any."""
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "librachem_utils").is_dir():
            return candidate
    return None


def colab_setup(repo_url: str, home: Path = Path("/content"), run: Callable = subprocess.run) -> Path:
    """Make a Colab runtime ready; return the ``notebooks/`` folder to ``%cd`` into.

    The project is the clone the working folder lies in or, failing that, ``home/<repository name>``,
    cloned from ``repo_url`` when absent. Its pinned set is installed without ``COLAB_KEEPS`` (the
    runtime's own CUDA torch and Jupyter stay: ``install_colab_set``). ``run`` runs each command
    (``subprocess.run``'s signature).
    """
    root = _project_around(Path.cwd().resolve())
    if root is None:
        name = repo_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        if not name:
            raise ValueError("set REPO_URL in the notebook's first cell to this repository's clone URL")
        root = home / name
        if not (root / "pyproject.toml").is_file():
            run(["git", "clone", "--quiet", "--depth", "1", repo_url, str(root)], check=True)
    install_colab_set(root, run)
    return root / "notebooks"


def install_colab_set(root: Path, run: Callable = subprocess.run) -> None:
    """pip-install ``root``'s pinned set (``requirements.txt``) less ``COLAB_KEEPS``: the notebooks' Colab
    cell and ``make colab-install``."""
    lines = (Path(root) / "requirements.txt").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.split("==")[0].strip().lower() not in COLAB_KEEPS]
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements-colab.txt"
        requirements.write_text("\n".join(kept) + "\n", encoding="utf-8")
        run([sys.executable, "-m", "pip", "install", "--quiet", "-r", str(requirements)], check=True)


def _quiet_libraries() -> None:
    """Silence noise that says nothing about the run: bitsandbytes' note on its optional ``kernels``
    package (printed on import) and the deprecation notes of the training libraries."""
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    for library in ("transformers", "trl", "peft", "accelerate"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=rf"{library}(\.|$)")


def _bars_leave_one_line() -> None:
    """In a notebook kernel: every tqdm bar (ours and the libraries') is a live widget that, once
    closed, is replaced in place by its final line (by nothing when the bar does not ``leave``)."""
    if "ipykernel" not in sys.modules:
        return
    from IPython.display import display
    from tqdm import notebook

    if getattr(notebook, "leaves_one_line", False):
        return
    close = notebook.tqdm_notebook.close

    def show(widget):
        widget.handle = display(widget, display_id=True)

    def close_to_one_line(bar):
        close(bar)
        handle = getattr(getattr(bar, "container", None), "handle", None)
        if handle is not None:
            handle.update({"text/plain": str(bar) if bar.leave else ""}, raw=True)

    notebook.display, notebook.tqdm_notebook.close, notebook.leaves_one_line = show, close_to_one_line, True


def setup(params_file: str | Path, params: Optional[dict] = None) -> RunConfig:
    """Every notebook's opening: quiet libraries, notebook bars, the validated params; prints the run."""
    from librachem_utils.core import params as params_mod

    _quiet_libraries()
    _bars_leave_one_line()
    cfg = params_mod.load(params_file, params)
    print(f"run {cfg.params.run_name}, params hash {cfg.params_hash}, artifacts in {cfg.paths.run_dir}")
    return cfg


# --- 01-03: data -------------------------------------------------------------------------------

def seeds(cfg: RunConfig) -> dict:
    """Step 01: the balanced seed (``data/seeds.jsonl``), the knowledge base and the label rule."""
    import pandas as pd

    from librachem_utils.chem import knowledge_base
    from librachem_utils.core import provenance
    from librachem_utils.data import seeds as seed_requests

    kb = knowledge_base.load_kb()
    rows, path = seed_requests.make_seed_file(cfg, kb)
    provenance.record(cfg, "01_seeds", [path])
    print(f"{len(rows)} seeds -> {path}")
    compounds = kb.to_frame()
    sides = pd.DataFrame([s.to_dict() for s in rows]).groupby(["compound_class", "compound"]).label.nunique()
    return {
        "path": path,
        "compounds": compounds.groupby("compound_class").size().rename("compounds").to_frame(),
        "common_examples": compounds[compounds.compound_class == "common"].head(8),
        "label_rule": pd.DataFrame(seed_requests.rule_table()).set_index("intent"),
        "balance": pd.DataFrame(seed_requests.balance_table(rows)).set_index("intent"),
        "both_sides": (sides == 2).groupby(level=0).agg(["sum", "size"])
        .rename(columns={"sum": "on both sides", "size": "compounds"}),
    }


def _generator(cfg: RunConfig):
    from librachem_utils.chem import knowledge_base
    from librachem_utils.data import generators

    kb = knowledge_base.load_kb()
    return kb, generators.make_generator(cfg.params.data, kb, cfg.params.seed, cfg.paths.root)


def triplets(cfg: RunConfig) -> dict:
    """Step 02: three-phase triplet generation (``data/triplets.jsonl``, ``data/rejected_rows.jsonl``)."""
    import pandas as pd

    from librachem_utils.core import files, provenance
    from librachem_utils.data import generators
    from librachem_utils.data import triplets as triplet_files

    kb, generator = _generator(cfg)
    summary = triplet_files.make_triplet_files(cfg, kb, generator)
    provenance.record(cfg, "02_triplets", summary["paths"], backend=generator.name)
    print(f"{summary['seeds']} seeds -> {summary['triplets']} triplets, {summary['rejected']} rejected rows")
    print(generator.usage_summary())
    rejected = files.read_jsonl(cfg.paths.data / "rejected_rows.jsonl", allow_empty=True)
    rows = pd.DataFrame(files.read_jsonl(cfg.paths.data / "triplets.jsonl"))
    examples = []
    for label, example in rows.groupby("label").head(1).set_index("label").iterrows():
        compound = kb.lookup(example.compound)
        examples += [f"[{label}] {generators.render(example.prompt, compound, 'text')}",
                     f"  chosen:   {generators.render(example.chosen, compound, 'text')}",
                     f"  rejected: {generators.render(example.rejected, compound, 'text')}", ""]
    return {
        "summary": summary,
        "rejections": pd.DataFrame(triplet_files.rejection_counts(rejected), columns=["stage", "reason", "rows"]),
        "by_intent": rows.pivot_table(index="intent", columns="label", values="triplet_id", aggfunc="count",
                                      fill_value=0),
        "examples": "\n".join(examples),
    }


def rephrase(cfg: RunConfig) -> dict:
    """Step 03: rephrasing, modes, splits, the dataset (``data/dataset/``; ``paper/``: the paper's layout) and card."""
    import pandas as pd
    from datasets import load_dataset

    from librachem_utils.core import provenance, schema
    from librachem_utils.data import dataset, paper_format

    kb, generator = _generator(cfg)
    summary = dataset.make_dataset(cfg, kb, generator)
    paper = paper_format.write_paper_format(cfg.paths.dataset)  # the paper's layout: Parquet and a DatasetDict
    provenance.record(cfg, "03_rephrase", [*summary["paths"], *paper], backend=generator.name)
    print(f"duplicates dropped: {summary['duplicates']}; rephrasings rejected by validation: {summary['rejected']}")
    print(generator.usage_summary())
    split_files = {name: str(cfg.paths.dataset / f"{name}.jsonl") for name in schema.SPLITS}
    return {
        "summary": summary,
        "diversity": pd.DataFrame(summary["diversity"]).set_index("stage").T,
        "splits": pd.DataFrame(summary["split_table"]),
        "loaded": load_dataset("json", data_files=split_files),
    }


# --- 04: training ------------------------------------------------------------------------------

def _training_artifacts(cfg: RunConfig, metrics: dict) -> list[Path]:
    """``train_metrics.json``, the arms' logs and the files of their stage folders (not the merged models)."""
    paths = {cfg.paths.results / "train_metrics.json"}
    for arm, entry in metrics["arms"].items():
        paths.update(p for p in [cfg.paths.logs / f"{arm}.jsonl"] if p.is_file())
        for stage in entry["stages"]:
            paths.update(p for p in (cfg.paths.models / stage["stage"]).iterdir() if p.is_file())
    return sorted(paths)


def dpo_qlora(cfg: RunConfig, *, force: bool = False, progress: bool = True) -> dict:
    """Step 04: train every arm the params name (complete arms are skipped unless ``force``)."""
    import pandas as pd

    from librachem_utils import train
    from librachem_utils.core import files, provenance

    print("arms:", ", ".join(train.arm_names(cfg.params.train)))
    metrics = train.train_arms(cfg, force=force, progress=progress)
    provenance.record(cfg, "04_dpo_qlora", _training_artifacts(cfg, metrics))
    logs = [row for arm in metrics["arms"] if (cfg.paths.logs / f"{arm}.jsonl").is_file()
            for row in files.read_jsonl(cfg.paths.logs / f"{arm}.jsonl") if row["phase"] == "dpo"]
    return {
        "metrics": metrics,
        "arms": pd.DataFrame(train.summary_rows(metrics)).set_index("arm"),
        "comparison": pd.DataFrame(train.comparison_rows(metrics)),
        "dpo_log": pd.DataFrame(logs),
    }


# --- 05: generation, judging, scoring ----------------------------------------------------------

def judges_to_run(cfg: RunConfig) -> tuple[list[str], JudgeSetup]:
    """The judges of this run and the models they use.

    The primary judge (``eval.judge``) comes first, then every other judge that can run, so that the
    results hold their agreement. A model-backed judge (``llm``, ``wildguard``, ``llama_guard``) runs
    when the params configure its model and, for an endpoint, its key is in the environment; one whose
    key is not set is left out with a note, and the hybrid and the paper's judge run without it (at
    least their offline parts: rule + hazard gate; the keywords). A judge the params name
    (``eval.judge``, ``eval.hybrid_refusal``, ``eval.hybrid_harm``) whose key is not set stops the step.
    """
    from librachem_utils.eval.judges import MODEL_JUDGES, JudgeSetup, configured_models

    ev = cfg.params.eval
    models, unset = configured_models(ev), {}
    for name, model in models.items():
        if model is not None and model.api is not None and not os.environ.get(model.api.api_key_env):
            print(f"{name} judge {model.name}: not used, the environment variable {model.api.api_key_env} is not set")
            models[name], unset[name] = None, model.api.api_key_env
    harm = ev.hybrid_harm or ()
    for key, name in [("judge", ev.judge), ("hybrid_refusal", ev.hybrid_refusal), *(("hybrid_harm", g) for g in harm)]:
        if name in unset:
            raise ValueError(f"{cfg.source}: key 'eval.{key}' names '{name}', whose key {unset[name]} is not set")
    setup = JudgeSetup(**models, hybrid_refusal=ev.hybrid_refusal,
                       hybrid_harm=None if ev.hybrid_harm is None else tuple(ev.hybrid_harm))
    others = [j for j in ("rule", "hybrid", "librachem_official", *MODEL_JUDGES)
              if j not in MODEL_JUDGES or setup.model(j) is not None]
    return list(dict.fromkeys([ev.judge, *others])), setup


def judge_and_score(cfg: RunConfig, response_files: Sequence[Path], *, progress: bool = True) -> dict:
    """Judge every response into ``results/judged.jsonl`` and score it into ``results/metrics.json``.

    Rows whose generation failed (an API error, no response) are not judged; they are counted in
    the metrics under ``generation_errors`` per model.
    """
    from dataclasses import asdict

    from librachem_utils.chem.knowledge_base import load_kb
    from librachem_utils.core import files
    from librachem_utils.eval import judges, judging, metrics

    rows, errors = [], defaultdict(int)
    for path in response_files:
        for row in files.read_jsonl(path):
            if row.get("response") is None:
                errors[row["model"]] += 1
            else:
                rows.append(row)
    names, setup = judges_to_run(cfg)
    judged = judging.judge_rows(rows, names, setup, cfg.paths.root, load_kb(), progress=progress)
    judged_path = files.write_jsonl(cfg.paths.results / "judged.jsonl", judged)
    ev = cfg.params.eval
    result = metrics.compute_metrics(metrics.checked_frame(judged, judged_path), names[0],
                                     ev.bootstrap_resamples, cfg.params.seed)
    result["judge_info"] = {name: asdict(judges.judge_info(name, setup)) for name in names}
    result["generation_errors"] = dict(sorted(errors.items()))
    result["params_hash"] = cfg.params_hash
    metrics.write_metrics(cfg.paths.results / "metrics.json", result)
    return result


def judge_eval(cfg: RunConfig, *, progress: bool = True) -> dict:
    """Step 05: every arm and API baseline answers the test prompts; every answer is judged and scored."""
    import pandas as pd

    from librachem_utils import train
    from librachem_utils.core import files, provenance
    from librachem_utils.eval import alignment_tax, dual_use, generation, metrics

    prompts = generation.eval_prompts(cfg)
    paths = [generation.generate_arm(cfg, arm, prompts, progress) for arm in train.arm_names(cfg.params.train)]
    paths += [path for api in cfg.params.eval.baselines
              if (path := generation.generate_baseline(cfg, api, prompts)) is not None]
    results = judge_and_score(cfg, paths, progress=progress)
    provenance.record(cfg, "05_judge_eval", [*paths, cfg.paths.results / "judged.jsonl",
                                             cfg.paths.results / "metrics.json"])
    print(f"primary judge: {results['primary_judge']}; judges: {', '.join(results['judge_info'])}")
    print(f"rows with no response (generation errors): {results['generation_errors'] or 'none'}")
    text = pd.DataFrame([row for path in paths for row in files.read_jsonl(path)]).query("mode == 'text'")
    shown = text[text.triplet_id.isin(text.groupby("label").triplet_id.first())]
    by_intent = pd.DataFrame(results["by_intent"], columns=["label", "split", "mode", "intent", "model",
                                                            "refusal_rate"])
    legit = by_intent.query("label == 'legitimate' and split == 'test' and mode == 'text'")
    return {
        "prompts": pd.DataFrame(prompts).groupby(["split", "mode", "label"]).size().unstack("label"),
        "response_files": paths,
        "examples": shown[["label", "model", "prompt", "response"]].sort_values(["label", "model"]),
        "results": results, "table": pd.DataFrame(metrics.results_table(results)),
        "significance": metrics.significance_sentences(results), "alignment_tax": alignment_tax.sentences(results),
        "dual_use": pd.DataFrame(dual_use.dual_use_table(results)), "dual_use_sentences": dual_use.sentences(results),
        "overrefusal": legit.pivot_table(index="intent", columns="model", values="refusal_rate").round(2),
        "agreement": pd.DataFrame(results["judge_agreement"], columns=["judge_a", "judge_b", "n", "agreement",
                                                                       "kappa"]),
    }


# --- 06: figures -------------------------------------------------------------------------------

def figures(cfg: RunConfig) -> dict:
    """Step 06: every figure and the results table, from what earlier steps saved."""
    import pandas as pd

    from librachem_utils.core import provenance
    from librachem_utils.eval import alignment_tax, dual_use, metrics
    from librachem_utils.report import plots

    folder = cfg.figures_dir()
    written = plots.save_all(cfg.paths.run_dir, folder, cfg.params.figures.formats)
    provenance.record(cfg, "06_figures", written)
    print(f"{len(written)} files -> {folder}")
    metrics_file = cfg.paths.results / "metrics.json"
    results = metrics.read_metrics(metrics_file) if metrics_file.is_file() else None
    if results is None:
        print(f"no {metrics_file}: run step 05 first")
    return {
        "written": written,
        "figures": [(name, caption, folder / f"{name}.png") for name, caption in plots.FIGURES.items()
                    if folder / f"{name}.png" in written],
        "results": results, "table": pd.DataFrame(metrics.results_table(results)) if results else None,
        "significance": metrics.significance_sentences(results) if results else [],
        "dual_use": pd.DataFrame(dual_use.dual_use_table(results)) if results else None,
        "dual_use_sentences": dual_use.sentences(results) if results else [],
        "alignment_tax": alignment_tax.sentences(results) if results else [],
    }


STEP_FUNCTIONS: dict[str, Callable[..., dict]] = dict(zip(STEPS, (seeds, triplets, rephrase, dpo_qlora, judge_eval,
                                                                 figures), strict=True))


def main(argv: Optional[Sequence[str]] = None) -> int:
    from librachem_utils import run
    from librachem_utils.core.params import ParamsError

    parser = argparse.ArgumentParser(prog="python -m librachem_utils.steps",
                                     description="Run notebook steps in this process, without Jupyter.")
    parser.add_argument("steps", help="a step or several, e.g. 05, 05_judge_eval, judge_eval or 04,05")
    parser.add_argument("--params", required=True, help="a params YAML file, e.g. params/default.yaml")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        chosen = run.select_steps(only=args.steps)
        cfg = setup(args.params)
        for step in chosen:
            started = time.perf_counter()
            function = STEP_FUNCTIONS[step]
            takes_progress = "progress" in inspect.signature(function).parameters
            function(cfg, **({"progress": not args.no_progress} if takes_progress else {}))
            print(f"done: {step} in {time.perf_counter() - started:.1f} s")
    except (ParamsError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
