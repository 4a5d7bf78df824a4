"""The judge CLI: score a responses file, or validate judges against people's labels.

    python -m librachem_utils.eval.judge [score] --responses FILE --out metrics.json [--judge J ...]
    python -m librachem_utils.eval.judge validate --responses FILE --human-label COLUMN --out report.json
        [--judge rule llm hybrid librachem_official wildguard llama_guard] [--group-by model]

``score`` judges every response (the first ``--judge`` is the primary one; ``rule`` always runs
too, for agreement) and writes the metrics (``metrics.compute_metrics``) and the per-response
labels (``<out stem>.labels.jsonl``: each judge's verdict, the rule's three-class label and cues,
the LLM's label, the guards' replies). Groups are the ``--group-by`` columns' values (none: one
group named after the file); no other column groups the metrics.

``validate`` compares each judge with people's labels (``judge_validate``): accuracy, Cohen's
kappa, 2x2 and 3x3 confusion matrices, safety and utility judged vs people with bootstrap CIs,
overall and per group; it writes the report (``--out``), the labels beside it and the
disagreements (``<out stem>.disagreements.jsonl``, or ``--disagreements``).

Files are read as they are (``judge_input``: columns, 1/0 label meanings, JSON arrays, long CSV
fields). Model-backed judges run on an OpenAI-compatible endpoint (``--judge-model`` /
``--judge-base-url``; vLLM for the guards: ``--wildguard-base-url``, ``--llama-guard-base-url``)
or on a local model with transformers (``--judge-local``, ``--wildguard-local``,
``--llama-guard-local``: a saved folder or a hub id), no API key needed. A bad file or argument
stops the command with one line naming the file, row and column, and nothing is written.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Optional, Sequence

from librachem_utils.api.client import MissingApiKeyError
from librachem_utils.chem.knowledge_base import load_kb
from librachem_utils.core import files
from librachem_utils.core.files import DataFileError
from librachem_utils.core.params import GUARD_MODELS, ApiParams, EvalParams
from librachem_utils.core.schema import DEFAULT_SEED
from librachem_utils.eval import judge_validate, metrics
from librachem_utils.eval.judge_input import Columns, load_responses
from librachem_utils.eval.judge_models import TEMPERATURE, JudgeModel, JudgeModelError
from librachem_utils.eval.judges import ALL_JUDGES, JudgeSetup, judge_info
from librachem_utils.eval.judging import judge_rows

COMMANDS = ("score", "validate")


def labels_path(out: Path) -> Path:
    """Where the CLI writes the per-response labels: ``<out stem>.labels.jsonl`` beside ``out``."""
    return out.with_name(f"{out.stem}.labels.jsonl")


def disagreements_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.disagreements.jsonl")


def _judged(path: Path, columns: Columns, judges: Sequence[str], setup: JudgeSetup, cache_root: Path):
    """The file's rows judged by ``judges``, with the keys ``metrics`` groups by, and the loaded set."""
    loaded = load_responses(path, columns)
    for number, row in enumerate(loaded.rows, start=1):
        row.update(model=row["group"] or path.stem, split="all", mode="text", triplet_id=str(number))
    return judge_rows(loaded.rows, judges, setup, cache_root, load_kb(), progress=sys.stderr.isatty()), loaded


def run_cli(responses_path: Path, out: Path, judges: Sequence[str], setup: JudgeSetup,
            columns: Optional[Columns] = None, resamples: int = 1000, seed: int = DEFAULT_SEED) -> dict:
    """``score``: judge the file, write the metrics to ``out`` and the labels beside it, only once
    everything succeeded; return the metrics. Model caches go under ``out``'s folder."""
    judges = list(dict.fromkeys([*judges, "rule"]))
    judged, _ = _judged(responses_path, columns or Columns(), judges, setup, out.parent)
    result = metrics.compute_metrics(metrics.judged_frame(judged), judges[0], resamples, seed)
    result["judge_info"] = {name: asdict(judge_info(name, setup)) for name in judges}
    result["source"] = {"path": str(responses_path), "sha256": files.sha256_file(responses_path)}
    files.write_jsonl(labels_path(out), judged)
    metrics.write_metrics(out, result)
    return result


def run_validate(responses_path: Path, out: Path, judges: Sequence[str], setup: JudgeSetup, columns: Columns,
                 resamples: int, seed: int, disagreements: Optional[Path] = None) -> dict:
    """``validate``: judge the file and compare with people's labels; write the report, the labels
    and the disagreements, only once everything succeeded; return the report."""
    judges = list(dict.fromkeys(judges))
    judged, loaded = _judged(responses_path, columns, judges, setup, out.parent)
    report = judge_validate.validate(judged, judges, three_class=loaded.three_class, resamples=resamples, seed=seed)
    report["judge_info"] = {name: asdict(judge_info(name, setup)) for name in judges}
    report["human_label"] = columns.human or columns.label
    report["source"] = {"path": str(responses_path), "sha256": files.sha256_file(responses_path)}
    files.write_jsonl(disagreements or disagreements_path(out), judge_validate.disagreements(judged, judges))
    files.write_jsonl(labels_path(out), judged)
    files.write_json(out, report)
    return report


# --- arguments -------------------------------------------------------------------------------

def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m librachem_utils.eval.judge {command}",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=Path, required=True,
                        help="CSV, JSON Lines, JSON array or Parquet: prompt, response, label columns")
    parser.add_argument("--out", type=Path, required=True,
                        help="metrics (score) or report (validate) JSON; labels go to <stem>.labels.jsonl")
    parser.add_argument("--judge", nargs="+", choices=ALL_JUDGES, default=["rule"],
                        help="judges to run (score: the first is the primary one; default: rule)")
    columns = parser.add_argument_group("columns")
    columns.add_argument("--prompt-column", default="prompt")
    columns.add_argument("--response-column", help="default: response, or completion")
    columns.add_argument("--label-column", help="the request's label; default: label, or true_label")
    columns.add_argument("--label-meaning", help="required for 1/0 labels: 1=legitimate, 1=illegitimate, or "
                         "1=jailbroken / 1=harmful (a person's label of the response; every request illegitimate)")
    columns.add_argument("--group-by", nargs="+", default=[], metavar="COLUMN", help="columns that group the metrics")
    if command == "validate":
        columns.add_argument("--human-label", metavar="COLUMN", help="people's label of each response: COMPLIANCE / "
                             "REFUSAL / PARTIAL, refused / answered, or 1/0 with --human-label-meaning")
        columns.add_argument("--human-label-meaning", help="for 1/0 human labels: 1=refused, 1=answered, "
                             "1=jailbroken or 1=harmful")
        parser.add_argument("--disagreements", type=Path, help="default: <out stem>.disagreements.jsonl")
    _model_arguments(parser)
    parser.add_argument("--resamples", type=int, default=EvalParams.model_fields["bootstrap_resamples"].default)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    return parser


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    models = parser.add_argument_group("models (an endpoint, or a local model run with transformers)")
    models.add_argument("--judge-model", help="LLM judge model at an OpenAI-compatible endpoint (enables the LLM)")
    models.add_argument("--judge-base-url", help="endpoint of the LLM judge (default: OpenAI's)")
    models.add_argument("--judge-key-env", help="environment variable holding its API key (default: OPENAI_API_KEY)")
    models.add_argument("--judge-local", metavar="PATH_OR_HUB_ID", help="a local chat model as the LLM judge")
    for guard, name in GUARD_MODELS.items():
        flag = guard.replace("_", "-")
        models.add_argument(f"--{flag}-base-url", help=f"a vLLM (OpenAI-compatible) endpoint serving {name}")
        models.add_argument(f"--{flag}-model", default=name, help=f"the served model name (default: {name})")
        models.add_argument(f"--{flag}-local", metavar="PATH_OR_HUB_ID", help=f"{name} loaded with transformers")
    models.add_argument("--guard-key-env", help="API key variable of the guard endpoints (default: OPENAI_API_KEY; "
                        "any non-empty value for a vLLM server without a key)")
    models.add_argument("--local-batch-size", type=int, default=8)
    models.add_argument("--device", help="for local models (default: CUDA when available, else CPU)")
    models.add_argument("--hybrid-refusal", choices=("llm", "wildguard", "none"),
                        help="the hybrid's refusal model (default: the LLM, else WildGuard, if configured)")
    models.add_argument("--hybrid-harm", nargs="*", choices=tuple(GUARD_MODELS),
                        help="guards whose harm verdict the hybrid uses (default: every guard configured)")


def _endpoint(base_url: Optional[str], model: Optional[str], key_env: Optional[str]) -> ApiParams:
    given = {"base_url": base_url, "model": model, "api_key_env": key_env}
    return ApiParams(temperature=TEMPERATURE, **{k: v for k, v in given.items() if v})


def _model(local: Optional[str], api: Optional[ApiParams], args, what: str) -> Optional[JudgeModel]:
    if local and api:
        raise ValueError(f"{what}: give an endpoint or a local model, not both")
    if not (local or api):
        return None
    return JudgeModel(api=api, local=local, batch_size=args.local_batch_size, device=args.device)


def setup_from_args(args) -> JudgeSetup:
    """The models the arguments name (ValueError for a contradiction)."""
    llm_api = (_endpoint(args.judge_base_url, args.judge_model, args.judge_key_env)
               if args.judge_model or args.judge_base_url else None)
    guards = {}
    for guard in GUARD_MODELS:
        base_url = getattr(args, f"{guard}_base_url")
        api = _endpoint(base_url, getattr(args, f"{guard}_model"), args.guard_key_env) if base_url else None
        guards[guard] = _model(getattr(args, f"{guard}_local"), api, args, f"--{guard.replace('_', '-')}")
    setup = JudgeSetup(llm=_model(args.judge_local, llm_api, args, "the LLM judge"), **guards,
                       hybrid_refusal=args.hybrid_refusal,
                       hybrid_harm=tuple(args.hybrid_harm) if args.hybrid_harm is not None else None)
    for judge in ("llm", *GUARD_MODELS):
        if judge in args.judge and setup.model(judge) is None:
            flag = {"llm": "--judge-model (or --judge-local)"}.get(judge, f"--{judge.replace('_', '-')}-base-url "
                                                                          f"(or --{judge.replace('_', '-')}-local)")
            raise ValueError(f"--judge {judge} needs {flag}")
    return setup


def _columns(args, command: str) -> Columns:
    columns = Columns(prompt=args.prompt_column, response=args.response_column, label=args.label_column,
                      label_meaning=args.label_meaning, group_by=tuple(args.group_by),
                      human=getattr(args, "human_label", None),
                      human_meaning=getattr(args, "human_label_meaning", None))
    if command == "validate" and columns.human is None and not columns.label_says_human:
        raise ValueError("validate needs people's labels: --human-label COLUMN (or --label-meaning 1=jailbroken)")
    return columns


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "score"
    parser = _parser(command)
    args = parser.parse_args(argv)
    try:
        setup, columns = setup_from_args(args), _columns(args, command)
    except ValueError as err:
        parser.error(str(err))
    try:
        if command == "validate":
            report = run_validate(args.responses, args.out, args.judge, setup, columns, args.resamples, args.seed,
                                  args.disagreements)
            lines = judge_validate.summary_lines(report)
        else:
            result = run_cli(args.responses, args.out, args.judge, setup, columns, args.resamples, args.seed)
            lines = [f"{g['model']}: " + ", ".join(f"{rate} {metrics.format_rate(g[rate])}" for rate in
                                                  ("safety", "utility", "overall_accuracy"))
                     + f"; parse failures {g['counts']['parse_failures']}" for g in result["groups"]]
    except (DataFileError, MissingApiKeyError, JudgeModelError, OSError) as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(f"wrote {args.out} and {labels_path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
