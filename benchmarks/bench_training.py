"""Training throughput as model FLOPs utilization (MFU): the FLOP/s each training stage achieves through
TRL, against the CPU's own float32 matmul peak measured in the same run.

- the peak: ``torch.matmul`` of square float32 matrices (512, 1024, 2048) with torch's current thread
  count, best of a few repeats, ``2 n**3 / t``;
- the stages, with the tiny model of ``params/default.yaml`` (``train.project.tiny``) and the TRL
  settings of its ``train`` sections: pretraining (``SFTTrainer`` on text), SFT (``SFTTrainer`` with the
  params' LoRA on prompt/completion) and DPO (``DPOTrainer`` with LoRA on prompt/chosen/rejected, the
  reference being the adapter-disabled model), on question/answer pairs rendered from the knowledge
  base's common compounds (facts only);
- pretraining with and without ``packing`` at the params' ``max_length``, at batch 8 and 32.

Each run times the steps after a few warm-up steps (data loading, forward, backward, optimizer) and
counts, from the batches the steps train on, the real tokens of each sequence and the positions the
LM head scores; ``librachem_utils.train.flops`` turns them into model FLOPs (padding excluded).
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from common import Row, Sizes
from librachem_utils.train.flops import LlamaShape, Lora, batch_counts, batch_flops

PEAK_SIZES = (512, 1024, 2048)
PEAK_REPEATS = 3
BATCH_SIZES = (8, 32)  # pretraining's batch sizes side by side (with the params' own)
FACT_ROWS = 600  # triplets (1,200 pretraining texts); a run cycles through them as often as it needs
#: the params' pretraining setting should use the cores about as well as the best of the packing x batch grid
PARAMS_SHARE_GOAL = 0.8
STAGE_NAMES = {"pretrain": "pretraining", "sft": "SFT with LoRA", "dpo": "DPO with LoRA"}


def matmul_peak(sizes=PEAK_SIZES, repeats: int = PEAK_REPEATS) -> dict:
    """Best float32 matmul FLOP/s over square sizes, with torch's current threads: {"flops_per_s", "by_size"}."""
    import torch

    by_size = {}
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.matmul(a, b)  # untimed: allocation and the kernel's first call
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            torch.matmul(a, b)
            best = min(best, time.perf_counter() - started)
        by_size[n] = 2 * n ** 3 / best
    return {"flops_per_s": max(by_size.values()), "by_size": by_size, "threads": torch.get_num_threads()}


# --- what the steps train on --------------------------------------------------------------------

def counting(trainer_cls):
    """``trainer_cls`` keeping the ``BatchCounts`` of every batch it trains on, in ``step_batches``."""

    class Counting(trainer_cls):
        def training_step(self, model, inputs, *args, **kwargs):
            self.step_batches.append(batch_counts(inputs))
            return super().training_step(model, inputs, *args, **kwargs)

    return Counting


def fact_rows(n: int, random_seed: int) -> list[dict]:
    """``n`` triplets about common compounds: a property question, an answer stating it and some more of the
    compound's facts, and an answer stating other facts instead (facts only, no procedure)."""
    from librachem_utils.chem.knowledge_base import load_kb
    from librachem_utils.data.generators import COMPOUND, render
    from librachem_utils.data.knowledge_text import QUESTIONS, fact_sentence, known_facts

    compounds, rng, rows = load_kb().common(), random.Random(random_seed), []
    while len(rows) < n:
        compound = rng.choice(compounds)
        facts = known_facts(compound)
        asked = rng.choice([fact for fact in facts if fact in QUESTIONS])
        others = [fact for fact in facts if fact != asked]
        chosen = [asked, *rng.sample(others, rng.randint(1, len(others)))]
        rejected = rng.sample(others, rng.randint(1, len(others)))
        rows.append({"prompt": render(rng.choice(QUESTIONS[asked]).format(X=COMPOUND), compound, "text"),
                     "chosen": " ".join(fact_sentence(compound, fact, "text", rng) for fact in chosen),
                     "rejected": " ".join(fact_sentence(compound, fact, "text", rng) for fact in rejected)})
    return rows


# --- one timed run --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """How long a run is timed: after ``warmup`` steps, until ``seconds`` have passed and ``min_steps`` are done,
    at most ``max_steps``."""

    warmup: int
    min_steps: int
    max_steps: int
    seconds: float

    @classmethod
    def of(cls, sizes: Sizes) -> Limits:
        return cls(sizes.train_warmup_steps, sizes.train_min_steps, sizes.train_max_steps, sizes.train_run_s)


@dataclass
class Measured:
    """The timed steps of one run: their wall time, real tokens, token slots, attention pairs and model FLOPs."""

    stage: str
    setting: str
    steps: int
    seconds: float
    tokens: int
    slots: int
    attention_pairs: int
    document_pairs: int  # query-key pairs within a sequence (or packed document): what the model FLOPs count
    flops: int

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds

    @property
    def flops_per_s(self) -> float:
        return self.flops / self.seconds

    @property
    def padding_share(self) -> float:
        return 1 - self.tokens / self.slots

    def summary(self, peak_flops_per_s: float) -> dict:
        return {**asdict(self), "tokens_per_s": self.tokens_per_s, "flops_per_s": self.flops_per_s,
                "mfu": self.flops_per_s / peak_flops_per_s, "padding_share": self.padding_share,
                "attention_pairs_in_documents_share": self.document_pairs / self.attention_pairs}


def timed_run(trainer, stage: str, setting: str, shape: LlamaShape, lora: Optional[Lora], limits: Limits) -> Measured:
    """Train; time and count the steps after the warm-up (their batches, their FLOPs), bounded by ``limits``."""
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback

    ends: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            ends.append(time.perf_counter())
            timed = len(ends) - limits.warmup
            if timed >= limits.min_steps and ends[-1] - ends[limits.warmup - 1] >= limits.seconds:
                control.should_training_stop = True

    for default in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(default)
    trainer.add_callback(StepClock())
    trainer.step_batches = []
    trainer.train()
    batches = trainer.step_batches[limits.warmup:len(ends)]
    reference_per_step = not getattr(trainer.args, "precompute_ref_log_probs", False)
    return Measured(
        stage, setting, len(batches), ends[-1] - ends[limits.warmup - 1],
        tokens=sum(sum(b.lengths) for b in batches), slots=sum(b.slots for b in batches),
        attention_pairs=sum(b.attention_pairs for b in batches),
        document_pairs=sum(n * n for b in batches for n in b.lengths),
        flops=sum(batch_flops(stage, shape, b.lengths, b.scored, lora, reference_per_step) for b in batches))


# --- the stages ------------------------------------------------------------------------------------

@dataclass
class _Setup:
    """What every run shares: the default params' training sections, the device, the data and the tokenizer."""

    train: object  # params.TrainParams
    settings: object  # device.DeviceSettings
    random_seed: int
    rows: list[dict]
    tokenizer: object
    workdir: Path

    @classmethod
    def load(cls, root: Path, workdir: Path, rows: int) -> _Setup:
        from librachem_utils.chem.knowledge_base import load_kb
        from librachem_utils.core import params
        from librachem_utils.data.knowledge_text import compound_entities
        from librachem_utils.train.data import pretrain_texts
        from librachem_utils.train.device import pick_device
        from librachem_utils.train.tiny import train_tokenizer

        cfg = params.load(root / "params" / "default.yaml")
        train, seed = cfg.params.train, cfg.params.seed
        facts = fact_rows(rows, seed)
        tiny = train.project.tiny
        entities = compound_entities(load_kb().compounds) if train.project.knowledge.entity_tokens else ()
        tokenizer = train_tokenizer(pretrain_texts(facts, train.project.prompt_template), tiny.vocab_size,
                                    entities=entities, model_max_length=tiny.max_position_embeddings)
        return cls(train, pick_device(train.model), seed, facts, tokenizer, workdir)

    def model(self):
        from librachem_utils.train.tiny import build_tiny_model

        return build_tiny_model(self.tokenizer, self.train.project.tiny, self.random_seed)

    def args(self, phase: str, name: str, steps: int, **changes):
        """The stage's TRL config from the params' section, for ``steps`` steps, with ``changes``."""
        from librachem_utils.train.loading import trainer_config

        section = {**getattr(self.train, phase), "max_steps": steps, **changes}
        return trainer_config(phase, section, self.settings, self.workdir / f"train-{name}", self.random_seed,
                              progress=False)


def _adapters(trainer) -> Lora:
    """The LoRA a trainer's PEFT model carries, checked against its trainable weights."""
    config = trainer.model.peft_config["default"]
    lora = Lora(config.r, tuple(sorted(config.target_modules)))
    shape = LlamaShape.from_config(trainer.model.config)
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    if trainable != shape.lora_weights(lora.rank, lora.targets):
        raise RuntimeError(f"{trainable} trainable weights, but {shape.lora_weights(lora.rank, lora.targets)} "
                           f"in the LoRA count of {lora}")
    return lora


def pretrain_run(setup: _Setup, limits: Limits, batch_size: int, packing: bool) -> Measured:
    from datasets import Dataset
    from trl import SFTTrainer

    from librachem_utils.train.data import pretrain_texts

    name = f"pretrain-b{batch_size}-{'packed' if packing else 'padded'}"
    args = setup.args("pretrain", name, limits.warmup + limits.max_steps, per_device_train_batch_size=batch_size,
                      packing=packing)
    texts = pretrain_texts(setup.rows, setup.train.project.prompt_template)
    model = setup.model()
    trainer = counting(SFTTrainer)(model=model, args=args, processing_class=setup.tokenizer,
                                   train_dataset=Dataset.from_list([{"text": t} for t in texts]))
    setting = f"batch {batch_size}, {'packed' if packing else 'padded'}, max_length {args.max_length}"
    return timed_run(trainer, "pretrain", setting, LlamaShape.from_config(model.config), None, limits)


def lora_run(setup: _Setup, phase: str, limits: Limits) -> Measured:
    """SFT (prompt/completion) or DPO (prompt/chosen/rejected) with the params' LoRA on a fresh tiny model."""
    from datasets import Dataset
    from trl import DPOTrainer, SFTTrainer

    from librachem_utils.train.data import dpo_records, sft_records
    from librachem_utils.train.loading import lora_config

    args = setup.args(phase, phase, limits.warmup + limits.max_steps)
    records = (sft_records if phase == "sft" else dpo_records)(setup.rows, setup.train.project.prompt_template)
    model = setup.model()
    trainer = counting(SFTTrainer if phase == "sft" else DPOTrainer)(
        model=model, args=args, processing_class=setup.tokenizer, peft_config=lora_config(setup.train.model),
        train_dataset=Dataset.from_list(records))
    setting = f"batch {args.per_device_train_batch_size}, LoRA r {trainer.model.peft_config['default'].r}, " \
              f"max_length {args.max_length}"
    return timed_run(trainer, phase, setting, LlamaShape.from_config(model.config), _adapters(trainer), limits)


# --- the rows -------------------------------------------------------------------------------------

def bench_training(sizes: Sizes, workdir: Path, root: Path) -> list[Row]:
    """The matmul peak, each stage's MFU at the params' settings, and pretraining's packing x batch size grid."""
    from librachem_utils.train.callbacks import quiet_library_bars

    limits = Limits.of(sizes)
    first_peak = matmul_peak()
    with quiet_library_bars():
        setup = _Setup.load(root, workdir, FACT_ROWS)
        params_args = setup.args("pretrain", "params", 1)
        params_batch, params_packing = params_args.per_device_train_batch_size, params_args.packing
        grid = {(batch, packing): pretrain_run(setup, limits, batch, packing)
                for batch in sorted({params_batch, *BATCH_SIZES}) for packing in (params_packing, not params_packing)}
        stages = [grid[params_batch, params_packing], lora_run(setup, "sft", limits), lora_run(setup, "dpo", limits)]
    last_peak = matmul_peak()
    peak = max(first_peak, last_peak, key=lambda p: p["flops_per_s"])
    rows = [_peak_row(peak, first_peak, last_peak)]
    rows += [_mfu_row(f"Training MFU, {STAGE_NAMES[m.stage]}", m, peak) for m in stages]
    others = [m for key, m in grid.items() if key != (params_batch, params_packing)]
    rows += [_mfu_row("Pretraining MFU", m, peak) for m in others]
    return rows + [_best_row(grid[params_batch, params_packing], grid.values(), peak)]


def _peak_row(peak: dict, first: dict, last: dict) -> Row:
    sizes = ", ".join(f"{n}: {f / 1e9:.0f}" for n, f in peak["by_size"].items())
    return Row(f"CPU matmul peak, float32, {peak['threads']} threads", peak["flops_per_s"] / 1e9, "GFLOP/s",
               note=f"best of {PEAK_REPEATS} torch.matmul per size, before and after the training runs "
                    f"({first['flops_per_s'] / 1e9:.0f} and {last['flops_per_s'] / 1e9:.0f}); GFLOP/s by n: {sizes}",
               details={"first": first, "last": last, "peak": peak})


def _mfu_row(name: str, m: Measured, peak: dict) -> Row:
    mfu = m.flops_per_s / peak["flops_per_s"]
    note = (f"{m.tokens_per_s:,.0f} tokens/s, {m.flops_per_s / 1e9:.2f} GFLOP/s, "
            f"padding {m.padding_share:.0%}; {m.steps} steps in {m.seconds:.1f} s, {m.setting}")
    if m.document_pairs < 0.5 * m.attention_pairs:
        note += f"; attention computes {m.attention_pairs / m.document_pairs:.0f}x the pairs it needs"
    return Row(f"{name} ({m.setting.rsplit(', ', 1)[0]})", mfu * 100, "% of peak", note=note,
               details=m.summary(peak["flops_per_s"]))


def _best_row(params: Measured, runs, peak: dict) -> Row:
    best = max(runs, key=lambda m: m.flops_per_s)
    share = params.flops_per_s / best.flops_per_s
    return Row("Pretraining MFU: the params' setting / the best", share * 100, "% of best",
               goal=f">= {PARAMS_SHARE_GOAL:.0%}", met=share >= PARAMS_SHARE_GOAL,
               note=f"uses the cores best: {best.setting} ({best.flops_per_s / peak['flops_per_s']:.2%} of peak, "
                    f"{best.tokens_per_s:,.0f} tokens/s); the params': {params.setting} "
                    f"({params.flops_per_s / peak['flops_per_s']:.2%})",
               details={"best": best.setting, "params": params.setting})
