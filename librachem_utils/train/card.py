"""Model cards: the README.md of each stage folder (what it is, its data, params, metrics, how to load it)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from librachem_utils.api.local_model import resolve_source
from librachem_utils.core import schema, tables
from librachem_utils.train.arms import Stage, arm_description

if TYPE_CHECKING:
    from librachem_utils.train.stages import Context


def model_card(stage: Stage, record: dict, ctx: Context, folder: Path) -> str:
    """README.md of a stage folder: what it is, its data, params, metrics, and how to load it."""
    train = ctx.train
    title = stage.arm if stage.key == stage.arm else f"{stage.key} (first stage of {stage.arm})"
    adapter = stage.phase != "pretrain"
    lines = [f"# {title}", "", arm_description(stage.arm) + ".", "",
             f"- Phase: {stage.phase}" + (f" (beta {stage.beta:g})" if stage.phase == "dpo" else ""),
             f"- Starts from: {record['source']}" + (f" (stage `{stage.parent}`)" if stage.parent else ""),
             f"- Run: `{ctx.cfg.params.run_name}`, params hash `{ctx.cfg.params_hash}`, seed {ctx.random_seed}",
             f"- Device: {ctx.settings.describe()}", ""]
    data = record.get("data", {})
    lines += ["## Data", "", f"{data.get('rows', 0)} training rows (the steps x batch size the run consumes, drawn "
              f"from {data.get('available', 0)}) from `{ctx.cfg.paths.dataset / 'train.jsonl'}`"
              + (f"; labels {data['labels']}" if data.get("labels") else "")
              + (f"; modes {data['modes']}" if data.get("modes") else "") + ".", ""]
    lines += ["## Parameters", "", "```json", json.dumps(train.model_dump(mode="json"), indent=2, sort_keys=True),
              "```", ""]
    if record.get("final_metrics"):
        lines += ["## Final training metrics", "", tables.to_markdown(
            [{"metric": key, "value": f"{value:.4g}" if isinstance(value, float) else value}
             for key, value in record["final_metrics"].items()])]
        lines += [f"{record['steps']} steps, {record['train_runtime_s']} s, {record['tokens_per_s']} tokens/s, "
                  f"peak memory {record['peak_memory_mb']} MB ({record['memory_kind']}).", ""]
    if record.get("heldout"):
        lines += ["## Held-out reward accuracy", "",
                  "Share of held-out triplets whose implicit DPO reward beta * (log p_policy - log p_ref) is higher "
                  "for the chosen answer; the reference is this adapter's base with the adapter disabled.", "",
                  tables.to_markdown([
                      {"split": split, "triplets": result["n"], "accuracy": f"{result['reward_accuracy']:.3f}",
                       **{label: f"{result['by_label'][label]['reward_accuracy']:.3f}" if label in result["by_label"]
                          else "-" for label in schema.LABELS}}
                      for split, result in record["heldout"].items()])]
    lines += ["## Load", "", "```python"]
    if adapter:
        lines += ["from peft import AutoPeftModelForCausalLM", "from transformers import AutoTokenizer", "",
                  f'model = AutoPeftModelForCausalLM.from_pretrained("{folder}")',
                  f'tokenizer = AutoTokenizer.from_pretrained("{folder}")',
                  "merged = model.merge_and_unload()  # a plain model with the adapter folded in"]
    else:
        lines += ["from transformers import AutoModelForCausalLM, AutoTokenizer", "",
                  f'model = AutoModelForCausalLM.from_pretrained("{resolve_source(folder)}")',
                  f'tokenizer = AutoTokenizer.from_pretrained("{resolve_source(folder)}")']
    lines += ["```", "",
              f"Or `librachem_utils.api.local_model.load_for_generation(\"{folder}\")` (eval mode, left padding).",
              f"Prompts use the template `{json.dumps(train.project.prompt_template)}`.", ""]
    if adapter:
        lines += ["The adapter's base (named in `adapter_config.json`) is "
                  + ("the base model." if stage.phase == "sft" else
                     f"the `{stage.parent}` adapter merged into the base model (`{record['source']}`)."), ""]
    lines += [f"Libraries: {', '.join(f'{k} {v}' for k, v in record['versions'].items())}.", ""]
    return "\n".join(lines)
