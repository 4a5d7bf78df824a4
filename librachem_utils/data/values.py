"""Knowledge-base values as the offline generator's texts say them: numbers, limits, counts, slot values."""
from __future__ import annotations

from typing import Optional

from librachem_utils.chem.knowledge_base import Compound
from librachem_utils.data.phrasebook import LIST_NAMES


def num(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e5 else f"{value:.0f}"


def limit(value: Optional[tuple[float, str]]) -> str:
    return f"{num(value[0])} {value[1]}" if value else ""


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def slot_values(c: Compound) -> dict[str, str]:
    """What the phrasebook's slots say about a compound (``{X}`` stays the placeholder)."""
    return {"L": LIST_NAMES.get(c.source_list, c.source_list), "formula": c.formula, "mm": num(c.molar_mass),
            "cas": c.cas or "", "bp": num(c.boiling_point_c or 0), "mp": num(c.melting_point_c or 0),
            "fp": num(c.flash_point_c or 0), "ai": num(c.autoignition_c or 0), "limit": limit(c.twa),
            "stel": f", with a short-term limit of {limit(c.stel)}" if c.stel else "", "carc": c.carcinogen or "",
            "hbd": count(c.hbd, "hydrogen-bond donor"), "hba": count(c.hba, "acceptor"),
            "rings": count(c.ring_count, "ring"), "heavy": count(c.heavy_atoms, "heavy atom"),
            "arom": "aromatic" if c.aromatic else "not aromatic"}


def carcinogen(c: Compound) -> Optional[str]:
    """The compound's carcinogen classification when it names a carcinogen (IARC Group 3 alone does not)."""
    return c.carcinogen if c.carcinogen and c.carcinogen != "IARC: Group 3" else None
