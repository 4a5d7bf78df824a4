"""Held-out reward accuracy: the share of triplets whose implicit DPO reward is higher for the chosen answer.

Computed here rather than with ``DPOTrainer.evaluate``: the two agree on one batch (a test checks
it), but ``evaluate`` averages per-batch means, so a split whose size is not a multiple of the batch
size gets a figure off the true share, and it gives no per-label breakdown. This pools every
triplet, splits the figure by label, and runs on the main process only.
"""
from __future__ import annotations

from typing import Sequence

import torch

from librachem_utils.api.local_model import format_prompt


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
