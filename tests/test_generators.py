"""Generator backends: placeholder rendering, the offline grammar, and the model-backed prompting."""
import random
import re

import pytest

from librachem_utils.api import prompts
from librachem_utils.chem import knowledge_base
from librachem_utils.data import generators, grammar, seeds
from librachem_utils.data.generators import COMPOUND, OfflineGenerator, render, to_placeholder


@pytest.fixture(scope="module")
def kb():
    return knowledge_base.load_kb()


def test_render_text_capitalizes_at_sentence_start_and_smiles_is_verbatim(kb):
    ethanol = kb.lookup("ethanol")
    text = f"{COMPOUND} boils at 78 °C. Store {COMPOUND} cool."
    assert render(text, ethanol, "text") == "Ethanol boils at 78 °C. Store ethanol cool."
    assert render(text, ethanol, "smiles") == "CCO boils at 78 °C. Store CCO cool."
    with pytest.raises(ValueError, match="unknown mode 'inchi'"):
        render(text, ethanol, "inchi")


def test_smiles_mode_leaves_other_words_alone(kb):
    water = kb.lookup("water")
    text = f"If {COMPOUND} gets in the eyes, rinse them with water."
    assert render(text, water, "smiles") == "If O gets in the eyes, rinse them with water."


def test_free_text_mentions_become_the_placeholder(kb):
    acetone = kb.lookup("acetone")
    assert to_placeholder("Acetone (CC(C)=O) and ACETONE, not CC(=O)C.", acetone).count(COMPOUND) == 3
    assert to_placeholder("Diacetone alcohol is different.", acetone) == "Diacetone alcohol is different."


def test_offline_craft_is_deterministic_and_uses_the_templates(kb):
    seed_rows = seeds.balanced_seeds(kb.common()[:5] + kb.restricted()[:5], seed=3)
    a = OfflineGenerator(kb, 3).craft(seed_rows, per_seed=2)
    assert a == OfflineGenerator(kb, 3).craft(seed_rows, per_seed=2)
    assert len(a) == 2 * len(seed_rows)
    assert all(COMPOUND in r.prompt and r.template_id.startswith(r.intent) for r in a)
    synthesis = [r for r in a if r.template_id == "synthesis-00"]
    assert all(r.prompt == f"Tell me the steps of synthesizing {COMPOUND}." for r in synthesis)
    props = [r for r in a if r.intent == "properties"]
    assert props and all(r.aspect in generators.property_aspects(kb.lookup(r.compound)) for r in props)


def test_helpful_property_answers_carry_the_knowledge_base_value(kb):
    gen = OfflineGenerator(kb, 1)
    acetone = kb.lookup("acetone")
    seed = seeds.Seed("properties:acetone", "acetone", "common", "properties", "information", "legitimate")
    for request in gen.craft([seed], per_seed=10):
        chosen = gen.respond([request])[0].chosen
        if request.aspect == "flash_point":
            assert f"{acetone.flash_point_c:g} °C" in chosen
        if request.aspect == "molar_mass":
            assert f"{acetone.molar_mass:g} g/mol" in chosen


def test_refusals_vary_in_wording(kb):
    gen = OfflineGenerator(kb, 1)
    seed_rows = [s for s in seeds.balanced_seeds(kb.restricted()[:40], seed=1) if s.label == "illegitimate"]
    chosen = {r.chosen for r in gen.respond(gen.craft(seed_rows, 1))}
    assert len(chosen) > 0.8 * len(seed_rows)


def test_paraphrase_rebuilds_a_request_from_its_template_and_rewords_a_response(kb):
    text = f"Tell me the steps of synthesizing {COMPOUND}."
    variants = {generators.paraphrase(text, random.Random(i), "prompt") for i in range(20)}
    assert len(variants) > 15 and text not in variants and all(v.count(COMPOUND) >= 1 for v in variants)
    shapes = set(grammar.all_shapes()["synthesis-00"])
    assert any(v.replace(COMPOUND, "{X}") in shapes for v in variants)
    response = f"I can't help with that. Turning {COMPOUND} into a weapon is illegal and could cause mass harm."
    reworded = generators.paraphrase(response, random.Random(1), "response")
    assert reworded != response and COMPOUND in reworded and "illegal" in reworded and "mass harm" in reworded
    assert generators.paraphrase("", random.Random(0), "response") == ""


def test_rows_that_share_a_text_get_their_own_rephrasings(kb):
    text = f"How is {COMPOUND} regulated?"
    gen = OfflineGenerator(kb, 3)
    out = gen.rephrase([text] * 12, variant=1, kind="prompt")
    assert len(set(out)) > 6 and out == gen.rephrase([text] * 12, variant=1, kind="prompt")


def test_structure_answers_count_in_english_and_group_3_is_not_a_carcinogen(kb):
    gen = OfflineGenerator(kb, 1)
    for compound in kb.compounds[::25]:
        text = gen._property_answer("structure", compound, random.Random(0))[0]
        assert not re.search(r"\b1 (hydrogen-bond donors|acceptors|rings|heavy atoms)\b", text), text
        assert not re.search(r"\b(0|[2-9]|\d\d+) (hydrogen-bond donor|acceptor|ring|heavy atom)\b(?!s)", text), text
    group_3 = next(c for c in kb.compounds if c.carcinogen == "IARC: Group 3" and not c.restricted)
    seed = seeds.Seed(f"handling_storage:{group_3.name}", group_3.name, "common", "handling_storage", "information",
                      "legitimate")
    chosen = gen.respond(gen.craft([seed], per_seed=10))
    assert not any("carcinogen" in r.chosen for r in chosen)


def test_json_field_validator():
    validate = prompts.json_field("prompt")
    assert validate('Here: {"prompt": " How is X stored? "}') == "How is X stored?"
    for bad in ("no json", '{"other": 1}', '{"prompt": ""}', '{"prompt": 3}'):
        with pytest.raises(ValueError):
            validate(bad)
