"""The names every stage shares, defined once: labels, compound classes, intents, modes, splits,
arms and their patterns, step names, the default seed."""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_SEED = 13

LEGITIMATE, ILLEGITIMATE = "legitimate", "illegitimate"
LABELS = (LEGITIMATE, ILLEGITIMATE)

COMMON_CLASS = "common"
RESTRICTED_CLASSES = ("cwa", "cwa_precursor", "controlled", "nps", "explosive")
COMPOUND_CLASSES = (COMMON_CLASS, *RESTRICTED_CLASSES)


@dataclass(frozen=True)
class Intent:
    name: str
    family: str
    description: str


INTENTS: dict[str, Intent] = {i.name: i for i in (
    Intent("synthesis", "synthesis", "how to make the compound (the paper's own seed)"),
    Intent("properties", "information", "physical and chemical properties, identifiers"),
    Intent("handling_storage", "handling", "safe handling and storage"),
    Intent("exposure_first_aid", "information", "exposure effects and first aid"),
    Intent("detection_analysis", "information", "detection and analytical identification"),
    Intent("regulation_disposal", "information", "legal status, regulation and disposal"),
    Intent("weaponization", "harmful", "turning the compound into a weapon"),
    Intent("evasion", "harmful", "evading controls, licensing or detection"),
    Intent("harm", "harmful", "using the compound to harm people"),
)}

#: the dual-use cell: synthesis requests, legitimate for a common compound and not for a restricted one
DUAL_USE_INTENT = "synthesis"
MODES = ("text", "smiles")
TRAIN_SPLIT = "train"
HELDOUT_SPLITS = ("test", "test_unseen_compounds")
SPLITS = (TRAIN_SPLIT, *HELDOUT_SPLITS)

FIXED_ARMS = {
    "base": "the pretrained model, no alignment",
    "sft_helpful": "SFT (LoRA) on legitimate requests only: helpful, no safety training",
    "dpo_safety_only": "DPO from sft_helpful on illegitimate triplets only",
    "dpo_balanced": "DPO from sft_helpful on the balanced set (LibraChem)",
    "sft_dpo_paper": "the paper's pipeline: SFT on all chosen answers, then DPO on the balanced set",
}
_NUMBER = r"(\d+(?:\.\d+)?(?:e-?\d+)?)"
BETA_ARM = re.compile(rf"^dpo_balanced_beta{_NUMBER}$")
MIX_ARM = re.compile(rf"^dpo_mix{_NUMBER}$")


def beta_arm(beta: float) -> str:
    """The arm name of one point of the beta sweep."""
    return f"dpo_balanced_beta{beta:g}"


def mix_arm(share: float) -> str:
    """The arm name of one point of the data-mix sweep (share of illegitimate triplets)."""
    return f"dpo_mix{share:g}"


def check_arm(arm: str) -> str:
    """``arm`` if it is a fixed arm or a well-formed sweep arm; ValueError naming the choices otherwise."""
    beta, mix = BETA_ARM.match(arm), MIX_ARM.match(arm)
    if arm in FIXED_ARMS or (beta and float(beta.group(1)) > 0) or (mix and 0 <= float(mix.group(1)) <= 1):
        return arm
    raise ValueError(f"unknown arm '{arm}': choose from {', '.join(FIXED_ARMS)}, "
                     "dpo_balanced_beta<beta> (e.g. dpo_balanced_beta0.5) "
                     "or dpo_mix<share in [0, 1]> (e.g. dpo_mix0.25)")


STEPS = ("01_seeds", "02_triplets", "03_rephrase", "04_dpo_qlora", "05_judge_eval", "06_figures")
