"""Arms and their stages: which folders ``models/<key>`` an arm needs, what each starts from and trains on."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from librachem_utils.core import schema, trl_fields
from librachem_utils.core.params import TrainParams


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


def arm_names(train: TrainParams) -> list[str]:
    """The arms the params ask for: ``project.arms``, then the beta and data-mix sweeps."""
    project = train.project
    names = (list(project.arms) + [schema.beta_arm(b) for b in project.beta_sweep]
             + [schema.mix_arm(s) for s in project.mix_sweep])
    return list(dict.fromkeys(names))


def dpo_beta(train: TrainParams) -> float:
    """The DPO beta of ``train.dpo`` (TRL's default where unset)."""
    return trl_fields.setting("dpo", train.dpo, "beta")


def arm_stages(arm: str, train: TrainParams) -> list[Stage]:
    """The stages that make ``arm``, in order; a bad name raises ``ValueError`` listing the valid ones."""
    schema.check_arm(arm)
    both, beta = schema.LABELS, dpo_beta(train)
    fixed = {
        "base": [Stage("base", "base", "pretrain", None, both)],
        "sft_helpful": [Stage("sft_helpful", "sft_helpful", "sft", "base", (schema.LEGITIMATE,))],
        "dpo_safety_only": [Stage("dpo_safety_only", arm, "dpo", "sft_helpful", (schema.ILLEGITIMATE,), beta)],
        "dpo_balanced": [Stage("dpo_balanced", arm, "dpo", "sft_helpful", both, beta)],
        "sft_dpo_paper": [Stage("sft_all", arm, "sft", "base", both), Stage(arm, arm, "dpo", "sft_all", both, beta)],
    }
    if arm in fixed:
        return fixed[arm]
    if match := schema.BETA_ARM.match(arm):
        return [Stage(arm, arm, "dpo", "sft_helpful", both, float(match.group(1)))]
    share = float(schema.MIX_ARM.match(arm).group(1))
    return [Stage(arm, arm, "dpo", "sft_helpful", both, beta, share)]


def arm_description(arm: str) -> str:
    if arm in schema.FIXED_ARMS:
        return schema.FIXED_ARMS[arm]
    if match := schema.BETA_ARM.match(arm):
        return f"DPO from sft_helpful on the balanced set with beta {match.group(1)} (beta sweep)"
    share = schema.MIX_ARM.match(arm).group(1)
    return f"DPO from sft_helpful with {share} of the triplets illegitimate (data-mix sweep)"


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
