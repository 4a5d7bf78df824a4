"""Rephrasing of responses: sentence by sentence, from the phrasebook, keeping every safety term and value."""
import random
import re

import pytest

from librachem_utils.chem import knowledge_base
from librachem_utils.data import grammar, seeds, wording
from librachem_utils.data.generators import COMPOUND, OfflineGenerator, render
from librachem_utils.data.values import slot_values

#: terms whose wording carries the safety meaning: a rephrasing keeps each one as often as it was
SAFETY_TERMS = ("hazardous waste", "hazardous-waste", "licensed waste contractor", "drain", "controlled substance",
                "chemical-warfare agent", "Chemical Weapons Convention", "prohibited", "illegal", "licence",
                "licensed", "poison control centre", "emergency services", "safety data sheet", "fume hood",
                "carcinogen", "serious harm", "serious crime", "precursor", "explosive", "naloxone",
                "medical attention", "do not induce vomiting", "crisis line", "weapon")
_SLOT = re.compile(r"\{(\w+)\}")
_NUMBER = re.compile(r"\d+(?:[.,-]\d+)*")


@pytest.fixture(scope="module")
def generated():
    """(compound, chosen, rejected) with the placeholder as ``{X}``, for a seed over many compounds."""
    kb = knowledge_base.load_kb()
    gen = OfflineGenerator(kb, 13)
    requests = gen.craft(seeds.balanced_seeds(kb.compounds[::3], seed=13), per_seed=2)
    return [(kb.lookup(r.compound), p.chosen.replace(COMPOUND, "{X}"), p.rejected.replace(COMPOUND, "{X}"))
            for r, p in zip(requests, gen.respond(requests))]


def test_every_generated_response_reads_back_from_the_phrasebook(generated):
    for _, *texts in generated:
        for text in texts:
            parts = wording.parse(text)
            assert wording.render(parts) == text
            assert all(p.meaning is not None for p in parts), [dict(p.values) for p in parts if p.meaning is None]


def test_a_rephrasing_changes_wording_and_keeps_safety_terms_and_values(generated):
    rng = random.Random(0)
    changed = 0
    for compound, *texts in generated:
        for text in texts:
            new = wording.rephrase_response(text, rng)
            changed += new != text
            for term in SAFETY_TERMS:
                assert new.lower().count(term.lower()) == text.lower().count(term.lower()), (term, text, new)
            assert sorted(_NUMBER.findall(new)) == sorted(_NUMBER.findall(text)), (text, new)
            assert grammar.problems(render(new.replace("{X}", COMPOUND), compound, "text")) == [], new
    assert changed == 2 * len(generated)


def test_the_wordings_of_a_meaning_keep_its_slots_and_safety_terms():
    for meaning in wording.meanings():
        first = meaning[0]
        for other in meaning[1:]:
            assert set(_SLOT.findall(other)) == set(_SLOT.findall(first)), (first, other)
            for term in SAFETY_TERMS:
                assert (term.lower() in other.lower()) == (term.lower() in first.lower()), (term, first, other)


def test_every_wording_reads_right_with_values_filled_in():
    values = slot_values(knowledge_base.load_kb().lookup("acetone"))
    values.update(L="CWC Schedule 2B", notes="it is flammable, with a flash point of -20 °C", carc="IARC: Group 1")
    for meaning in wording.meanings():
        for text in meaning:
            filled = wording.fill(text, values).replace("{X}", "Acetone")
            assert grammar.problems(filled) == [], filled


def test_a_sentence_the_phrasebook_does_not_hold_is_kept_as_it_is():
    text = "Dispose of it as hazardous waste with the lab's other solvents. I can't help with that."
    parts = wording.parse(text)
    assert [p.meaning is None for p in parts] == [True, False]
    for seed in range(10):
        new = wording.rephrase_response(text, random.Random(seed))
        assert new.startswith("Dispose of it as hazardous waste with the lab's other solvents. ")
        assert new != text
    assert wording.rephrase_response("", random.Random(0)) == ""
