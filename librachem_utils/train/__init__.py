"""Training (notebook 04): device, arms, the tiny model, SFT and DPO stages with (Q)LoRA, reward
accuracy, model cards, the LoRA vs QLoRA comparison, the ``python -m librachem_utils.train`` CLI.
May import ``core``, ``chem``, ``safety``, ``api``, ``data``.
"""
