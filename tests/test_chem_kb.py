"""The offline chemistry knowledge base: real values, lookups, data integrity and bad curated data."""
import csv
import subprocess
import sys
from collections import Counter

import pytest
from rdkit import Chem, rdBase
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from librachem_utils.chem import build, knowledge_base
from librachem_utils.chem.knowledge_base import UnknownCompoundError
from librachem_utils.core import schema
from librachem_utils.core.files import DataFileError

RESTRICTED_HEADER = "name,synonyms,cas,smiles,compound_class,source_list\n"

# Restricted compounds whose record in `chemicals` (found by our CAS) has another structure, each
# checked by hand: the listed identifier is the public one and `chemicals` differs.
CHEMICALS_DISAGREES = {
    "psilocybin": "chemicals swaps psilocybin (520-53-6) and psilocin (520-52-5)",
    "psilocin": "chemicals swaps psilocybin (520-53-6) and psilocin (520-52-5)",
    "methylphosphinyl difluoride":
        "chemicals files 753-59-3 (Australia Group list) under trimethyldifluorophosphorane",
    "dimethyl phosphite": "chemicals writes the phosphorus as [P+] without its hydrogen",
    "diethyl phosphite": "chemicals writes the phosphorus as [P+] without its hydrogen",
    "phosphorus pentasulfide": "chemicals stores the P2S5 formula unit, not the P4S10 molecule",
}


@pytest.fixture(scope="module")
def kb():
    return knowledge_base.load_kb()


def test_common_values_match_known_figures(kb):
    ethanol = kb.lookup("ethanol")
    assert ethanol.molar_mass == pytest.approx(46.07, abs=0.005)
    assert (ethanol.cas, ethanol.formula, ethanol.smiles) == ("64-17-5", "C2H6O", "CCO")
    assert (ethanol.hbd, ethanol.hba, ethanol.ring_count, ethanol.aromatic, ethanol.heavy_atoms) == (1, 1, 0, False, 3)
    assert ethanol.boiling_point_c == pytest.approx(78.4, abs=0.1)
    acetone = kb.lookup("acetone")
    assert acetone.flash_point_c == -20.0  # chemicals: 253.15 K
    assert (acetone.twa, acetone.stel, acetone.carcinogen) == ((500.0, "ppm"), (750.0, "ppm"), None)
    water = kb.lookup("water")
    assert water.boiling_point_c == pytest.approx(100.0, abs=0.05)
    assert water.melting_point_c == 0.0
    benzene = kb.lookup("benzene")
    assert benzene.aromatic and benzene.ring_count == 1 and benzene.heavy_atoms == 6
    assert benzene.carcinogen == "IARC: Group 1; NTP: Known"
    assert kb.lookup("caffeine").carcinogen == "IARC: Group 3"
    assert kb.lookup("sodium chloride").molar_mass == pytest.approx(58.44, abs=0.005)
    assert kb.lookup("acetic acid").category == "acid"
    assert all(c.source_list.startswith("chemicals ") for c in kb.common())


def test_restricted_compounds_have_identifiers_and_no_properties(kb):
    sarin = kb.lookup("sarin")
    assert (sarin.compound_class, sarin.source_list, sarin.cas) == ("cwa", "CWC Schedule 1A", "107-44-8")
    assert sarin.restricted and sarin.formula == "C4H10FO2P"
    assert sarin.molar_mass == pytest.approx(140.09, abs=0.005)
    assert kb.lookup("TNT").molar_mass == pytest.approx(227.13, abs=0.005)
    assert kb.lookup("morphine").formula == "C17H19NO3"
    for c in kb.restricted():
        assert c.source_list and c.category is None
        assert (c.boiling_point_c, c.melting_point_c, c.flash_point_c, c.autoignition_c) == (None,) * 4
        assert (c.twa, c.stel, c.carcinogen) == (None, None, None)
        assert c.formula == CalcMolFormula(Chem.MolFromSmiles(c.smiles))


def test_counts_per_class(kb):
    counts = Counter(c.compound_class for c in kb.compounds)
    assert set(counts) == set(schema.COMPOUND_CLASSES)
    assert counts["common"] >= 300
    assert sum(counts[cls] for cls in schema.RESTRICTED_CLASSES) >= 100
    assert min(counts[cls] for cls in schema.RESTRICTED_CLASSES) >= 20
    assert len(kb.common()) + len(kb.restricted()) == len(kb.compounds)


def test_lookup_by_name_synonym_cas_and_smiles(kb):
    ethanol = kb.lookup("ethanol")
    for query in ("Ethanol", "  ethyl \t ALCOHOL ", "64-17-5", "CCO", "OCC", "C(O)C", "[CH3][CH2][OH]"):
        assert kb.lookup(query) is ethanol, query
    sarin = kb.lookup("sarin")
    assert kb.lookup("GB") is kb.lookup("107-44-8") is kb.lookup("FP(=O)(C)OC(C)C") is sarin
    assert kb.lookup("paracetamol") is kb.lookup("acetaminophen") is kb.lookup("CC(=O)Nc1ccc(O)cc1")


def test_smiles_lookup_and_stereo(kb):
    methamphetamine = kb.lookup("methamphetamine")
    assert "@" in methamphetamine.smiles
    assert kb.lookup("CNC(C)Cc1ccccc1") is methamphetamine  # no stereo given: the one stereo variant
    with pytest.raises(UnknownCompoundError):
        kb.lookup("CN[C@H](C)Cc1ccccc1")  # the other enantiomer is not listed
    assert kb.lookup("C[C@@H](N)Cc1ccccc1") is kb.lookup("amphetamine")  # listed without stereo


@pytest.mark.parametrize("query", ["xyzzy", "C1CC(", "", "unobtainium chloride"])
def test_unknown_compound_error_names_the_query(kb, query):
    with pytest.raises(UnknownCompoundError) as err:
        kb.lookup(query)
    assert isinstance(err.value, KeyError)
    assert str(err.value) == f"unknown compound {query!r}"


def test_every_smiles_parses_and_is_canonical(kb):
    for c in kb.compounds:
        mol = Chem.MolFromSmiles(c.smiles)
        assert mol is not None, c.name
        assert Chem.MolToSmiles(mol) == c.smiles, c.name


def test_no_compound_is_in_both_lists(kb):
    def identifiers(compounds):
        ids = set()
        for c in compounds:
            ids |= {knowledge_base.normalize_name(t) for t in (c.name, *c.synonyms)} | {c.cas, c.smiles}
        return ids - {None}

    assert not identifiers(kb.common()) & identifiers(kb.restricted())
    for dual_use in ("triethanolamine", "thionyl chloride", "phosphorus trichloride", "hydrogen fluoride"):
        assert kb.lookup(dual_use).compound_class == "cwa_precursor"


def test_order_is_deterministic(kb):
    assert knowledge_base.load_kb() is kb
    assert knowledge_base.KnowledgeBase(reversed(kb.compounds)).compounds == kb.compounds
    keys = [(schema.COMPOUND_CLASSES.index(c.compound_class), c.name.casefold()) for c in kb.compounds]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_table_round_trips_byte_for_byte(kb, tmp_path):
    path = knowledge_base.write_table(reversed(kb.compounds), tmp_path / "compounds.csv")
    assert path.read_bytes() == knowledge_base.TABLE_CSV.read_bytes()
    assert knowledge_base.read_table(path) == list(kb.compounds)


def test_shipped_table_still_matches_the_curated_lists_and_chemicals(kb, tmp_path):
    with open(build.COMMON_CSV, encoding="utf-8") as fh:
        common_rows = list(csv.DictReader(fh))
    with open(build.RESTRICTED_CSV, encoding="utf-8") as fh:
        restricted_names = {row["name"] for row in csv.DictReader(fh)}
    assert {c.name for c in kb.compounds} == {row["name"] for row in common_rows} | restricted_names

    sample = tmp_path / "sample.csv"
    with open(sample, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=build.COMMON_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(common_rows[::12])
    rebuilt = build.build_compounds(sample, build.RESTRICTED_CSV)
    assert len(rebuilt) == len(common_rows[::12]) + len(kb.restricted())
    shipped = {c.name: c for c in kb.compounds}
    for compound in rebuilt:
        assert shipped[compound.name] == compound


def test_restricted_structures_agree_with_chemicals(kb):
    from chemicals.identifiers import search_chemical

    def skeleton(smiles):
        with rdBase.BlockLogs():
            mol = Chem.MolFromSmiles(smiles)
            return mol and Chem.MolToInchiKey(mol)[:14]

    agreed, disagreed = [], []
    for c in kb.restricted():
        try:
            record = search_chemical(c.cas) if c.cas else None
        except ValueError:
            record = None
        if record is not None:
            (agreed if skeleton(record.smiles) == skeleton(c.smiles) else disagreed).append(c.name)
    assert sorted(disagreed) == sorted(CHEMICALS_DISAGREES)
    assert len(agreed) >= 100
    expected = {"sarin", "VX", "sulfur mustard", "thiodiglycol", "trinitrotoluene", "RDX", "heroin", "fentanyl"}
    assert expected <= set(agreed)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_small_curated_lists_build(tmp_path):
    common = write(tmp_path, "common.csv", "name,synonyms,category\nethanol,grain alcohol,solvent\n")
    restricted = write(tmp_path, "restricted.csv",
                       RESTRICTED_HEADER + "sarin,GB,107-44-8,FP(C)(=O)OC(C)C,cwa,CWC Schedule 1A\n")
    ethanol, sarin = build.build_compounds(common, restricted)
    assert (ethanol.name, ethanol.synonyms, ethanol.cas) == ("ethanol", ("grain alcohol",), "64-17-5")
    assert (sarin.smiles, sarin.compound_class) == ("CC(C)OP(C)(=O)F", "cwa")


@pytest.mark.parametrize("common_rows, restricted_rows, bad_file, line, message", [
    ("xyzzy-not-a-chemical,,solvent\n", "", "common", 3, "'xyzzy-not-a-chemical' is not in the chemicals database"),
    ("", "bad-smiles,,,C1CC(,cwa,CWC Schedule 1A\n", "restricted", 2, "RDKit cannot parse SMILES 'C1CC('"),
    ("", "ethanol,,,CCCC,nps,UNODC EWA NPS\n", "restricted", 2,
     "name 'ethanol' of 'ethanol' is already used by 'ethanol'"),
    ("", "booze,,64-17-5,CCCC,nps,UNODC EWA NPS\n", "restricted", 2,
     "CAS '64-17-5' of 'booze' is already used by 'ethanol'"),
    ("", "spirit,,,OCC,nps,UNODC EWA NPS\n", "restricted", 2,
     "structure 'CCO' of 'spirit' is already used by 'ethanol'"),
    ("ethyl alcohol,,solvent\n", "", "common", 3, "CAS '64-17-5' of 'ethyl alcohol' is already used by 'ethanol'"),
    ("", "butane-x,,,CCCC,poison,Some list\n", "restricted", 2, "class 'poison' of 'butane-x' is not one of"),
    ("", "butane-x,,64-17-6,CCCC,nps,UNODC EWA NPS\n", "restricted", 2,
     "'64-17-6' of 'butane-x' is not a valid CAS number"),
    ("", "butane-x,,,CCCC,nps,\n", "restricted", 2, "empty source_list"),
    ("", "butane-x,,,CCCC,nps\n", "restricted", 2, "expected 6 fields"),
])
def test_bad_curated_data_names_file_and_line(tmp_path, common_rows, restricted_rows, bad_file, line, message):
    paths = {
        "common": write(tmp_path, "common.csv", "name,synonyms,category\nethanol,,solvent\n" + common_rows),
        "restricted": write(tmp_path, "restricted.csv", RESTRICTED_HEADER + restricted_rows),
    }
    with pytest.raises(DataFileError) as err:
        build.build_compounds(paths["common"], paths["restricted"])
    assert str(err.value).startswith(f"{paths[bad_file]}, line {line}: ")
    assert message in str(err.value)


def test_missing_column_and_bad_table_rows_are_named(tmp_path):
    no_category = write(tmp_path, "common.csv", "name,synonyms\nethanol,\n")
    with pytest.raises(DataFileError, match="common.csv: missing column.s. category"):
        build.build_compounds(no_category, write(tmp_path, "restricted.csv", RESTRICTED_HEADER))
    table = knowledge_base.TABLE_CSV.read_text(encoding="utf-8").splitlines()
    bad = write(tmp_path, "table.csv", "\n".join([table[0], table[1].replace(",common,", ",mystery,", 1)]) + "\n")
    with pytest.raises(DataFileError, match=r"table.csv, line 2: unknown compound class 'mystery'"):
        knowledge_base.read_table(bad)


def test_warm_load_in_a_fresh_process_is_fast_and_needs_neither_chemicals_nor_rdkit():
    code = ("import sys, time; t = time.perf_counter(); from librachem_utils.chem import knowledge_base; "
            "kb = knowledge_base.load_kb(); print(time.perf_counter() - t, len(kb.compounds), "
            "'chemicals' in sys.modules, 'rdkit' in sys.modules)")
    seconds, count, chemicals_loaded, rdkit_loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert float(seconds) < 1.0 and int(count) >= 400
    assert (chemicals_loaded, rdkit_loaded) == ("False", "False")


def test_to_frame_has_one_row_per_compound(kb):
    frame = kb.to_frame()
    assert len(frame) == len(kb.compounds) and int(frame["restricted"].sum()) == len(kb.restricted())
    assert frame.set_index("name").loc["ethanol", "molar_mass"] == pytest.approx(46.068)


def test_cas_check_digit():
    assert build.is_valid_cas("64-17-5") and build.is_valid_cas("7732-18-5")
    assert not build.is_valid_cas("64-17-6") and not build.is_valid_cas("6417-5")


def test_command_line_prints_counts(capsys):
    assert build.main([]) == 0
    assert "common " in capsys.readouterr().out
