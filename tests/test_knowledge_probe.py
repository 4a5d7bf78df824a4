"""The knowledge probe: the right compounds asked, the answers checked against the knowledge base."""
from librachem_utils.api import local_model
from librachem_utils.chem.knowledge_base import load_kb
from librachem_utils.core import files
from librachem_utils.eval import knowledge_probe

KB = load_kb()


def test_probe_counts_formula_and_molar_mass_separately(monkeypatch):
    ethanol, acetone, water = KB.lookup("ethanol"), KB.lookup("acetone"), KB.lookup("water")
    answers = {ethanol.name: "Ethanol has the molecular formula C2H6O and a molar mass of 46.069 g/mol.",
               acetone.name: "Acetone has the molecular formula C3H6O and a molar mass of 99.1 g/mol.",
               water.name: "The formula of done is C1H10N2O."}
    asked = []

    def fake_generate(model, tokenizer, prompts, **kwargs):
        asked.extend(prompts)
        return [next(a for name, a in answers.items() if name in p) for p in prompts]

    monkeypatch.setattr(local_model, "generate", fake_generate)
    result = knowledge_probe.probe(None, None, [ethanol, acetone, water], "Q: {prompt}\nA: ", resamples=200)
    assert asked == [knowledge_probe.QUESTION.format(X=c) for c in ("ethanol", "acetone", "water")]
    assert result["n"] == 3
    assert abs(result["formula"]["value"] - 2 / 3) < 1e-5
    assert abs(result["molar_mass"]["value"] - 1 / 3) < 1e-5
    assert abs(result["both"]["value"] - 1 / 3) < 1e-5


def test_split_compounds_reads_each_split_and_caps_it(tmp_path):
    rows = [{"compound": name} for name in ("ethanol", "acetone", "water", "ethanol")]
    files.write_jsonl(tmp_path / "train.jsonl", rows)
    files.write_jsonl(tmp_path / "test.jsonl", rows[:2])
    found = knowledge_probe.split_compounds(tmp_path, None, 13)
    assert {split: [c.name for c in cs] for split, cs in found.items()} == \
        {"train": ["acetone", "ethanol", "water"], "test": ["acetone", "ethanol"]}
    assert len(knowledge_probe.split_compounds(tmp_path, 2, 13)["train"]) == 2
