"""Pretraining text rendered from the knowledge base: what the base model knows before alignment.

A real pretrained LLM knows chemistry before anyone aligns it. The tiny model of the CPU default
learns it here, in a controlled synthetic-knowledge experiment (as in the "physics of language
models" line of work): every compound of the knowledge base, whatever its split, gets short
documents that state its facts, each fact in several wordings (those of the dataset's answers),
with the compound named by its name or, as SMILES-mode requests name it, by its SMILES:

- identity: molecular formula, molar mass, CAS number, SMILES;
- properties: boiling, melting, flash and autoignition points, exposure limits, carcinogen class;
- regulatory status: the public list that names a restricted compound, or that none names a
  common one, with its kind (chemical-warfare agent, precursor, controlled drug, NPS, explosive).

Beside the statements, each document holds property questions and their answers in the prompt
template, so the base model can be asked in the ``Question/Answer`` format. None of it is a request
to make or use anything, and no text says how: facts and legal status only.
"""
from __future__ import annotations

import random
from typing import Sequence

from librachem_utils.chem.knowledge_base import Compound
from librachem_utils.data.answers import IDENTITY, PROPERTY_ANSWERS
from librachem_utils.data.generators import COMPOUND, property_aspects, render
from librachem_utils.data.values import slot_values

X = COMPOUND
#: the identity sentence every helpful answer of the dataset opens with, in all its wordings
IDENTITY_WORDINGS = tuple(wording for meaning in IDENTITY for wording in meaning)
STATUS_LISTED = ("{X} is listed on {L}.", "{X} falls under {L}, so it is a restricted compound.",
                 "{X} is {kind}, listed on {L}.", "Legally, {X} falls under {L}: it is {kind}.")
STATUS_UNLISTED = ("{X} is not on any control list.", "{X} is not a controlled substance; it is a common chemical.",
                   "{X} is not listed on any control list: it is a common chemical.",
                   "{X} is regulated as an ordinary industrial chemical, not as a controlled substance.")
#: compound class -> what the status sentences call it
KINDS = {"cwa": "a chemical-warfare agent", "cwa_precursor": "a chemical-weapons precursor",
         "controlled": "a controlled drug", "nps": "a new psychoactive substance", "explosive": "an explosive"}
NAME_AND_SMILES = ("The SMILES of {name} is {smiles}.", "{smiles} is the SMILES string of {name}.",
                   "{name} is written {smiles} in SMILES.")
#: fact -> the property questions whose answers state it
QUESTIONS = {
    "formula": ("What is the molecular formula of {X}?", "Give the molecular formula of {X}."),
    "molar_mass": ("What is the molar mass of {X}?", "How heavy is one mole of {X}?"),
    "boiling_point": ("What is the boiling point of {X}?",),
    "melting_point": ("What is the melting point of {X}?",),
    "flash_point": ("What is the flash point of {X}?",),
    "exposure_limits": ("What is the occupational exposure limit for {X}?",),
    "status": ("Is {X} on a control list?", "What is the regulatory status of {X}?"),
}
MIN_ENTITY_LENGTH = 3
OTHER_FACTS = 3  # properties per document beside identity and status
SMILES_SHARE = 0.25  # of documents that name the compound by its SMILES, as SMILES-mode requests do


def document_facts(compound: Compound, rng: random.Random) -> list[str]:
    """The facts one document states, in random order: identity and status always (every helpful
    answer opens with the identity; the status decides synthesis requests), and ``OTHER_FACTS`` of the
    properties the knowledge base holds for it (those the dataset's answers state)."""
    rest = property_aspects(compound)
    facts = ["identity", "status", *rng.sample(rest, min(OTHER_FACTS, len(rest)))]
    rng.shuffle(facts)
    return facts


def fact_sentence(compound: Compound, fact: str, mode: str, rng: random.Random) -> str:
    """One wording of ``fact`` about ``compound``, named as in ``mode`` (text: its name; smiles: its SMILES)."""
    if fact == "status":
        wordings = STATUS_LISTED if compound.restricted else STATUS_UNLISTED
    else:
        wordings = IDENTITY_WORDINGS if fact == "identity" else PROPERTY_ANSWERS[fact]
    slots = {**slot_values(compound), "kind": KINDS.get(compound.compound_class, "")}
    return render(rng.choice(wordings).format_map({**slots, "X": X}), compound, mode)


def compound_document(compound: Compound, template: str, rng: random.Random) -> str:
    """A short document about ``compound``: the link between its name and SMILES, its facts in random
    order and wording, then one question about it and the answer, in the prompt template."""
    mode = "smiles" if rng.random() < SMILES_SHARE else "text"
    facts = document_facts(compound, rng)
    sentences = [render(rng.choice(NAME_AND_SMILES).format(name=X, smiles=compound.smiles), compound, "text")]
    sentences += [fact_sentence(compound, fact, mode, rng) for fact in facts]
    asked = rng.choice([fact for fact in facts if fact in QUESTIONS])
    question = render(rng.choice(QUESTIONS[asked]).format(X=X), compound, mode)
    answer = fact_sentence(compound, "identity" if asked in ("formula", "molar_mass") else asked, mode, rng)
    return " ".join(sentences) + "\n\n" + template.replace("{prompt}", question) + answer


def compound_entities(compounds: Sequence[Compound]) -> list[str]:
    """The tokenizer's entity tokens: each compound's name, as written and as it starts a sentence, and
    its SMILES; one token each, so that the facts of a compound attach to one embedding. Strings of
    fewer than ``MIN_ENTITY_LENGTH`` characters (``O``, ``N``, ``CO``) stay ordinary text."""
    found = {form for c in compounds for form in (c.name, render(X, c, "text"), c.smiles)}
    return sorted(form for form in found if len(form) >= MIN_ENTITY_LENGTH)


def knowledge_texts(compounds: Sequence[Compound], template: str, documents_per_compound: int,
                    random_seed: int) -> list[str]:
    """``documents_per_compound`` documents about every compound, shuffled; the same for the same seed."""
    rng = random.Random(f"{random_seed}:knowledge")
    texts = [compound_document(compound, template, rng)
             for _ in range(documents_per_compound) for compound in compounds]
    rng.shuffle(texts)
    return texts
