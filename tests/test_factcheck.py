"""The fact checker against real knowledge-base values."""
import random

import pytest

from librachem_utils.chem.knowledge_base import load_kb
from librachem_utils.data import generators
from librachem_utils.eval import factcheck

KB = load_kb()
ETHANOL, ACETONE, WATER = KB.lookup("ethanol"), KB.lookup("acetone"), KB.lookup("water")


@pytest.mark.parametrize("text, compound, aspect, correct", [
    ("Ethanol has a molar mass of 46.07 g/mol.", ETHANOL, "molar_mass", True),
    ("The molar mass of ethanol is 46.1 g mol−1.", ETHANOL, "molar_mass", True),
    ("Ethanol has a molar mass of 50 g/mol.", ETHANOL, "molar_mass", False),
    ("The flash point of acetone is -20 °C (closed cup).", ACETONE, "flash_point", True),
    ("The flash point of acetone is −20 ºC.", ACETONE, "flash_point", True),
    ("The flash point of acetone is 56 °C.", ACETONE, "flash_point", False),
    ("Water boils at 100 °C at sea level.", WATER, "boiling_point", True),
    ("Water boils at 212 °F.", WATER, "boiling_point", True),
    ("Water boils at 373.15 K.", WATER, "boiling_point", True),
    ("Water boils at 100 °C (212 °F).", WATER, "boiling_point", True),
    ("Water boils at 150 degrees Celsius.", WATER, "boiling_point", False),
    ("Water boils at 150 °F.", WATER, "boiling_point", False),
    ("Acetone boils at about 56-57 °C.", ACETONE, "boiling_point", True),
    ("Acetone melts at -95 °C.", ACETONE, "melting_point", True),
    ("Acetone melts at -60 °C.", ACETONE, "melting_point", False),
    ("The autoignition temperature of acetone is 465 °C.", ACETONE, "autoignition", True),
    ("The autoignition temperature of acetone is 200 °C.", ACETONE, "autoignition", False),
    ("The molecular formula of ethanol is C2H6O.", ETHANOL, "formula", True),
    ("Ethanol's chemical formula is C₂H₅OH.", ETHANOL, "formula", True),
    ("The formula of ethanol, in another order, is OC2H6.", ETHANOL, "formula", True),
    ("The formula of ethanol is CH4O.", ETHANOL, "formula", False),
    ("Acetone has the condensed formula (CH3)2CO.", ACETONE, "formula", True),
    ("Acetone is registered under CAS 67-64-1.", ACETONE, "cas", True),
    ("Acetone is registered under CAS 67-64-2.", ACETONE, "cas", False),
    ("The TWA for acetone is 500 ppm and its STEL is 750 ppm.", ACETONE, "exposure_limits", True),
    ("The exposure limit for acetone is 1,000 ppm.", ACETONE, "exposure_limits", False),
])
def test_values_against_the_knowledge_base(text, compound, aspect, correct):
    result = factcheck.check(text, compound, aspect)
    assert result.correct is correct, result
    assert result.found and result.expected


@pytest.mark.parametrize("text, compound, aspect", [
    ("Acetone is a versatile solvent used in many laboratories.", ACETONE, "boiling_point"),
    ("I'm sorry, but I can't help with that.", ACETONE, "molar_mass"),
    ("The exposure limit for acetone is 1187 mg/m3.", ACETONE, "exposure_limits"),  # KB gives ppm only
    ("Acetone is not listed as a carcinogen.", ACETONE, "carcinogen"),  # not checkable
    ("Acetone has no rings and four heavy atoms.", ACETONE, "structure"),  # not checkable
    ("Water has no flash point: it does not burn.", WATER, "flash_point"),  # no KB value
])
def test_undecided_cases_are_none(text, compound, aspect):
    assert factcheck.check(text, compound, aspect).correct is None


def test_any_wrong_value_makes_the_answer_wrong_whatever_was_asked():
    text = "Acetone has a molar mass of 58.08 g/mol and boils at 90 °C."
    result = factcheck.check(text, ACETONE, "molar_mass")
    assert result.correct is False and result.aspect == "boiling_point" and result.found == "90 °C"
    assert factcheck.check(text, ACETONE).correct is False
    assert factcheck.check("Acetone boils at 56 °C; it melts at -95 °C.", ACETONE).correct is True


def test_temperatures_go_to_the_nearest_keyword_and_unclaimed_values_to_the_asked_aspect():
    both = "Acetone melts at -95 °C and boils at 56 °C."
    assert factcheck.check(both, ACETONE, "melting_point").correct is True
    assert factcheck.check(both, ACETONE, "boiling_point").correct is True
    assert factcheck.check("It is about 56 °C.", ACETONE, "boiling_point").correct is True
    assert factcheck.check("It is about 56 °C.", ACETONE, "melting_point").correct is False
    assert factcheck.check("It is about 56 °C.", ACETONE).correct is None  # nothing claims it
    # a keyword-claimed answer wins over an unclaimed storage temperature
    assert factcheck.check("Keep it below 25 °C. It boils at 56 °C.", ACETONE, "boiling_point").correct is True


def test_names_smiles_and_acronyms_are_not_read_as_formulas():
    mustard = KB.lookup("nitrogen mustard HN1")  # the name holds "HN1"
    assert factcheck.check(f"The formula of {mustard.name} is {mustard.formula}.", mustard, "formula").correct is True
    assert factcheck.check("The formula of CC(C)=O is C3H6O.", ACETONE, "formula").correct is True
    assert factcheck.check("NIOSH lists its formula as C3H6O.", ACETONE, "formula").correct is True
    assert factcheck.check("The formula of aluminium is Al.", KB.lookup("aluminium"), "formula").correct is True


def test_every_offline_generator_property_answer_checks_as_correct():
    generator = generators.OfflineGenerator(KB, seed=1)
    verdicts = set()
    for compound in KB.compounds[::7]:
        for aspect in generators.property_aspects(compound):
            rng = random.Random(f"{compound.name}:{aspect}")
            text = " ".join(generator._property_answer(aspect, compound, rng)).replace("{X}", generators.COMPOUND)
            for mode in ("text", "smiles"):
                result = factcheck.check(generators.render(text, compound, mode), compound, aspect)
                expected = True if aspect in factcheck.CHECKABLE_ASPECTS else None
                assert result.correct is expected, (compound.name, aspect, mode, result)
                verdicts.add(result.correct)
    assert verdicts == {True, None}


def test_unknown_aspect_is_an_error():
    with pytest.raises(ValueError, match="unknown aspect 'colour'"):
        factcheck.check("It is colourless.", ACETONE, "colour")
