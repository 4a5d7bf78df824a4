"""LoRA vs QLoRA: the same short balanced DPO from ``sft_helpful``, over plain and over 4-bit weights."""
from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from librachem_utils.core import files
from librachem_utils.train.arms import arm_stages
from librachem_utils.train.callbacks import StepLog, fit
from librachem_utils.train.data import rows_per_run, select_triplets
from librachem_utils.train.loading import trainer_settings
from librachem_utils.train.stages import Context, dpo_trainer


def comparison_key(ctx: Context, sft_fingerprint: str) -> str:
    """What makes the comparison: its starting stage, steps, DPO settings and 4-bit settings."""
    stage = arm_stages("dpo_balanced", ctx.train)[0]
    identity = {"sft_helpful": sft_fingerprint, "steps": ctx.train.project.compare_qlora_steps,
                "trainer": trainer_settings(ctx.section(stage), ctx.settings),
                "model": ctx.train.model.model_dump(mode="json")}
    return files.json_digest(identity)


def compare_lora_qlora(ctx: Context) -> dict:
    """Time a short balanced DPO from sft_helpful twice: LoRA over plain weights, then QLoRA over 4-bit weights."""
    steps = ctx.train.project.compare_qlora_steps
    stage = arm_stages("dpo_balanced", ctx.train)[0]
    source = str(ctx.folder("sft_helpful") / "merged")
    sides, rows = {}, None
    for name, quantize in (("lora", False), ("qlora_4bit", True)):
        settings = replace(ctx.settings, load_in_4bit=quantize)
        print(f"[train] LoRA vs QLoRA: {name}, {steps} DPO steps", flush=True)
        with tempfile.TemporaryDirectory() as out:
            args = ctx.trainer_args(stage, Path(out), settings, max_steps=steps)
            rows = rows or select_triplets(ctx.data.train, stage, ctx.random_seed, rows_per_run(args))
            log = StepLog("qlora_comparison", "dpo")
            trainer = dpo_trainer(source, rows, args, ctx, settings, log)
            started = time.perf_counter()
            stats = fit(trainer, log, ctx.progress)
            stats["wall_s"] = round(time.perf_counter() - started, 2)
        stats["weights"] = f"4-bit {settings.bnb_4bit_quant_type}" if quantize else settings.dtype_name
        sides[name] = stats
        del trainer
    lora, qlora = sides["lora"], sides["qlora_4bit"]
    return {
        "arm": "dpo_balanced", "steps": steps, "source": source, **sides,
        "qlora_speed_vs_lora": round(qlora["tokens_per_s"] / lora["tokens_per_s"], 3),
        "qlora_peak_memory_vs_lora": round(qlora["peak_memory_mb"] / lora["peak_memory_mb"], 3),
        "qlora_weights_vs_lora": round(qlora["weights_mb"] / lora["weights_mb"], 3),
    }


def comparison_rows(metrics: dict) -> list[dict]:
    """The LoRA vs QLoRA comparison as two rows (empty when it was not run)."""
    comparison = metrics.get("qlora_comparison")
    if not comparison:
        return []
    keys = ("weights", "steps", "wall_s", "tokens_per_s", "peak_memory_mb", "memory_kind", "weights_mb", "train_loss")
    return [{"variant": name, **{key: comparison[name][key] for key in keys}} for name in ("lora", "qlora_4bit")]
