"""Loading for training: the model (plain or 4-bit), its tokenizer, the LoRA config, the TRL trainer
configs built from the params, and merging an adapter into its base."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from accelerate import PartialState

from librachem_utils.api.local_model import adapter_base, bnb_4bit_config, prepare_tokenizer
from librachem_utils.core.params import ModelParams
from librachem_utils.train.device import DeviceSettings

#: what every trainer config here gets unless the params set it: one log row per step (the step log),
#: no checkpoints, no experiment trackers, data loading in the main process
PROJECT_DEFAULTS = {"logging_steps": 1, "save_strategy": "no", "report_to": "none", "dataloader_num_workers": 0}


def under_fsdp() -> bool:
    """Whether ``accelerate launch`` runs this process with FSDP (its config sets ACCELERATE_USE_FSDP)."""
    return os.environ.get("ACCELERATE_USE_FSDP", "false").lower() in ("1", "true")


def model_kwargs(settings: DeviceSettings) -> dict:
    """``from_pretrained`` arguments: dtype, 4-bit quantization, and one GPU per process (DDP). Under FSDP the
    4-bit weights are stored in the compute dtype and no device map is given, so that FSDP can shard them."""
    fsdp = under_fsdp()
    kwargs: dict = {"dtype": settings.dtype}
    if settings.load_in_4bit:
        kwargs["quantization_config"] = bnb_4bit_config(settings.bnb_4bit_quant_type, settings.use_bnb_nested_quant,
                                                        settings.dtype, settings.dtype if fsdp else None)
    if settings.device == "cuda" and not fsdp:
        kwargs["device_map"] = {"": PartialState().local_process_index}
    return kwargs


def load_model(source: str | Path, settings: DeviceSettings, gradient_checkpointing: bool = False):
    """A causal LM for training: 4-bit (prepared for k-bit training) or plain, on the picked device."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(source), **model_kwargs(settings))
    if settings.load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    return model


def load_tokenizer(source: str | Path):
    from transformers import AutoTokenizer

    return prepare_tokenizer(AutoTokenizer.from_pretrained(str(source)))


def lora_config(model: ModelParams):
    from peft import LoraConfig

    targets = list(model.lora_target_modules) if model.lora_target_modules is not None else None
    return LoraConfig(r=model.lora_r, lora_alpha=model.lora_alpha, lora_dropout=model.lora_dropout,
                      target_modules=targets, bias="none", task_type="CAUSAL_LM")


def trainer_settings(section: dict, settings: DeviceSettings) -> dict:
    """A TRL config's settings for a params section on the picked device (all but folder, seed and progress):
    the project's defaults and the device's precision and checkpointing, under the section's own values."""
    device = {"use_cpu": settings.device == "cpu",
              "activation_checkpointing": section.get("gradient_checkpointing", settings.gradient_checkpointing)}
    if "fp16" not in section:
        device["bf16"] = settings.bf16
    return {**PROJECT_DEFAULTS, **device, **section}


def trainer_config(kind: str, section: dict, settings: DeviceSettings, output_dir: Path, random_seed: int,
                   progress: bool):
    """The ``SFTConfig`` (``kind`` pretrain or sft) or ``DPOConfig`` (dpo) of a stage."""
    from trl import DPOConfig, SFTConfig

    config = DPOConfig if kind == "dpo" else SFTConfig
    return config(**trainer_settings(section, settings), output_dir=str(output_dir), seed=random_seed,
                  data_seed=random_seed, disable_tqdm=not progress)


def merge_adapter(adapter_dir: Path, out_dir: Path, settings: DeviceSettings) -> None:
    """Merge a LoRA adapter into its base, loaded unquantized in the compute dtype, and save it with the tokenizer."""
    from peft import PeftModel

    base = load_model(adapter_base(adapter_dir), replace(settings, load_in_4bit=False))
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out_dir)
    load_tokenizer(adapter_dir).save_pretrained(out_dir)
