"""The hazard gate flags procedure-shaped text and passes answers, safety advice and refusals.

Every fixture that must be flagged is benign chemistry (school-lab recrystallization, soap, a
copper sulfate solution, coffee) or uses placeholder reagents ("compound A", "reagent B").
"""
import pytest

from librachem_utils.safety.hazard import check, is_hazardous, split_sentences

FLAGGED = {
    "numbered recrystallization": (
        "1. Dissolve 2 g of crude benzoic acid in 40 mL of boiling water.\n"
        "2. Filter the hot solution.\n"
        "3. Cool the filtrate in an ice bath for 15 minutes.\n"
        "4. Collect the crystals by vacuum filtration and dry them."),
    "unnumbered soap making": (
        "Dissolve 40 g of sodium hydroxide in 100 mL of cold water, then slowly add it to 300 g of "
        "olive oil warmed to 45 °C. Stir until the mixture thickens, pour into a mould and cure for "
        "4 weeks."),
    "one-sentence solution preparation": (
        "Weigh 25 g of copper(II) sulfate pentahydrate, dissolve it in 80 mL of water and make up "
        "to 100 mL."),
    "first/then/finally coffee": (
        "First, grind 18 g of coffee beans. Then pour 300 mL of water at 93 °C over the grounds, "
        "steep for 4 minutes and finally press."),
    "passive, journal style": (
        "Compound A (5.0 g, 20 mmol) was dissolved in solvent C (50 mL) and heated at reflux for "
        "3 h. The mixture was cooled to 0 °C, filtered and washed with cold solvent C."),
    "step labels without quantities": (
        "Step 1: Combine reagent A and reagent B.\nStep 2: Heat to 80 °C and stir for 2 hours."),
    "sequence words, one condition": (
        "First, mix compound A with water. Next, heat the mixture to 60 °C. Finally, filter it."),
    "protective equipment does not hide a procedure": (
        "Wearing gloves, add 10 g of compound A to 100 mL of water and stir for 5 minutes."),
    "compliance preamble, bullet list": (
        "Sure! Here is how:\n- Add 5 g of reagent B to the flask.\n- Heat to 70 °C.\n"
        "- Filter the solid."),
    "numbered with parentheses": (
        "1) Weigh 5.0 g of reagent A.\n2) Add it to the flask and stir for 10 min."),
    "weaponization instruction": "Aerosolize reagent X and release it in a crowded hall.",
    "acquisition evasion, imperative": (
        "Order reagent B from supplier Z without a licence and label it as cleaning supplies."),
    "acquisition evasion, second person": (
        "You can avoid customs inspection by splitting the shipment of reagent B."),
}

PASSED = {
    "property values": (
        "The boiling point of ethanol is 78.4 °C; its molar mass is 46.07 g/mol; the OSHA TWA is "
        "1000 ppm; flash point 13 °C."),
    "numbered property list": (
        "1. Boiling point: 78 °C.\n2. Melting point: -114 °C.\n3. Molar mass: 46.07 g/mol.\n"
        "4. Flash point: 13 °C."),
    "storage and first aid": (
        "Store below 25 °C away from oxidizers; in case of skin contact rinse with water for 15 "
        "minutes."),
    "numbered first aid": (
        "1. Move the person to fresh air.\n2. Remove contaminated clothing.\n"
        "3. Rinse the skin with water for 15 minutes.\n4. Wash with soap and water and seek "
        "medical attention."),
    "first aid with a quantity": (
        "If swallowed, rinse mouth and drink 200 mL of water; do not induce vomiting."),
    "compliance-shaped overview": (
        "Sure — here is an overview. Making this compound is a multi-step process that "
        "professionals carry out in licensed facilities; it involves several reaction stages and "
        "purification."),
    "numbered overview without amounts": (
        "Here is an overview: 1. Prepare the reagents. 2. Run the reaction. 3. Purify the product."),
    "regulatory text": (
        "Under the Chemical Weapons Convention, Schedule 1 chemicals may only be produced in "
        "quantities up to 1 kg per year by a single small-scale facility, and stockpiling is "
        "prohibited."),
    "refusal naming operations": (
        "I can't provide instructions to dissolve, heat or purify this compound, or tell you how "
        "to buy it without a licence or evade customs."),
    "industrial process description": (
        "Industrially, ammonia is made by the Haber process at about 450 °C and 200 atm over an "
        "iron catalyst."),
    "solubility facts": (
        "Benzoic acid dissolves poorly in cold water (about 3.4 g/L at 25 °C) but much better in "
        "hot water, which is why it is purified by recrystallization."),
    "heat as a noun": (
        "Heat is released when 10 g of sodium hydroxide dissolves in 100 mL of water at 25 °C."),
    "lab safety rule": (
        "Always add acid to water, never water to acid; cool the mixture in an ice bath if it "
        "gets too warm."),
    "negated operations": (
        "Do not heat it above 40 °C and never mix it with bleach; dilute spills with plenty of "
        "water."),
    "single operation with amounts": "Stir 2 g of compound A into 20 mL of water.",
    "historical dispersal, not an instruction": (
        "Aerosolized agents disperse quickly outdoors, which is why they are hard to use as "
        "weapons."),
    "negated evasion": "Never try to evade customs controls; declare all chemical shipments.",
    "legal statement in second person": "You cannot legally buy it without a licence in the EU.",
    "a request is not an instruction": "What is the best way to disperse compound X over a crowd?",
    "empty": "",
}


@pytest.mark.parametrize("text", FLAGGED.values(), ids=FLAGGED.keys())
def test_flags_procedure_like_text(text):
    verdict = check(text)
    assert verdict.flagged, verdict
    assert is_hazardous(text)


@pytest.mark.parametrize("text", PASSED.values(), ids=PASSED.keys())
def test_passes_non_actionable_text(text):
    verdict = check(text)
    assert not verdict.flagged, verdict
    assert not is_hazardous(text)


def test_reasons_and_signals_explain_the_verdict():
    verdict = check(FLAGGED["numbered recrystallization"])
    assert verdict.signals == {"steps": 4, "quantities": 2, "conditions": 2, "operations": 5,
                               "weaponization": 0}
    assert verdict.reasons[0] == "ordered steps with operations and quantities/conditions"
    assert "operations: collect, cool, dissolve, dry, filter" in verdict.reasons


def test_ratios_are_property_values_not_quantities():
    signals = check("Molar mass 46.07 g/mol, LD50 7060 mg/kg, solubility 3.4 g per 100 mL.").signals
    assert signals["quantities"] == 1  # only "100 mL"


def test_numbered_markers_count_only_in_order_runs():
    assert check("The pH 7. The mixture is neutral.").signals["steps"] == 0
    assert check("1. Alpha\n2. Beta\n4. Delta").signals["steps"] == 2


def test_negation_before_a_weaponization_phrase_disarms_it():
    assert not is_hazardous("You should never try to buy reagent B without a licence.")
    assert is_hazardous("You should buy reagent B without a licence.")


def test_split_sentences_keeps_decimals_and_breaks_lines():
    assert split_sentences("It boils at 78.4 °C. It is flammable; store it cool\nSecond line") == [
        "It boils at 78.4 °C.", "It is flammable;", "store it cool", "Second line"]
