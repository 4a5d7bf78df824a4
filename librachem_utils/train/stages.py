"""Alignment arms: a base model, SFT and DPO with (Q)LoRA, held-out reward accuracy, speed figures.

    python -m librachem_utils.train --params params/default.yaml [--arms dpo_balanced] [--force]
    accelerate launch -m librachem_utils.train --params params/colab_gpu.yaml      # several GPUs

Each arm is a folder ``<run>/models/<arm>/`` (a saved model or a LoRA adapter, its tokenizer and a
model card), a log ``<run>/logs/<arm>.jsonl`` (one row per optimizer step) and an entry of
``<run>/results/train_metrics.json``.

- ``base``: with ``train.base_model`` unset, a small Llama built here (a byte-level BPE tokenizer
  and a ``LlamaForCausalLM``) and pretrained as a causal LM on the train split's prompts with both
  of their responses; otherwise a pointer to the named checkpoint.
- ``sft_helpful``: SFT (LoRA) on the legitimate requests' chosen answers.
- ``dpo_safety_only`` / ``dpo_balanced``: DPO (LoRA) on illegitimate / all triplets, starting from
  ``sft_helpful``; ``dpo_balanced_beta<b>`` and ``dpo_mix<s>`` are its beta and data-mix sweeps.
- ``sft_dpo_paper``: the paper's pipeline, SFT on every chosen answer (stage ``sft_all``), then DPO
  on all triplets.

A DPO arm starts from its SFT stage *merged*: the SFT adapter is merged into the base and saved as
``models/<sft stage>/merged/``, and the DPO adapter is a new LoRA over that model (the paper's
recipe). The DPO reference is therefore that merged model with the adapter disabled, during
training and in the held-out reward accuracy. A stage's folder gets a completion marker, written
last; a stage whose marker matches the current params and data is skipped on a rerun.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Optional, Sequence

import torch
from accelerate import PartialState
from transformers import PrinterCallback, ProgressCallback, TrainerCallback

from librachem_utils.core import files, provenance, tables
from librachem_utils.core import params as params_mod
from librachem_utils.api.local_model import POINTER_FILE, adapter_base, format_prompt, prepare_tokenizer, resolve_source
from librachem_utils.core.params import TinyModelParams, TrainParams

LABELS = ("legitimate", "illegitimate")
MARKER = "training_complete.json"
HELDOUT_SPLITS = ("test", "test_unseen_compounds")
FIXED_ARMS = {
    "base": "the pretrained model, no alignment",
    "sft_helpful": "SFT (LoRA) on legitimate requests only: helpful, no safety training",
    "dpo_safety_only": "DPO from sft_helpful on illegitimate triplets only",
    "dpo_balanced": "DPO from sft_helpful on the balanced set (LibraChem)",
    "sft_dpo_paper": "the paper's pipeline: SFT on all chosen answers, then DPO on the balanced set",
}
_BETA_ARM = re.compile(r"^dpo_balanced_beta(\d+(?:\.\d+)?(?:e-?\d+)?)$")
_MIX_ARM = re.compile(r"^dpo_mix(\d+(?:\.\d+)?)$")

#: the train params each phase depends on; a change to one of them retrains that phase and what follows
_LORA_FIELDS = ("base_model", "prompt_template", "load_in_4bit", "bf16", "lora_r", "lora_alpha", "lora_dropout",
                "lora_target_modules", "batch_size", "gradient_accumulation_steps", "max_length", "lr_scheduler")
PHASE_FIELDS = {
    "pretrain": ("base_model", "prompt_template", "tiny", "batch_size", "max_length", "lr_scheduler"),
    "sft": _LORA_FIELDS + ("sft_steps", "sft_lr", "sft_warmup_steps"),
    "dpo": _LORA_FIELDS + ("dpo_steps", "dpo_lr", "dpo_warmup_steps", "dpo_sft_weight", "heldout_max_triplets"),
}


# --- device ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceSettings:
    """What training runs on, picked from what is there."""

    device: str  # "cuda" or "cpu"
    gpu: Optional[str]
    bf16: bool  # bf16 mixed precision (and bf16 compute for 4-bit layers)
    load_in_4bit: bool  # QLoRA: frozen weights in 4-bit nf4 (bitsandbytes)
    gradient_checkpointing: bool
    torch_threads: int

    @property
    def dtype(self) -> torch.dtype:
        return torch.bfloat16 if self.bf16 else torch.float32

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).replace("torch.", "")

    def describe(self) -> str:
        where = f"cuda ({self.gpu})" if self.device == "cuda" else f"cpu ({self.torch_threads} threads)"
        weights = "4-bit nf4 (QLoRA)" if self.load_in_4bit else self.dtype_name
        return f"{where}, weights {weights}, bf16 {self.bf16}, gradient checkpointing {self.gradient_checkpointing}"


def pick_device(train: TrainParams) -> DeviceSettings:
    """CUDA if present, else CPU; bf16 where the GPU supports it (``bf16: auto``); 4-bit if params ask."""
    cuda = torch.cuda.is_available()
    bf16_supported = cuda and torch.cuda.is_bf16_supported()
    if train.bf16 is True and cuda and not bf16_supported:
        raise ValueError(f"train.bf16 is true but {torch.cuda.get_device_name()} has no bf16 support; use bf16: auto")
    return DeviceSettings(
        device="cuda" if cuda else "cpu",
        gpu=torch.cuda.get_device_name() if cuda else None,
        bf16=bf16_supported if train.bf16 == "auto" else bool(train.bf16),
        load_in_4bit=train.load_in_4bit,
        gradient_checkpointing=cuda,
        torch_threads=torch.get_num_threads(),
    )


# --- arms and stages -------------------------------------------------------------------------

@dataclass(frozen=True)
class Stage:
    """One trained folder ``models/<key>``; an arm is one or two stages."""

    key: str
    arm: str  # whose log and metrics this stage belongs to
    phase: str  # pretrain, sft or dpo
    parent: Optional[str]  # the stage it starts from
    labels: tuple[str, ...]  # labels of the train triplets it uses
    beta: Optional[float] = None
    illegit_share: Optional[float] = None  # data-mix sweep: share of illegitimate triplets


def beta_arm(beta: float) -> str:
    return f"dpo_balanced_beta{beta:g}"


def mix_arm(share: float) -> str:
    return f"dpo_mix{share:g}"


def arm_names(train: TrainParams) -> list[str]:
    """The arms the params ask for: ``arms``, then the beta and data-mix sweeps."""
    names = list(train.arms) + [beta_arm(b) for b in train.beta_sweep] + [mix_arm(s) for s in train.mix_sweep]
    return list(dict.fromkeys(names))


def arm_stages(arm: str, train: TrainParams) -> list[Stage]:
    """The stages that make ``arm``, in order; a bad name raises ``ValueError`` listing the valid ones."""
    both, beta = LABELS, train.dpo_beta
    fixed = {
        "base": [Stage("base", "base", "pretrain", None, both)],
        "sft_helpful": [Stage("sft_helpful", "sft_helpful", "sft", "base", ("legitimate",))],
        "dpo_safety_only": [Stage("dpo_safety_only", arm, "dpo", "sft_helpful", ("illegitimate",), beta)],
        "dpo_balanced": [Stage("dpo_balanced", arm, "dpo", "sft_helpful", both, beta)],
        "sft_dpo_paper": [Stage("sft_all", arm, "sft", "base", both), Stage(arm, arm, "dpo", "sft_all", both, beta)],
    }
    if arm in fixed:
        return fixed[arm]
    if match := _BETA_ARM.match(arm):
        if float(match.group(1)) > 0:
            return [Stage(arm, arm, "dpo", "sft_helpful", both, float(match.group(1)))]
    if (match := _MIX_ARM.match(arm)) and 0 <= float(match.group(1)) <= 1:
        return [Stage(arm, arm, "dpo", "sft_helpful", both, beta, float(match.group(1)))]
    raise ValueError(f"unknown arm '{arm}': choose from {', '.join(FIXED_ARMS)}, "
                     "dpo_balanced_beta<beta> (e.g. dpo_balanced_beta0.5) or dpo_mix<share in [0, 1]> (e.g. dpo_mix0.25)")


def arm_description(arm: str) -> str:
    if arm in FIXED_ARMS:
        return FIXED_ARMS[arm]
    if match := _BETA_ARM.match(arm):
        return f"DPO from sft_helpful on the balanced set with beta {match.group(1)} (beta sweep)"
    return f"DPO from sft_helpful with {_MIX_ARM.match(arm).group(1)} of the triplets illegitimate (data-mix sweep)"


def plan(arms: Sequence[str], train: TrainParams) -> list[Stage]:
    """Every stage the arms need, each once, parents first."""
    own = [stage for arm in arms for stage in arm_stages(arm, train)]
    by_key = {stage.key: stage for arm in ("base", "sft_helpful") for stage in arm_stages(arm, train)}
    by_key.update({stage.key: stage for stage in own})
    ordered: dict[str, Stage] = {}

    def visit(stage: Stage) -> None:
        if stage.parent:
            visit(by_key[stage.parent])
        ordered.setdefault(stage.key, stage)

    for stage in own:
        visit(stage)
    return list(ordered.values())


# --- data ------------------------------------------------------------------------------------

@dataclass
class TrainingData:
    """The dataset of step 03: train triplets, held-out splits, and a digest of the files."""

    train: list[dict]
    heldout: dict[str, list[dict]]
    digest: str

    @classmethod
    def load(cls, dataset_dir: Path) -> "TrainingData":
        train_file = dataset_dir / "train.jsonl"
        if not train_file.is_file():
            raise files.DataFileError(f"{train_file}: no such file (the dataset is written by notebook 03)")
        split_files = sorted(dataset_dir.glob("*.jsonl"))
        digest = hashlib.sha256("".join(f"{f.name}:{files.sha256_file(f)}" for f in split_files).encode()).hexdigest()[:16]
        heldout = {split: files.read_jsonl(dataset_dir / f"{split}.jsonl") for split in HELDOUT_SPLITS
                   if (dataset_dir / f"{split}.jsonl").is_file()}
        return cls(files.read_jsonl(train_file), heldout, digest)


def select_triplets(rows: Sequence[dict], stage: Stage, seed: int, limit: Optional[int] = None) -> list[dict]:
    """At most ``limit`` triplets with the stage's labels (in the data-mix sweep's share, for a mix arm)."""
    chosen = [row for row in rows if row["label"] in stage.labels]
    if stage.illegit_share is None:
        return sample_rows(chosen, limit, seed)
    return mix_triplets(chosen, stage.illegit_share, seed, limit)


def sample_rows(rows: Sequence, limit: Optional[int], seed: int) -> list:
    """At most ``limit`` of ``rows``, drawn without replacement (all of them, in order, if fewer)."""
    if limit is None or len(rows) <= limit:
        return list(rows)
    return random.Random(seed).sample(list(rows), limit)


def rows_per_run(steps: int, train: TrainParams) -> int:
    """How many examples ``steps`` optimizer steps consume: only those are tokenized."""
    return steps * train.batch_size * train.gradient_accumulation_steps * PartialState().num_processes


def mix_triplets(rows: Sequence[dict], illegit_share: float, seed: int, limit: Optional[int] = None) -> list[dict]:
    """The largest sample of ``rows`` (at most ``limit``) whose share of illegitimate triplets is ``illegit_share``."""
    legit = [row for row in rows if row["label"] == "legitimate"]
    illegit = [row for row in rows if row["label"] == "illegitimate"]
    limits = []
    if illegit_share > 0:
        limits.append(len(illegit) / illegit_share)
    if illegit_share < 1:
        limits.append(len(legit) / (1 - illegit_share))
    total = int(min(limits + ([limit] if limit else [])))
    n_illegit = round(total * illegit_share)
    rng = random.Random(seed)
    picked = rng.sample(illegit, n_illegit) + rng.sample(legit, total - n_illegit)
    rng.shuffle(picked)
    return picked


def label_counts(rows: Sequence[dict], key: str = "label") -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return dict(sorted(counts.items()))


def pretrain_texts(rows: Sequence[dict], template: str) -> list[str]:
    """Each prompt with each of its two responses: the base model sees both, with no preference."""
    return [format_prompt(template, row["prompt"]) + row[side].strip() for row in rows for side in ("chosen", "rejected")]


def sft_records(rows: Sequence[dict], template: str) -> list[dict]:
    return [{"prompt": format_prompt(template, row["prompt"]), "completion": row["chosen"].strip()} for row in rows]


def dpo_records(rows: Sequence[dict], template: str) -> list[dict]:
    return [{"prompt": format_prompt(template, row["prompt"]), "chosen": row["chosen"].strip(),
             "rejected": row["rejected"].strip()} for row in rows]


# --- the tiny model --------------------------------------------------------------------------

#: pre-tokenization: a word, a digit or a punctuation run, each with its trailing whitespace. A prompt
#: that ends in whitespace ("Answer: ") then tokenizes as a prefix of prompt + answer, as TRL expects.
_PRETOKENIZE = r"[^\W\d_]+\s*|\d\s*|[^\w\s]+\s*|_+\s*|\s+"


def train_tokenizer(texts: Sequence[str], vocab_size: int, *, model_max_length: int = 512):
    """A byte-level BPE tokenizer trained on ``texts``, with <pad>, <s> (prepended) and </s>."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_PRETOKENIZE), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tokenizer.token_to_id("<s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   padding_side="left", model_max_length=model_max_length)


def build_tiny_model(tokenizer, tiny: TinyModelParams, seed: int):
    """A randomly initialized ``LlamaForCausalLM`` sized by ``tiny``, for ``tokenizer``'s vocabulary."""
    from transformers import LlamaConfig, LlamaForCausalLM, set_seed

    if tiny.hidden_size % tiny.num_attention_heads:
        raise ValueError(f"train.tiny.hidden_size ({tiny.hidden_size}) must be a multiple of "
                         f"num_attention_heads ({tiny.num_attention_heads})")
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=tiny.hidden_size, intermediate_size=tiny.intermediate_size,
        num_hidden_layers=tiny.num_hidden_layers, num_attention_heads=tiny.num_attention_heads,
        num_key_value_heads=tiny.num_attention_heads, max_position_embeddings=tiny.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    set_seed(seed)
    model = LlamaForCausalLM(config)
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        setattr(model.generation_config, key, getattr(config, key))
    return model


# --- loading for training --------------------------------------------------------------------

def load_model(source: str | Path, settings: DeviceSettings):
    """A causal LM for training: 4-bit nf4 (prepared for k-bit training) or plain, on the picked device."""
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    kwargs: dict = {"dtype": settings.dtype}
    if settings.load_in_4bit:
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=settings.dtype,
            bnb_4bit_use_double_quant=True)
    if settings.device == "cuda":
        kwargs["device_map"] = {"": PartialState().local_process_index}
    model = AutoModelForCausalLM.from_pretrained(str(source), **kwargs)
    if settings.load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=settings.gradient_checkpointing)
    return model


def load_tokenizer(source: str | Path):
    from transformers import AutoTokenizer

    return prepare_tokenizer(AutoTokenizer.from_pretrained(str(source)))


def lora_config(train: TrainParams):
    from peft import LoraConfig

    return LoraConfig(r=train.lora_r, lora_alpha=train.lora_alpha, lora_dropout=train.lora_dropout,
                      target_modules=list(train.lora_target_modules), bias="none", task_type="CAUSAL_LM")


def _trainer_args(train: TrainParams, settings: DeviceSettings, output_dir: Path, seed: int, progress: bool) -> dict:
    """Arguments every trainer here shares: one log row per step, no checkpoints, the picked device."""
    return dict(
        output_dir=str(output_dir), per_device_train_batch_size=train.batch_size,
        gradient_accumulation_steps=train.gradient_accumulation_steps, lr_scheduler_type=train.lr_scheduler,
        logging_steps=1, save_strategy="no", report_to="none", bf16=settings.bf16,
        activation_checkpointing=settings.gradient_checkpointing, use_cpu=settings.device == "cpu",
        seed=seed, data_seed=seed, disable_tqdm=not progress, dataloader_num_workers=0, max_length=train.max_length,
    )


# --- logs, speed and memory ------------------------------------------------------------------

class StepLog(TrainerCallback):
    """Keeps one row per logged step (``step``, ``arm``, ``phase`` + the trainer's metrics)."""

    def __init__(self, arm: str, phase: str):
        self.arm, self.phase = arm, phase
        self.rows: list[dict] = []
        self.summary: dict = {}

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = dict(logs or {})
        if "train_runtime" in logs:  # the end-of-training summary, not a step
            self.summary = logs
            return
        self.rows.append({"step": state.global_step, "arm": self.arm, "phase": self.phase, **logs})


class QuietProgress(ProgressCallback):
    """The trainer's progress bar without a printed line per logged step (the step log keeps them)."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        pass


@contextlib.contextmanager
def quiet_library_bars():
    """No progress bars from dataset maps and weight loading while training (the trainer's own bar stays)."""
    import datasets
    from transformers.utils import logging as hf_logging

    datasets_on, transformers_on = datasets.is_progress_bar_enabled(), hf_logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if datasets_on:
            datasets.enable_progress_bars()
        if transformers_on:
            hf_logging.enable_progress_bar()


def write_log(log_file: Path, phase: str, rows: Sequence[dict]) -> None:
    """Replace ``phase``'s rows of an arm's log with ``rows``, keeping its other phases."""
    kept = [row for row in files.read_jsonl(log_file, allow_empty=True) if row["phase"] != phase] \
        if log_file.is_file() else []
    files.write_jsonl(log_file, kept + list(rows))


class PeakMemory:
    """Peak memory of a block: CUDA max allocated on a GPU, else the peak RSS of this process.

    On Linux the RSS high-water mark is reset at the start of the block, so the figure is the block's
    own peak; elsewhere it is the process's peak so far (``kind`` says which).
    """

    def __enter__(self) -> "PeakMemory":
        self.cuda = torch.cuda.is_available()
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
            self.kind = "cuda_max_allocated"
        else:
            try:
                Path("/proc/self/clear_refs").write_text("5")
                self.kind = "rss_peak"
            except OSError:
                self.kind = "rss_peak_of_process"
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            self.mb = torch.cuda.max_memory_allocated() / 2**20
        elif self.kind == "rss_peak":
            status = Path("/proc/self/status").read_text()
            self.mb = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        else:
            self.mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fit(trainer, log: StepLog, progress: bool) -> dict:
    """Train; return steps, runtime, tokens per second, peak memory while training and the final metrics."""
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    if progress:
        trainer.add_callback(QuietProgress)
    with PeakMemory() as memory:
        started = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - started
    tokens = int(next((row["num_tokens"] for row in reversed(log.rows) if "num_tokens" in row), 0))
    runtime = log.summary.get("train_runtime", wall)
    return {
        "steps": trainer.state.global_step, "train_runtime_s": round(runtime, 2), "train_tokens": tokens,
        "tokens_per_s": round(tokens / runtime, 1) if runtime else None,
        "peak_memory_mb": round(memory.mb, 1), "memory_kind": memory.kind,
        "weights_mb": round(trainer.model.get_memory_footprint() / 2**20, 3),
        "final_metrics": _final_metrics(log.rows), "train_loss": log.summary.get("train_loss"),
    }


def _final_metrics(rows: Sequence[dict]) -> dict:
    if not rows:
        return {}
    return {key: value for key, value in rows[-1].items() if key not in ("arm", "phase")}


# --- held-out reward accuracy ----------------------------------------------------------------

def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def tokenize_completions(tokenizer, prompts: Sequence[str], completions: Sequence[str], *, max_length: int,
                         batch_size: int) -> list[dict[str, torch.Tensor]]:
    """Right-padded batches of prompt + completion + EOS with a mask over the completion tokens.

    Tokenized as TRL's DPOTrainer does: the prompt alone and the prompt with its completion, the
    completion starting where the two diverge, truncated to ``max_length`` at the end.
    """
    prompt_ids = tokenizer(list(prompts)).input_ids
    full_ids = tokenizer([p + c + tokenizer.eos_token for p, c in zip(prompts, completions)]).input_ids
    batches = []
    for start in range(0, len(full_ids), batch_size):
        ids, masks = [], []
        for prompt, full in zip(prompt_ids[start:start + batch_size], full_ids[start:start + batch_size]):
            n_prompt = _common_prefix(prompt, full)
            ids.append(full[:max_length])
            masks.append(([0] * n_prompt + [1] * (len(full) - n_prompt))[:max_length])
        width = max(len(x) for x in ids)
        batches.append({
            "input_ids": torch.tensor([x + [tokenizer.pad_token_id] * (width - len(x)) for x in ids]),
            "attention_mask": torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids]),
            "completion_mask": torch.tensor([m + [0] * (width - len(m)) for m in masks]),
        })
    return batches


@torch.no_grad()
def completion_logps(model, batches: Sequence[dict[str, torch.Tensor]]) -> torch.Tensor:
    """Summed log-probability of the completion tokens of each sequence in ``batches``."""
    device = next(model.parameters()).device
    sums = []
    for batch in batches:
        input_ids = batch["input_ids"].to(device)
        logits = model(input_ids=input_ids, attention_mask=batch["attention_mask"].to(device)).logits[:, :-1].float()
        token_logps = torch.log_softmax(logits, dim=-1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
        sums.append((token_logps * batch["completion_mask"][:, 1:].to(device)).sum(dim=1).cpu())
    return torch.cat(sums)


def reward_summary(policy_chosen, policy_rejected, ref_chosen, ref_rejected, *, beta: float,
                   labels: Sequence[str]) -> dict:
    """Share of triplets whose implicit DPO reward beta*(logp_policy - logp_ref) is higher for chosen."""
    chosen = beta * (torch.as_tensor(policy_chosen) - torch.as_tensor(ref_chosen))
    rejected = beta * (torch.as_tensor(policy_rejected) - torch.as_tensor(ref_rejected))
    correct = (chosen > rejected).float()
    margins = chosen - rejected
    summary = {"n": len(correct), "reward_accuracy": round(correct.mean().item(), 4),
               "mean_margin": round(margins.mean().item(), 4), "by_label": {}}
    for label in sorted(set(labels)):
        index = torch.tensor([lab == label for lab in labels])
        summary["by_label"][label] = {"n": int(index.sum()), "reward_accuracy": round(correct[index].mean().item(), 4)}
    return summary


def reward_accuracy(model, tokenizer, rows: Sequence[dict], *, template: str, beta: float, max_length: int,
                    batch_size: int) -> dict:
    """Held-out reward accuracy of a PEFT model against itself with the adapter disabled (the DPO reference)."""
    model.eval()
    rows = sorted(rows, key=lambda row: len(row["prompt"]) + len(row["chosen"]) + len(row["rejected"]))  # less padding
    prompts = [format_prompt(template, row["prompt"]) for row in rows]
    batches = {side: tokenize_completions(tokenizer, prompts, [row[side].strip() for row in rows],
                                          max_length=max_length, batch_size=batch_size)
               for side in ("chosen", "rejected")}
    policy = {side: completion_logps(model, side_batches) for side, side_batches in batches.items()}
    with model.disable_adapter():
        ref = {side: completion_logps(model, side_batches) for side, side_batches in batches.items()}
    return reward_summary(policy["chosen"], policy["rejected"], ref["chosen"], ref["rejected"], beta=beta,
                          labels=[row["label"] for row in rows])


# --- one stage -------------------------------------------------------------------------------

@dataclass
class Context:
    """What every stage needs: the run's config, device settings and data."""

    cfg: params_mod.RunConfig
    settings: DeviceSettings
    data: TrainingData
    progress: bool

    @property
    def train(self) -> TrainParams:
        return self.cfg.params.train

    @property
    def seed(self) -> int:
        return self.cfg.params.seed

    def folder(self, key: str) -> Path:
        return self.cfg.paths.models / key

    def start_model(self, stage: Stage) -> str:
        """Where a stage's starting weights are: the base (or what it points to), or a merged SFT model."""
        parent = self.folder(stage.parent)
        return resolve_source(parent) if stage.parent == "base" else str(parent / "merged")


def fingerprint(stage: Stage, ctx: Context, parent_fingerprint: Optional[str]) -> str:
    train = ctx.train.model_dump(mode="json")
    identity = {
        "stage": asdict(stage), "seed": ctx.seed, "data": ctx.data.digest, "parent": parent_fingerprint,
        "params": {key: train[key] for key in PHASE_FIELDS[stage.phase]},
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def _pretrain(stage: Stage, ctx: Context, folder: Path) -> dict:
    """The tiny base: tokenizer, model, causal-LM pretraining; or a pointer to ``train.base_model``."""
    train, rows = ctx.train, ctx.data.train
    if train.base_model:
        if PartialState().is_main_process:
            files.write_json(folder / POINTER_FILE, {"base_model": train.base_model})
        return {"source": train.base_model, "data": {"rows": 0}}
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    tiny = train.tiny
    texts = pretrain_texts(rows, train.prompt_template)
    tokenizer = train_tokenizer(texts, tiny.vocab_size, model_max_length=tiny.max_position_embeddings)
    model = build_tiny_model(tokenizer, tiny, ctx.seed)
    texts = sample_rows(texts, rows_per_run(tiny.pretrain_steps, train), ctx.seed)
    record: dict = {"source": "built here: LlamaForCausalLM from TinyModelParams",
                    "parameters": sum(p.numel() for p in model.parameters()),
                    "data": {"rows": len(texts), "available": 2 * len(rows), "labels": label_counts(rows),
                             "tokenizer_texts": 2 * len(rows)}}
    if tiny.pretrain_steps:
        log = StepLog(stage.arm, stage.phase)
        args = SFTConfig(**_trainer_args(train, ctx.settings, folder, ctx.seed, ctx.progress),
                         max_steps=tiny.pretrain_steps, learning_rate=tiny.pretrain_lr,
                         warmup_steps=tiny.pretrain_warmup_steps)
        trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list([{"text": t} for t in texts]),
                             processing_class=tokenizer, callbacks=[log])
        record.update(_fit(trainer, log, ctx.progress))
        record["log_rows"] = log.rows
    if PartialState().is_main_process:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return record


def _sft(stage: Stage, ctx: Context, folder: Path, rows: list[dict]) -> dict:
    """SFT with (Q)LoRA on prompt -> chosen; save the adapter, then the base with it merged in."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    train, source = ctx.train, ctx.start_model(stage)
    tokenizer = load_tokenizer(source)
    log = StepLog(stage.arm, stage.phase)
    args = SFTConfig(**_trainer_args(train, ctx.settings, folder, ctx.seed, ctx.progress), max_steps=train.sft_steps,
                     learning_rate=train.sft_lr, warmup_steps=train.sft_warmup_steps)
    trainer = SFTTrainer(model=load_model(source, ctx.settings), args=args, processing_class=tokenizer,
                         train_dataset=Dataset.from_list(sft_records(rows, train.prompt_template)),
                         peft_config=lora_config(train), callbacks=[log])
    record = {"source": source, **_fit(trainer, log, ctx.progress), "log_rows": log.rows}
    trainer.save_model(str(folder))
    del trainer
    state = PartialState()
    if state.is_main_process:
        merge_adapter(folder, folder / "merged", ctx.settings)
    state.wait_for_everyone()
    return record


def merge_adapter(adapter_dir: Path, out_dir: Path, settings: DeviceSettings) -> None:
    """Merge a LoRA adapter into its base, loaded unquantized in the compute dtype, and save it with the tokenizer."""
    from peft import PeftModel

    base = load_model(adapter_base(adapter_dir), replace(settings, load_in_4bit=False))
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out_dir)
    load_tokenizer(adapter_dir).save_pretrained(out_dir)


def _dpo_trainer(source: str, rows: list[dict], beta: float, steps: int, ctx: Context, settings: DeviceSettings,
                 output_dir: Path, log: StepLog):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    train = ctx.train
    losses = {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, train.dpo_sft_weight]} \
        if train.dpo_sft_weight else {"loss_type": ["sigmoid"]}
    args = DPOConfig(**_trainer_args(train, settings, output_dir, ctx.seed, ctx.progress), max_steps=steps,
                     learning_rate=train.dpo_lr, warmup_steps=train.dpo_warmup_steps, beta=beta, **losses)
    return DPOTrainer(model=load_model(source, settings), args=args, processing_class=load_tokenizer(source),
                      train_dataset=Dataset.from_list(dpo_records(rows, train.prompt_template)),
                      peft_config=lora_config(train), callbacks=[log])


def _dpo(stage: Stage, ctx: Context, folder: Path, rows: list[dict]) -> dict:
    """DPO with a new (Q)LoRA over the merged SFT model; then reward accuracy on the held-out splits."""
    source = ctx.start_model(stage)
    log = StepLog(stage.arm, stage.phase)
    trainer = _dpo_trainer(source, rows, stage.beta, ctx.train.dpo_steps, ctx, ctx.settings, folder, log)
    record = {"source": source, **_fit(trainer, log, ctx.progress), "log_rows": log.rows}
    trainer.save_model(str(folder))
    if not PartialState().is_main_process:
        return record
    record["heldout"] = {
        split: reward_accuracy(trainer.model, trainer.processing_class,
                               sample_rows(split_rows, ctx.train.heldout_max_triplets, ctx.seed),
                               template=ctx.train.prompt_template, beta=stage.beta,
                               max_length=ctx.train.max_length, batch_size=4 * ctx.train.batch_size)
        for split, split_rows in ctx.data.heldout.items()
    }
    return record


def run_stage(stage: Stage, ctx: Context, stage_fingerprint: str) -> dict:
    """Train one stage into a fresh folder; write its log and card, then its completion marker (last).

    Under ``accelerate launch`` every process trains; only the main one writes files.
    """
    state = PartialState()
    folder = ctx.folder(stage.key)
    if state.is_main_process:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    state.wait_for_everyone()
    print(f"[train] {stage.arm}: {stage.phase} stage '{stage.key}'", flush=True)
    started = time.perf_counter()
    if stage.phase == "pretrain":
        record = _pretrain(stage, ctx, folder)
    else:
        steps = ctx.train.sft_steps if stage.phase == "sft" else ctx.train.dpo_steps
        rows = select_triplets(ctx.data.train, stage, ctx.seed, rows_per_run(steps, ctx.train))
        available = sum(row["label"] in stage.labels for row in ctx.data.train)
        record = (_sft if stage.phase == "sft" else _dpo)(stage, ctx, folder, rows)
        record["data"] = {"rows": len(rows), "available": available, "labels": label_counts(rows),
                          "modes": label_counts(rows, "mode")}
    log_rows = record.pop("log_rows", [])
    record.update({
        "stage": stage.key, "arm": stage.arm, "phase": stage.phase, "parent": stage.parent, "beta": stage.beta,
        "illegit_share": stage.illegit_share, "fingerprint": stage_fingerprint,
        "wall_s": round(time.perf_counter() - started, 2), "device": asdict(ctx.settings),
        "params_hash": ctx.cfg.params_hash, "versions": provenance.library_versions(),
    })
    if state.is_main_process:
        if log_rows:
            write_log(ctx.cfg.paths.logs / f"{stage.arm}.jsonl", stage.phase, log_rows)
        files.write_text(folder / "README.md", model_card(stage, record, ctx, folder))
        files.write_json(folder / MARKER, record)
        _print_stage(record)
    state.wait_for_everyone()
    return record


def _print_stage(record: dict) -> None:
    parts = [f"{record['wall_s']:.1f} s"]
    if record.get("tokens_per_s"):
        parts.append(f"{record['tokens_per_s']:.0f} tokens/s, peak memory {record['peak_memory_mb']:.0f} MB "
                     f"({record['memory_kind']})")
    if "test" in record.get("heldout", {}):
        parts.append(f"held-out reward accuracy {record['heldout']['test']['reward_accuracy']:.3f}")
    print(f"[train] {record['arm']}/{record['stage']} done: {', '.join(parts)}", flush=True)


def read_marker(folder: Path) -> Optional[dict]:
    marker = folder / MARKER
    return files.read_json(marker) if marker.is_file() else None


# --- model cards -----------------------------------------------------------------------------

def model_card(stage: Stage, record: dict, ctx: Context, folder: Path) -> str:
    """README.md of a stage folder: what it is, its data, params, metrics, and how to load it."""
    train = ctx.train
    title = stage.arm if stage.key == stage.arm else f"{stage.key} (first stage of {stage.arm})"
    adapter = stage.phase != "pretrain"
    lines = [f"# {title}", "", arm_description(stage.arm) + ".", "",
             f"- Phase: {stage.phase}" + (f" (beta {stage.beta:g})" if stage.phase == "dpo" else ""),
             f"- Starts from: {record['source']}" + (f" (stage `{stage.parent}`)" if stage.parent else ""),
             f"- Run: `{ctx.cfg.params.run_name}`, params hash `{ctx.cfg.params_hash}`, seed {ctx.seed}",
             f"- Device: {ctx.settings.describe()}", ""]
    data = record.get("data", {})
    lines += ["## Data", "", f"{data.get('rows', 0)} training rows (the steps x batch size the run consumes, drawn "
              f"from {data.get('available', 0)}) from `{ctx.cfg.paths.dataset / 'train.jsonl'}`"
              + (f"; labels {data['labels']}" if data.get("labels") else "")
              + (f"; modes {data['modes']}" if data.get("modes") else "") + ".", ""]
    lines += ["## Parameters", "", "```json", json.dumps(train.model_dump(mode="json"), indent=2, sort_keys=True), "```", ""]
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
                          else "-" for label in LABELS}}
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
    lines += ["```", "", f"Or `librachem_utils.api.local_model.load_for_generation(\"{folder}\")` (eval mode, left padding).",
              f"Prompts use the template `{json.dumps(train.prompt_template)}`.", ""]
    if adapter:
        lines += ["The adapter's base (named in `adapter_config.json`) is "
                  + ("the base model." if stage.phase == "sft" else
                     f"the `{stage.parent}` adapter merged into the base model (`{record['source']}`)."), ""]
    lines += [f"Libraries: {', '.join(f'{k} {v}' for k, v in record['versions'].items())}.", ""]
    return "\n".join(lines)


# --- LoRA vs QLoRA ---------------------------------------------------------------------------

def compare_lora_qlora(ctx: Context) -> dict:
    """Time a short balanced DPO from sft_helpful twice: LoRA over plain weights, then QLoRA over 4-bit nf4."""
    steps = ctx.train.compare_qlora_steps
    rows = select_triplets(ctx.data.train, arm_stages("dpo_balanced", ctx.train)[0], ctx.seed,
                           rows_per_run(steps, ctx.train))
    source = str(ctx.folder("sft_helpful") / "merged")
    sides = {}
    for name, quantize in (("lora", False), ("qlora_4bit", True)):
        settings = replace(ctx.settings, load_in_4bit=quantize)
        print(f"[train] LoRA vs QLoRA: {name}, {steps} DPO steps", flush=True)
        with tempfile.TemporaryDirectory() as out:
            log = StepLog("qlora_comparison", "dpo")
            trainer = _dpo_trainer(source, rows, ctx.train.dpo_beta, steps, ctx, settings, Path(out), log)
            started = time.perf_counter()
            stats = _fit(trainer, log, ctx.progress)
            stats["wall_s"] = round(time.perf_counter() - started, 2)
        stats["weights"] = "4-bit nf4" if quantize else settings.dtype_name
        sides[name] = stats
        del trainer
    lora, qlora = sides["lora"], sides["qlora_4bit"]
    return {
        "arm": "dpo_balanced", "steps": steps, "source": source, **sides,
        "qlora_speed_vs_lora": round(qlora["tokens_per_s"] / lora["tokens_per_s"], 3),
        "qlora_peak_memory_vs_lora": round(qlora["peak_memory_mb"] / lora["peak_memory_mb"], 3),
        "qlora_weights_vs_lora": round(qlora["weights_mb"] / lora["weights_mb"], 3),
    }


# --- the whole run ---------------------------------------------------------------------------

def train_arms(cfg: params_mod.RunConfig, arms: Optional[Sequence[str]] = None, *, force: bool = False,
               progress: bool = True) -> dict:
    """Train the arms (default: those the params name) and what they need; return ``train_metrics.json``'s content.

    A stage whose folder holds a completion marker for the same params and data is skipped, unless
    ``force`` and the stage belongs to a named arm; a retrained stage retrains the stages after it.
    """
    state = PartialState()
    train = cfg.params.train
    names = list(arms) if arms is not None else arm_names(train)
    stages = plan(names + (["sft_helpful"] if train.compare_qlora else []), train)
    settings = pick_device(train)
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
        comparison_key = {"sft_helpful": fingerprints.get("sft_helpful"), "steps": train.compare_qlora_steps}
        if train.compare_qlora and (force or comparison is None or comparison.get("key") != comparison_key):
            comparison = {**compare_lora_qlora(ctx), "key": comparison_key}
    metrics = {
        "run_name": cfg.params.run_name, "params_hash": cfg.params_hash, "device": asdict(settings),
        "versions": provenance.library_versions(),
        "arms": collect_arms(cfg, list(previous.get("arms", {})) + names, train),
    }
    if comparison:
        metrics["qlora_comparison"] = comparison
    metrics["total_wall_s"] = round(sum(arm["wall_s"] for arm in metrics["arms"].values()), 2)
    if state.is_main_process:
        files.write_json(metrics_file, metrics)
    return metrics


def collect_arms(cfg: params_mod.RunConfig, names: Sequence[str], train: TrainParams) -> dict:
    """One entry per arm whose stages are all complete, from their markers."""
    arms = {}
    for arm in dict.fromkeys(names):
        records = [read_marker(cfg.paths.models / stage.key) for stage in arm_stages(arm, train)]
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


def comparison_rows(metrics: dict) -> list[dict]:
    """The LoRA vs QLoRA comparison as two rows (empty when it was not run)."""
    comparison = metrics.get("qlora_comparison")
    if not comparison:
        return []
    keys = ("weights", "steps", "wall_s", "tokens_per_s", "peak_memory_mb", "memory_kind", "weights_mb", "train_loss")
    return [{"variant": name, **{key: comparison[name][key] for key in keys}} for name in ("lora", "qlora_4bit")]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m librachem_utils.train", description=__doc__.split("\n")[0])
    parser.add_argument("--params", required=True, help="a params YAML file, e.g. params/default.yaml")
    parser.add_argument("--arms", help="comma-separated arms (default: the params' arms and sweeps)")
    parser.add_argument("--force", action="store_true", help="retrain the named arms even if complete")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        cfg = params_mod.load(args.params)
        arms = [a.strip() for a in args.arms.split(",") if a.strip()] if args.arms else None
        metrics = train_arms(cfg, arms, force=args.force, progress=not args.no_progress)
    except (params_mod.ParamsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for row in summary_rows(metrics):
        print(json.dumps(row))
    print(f"done: {len(metrics['arms'])} arms, {metrics['total_wall_s']:.1f} s of training -> "
          f"{cfg.paths.results / 'train_metrics.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
