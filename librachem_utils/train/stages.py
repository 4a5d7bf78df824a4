"""The stages: pretraining of the tiny base (or a pointer to a named checkpoint), SFT and DPO with
(Q)LoRA through TRL, each into a fresh folder ``models/<key>/`` closed by a completion marker.

A stage's fingerprint covers everything that made it: its stage definition, the random seed, the
dataset files, its parent's fingerprint and every setting its training uses (the model and LoRA
settings, the prompt template, the resolved TRL config, the number of processes). A stage is
reused exactly when its marker holds the same fingerprint.
"""
from __future__ import annotations

import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from accelerate import PartialState

from librachem_utils.api.local_model import POINTER_FILE, resolve_source
from librachem_utils.chem.knowledge_base import TABLE_CSV, load_kb
from librachem_utils.core import files, provenance
from librachem_utils.core import params as params_mod
from librachem_utils.data.knowledge_text import compound_entities, knowledge_texts
from librachem_utils.train.arms import Stage
from librachem_utils.train.callbacks import StepLog, fit, write_log
from librachem_utils.train.card import model_card
from librachem_utils.train.data import (
    TrainingData,
    dpo_records,
    label_counts,
    pretrain_texts,
    rows_per_run,
    sample_rows,
    select_triplets,
    sft_records,
)
from librachem_utils.train.device import DeviceSettings
from librachem_utils.train.loading import (
    load_model,
    load_tokenizer,
    lora_config,
    merge_adapter,
    trainer_config,
    trainer_settings,
)
from librachem_utils.train.reward import reward_accuracy
from librachem_utils.train.tiny import build_tiny_model, train_tokenizer

MARKER = "training_complete.json"


@dataclass
class Context:
    """What every stage needs: the run's config, device settings and data."""

    cfg: params_mod.RunConfig
    settings: DeviceSettings
    data: TrainingData
    progress: bool

    @property
    def train(self) -> params_mod.TrainParams:
        return self.cfg.params.train

    @property
    def random_seed(self) -> int:
        return self.cfg.params.seed

    def folder(self, key: str) -> Path:
        return self.cfg.paths.models / key

    def start_model(self, stage: Stage) -> str:
        """Where a stage's starting weights are: the base (or what it points to), or a merged SFT model."""
        parent = self.folder(stage.parent)
        return resolve_source(parent) if stage.parent == "base" else str(parent / "merged")

    def section(self, stage: Stage) -> dict:
        """The params' TRL section of a stage's phase, with the stage's own DPO beta."""
        section = dict(getattr(self.train, stage.phase))
        return {**section, "beta": stage.beta} if stage.phase == "dpo" else section

    def trainer_args(self, stage: Stage, output_dir: Path, settings: Optional[DeviceSettings] = None, **changes):
        return trainer_config(stage.phase, {**self.section(stage), **changes}, settings or self.settings, output_dir,
                              self.random_seed, self.progress)


def stage_settings(stage: Stage, ctx: Context) -> dict:
    """Every setting a stage's training uses (beyond its parent, the seed and the data)."""
    train = ctx.train
    used = {"prompt_template": train.project.prompt_template, "processes": PartialState().num_processes,
            "trainer": trainer_settings(ctx.section(stage), ctx.settings)}
    if stage.phase == "pretrain":
        return {**used, "tiny": train.project.tiny.model_dump(mode="json"),
                "knowledge": train.project.knowledge.model_dump(mode="json"),
                "knowledge_base": files.sha256_file(TABLE_CSV)}
    used.update(model=train.model.model_dump(mode="json"), dtype=ctx.settings.dtype_name)
    if stage.phase == "dpo":
        used["heldout_max_triplets"] = train.project.heldout_max_triplets
    return used


def fingerprint(stage: Stage, ctx: Context, parent_fingerprint: Optional[str]) -> str:
    """A short hash of what makes a stage; a pointer to a named base depends on the name alone."""
    name = ctx.train.model.model_name_or_path
    if stage.phase == "pretrain" and name:
        identity: dict = {"stage": asdict(stage), "model_name_or_path": name}
    else:
        identity = {"stage": asdict(stage), "seed": ctx.random_seed, "data": ctx.data.digest,
                    "parent": parent_fingerprint, "settings": stage_settings(stage, ctx)}
    return files.json_digest(identity)


def pretrain_corpus(ctx: Context, random_seed: int) -> tuple[list[str], dict]:
    """The base's pretraining texts: train-split requests with their answers and the knowledge-base
    documents (``train.project.knowledge``), shuffled; and their counts for the training record."""
    project = ctx.train.project
    knowledge = project.knowledge
    requests = pretrain_texts(ctx.data.train, project.prompt_template)
    requests = sample_rows(requests, knowledge.alignment_texts, random_seed)
    documents = knowledge_texts(load_kb().compounds, project.prompt_template, knowledge.documents_per_compound,
                                random_seed)
    texts = requests + documents
    random.Random(f"{random_seed}:pretrain").shuffle(texts)
    return texts, {"request_texts": len(requests), "knowledge_documents": len(documents)}


def _pretrain(stage: Stage, ctx: Context, folder: Path, args) -> dict:
    """The tiny base: tokenizer, model, causal-LM pretraining; or a pointer to ``train.model.model_name_or_path``."""
    train = ctx.train
    if train.model.model_name_or_path:
        if PartialState().is_main_process:
            files.write_json(folder / POINTER_FILE, {"base_model": train.model.model_name_or_path})
        return {"source": train.model.model_name_or_path, "data": {"rows": 0}}
    from datasets import Dataset
    from trl import SFTTrainer

    tiny, trains = train.project.tiny, args.max_steps != 0
    texts, counts = pretrain_corpus(ctx, ctx.random_seed)
    entities = compound_entities(load_kb().compounds) if train.project.knowledge.entity_tokens else ()
    tokenizer = train_tokenizer(texts, tiny.vocab_size, entities=entities,
                                model_max_length=tiny.max_position_embeddings)
    model = build_tiny_model(tokenizer, tiny, ctx.random_seed)
    available = len(texts)
    if trains and not args.packing:  # packed, every text is read in turn; unpacked, only those max_steps reach
        texts = sample_rows(texts, rows_per_run(args), ctx.random_seed)
    record: dict = {"source": "built here: LlamaForCausalLM from train.project.tiny",
                    "parameters": sum(p.numel() for p in model.parameters()),
                    "data": {"rows": len(texts) if trains else 0, "available": available, **counts,
                             "labels": label_counts(ctx.data.train), "entity_tokens": len(entities)}}
    if trains:
        log = StepLog(stage.arm, stage.phase)
        trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list([{"text": t} for t in texts]),
                             processing_class=tokenizer, callbacks=[log])
        record.update(fit(trainer, log, ctx.progress))
        record["log_rows"] = log.rows
    if PartialState().is_main_process:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return record


def _sft(stage: Stage, ctx: Context, folder: Path, args, rows: list[dict]) -> dict:
    """SFT with (Q)LoRA on prompt -> chosen; save the adapter, then the base with it merged in."""
    from datasets import Dataset
    from trl import SFTTrainer

    train, source = ctx.train, ctx.start_model(stage)
    log = StepLog(stage.arm, stage.phase)
    trainer = SFTTrainer(model=load_model(source, ctx.settings, args.activation_checkpointing), args=args,
                         processing_class=load_tokenizer(source), peft_config=lora_config(train.model),
                         train_dataset=Dataset.from_list(sft_records(rows, train.project.prompt_template)),
                         callbacks=[log])
    record = {"source": source, **fit(trainer, log, ctx.progress), "log_rows": log.rows}
    trainer.save_model(str(folder))
    del trainer
    state = PartialState()
    if state.is_main_process:
        merge_adapter(folder, folder / "merged", ctx.settings)
    state.wait_for_everyone()
    return record


def dpo_trainer(source: str, rows: list[dict], args, ctx: Context, settings: DeviceSettings, log: StepLog):
    """A ``DPOTrainer`` with a new (Q)LoRA over ``source``; its reference is ``source`` with the adapter disabled."""
    from datasets import Dataset
    from trl import DPOTrainer

    train = ctx.train
    return DPOTrainer(model=load_model(source, settings, args.activation_checkpointing), args=args,
                      processing_class=load_tokenizer(source), peft_config=lora_config(train.model),
                      train_dataset=Dataset.from_list(dpo_records(rows, train.project.prompt_template)),
                      callbacks=[log])


def _dpo(stage: Stage, ctx: Context, folder: Path, args, rows: list[dict]) -> dict:
    """DPO with a new (Q)LoRA over the merged SFT model; then reward accuracy on the held-out splits."""
    source = ctx.start_model(stage)
    log = StepLog(stage.arm, stage.phase)
    trainer = dpo_trainer(source, rows, args, ctx, ctx.settings, log)
    record = {"source": source, **fit(trainer, log, ctx.progress), "log_rows": log.rows}
    trainer.save_model(str(folder))
    if not PartialState().is_main_process:
        return record
    project = ctx.train.project
    record["heldout"] = {
        split: reward_accuracy(trainer.model, trainer.processing_class,
                               sample_rows(split_rows, project.heldout_max_triplets, ctx.random_seed),
                               template=project.prompt_template, beta=stage.beta, max_length=args.max_length,
                               batch_size=4 * args.per_device_train_batch_size)
        for split, split_rows in ctx.data.heldout.items()
    }
    return record


def _train_stage(stage: Stage, ctx: Context, folder: Path) -> dict:
    args = ctx.trainer_args(stage, folder)
    if stage.phase == "pretrain":
        return _pretrain(stage, ctx, folder, args)
    rows = select_triplets(ctx.data.train, stage, ctx.random_seed, rows_per_run(args))
    available = sum(row["label"] in stage.labels for row in ctx.data.train)
    record = (_sft if stage.phase == "sft" else _dpo)(stage, ctx, folder, args, rows)
    record["data"] = {"rows": len(rows), "available": available, "labels": label_counts(rows),
                      "modes": label_counts(rows, "mode")}
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
    record = _train_stage(stage, ctx, folder)
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
