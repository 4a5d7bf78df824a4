"""The knowledge-base pretraining documents: every compound covered, every value right, nothing hazardous,
and compound names and SMILES as single tokens."""
import random

import pytest

from librachem_utils.chem.knowledge_base import load_kb
from librachem_utils.data import knowledge_text
from librachem_utils.eval import factcheck
from librachem_utils.safety import hazard
from librachem_utils.train.tiny import train_tokenizer

KB = load_kb()
TEMPLATE = "Question: {prompt}\n\nAnswer: "


@pytest.fixture(scope="module")
def documents() -> list[str]:
    return knowledge_text.knowledge_texts(KB.compounds, TEMPLATE, 2, random_seed=13)


def test_every_compound_of_every_split_has_its_documents(documents):
    assert len(documents) == 2 * len(KB.compounds)
    for compound in KB.compounds[::37]:
        about = [d for d in documents if f" of {compound.name} is {compound.smiles}." in d
                 or f"{compound.smiles} is the SMILES string of {compound.name}." in d
                 or f" is written {compound.smiles} in SMILES." in d]
        assert len(about) == 2, compound.name


def test_every_stated_value_is_the_knowledge_base_value():
    for compound in KB.compounds:
        text = knowledge_text.compound_document(compound, TEMPLATE, random.Random(compound.name))
        verdict = factcheck.check(text.replace(TEMPLATE.split("{prompt}")[0], " "), compound)
        assert verdict.correct is True, (compound.name, verdict)
        assert all(check.correct for check in verdict.checks)


def test_status_sentences_follow_the_lists():
    rng = random.Random(0)
    for compound in KB.compounds[::11]:
        for _ in range(6):
            sentence = knowledge_text.fact_sentence(compound, "status", "text", rng)
            verdict = factcheck.check(sentence, compound)
            assert verdict.correct is True, (compound.name, sentence, verdict)
            names_a_list = any(name in sentence for name in ("CWC", "DEA", "Australia", "UN hazard", "UNODC", "UN 19"))
            assert names_a_list == compound.restricted, sentence


def test_no_document_is_hazardous(documents):
    flagged = [d for d in documents if hazard.check(d).flagged]
    assert not flagged, flagged[:2]


def test_the_same_seed_gives_the_same_documents():
    a = knowledge_text.knowledge_texts(KB.compounds[:20], TEMPLATE, 3, random_seed=5)
    assert a == knowledge_text.knowledge_texts(KB.compounds[:20], TEMPLATE, 3, random_seed=5)
    assert a != knowledge_text.knowledge_texts(KB.compounds[:20], TEMPLATE, 3, random_seed=6)


def test_entity_tokens_make_each_name_and_smiles_one_token(tmp_path, documents):
    entities = knowledge_text.compound_entities(KB.compounds)
    assert "1-hexanol" in entities and "1-Hexanol" in entities and "CCCCCCO" in entities
    assert all(len(entity) >= knowledge_text.MIN_ENTITY_LENGTH for entity in entities)
    tokenizer = train_tokenizer(documents[:300], 400, entities=entities)
    tokenizer.save_pretrained(tmp_path)
    from transformers import AutoTokenizer
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for tok in (tokenizer, reloaded):
        pieces = tok.convert_ids_to_tokens(tok("1-Hexanol (CCCCCCO) is not 2-hexanol.")["input_ids"])
        assert "1-Hexanol" in pieces and "CCCCCCO" in pieces
        # inside a longer word an entity is not split out
        assert "hexanol" not in tok.convert_ids_to_tokens(tok("cyclohexanols")["input_ids"])
    assert reloaded.decode(reloaded("1-Hexanol boils at 157 °C.")["input_ids"], skip_special_tokens=True) \
        == "1-Hexanol boils at 157 °C."
