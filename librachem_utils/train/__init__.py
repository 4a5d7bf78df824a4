"""Training (notebook 04): the alignment arms, a base model, SFT and DPO with (Q)LoRA through TRL.
May import ``core``, ``chem``, ``safety``, ``api``, ``data``.

    python -m librachem_utils.train --params params/default.yaml [--arms dpo_balanced] [--force]
    accelerate launch -m librachem_utils.train --params params/colab_gpu.yaml      # several GPUs

Each arm is a folder ``<run>/models/<arm>/`` (a saved model or a LoRA adapter, its tokenizer and a
model card), a log ``<run>/logs/<arm>.jsonl`` (one row per optimizer step) and an entry of
``<run>/results/train_metrics.json``.

- ``base``: with ``train.model.model_name_or_path`` unset, a small Llama built here (a byte-level BPE
  tokenizer and a ``LlamaForCausalLM``, sized by ``train.project.tiny``) and pretrained as a causal
  LM (``train.pretrain``) on the train split's prompts with both of their responses; otherwise a
  pointer to the named checkpoint.
- ``sft_helpful``: SFT (LoRA, ``train.sft``) on the legitimate requests' chosen answers.
- ``dpo_safety_only`` / ``dpo_balanced``: DPO (LoRA, ``train.dpo``) on illegitimate / all triplets,
  starting from ``sft_helpful``; ``dpo_balanced_beta<b>`` and ``dpo_mix<s>`` are its beta and
  data-mix sweeps.
- ``sft_dpo_paper``: the paper's pipeline, SFT on every chosen answer (stage ``sft_all``), then DPO
  on all triplets.

A DPO arm starts from its SFT stage *merged*: the SFT adapter is merged into the base and saved as
``models/<sft stage>/merged/``, and the DPO adapter is a new LoRA over that model (the paper's
recipe). The DPO reference is therefore that merged model with the adapter disabled, during
training and in the held-out reward accuracy.

Modules, in the order a run uses them: ``device``, ``arms``, ``data``, ``tiny``, ``loading``,
``callbacks``, ``reward``, ``stages`` (one stage, its fingerprint and marker), ``card``,
``comparison`` (LoRA vs QLoRA), ``runner`` (the whole run), ``__main__`` (the CLI).
"""
from librachem_utils.train.arms import arm_names
from librachem_utils.train.comparison import comparison_rows
from librachem_utils.train.device import pick_device
from librachem_utils.train.runner import summary_rows, train_arms
from librachem_utils.train.stages import MARKER, read_marker

__all__ = ["MARKER", "arm_names", "comparison_rows", "pick_device", "read_marker", "summary_rows", "train_arms"]
