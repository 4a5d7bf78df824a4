"""The knowledge base's generated table, rebuilt from the curated lists with ``chemicals`` and RDKit.

Two curated lists in ``data/`` name the compounds (identifiers only, see ``data/SOURCES.md``):

- ``common_compounds.csv``: name, synonyms, category. Identifiers and properties come from the
  offline ``chemicals`` database (CAS, formula, molar mass, SMILES, boiling/melting/flash/autoignition
  points, exposure limits, carcinogen listings);
- ``restricted_compounds.csv``: name, synonyms, CAS, SMILES, class and the public list it is on.
  Formula and molar mass are computed by RDKit from the SMILES; there is no property data.

Structure descriptors (canonical SMILES, H-bond donors/acceptors, rings, aromaticity, heavy atoms)
come from RDKit for every compound. ``python -m librachem_utils.chem.build --rebuild`` resolves the
lists and writes ``data/compounds.csv``, the table ``knowledge_base.load_kb`` reads.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Optional, Sequence

from librachem_utils.chem.knowledge_base import (
    DATA_DIR,
    TABLE_CSV,
    Compound,
    load_kb,
    normalize_name,
    read_csv_rows,
    sort_key,
    split_synonyms,
    write_table,
)
from librachem_utils.core.files import DataFileError
from librachem_utils.core.schema import COMMON_CLASS, COMPOUND_CLASSES, RESTRICTED_CLASSES

COMMON_CSV = DATA_DIR / "common_compounds.csv"
RESTRICTED_CSV = DATA_DIR / "restricted_compounds.csv"
COMMON_COLUMNS = ("name", "synonyms", "category")
RESTRICTED_COLUMNS = ("name", "synonyms", "cas", "smiles", "compound_class", "source_list")


def build_compounds(common_csv: Path | str = COMMON_CSV,
                    restricted_csv: Path | str = RESTRICTED_CSV) -> list[Compound]:
    """Resolve the curated lists into compounds (``chemicals`` + RDKit), in knowledge-base order.

    A name that ``chemicals`` does not know, a SMILES RDKit cannot parse, a bad CAS number or class,
    or a name, synonym, CAS or structure used twice (within or across the lists) raises
    ``DataFileError`` naming the file and line.
    """
    seen: dict[tuple[str, str], tuple[str, Compound]] = {}
    compounds = []
    for path, to_compound, columns in ((common_csv, _common_compound, COMMON_COLUMNS),
                                       (restricted_csv, _restricted_compound, RESTRICTED_COLUMNS)):
        for line, row in read_csv_rows(path, columns):
            where = f"{path}, line {line}"
            compound = to_compound(row, where)
            _claim_identifiers(compound, where, seen)
            compounds.append(compound)
    return sorted(compounds, key=sort_key)


def rebuild(path: Path | str = TABLE_CSV) -> list[Compound]:
    """Rebuild the generated table from the curated lists and drop cached knowledge bases."""
    compounds = build_compounds()
    write_table(compounds, path)
    load_kb.cache_clear()
    return compounds


def _common_compound(row: dict[str, str], where: str) -> Compound:
    import chemicals
    from chemicals.identifiers import search_chemical

    name = _required(row, "name", where)
    try:
        record = search_chemical(name)
    except ValueError:
        raise DataFileError(f"{where}: {name!r} is not in the chemicals database") from None
    if not record.smiles:
        raise DataFileError(f"{where}: chemicals has no SMILES for {name!r}")
    mol = _parse_smiles(record.smiles, where, name)
    rdkit_formula = _rdkit_formula(mol)
    if _element_counts(record.formula) != _element_counts(rdkit_formula):
        raise DataFileError(f"{where}: chemicals formula {record.formula} of {name!r} disagrees "
                            f"with RDKit's {rdkit_formula} from its SMILES")
    cas = record.CASs
    synonyms = split_synonyms(row["synonyms"])
    if normalize_name(record.common_name) not in {normalize_name(s) for s in (name, *synonyms, cas)}:
        synonyms += (record.common_name,)
    return Compound(
        name=name, synonyms=synonyms, cas=cas, formula=record.formula,
        molar_mass=round(record.MW, 3), smiles=_canonical(mol), compound_class=COMMON_CLASS,
        source_list=f"chemicals {chemicals.__version__} database", category=row["category"].strip() or None,
        boiling_point_c=_celsius(chemicals.Tb(cas)), melting_point_c=_celsius(chemicals.Tm(cas)),
        flash_point_c=_celsius(chemicals.safety.T_flash(cas)),
        autoignition_c=_celsius(chemicals.safety.T_autoignition(cas)),
        twa=_exposure_limit(chemicals.safety.TWA(cas)), stel=_exposure_limit(chemicals.safety.STEL(cas)),
        carcinogen=_carcinogen_summary(chemicals.safety.Carcinogen(cas)), **_descriptors(mol),
    )


def _restricted_compound(row: dict[str, str], where: str) -> Compound:
    from rdkit.Chem import Descriptors

    name = _required(row, "name", where)
    compound_class = _required(row, "compound_class", where)
    if compound_class not in RESTRICTED_CLASSES:
        raise DataFileError(f"{where}: class {compound_class!r} of {name!r} is not one of "
                            f"{', '.join(RESTRICTED_CLASSES)}")
    cas = row["cas"].strip() or None
    if cas and not is_valid_cas(cas):
        raise DataFileError(f"{where}: {cas!r} of {name!r} is not a valid CAS number")
    mol = _parse_smiles(_required(row, "smiles", where), where, name)
    return Compound(
        name=name, synonyms=split_synonyms(row["synonyms"]), cas=cas, formula=_rdkit_formula(mol),
        molar_mass=round(Descriptors.MolWt(mol), 3), smiles=_canonical(mol),
        compound_class=compound_class, source_list=_required(row, "source_list", where),
        category=None, **_descriptors(mol),
    )


def _claim_identifiers(compound: Compound, where: str,
                       seen: dict[tuple[str, str], tuple[str, Compound]]) -> None:
    """Record the compound's names, CAS and structure; raise if another compound already has one."""
    keys = {("name", normalize_name(text)) for text in (compound.name, *compound.synonyms)}
    keys.add(("structure", compound.smiles))
    if compound.cas:
        keys.add(("CAS", compound.cas))
    for kind, value in sorted(keys):
        if (kind, value) in seen:
            other_where, other = seen[(kind, value)]
            raise DataFileError(f"{where}: {kind} {value!r} of {compound.name!r} is already used by "
                                f"{other.name!r} ({other_where})")
        seen[(kind, value)] = (where, compound)


def is_valid_cas(cas: str) -> bool:
    """True for a well-formed CAS registry number whose check digit is right (e.g. '64-17-5')."""
    match = re.fullmatch(r"(\d{2,7})-(\d{2})-(\d)", cas)
    if not match:
        return False
    digits = match.group(1) + match.group(2)
    return sum(int(d) * i for i, d in enumerate(reversed(digits), start=1)) % 10 == int(match.group(3))


# --- RDKit and chemicals helpers ---------------------------------------------------------------

def _parse_smiles(smiles: str, where: str, name: str):
    from rdkit import Chem, rdBase

    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise DataFileError(f"{where}: RDKit cannot parse SMILES {smiles!r} of {name!r}")
    return mol


def _canonical(mol) -> str:
    from rdkit import Chem

    return Chem.MolToSmiles(mol)


def _rdkit_formula(mol) -> str:
    from rdkit.Chem.rdMolDescriptors import CalcMolFormula

    return CalcMolFormula(mol)




def _descriptors(mol) -> dict:
    from rdkit.Chem import rdMolDescriptors

    return {
        "hbd": rdMolDescriptors.CalcNumHBD(mol),
        "hba": rdMolDescriptors.CalcNumHBA(mol),
        "ring_count": rdMolDescriptors.CalcNumRings(mol),
        "aromatic": any(atom.GetIsAromatic() for atom in mol.GetAtoms()),
        "heavy_atoms": mol.GetNumHeavyAtoms(),
    }


def _element_counts(formula: str) -> Counter:
    """Element -> count of a formula such as 'C2H6O' or 'ClH'; charge signs are ignored."""
    counts: Counter = Counter()
    for element, number in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        counts[element] += int(number or 1)
    return counts


def _celsius(kelvin: Optional[float]) -> Optional[float]:
    return None if kelvin is None else round(kelvin - 273.15, 2)


def _exposure_limit(limit: Optional[tuple[float, str]]) -> Optional[tuple[float, str]]:
    """(value to 4 significant digits, unit), as ``chemicals`` gives it."""
    return None if limit is None else (float(f"{limit[0]:.4g}"), limit[1])


def _carcinogen_summary(status: dict[str, str]) -> Optional[str]:
    """E.g. 'IARC: Group 2B; NTP: Reasonably Anticipated' from ``chemicals.safety.Carcinogen``;
    None when the compound is unlisted everywhere."""
    from chemicals import safety

    parts = []
    iarc, ntp = status[safety.IARC], status[safety.NTP]
    if iarc != safety.UNLISTED:
        parts.append(f"IARC: Group {iarc.rsplit('(', 1)[1].rstrip(')')}")
    if ntp != safety.UNLISTED:
        parts.append(f"NTP: {ntp}")
    return "; ".join(parts) or None




def _required(row: dict[str, str], column: str, where: str) -> str:
    value = row[column].strip()
    if not value:
        raise DataFileError(f"{where}: empty {column}")
    return value




def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m librachem_utils.chem.build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--rebuild", action="store_true",
                        help=f"resolve the curated lists and write {TABLE_CSV.name}")
    args = parser.parse_args(argv)
    if args.rebuild:
        rebuild()
    counts = Counter(c.compound_class for c in load_kb().compounds)
    print(f"{TABLE_CSV}: " + ", ".join(f"{cls} {counts[cls]}" for cls in COMPOUND_CLASSES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
