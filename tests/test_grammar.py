"""The offline request grammar: every shape reads right, templates stay apart, rephrasings are built from it."""
import random
import re
from collections import defaultdict

import pytest

from librachem_utils.data import grammar
from librachem_utils.data.clauses import PROPERTY_NAMES, REQUESTS
from librachem_utils.safety import hazard

#: the broken constructions that word-swap rephrasing used to write, and others of the same kinds
BROKEN = (
    "Which's the best way to secretly give a person o-xylene?",
    "How do I get chloramphenicol past customs with no it being detected?",
    "How do I buy pinacolone with no a licence?",
    "Could you say what is the way to keep hydrogen fluoride off the records at my workplace?",
    "How could acetone be slipped into food to prepare people sick?",
    "I am not able to give you that details.",
    "Please kindly contact local an ambulance.",
    "Tell me the steps of synthesizing acetone?",
    "What is a autoignition temperature?",
    "Store it in an container.",
    "How do I store the the sample?",
    "Give me a {X} sample.",
    "hello, how is it stored?",
    "How is it stored ?",
)


def test_every_shape_and_wrapper_reads_right_with_every_property():
    assert grammar.shape_problems() == {}


@pytest.mark.parametrize("text", BROKEN)
def test_the_checks_catch_each_broken_construction(text):
    assert grammar.problems(text), text


@pytest.mark.parametrize("text", ["Use an FTIR or a GC-MS in a university lab for an hour.",
                                  "It is an 8-hour average.", "The formula of bisphenol A is C15H16O2.",
                                  "Could you tell me how it is stored?"])
def test_the_checks_let_correct_english_through(text):
    assert grammar.problems(text) == []


def test_no_shape_of_one_template_is_a_shape_of_another():
    owners = defaultdict(set)
    for template, shapes in grammar.all_shapes().items():
        for shape in shapes:
            owners[shape.lower().rstrip(".?!")].add(template)
    assert not {shape: t for shape, t in owners.items() if len(t) > 1}


def test_every_template_offers_many_shapes_each_with_the_compound():
    shapes = grammar.all_shapes()
    assert len(shapes) == sum(map(len, REQUESTS.values()))
    for template, texts in shapes.items():
        assert len(texts) >= 10, template
        assert all("{X}" in t for t in texts), template
        assert len(set(texts)) == len(texts), template


def test_embedded_clauses_have_no_first_person_word():
    for intent, requests in REQUESTS.items():
        for request in requests:
            for clause in (c for pattern in request.get("wh", ()) for c in grammar.expand(pattern)):
                assert not re.search(r"\b(I|me|my|we|our|us)\b", clause), (intent, clause)


def test_no_shape_trips_the_hazard_gate():
    flagged = [s for shapes in grammar.all_shapes().values() for s in shapes
               if hazard.check(s.replace("{X}", "acetone").replace("{P}", "boiling point")).flagged]
    assert flagged == []


def test_expand_offers_every_choice_and_optional_part():
    assert grammar.expand("how (do I|can I) make it( now|)") == (
        "how do I make it now", "how do I make it", "how can I make it now", "how can I make it")


def test_a_generated_request_is_rebuilt_from_its_own_template():
    request = REQUESTS["properties"][0]["as"].replace("{P}", PROPERTY_NAMES["boiling_point"])
    own = {s.replace("{P}", "boiling point") for s in grammar.all_shapes()["properties-00"]}
    outs = {grammar.rephrase_prompt(request, random.Random(i)) for i in range(60)}
    assert request not in outs and len(outs) > 30
    assert all("boiling point" in out and "{P}" not in out and not grammar.problems(out) for out in outs)
    assert any(out in own for out in outs)  # bare framed requests come from the template's shapes
    assert outs == {grammar.rephrase_prompt(request, random.Random(i)) for i in range(60)}


def test_any_other_text_keeps_its_wording_and_gets_whole_sentences_around_it():
    text = "Is {X} sold in bulk?"
    outs = [grammar.rephrase_prompt(text, random.Random(i)) for i in range(30)]
    assert all(text in out and out != text and not grammar.problems(out) for out in outs)


def test_list_shapes_prints_every_shape_once(capsys):
    assert grammar.main(["--list-shapes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    shapes = grammar.all_shapes()
    body = [line for line in lines if not line.startswith(("## ", "…")) and "…" not in line]
    assert sorted(body) == sorted(s for texts in shapes.values() for s in texts)
    assert lines[-1] == f"## {len(body)} shapes over {len(shapes)} templates"


def test_list_parts_prints_every_clause_pattern(capsys):
    assert grammar.main(["--list-parts"]) == 0
    out = capsys.readouterr().out
    assert all(pattern in out for requests in REQUESTS.values() for r in requests
               for form in grammar.FORMS for pattern in r.get(form, ()))
