"""Model FLOPs of training a Llama-style causal LM: the count that model FLOPs utilization (MFU) divides
by the time taken, for full training (pretraining) and for LoRA training (SFT and DPO).

Convention (PaLM, Chowdhery et al. 2022, appendix B; Kaplan et al. 2020 and Chinchilla, Hoffmann et al.
2022, count the same way): one multiply-add is 2 FLOPs; only matmuls count (norms, activations, softmax,
rotary embeddings and the optimizer are left out); the embedding lookup is a gather and costs nothing.
For a sequence of ``s`` tokens, ``c`` of them scored by the LM head (positions whose next token is a
training target), with ``N_b`` the weights of the transformer blocks' linear layers, ``N_h = d * V``
those of the LM head, ``L`` layers of width ``d``:

- forward: ``2 * N_b * s + 2 * N_h * c`` for the linear layers, plus ``4 * L * d * s**2`` for attention
  (scores ``Q K^T`` and the weighted values ``A V``, ``2 * s**2 * d`` each per layer). The causal mask's
  halving is not counted: every token is charged attention over the whole sequence, as in PaLM's
  ``12 * L * H * Q * T`` term (``H * Q = d``);
- full training (every weight trained): 3 x forward, the backward costing two forwards (gradients of
  each matmul's input and of its weight). Per token of a sequence of ``S`` tokens, all scored, that is
  PaLM's ``6 * N + 12 * L * d * S``, with ``N = N_b + N_h`` the matmul weights;
- LoRA training (frozen base, adapters of rank ``r`` on some linear layers, Hu et al. 2021): the frozen
  weights cost their forward and the gradient of their input (to reach the adapters below them) but no
  weight gradient, so 2 x their forward: ``4 * N_b * s + 4 * N_h * c``; attention, weight-free, keeps
  its 3 x (both operands of each product need their gradient); each adapter ``x A B`` on a layer of
  ``i`` inputs and ``o`` outputs has ``r * (i + o)`` weights, all trained: ``6 * r * (i + o) * s``.
  The first block's q/k/v read the frozen embeddings, so neither they nor their adapters' ``A`` need an
  input gradient: ``2 * d * (d + 2 * d_kv) * s``, and ``2 * r * d * s`` per adapted one, are taken off
  (autograd skips them unless gradient checkpointing makes the embeddings require a gradient). This is
  exact when the adapters include q_proj, k_proj and v_proj (here: every linear layer); with fewer
  targets more of the bottom needs no gradient, and is counted all the same;
- DPO with LoRA (TRL's ``DPOTrainer`` with a PEFT model and no ``ref_model``): the policy's LoRA
  training on the chosen and the rejected sequences (prompt + answer each), plus the reference's
  forward on both, which TRL runs at every step as the same model with the adapter disabled
  (``precompute_ref_log_probs`` defaults to False in TRL 1.16; set, the reference forwards happen once,
  before training, and the steps cost the policy's share alone).

Only real tokens count: padding is work the hardware does but not model FLOPs, and so is the LM head
on positions without a target (TRL's fused head projects every position off CUDA). A packed row counts
as the documents in it, each attending within itself. On a plain forward and backward (eager attention,
every position scored) these counts equal what ``torch.utils.flop_counter.FlopCounterMode`` counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

STAGES = ("pretrain", "sft", "dpo")


@dataclass(frozen=True)
class LlamaShape:
    """The matmul shape of a Llama-style decoder (grouped-query attention, SwiGLU MLP, LM head)."""

    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int

    @classmethod
    def from_config(cls, config) -> LlamaShape:
        """From a transformers ``LlamaConfig`` (or any config with the same field names)."""
        return cls(hidden=config.hidden_size, intermediate=config.intermediate_size,
                   layers=config.num_hidden_layers, heads=config.num_attention_heads,
                   kv_heads=getattr(config, "num_key_value_heads", None) or config.num_attention_heads,
                   vocab=config.vocab_size)

    @property
    def kv_width(self) -> int:
        """Width of the key and value projections: kv heads x head dimension."""
        return self.kv_heads * (self.hidden // self.heads)

    def linears(self) -> dict[str, tuple[int, int]]:
        """(inputs, outputs) of each linear layer of one block, by its transformers module name."""
        d, f, kv = self.hidden, self.intermediate, self.kv_width
        return {"q_proj": (d, d), "k_proj": (d, kv), "v_proj": (d, kv), "o_proj": (d, d),
                "gate_proj": (d, f), "up_proj": (d, f), "down_proj": (f, d)}

    @property
    def block_weights(self) -> int:
        """``N_b``: weights of the blocks' linear layers, all layers."""
        return self.layers * sum(i * o for i, o in self.linears().values())

    @property
    def head_weights(self) -> int:
        """``N_h``: weights of the LM head projection (tied to the embeddings or not, it is a matmul)."""
        return self.hidden * self.vocab

    def lora_weights(self, rank: int, targets: Optional[Iterable[str]]) -> int:
        """Adapter weights ``r * (i + o)`` summed over the targeted linear layers of every block (None: all)."""
        linears = self.linears()
        names = set(linears) if targets is None else set(targets)
        unknown = names - set(linears)
        if unknown:
            raise ValueError(f"not a linear layer of a Llama block: {sorted(unknown)}")
        return self.layers * sum(rank * sum(linears[name]) for name in names)


@dataclass(frozen=True)
class Lora:
    """The adapters of a LoRA stage: rank and target module names (None: every linear layer of a block)."""

    rank: int
    targets: Optional[tuple[str, ...]] = None


def forward_flops(shape: LlamaShape, length: int, scored: int) -> int:
    """Forward FLOPs of one sequence of ``length`` tokens with ``scored`` positions through the LM head."""
    return 2 * shape.block_weights * length + 2 * shape.head_weights * scored + attention_flops(shape, length)


def full_training_flops(shape: LlamaShape, length: int, scored: int) -> int:
    """Forward and backward of one sequence with every weight trained: 3 x forward."""
    return 3 * forward_flops(shape, length, scored)


def attention_flops(shape: LlamaShape, length: int) -> int:
    """Forward FLOPs of the scores and weighted values of one sequence, all layers, causal halving not counted."""
    return 4 * shape.layers * shape.hidden * length ** 2


def lora_training_flops(shape: LlamaShape, length: int, scored: int, lora: Lora) -> int:
    """Forward and backward of one sequence with a frozen base and trained adapters (see the module's docstring)."""
    first_block_reads = shape.hidden * (shape.hidden + 2 * shape.kv_width)  # q/k/v of block 0: no input gradient
    input_gradients = 2 * (shape.block_weights - first_block_reads) * length + 2 * shape.head_weights * scored
    targets = set(shape.linears()) if lora.targets is None else set(lora.targets)
    first_adapter_a = lora.rank * shape.hidden * len(targets & {"q_proj", "k_proj", "v_proj"})
    adapters = (6 * shape.lora_weights(lora.rank, lora.targets) - 2 * first_adapter_a) * length
    return forward_flops(shape, length, scored) + 2 * attention_flops(shape, length) + input_gradients + adapters


def sequence_flops(stage: str, shape: LlamaShape, length: int, scored: int, lora: Optional[Lora] = None,
                   reference_per_step: bool = True) -> int:
    """Training FLOPs of one sequence in ``stage``: pretrain (full training), sft (LoRA), or dpo (LoRA, plus
    the reference forward when TRL runs it at every step). A DPO pair is two sequences: chosen and rejected."""
    if stage == "pretrain":
        return full_training_flops(shape, length, scored)
    if stage not in STAGES:
        raise ValueError(f"unknown stage '{stage}': choose one of {', '.join(STAGES)}")
    if lora is None:
        raise ValueError(f"the {stage} stage trains LoRA adapters: give their rank and targets")
    policy = lora_training_flops(shape, length, scored, lora)
    return policy + forward_flops(shape, length, scored) if stage == "dpo" and reference_per_step else policy


def batch_flops(stage: str, shape: LlamaShape, lengths: Sequence[int], scored: Sequence[int],
                lora: Optional[Lora] = None, reference_per_step: bool = True) -> int:
    """Training FLOPs of a batch: the sum over its sequences (real lengths, padding excluded)."""
    if len(lengths) != len(scored):
        raise ValueError(f"{len(lengths)} lengths but {len(scored)} scored counts")
    return sum(sequence_flops(stage, shape, n, c, lora, reference_per_step) for n, c in zip(lengths, scored))


def palm_training_flops_per_token(shape: LlamaShape, seq_len: int) -> int:
    """PaLM's ``6 * N + 12 * L * d * S`` per token of full training (every position scored)."""
    return 6 * (shape.block_weights + shape.head_weights) + 12 * shape.layers * shape.hidden * seq_len


@dataclass(frozen=True)
class BatchCounts:
    """One batch: real tokens of each sequence (a packed document is one), positions the LM head scores in each,
    token slots (real + padding) and the query-key pairs attention computes (rows x row length squared)."""

    lengths: tuple[int, ...]
    scored: tuple[int, ...]
    slots: int
    attention_pairs: int


def batch_counts(inputs: dict) -> BatchCounts:
    """The counts of a batch as TRL's collators give it: padded (``attention_mask``) or padding-free (one row,
    ``position_ids`` restarting at 0 at each packed document). Scored positions: those with a next-token label
    (``labels``) or, in DPO, followed by a completion token (``completion_mask``), as TRL's fused LM head
    scores them."""
    import torch

    ids = inputs["input_ids"]
    pairs = ids.shape[0] * ids.shape[1] ** 2
    targets = inputs["labels"][:, 1:] != -100 if "labels" in inputs else inputs["completion_mask"][:, 1:].bool()
    if "attention_mask" in inputs:
        lengths = inputs["attention_mask"].sum(dim=1).tolist()
        return BatchCounts(tuple(lengths), tuple(targets.sum(dim=1).tolist()), ids.numel(), pairs)
    positions = inputs["position_ids"][0]
    starts = (positions == 0).nonzero().flatten().tolist()
    bounds = [*starts, positions.numel()]
    document = torch.repeat_interleave(torch.arange(len(starts)), torch.tensor(bounds).diff())[:-1]
    scored = torch.zeros(len(starts), dtype=torch.long).index_add_(0, document, targets[0].long())
    lengths = tuple(b - a for a, b in zip(bounds, bounds[1:]))
    return BatchCounts(lengths, tuple(scored.tolist()), ids.numel(), pairs)
