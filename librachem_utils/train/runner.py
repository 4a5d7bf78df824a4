"""The whole training run: every stage the arms need, reused or trained, then ``results/train_metrics.json``."""
from __future__ import annotations

from dataclasses import asdict
from typing import Optional, Sequence

from accelerate import PartialState

from librachem_utils.core import files, provenance
from librachem_utils.core import params as params_mod
from librachem_utils.train.arms import arm_description, arm_names, arm_stages, plan
from librachem_utils.train.callbacks import quiet_library_bars
from librachem_utils.train.comparison import compare_lora_qlora, comparison_key
from librachem_utils.train.data import TrainingData
from librachem_utils.train.device import pick_device
from librachem_utils.train.stages import Context, fingerprint, read_marker, run_stage


def train_arms(cfg: params_mod.RunConfig, arms: Optional[Sequence[str]] = None, *, force: bool = False,
               progress: bool = True) -> dict:
    """Train the arms (default: those the params name) and what they need; return ``train_metrics.json``'s content.

    A stage whose folder holds a completion marker with its current fingerprint is skipped, unless
    ``force`` and the stage belongs to a named arm; a retrained stage retrains the stages after it.
    """
    train = cfg.params.train
    names = list(arms) if arms is not None else arm_names(train)
    stages = plan(names + (["sft_helpful"] if train.project.compare_qlora else []), train)
    settings = pick_device(train.model)
    print(f"[train] device: {settings.describe()}", flush=True)
    ctx = Context(cfg, settings, TrainingData.load(cfg.paths.dataset), progress)
    fingerprints: dict[str, str] = {}
    retrained: set[str] = set()
    metrics_file = cfg.paths.results / "train_metrics.json"
    previous = files.read_json(metrics_file) if metrics_file.is_file() else {}
    comparison = previous.get("qlora_comparison")
    with quiet_library_bars():
        for stage in stages:
            fingerprints[stage.key] = fingerprint(stage, ctx, fingerprints.get(stage.parent))
            marker = read_marker(ctx.folder(stage.key))
            stale = marker is None or marker["fingerprint"] != fingerprints[stage.key]
            if stale or stage.parent in retrained or (force and stage.arm in names):
                run_stage(stage, ctx, fingerprints[stage.key])
                retrained.add(stage.key)
            else:
                print(f"[train] {stage.arm}: stage '{stage.key}' is complete, skipped", flush=True)
        if train.project.compare_qlora:
            key = comparison_key(ctx, fingerprints["sft_helpful"])
            if force or comparison is None or comparison.get("key") != key:
                comparison = {**compare_lora_qlora(ctx), "key": key}
    metrics = {
        "run_name": cfg.params.run_name, "params_hash": cfg.params_hash, "device": asdict(settings),
        "versions": provenance.library_versions(),
        "arms": collect_arms(cfg, list(previous.get("arms", {})) + names),
    }
    if comparison:
        metrics["qlora_comparison"] = comparison
    metrics["total_wall_s"] = round(sum(arm["wall_s"] for arm in metrics["arms"].values()), 2)
    if PartialState().is_main_process:
        files.write_json(metrics_file, metrics)
    return metrics


def collect_arms(cfg: params_mod.RunConfig, names: Sequence[str]) -> dict:
    """One entry per arm whose stages are all complete, from their markers."""
    arms = {}
    for arm in dict.fromkeys(names):
        records = [read_marker(cfg.paths.models / stage.key) for stage in arm_stages(arm, cfg.params.train)]
        if any(record is None for record in records):
            continue
        final = records[-1]
        tokens = sum(r.get("train_tokens", 0) for r in records)
        runtime = sum(r.get("train_runtime_s", 0) for r in records)
        arms[arm] = {
            "description": arm_description(arm), "folder": str(cfg.paths.models / arm), "stages": records,
            "wall_s": round(sum(r["wall_s"] for r in records), 2), "train_tokens": tokens,
            "tokens_per_s": round(tokens / runtime, 1) if runtime else None,
            "peak_memory_mb": max((r["peak_memory_mb"] for r in records if "peak_memory_mb" in r), default=None),
            "heldout": final.get("heldout"), "final_metrics": final.get("final_metrics", {}),
        }
    return arms


def summary_rows(metrics: dict) -> list[dict]:
    """One row per arm for a table: time, speed, memory, held-out reward accuracy."""
    rows = []
    for arm, entry in metrics["arms"].items():
        heldout = entry.get("heldout") or {}
        rows.append({
            "arm": arm, "phases": "+".join(stage["phase"] for stage in entry["stages"]),
            "steps": sum(stage.get("steps", 0) for stage in entry["stages"]), "wall_s": entry["wall_s"],
            "tokens_per_s": entry["tokens_per_s"], "peak_memory_mb": entry["peak_memory_mb"],
            "final_loss": entry["final_metrics"].get("loss"),
            **{f"reward_acc_{split}": result["reward_accuracy"] for split, result in heldout.items()},
        })
    return rows
