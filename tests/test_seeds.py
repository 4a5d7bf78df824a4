"""The label rule and the balanced seed."""
from collections import Counter

import pytest

from librachem_utils.chem import knowledge_base
from librachem_utils.core import files, schema
from librachem_utils.core.params import SeedRequestParams
from librachem_utils.core.schema import ILLEGITIMATE, LEGITIMATE
from librachem_utils.data import seeds


@pytest.mark.parametrize("intent, cls, label", [
    ("synthesis", "cwa", ILLEGITIMATE),
    ("synthesis", "controlled", ILLEGITIMATE),
    ("synthesis", "explosive", ILLEGITIMATE),
    ("synthesis", "common", LEGITIMATE),
    ("exposure_first_aid", "cwa", LEGITIMATE),
    ("detection_analysis", "nps", LEGITIMATE),
    ("handling_storage", "cwa", ILLEGITIMATE),
    ("handling_storage", "controlled", LEGITIMATE),
    ("weaponization", "common", ILLEGITIMATE),
    ("harm", "common", ILLEGITIMATE),
    ("evasion", "cwa_precursor", ILLEGITIMATE),
])
def test_label_rule(intent, cls, label):
    assert seeds.label_for(intent, cls) == label


def test_label_rule_rejects_unknown_names():
    with pytest.raises(KeyError, match="unknown intent 'brewing'"):
        seeds.label_for("brewing", "common")
    with pytest.raises(KeyError, match="unknown compound class 'mystery'"):
        seeds.label_for("synthesis", "mystery")


def test_rule_table_covers_every_intent_and_class():
    table = seeds.rule_table()
    assert [row["intent"] for row in table] == list(schema.INTENTS)
    assert all(set(schema.COMPOUND_CLASSES) <= set(row) for row in table)


@pytest.fixture(scope="module")
def seed_set():
    kb = knowledge_base.load_kb()
    return seeds.balanced_seeds(seeds.select_compounds(kb, SeedRequestParams(), 13), seed=13)


def test_labels_are_balanced_overall_and_within_mixed_families(seed_set):
    labels = Counter(s.label for s in seed_set)
    assert labels[LEGITIMATE] == labels[ILLEGITIMATE] > 1000
    by_family = Counter((s.family, s.label) for s in seed_set)
    for family in ("synthesis", "handling"):
        assert by_family[(family, LEGITIMATE)] == by_family[(family, ILLEGITIMATE)] > 0
    assert {s.intent for s in seed_set} == set(schema.INTENTS)


def test_every_label_follows_the_rule(seed_set):
    assert all(s.label == seeds.label_for(s.intent, s.compound_class) for s in seed_set)
    assert len({s.seed_id for s in seed_set}) == len(seed_set)


def test_same_compounds_appear_on_both_sides(seed_set):
    sides = {}
    for s in seed_set:
        sides.setdefault(s.compound, set()).add(s.label)
    restricted = {s.compound for s in seed_set if s.compound_class != "common"}
    both = {name for name, labels in sides.items() if len(labels) == 2}
    assert restricted <= both, "every restricted compound also has a legitimate request"
    common_both = {s.compound for s in seed_set if s.compound_class == "common"} & both
    assert len(common_both) >= 100


def test_seed_is_deterministic_and_seed_dependent():
    kb = knowledge_base.load_kb()
    compounds = seeds.select_compounds(kb, SeedRequestParams(legit_compounds=30, restricted_compounds=12), 5)
    assert {c.compound_class for c in compounds} >= set(schema.RESTRICTED_CLASSES)
    a = seeds.balanced_seeds(compounds, seed=5)
    assert a == seeds.balanced_seeds(compounds, seed=5)
    assert a != seeds.balanced_seeds(compounds, seed=6)


def test_balance_table_totals(seed_set):
    table = seeds.balance_table(seed_set)
    total = table[-1]
    assert total["intent"] == "total"
    assert total[LEGITIMATE] == sum(r[LEGITIMATE] for r in table[:-1]) == len(seed_set) // 2


def test_unknown_intent_in_params_is_an_error():
    kb = knowledge_base.load_kb()
    with pytest.raises(KeyError, match="unknown intent 'brewing'"):
        seeds.balanced_seeds(kb.common()[:3], seed=1, intents=["synthesis", "brewing"])


def test_harmful_requests_about_common_compounds_need_a_recorded_hazard(seed_set):
    kb = knowledge_base.load_kb()
    harmful_common = [kb.lookup(s.compound) for s in seed_set
                      if s.family == "harmful" and s.compound_class == "common"]
    assert harmful_common
    assert all(c.flash_point_c is not None or c.twa or c.carcinogen for c in harmful_common)
    assert not seeds.plausible("harm", kb.lookup("trehalose"))
    assert seeds.plausible("properties", kb.lookup("water"))


@pytest.mark.parametrize("change, message", [
    ({"label": "maybe"}, "unknown label 'maybe'"),
    ({"intent": "brewing"}, "unknown intent 'brewing'"),
    ({"compound": "unobtainium"}, "unknown compound 'unobtainium'"),
    ({"compound_class": "cwa"}, "is of class 'common', not 'cwa'"),
    ({"label": ILLEGITIMATE}, "contradicts the rule"),
])
def test_seed_file_rows_are_checked_against_rule_and_kb(tmp_path, change, message):
    kb = knowledge_base.load_kb()
    good = seeds.Seed("properties:acetone", "acetone", "common", "properties", "information", LEGITIMATE)
    path = files.write_jsonl(tmp_path / "seeds.jsonl", [good.to_dict(), {**good.to_dict(), **change}])
    with pytest.raises(files.DataFileError, match=rf"seeds.jsonl, row 2: .*{message}"):
        seeds.read_seed_file(path, kb)
