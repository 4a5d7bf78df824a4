"""The pieces of ``scripts/gpu_check.sh``: a short ``colab_gpu.yaml``-shaped run on a small model, on one GPU.

    python -m librachem_utils.eval.gpu_check device                       # the GPU, or exit 3 on CPU
    python -m librachem_utils.eval.gpu_check params --model <path or hub id> --out <folder>
    python -m librachem_utils.eval.gpu_check report --params <folder>/gpu_check.yaml --log <steps' log>

``params`` writes ``colab_gpu.yaml`` with the model replaced and the run cut short: 4-bit nf4 weights, bf16
where the GPU has it (``dtype: auto``), LoRA on q/v, 10 SFT and 10 DPO steps, smoke-sized data, 32 test
prompts answered by each arm and judged by the rule judge. ``report`` prints, from what the run saved, the
training tokens per second and peak GPU memory of each arm, the answers, the judged accuracy, and every
warning line of the log.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

import yaml

from librachem_utils.core import files

RECIPE = Path(__file__).resolve().parents[2] / "params" / "colab_gpu.yaml"
NO_GPU_EXIT = 3
NO_GPU = ("gpu_check: no CUDA GPU found (torch.cuda.is_available() is False): this check needs one; "
          "on CPU run `make test` instead")
PROMPTS = 32
WARNING_LINE = re.compile(r"\b\w*Warning\b|\bwarn(ing)?\b", re.IGNORECASE)


def device_line(probe: Optional[Callable[[], Optional[str]]] = None) -> Optional[str]:
    """``cuda (<name>, <memory> GiB, bf16 yes|no, torch <version>)``, or None without a CUDA GPU.
    ``probe`` returns the GPU's name or None (default: torch's view)."""
    import torch

    name = (probe or _cuda_name)()
    if name is None:
        return None
    memory = torch.cuda.get_device_properties(0).total_memory / 2**30 if torch.cuda.is_available() else 0.0
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return f"cuda ({name}, {memory:.0f} GiB, bf16 {'yes' if bf16 else 'no'}, torch {torch.__version__})"


def _cuda_name() -> Optional[str]:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def check_params(model: str, out: Path, recipe: Path = RECIPE) -> Path:
    """``recipe`` with ``model`` and the short run's settings; written to ``out/gpu_check.yaml``."""
    values = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    values.update(run_name="gpu_check", runs_dir=str(out / "runs"))
    values["data"] = {"seeds": {"legit_compounds": 24, "restricted_compounds": 12}, "rephrase": {"variants": 1}}
    train = values["train"]
    train["model"]["model_name_or_path"] = model
    for stage in ("sft", "dpo"):
        train[stage].update(max_steps=10, warmup_steps=2, gradient_accumulation_steps=1, logging_steps=1)
    train["project"] = {**train.get("project", {}), "arms": ["sft_helpful", "dpo_balanced"], "compare_qlora": False,
                        "heldout_max_triplets": 32}
    values["eval"] = {**values["eval"], "splits": ["test"], "modes": ["text"], "max_prompts_per_split": PROMPTS,
                      "bootstrap_resamples": 100, "max_new_tokens": 64}
    path = out / "gpu_check.yaml"
    files.write_text(path, yaml.safe_dump(values, sort_keys=False))
    return path


def report_lines(params_file: Path, log: Optional[Path] = None) -> list[str]:
    """What the short run measured, from its saved files (and the steps' log for warnings)."""
    from librachem_utils.core import params

    cfg = params.load(params_file)
    train = files.read_json(cfg.paths.results / "train_metrics.json")
    lines = [f"device: {train['device'].get('gpu') or train['device']['device']}"]
    for arm, entry in train["arms"].items():
        lines.append(f"train {arm}: {entry['tokens_per_s']} tokens/s, peak GPU memory {entry['peak_memory_mb']} MB, "
                     f"{entry['wall_s']} s")
    result = files.read_json(cfg.paths.results / "metrics.json")
    answered = {}
    for path in sorted((cfg.paths.results / "responses").glob("*.jsonl")):
        rows = files.read_jsonl(path)
        answered[path.stem] = sum(row.get("response") is not None for row in rows)
    lines.append(f"answered: {answered} (primary judge {result['primary_judge']})")
    warnings = sorted({line.strip() for line in _log_lines(log) if WARNING_LINE.search(line)})
    lines += [f"warnings: {len(warnings) or 'none'}", *(f"  {line[:300]}" for line in warnings)]
    return lines


def _log_lines(log: Optional[Path]) -> list[str]:
    return files.read_utf8(log).splitlines() if log is not None and log.is_file() else []


def main(argv: Optional[Sequence[str]] = None, probe: Optional[Callable[[], Optional[str]]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m librachem_utils.eval.gpu_check",
                                     description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("device", help="print the GPU; exit 3 without one")
    write = commands.add_parser("params", help="write the short run's params")
    write.add_argument("--model", required=True, help="a small causal LM: a saved folder or a hub id")
    write.add_argument("--out", required=True, type=Path, help="folder for the params and the run")
    report = commands.add_parser("report", help="print what the run measured")
    report.add_argument("--params", required=True, type=Path)
    report.add_argument("--log", type=Path, help="the steps' output, for the warnings it holds")
    args = parser.parse_args(argv)
    if args.command == "device":
        line = device_line(probe)
        print(line or NO_GPU, file=sys.stdout if line else sys.stderr)
        return 0 if line else NO_GPU_EXIT
    if args.command == "params":
        print(check_params(args.model, args.out.resolve()))
        return 0
    print("\n".join(report_lines(args.params, args.log)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
