"""Offline chemistry knowledge base: common (legitimate) and restricted compounds.

Two curated lists in ``data/`` name the compounds (identifiers only, see ``data/SOURCES.md``):

- ``common_compounds.csv``: name, synonyms, category. Identifiers and properties come from the
  offline ``chemicals`` database (CAS, formula, molar mass, SMILES, boiling/melting/flash/autoignition
  points, exposure limits, carcinogen listings);
- ``restricted_compounds.csv``: name, synonyms, CAS, SMILES, class and the public list it is on.
  Formula and molar mass are computed by RDKit from the SMILES; there is no property data.

Structure descriptors (canonical SMILES, H-bond donors/acceptors, rings, aromaticity, heavy atoms)
come from RDKit for every compound. ``python -m librachem_utils.chem.knowledge_base --rebuild`` resolves the
lists and writes the generated table ``data/compounds.csv``; ``load_kb`` reads that table without
importing ``chemicals`` or RDKit, so a warm start takes milliseconds.
"""
from __future__ import annotations

import argparse
import csv
import functools
import io as _stdio
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from librachem_utils.core import files
from librachem_utils.core.files import DataFileError
from librachem_utils.core.schema import COMMON_CLASS, COMPOUND_CLASSES, RESTRICTED_CLASSES

if TYPE_CHECKING:
    import pandas


DATA_DIR = Path(__file__).resolve().parent / "data"
COMMON_CSV = DATA_DIR / "common_compounds.csv"
RESTRICTED_CSV = DATA_DIR / "restricted_compounds.csv"
TABLE_CSV = DATA_DIR / "compounds.csv"

COMMON_COLUMNS = ("name", "synonyms", "category")
RESTRICTED_COLUMNS = ("name", "synonyms", "cas", "smiles", "compound_class", "source_list")
TABLE_COLUMNS = (
    "name", "synonyms", "cas", "formula", "molar_mass", "smiles", "compound_class", "source_list",
    "category", "boiling_point_c", "melting_point_c", "flash_point_c", "autoignition_c",
    "twa_value", "twa_unit", "stel_value", "stel_unit", "carcinogen",
    "hbd", "hba", "ring_count", "aromatic", "heavy_atoms",
)
SYNONYM_SEPARATOR = ";"


@dataclass(frozen=True)
class Compound:
    """One compound: identifiers, class, source list, properties (common only) and RDKit descriptors."""

    name: str
    synonyms: tuple[str, ...]
    cas: Optional[str]
    formula: str
    molar_mass: float  # g/mol
    smiles: str  # RDKit canonical SMILES
    compound_class: str  # common | cwa | cwa_precursor | controlled | nps | explosive
    source_list: str
    category: Optional[str]  # for common compounds: solvent, acid, ...; None otherwise
    boiling_point_c: Optional[float] = None
    melting_point_c: Optional[float] = None
    flash_point_c: Optional[float] = None
    autoignition_c: Optional[float] = None
    twa: Optional[tuple[float, str]] = None  # (value, unit), e.g. (500.0, "ppm")
    stel: Optional[tuple[float, str]] = None
    carcinogen: Optional[str] = None  # e.g. "IARC: Group 1; NTP: Known"; None when unlisted everywhere
    hbd: int = 0
    hba: int = 0
    ring_count: int = 0
    aromatic: bool = False
    heavy_atoms: int = 0

    @property
    def restricted(self) -> bool:
        return self.compound_class != COMMON_CLASS


class UnknownCompoundError(KeyError):
    """No compound matches the query (by name, synonym, CAS or SMILES)."""

    def __init__(self, query: str):
        super().__init__(f"unknown compound {query!r}")
        self.query = query

    def __str__(self) -> str:
        return self.args[0]


class KnowledgeBase:
    """The compounds, in a fixed order (class, then name), with lookup by name, synonym, CAS or SMILES."""

    def __init__(self, compounds: Iterable[Compound]):
        self.compounds: tuple[Compound, ...] = tuple(sorted(compounds, key=_sort_key))
        self._by_text: dict[str, Compound] = {}
        self._by_smiles: dict[str, Compound] = {}
        for compound in self.compounds:
            for text in (compound.name, *compound.synonyms, *([compound.cas] if compound.cas else [])):
                _index(self._by_text, normalize_name(text), compound)
            _index(self._by_smiles, compound.smiles, compound)

    def common(self) -> list[Compound]:
        return [c for c in self.compounds if not c.restricted]

    def restricted(self) -> list[Compound]:
        return [c for c in self.compounds if c.restricted]

    def lookup(self, query: str) -> Compound:
        """The compound named ``query`` (name or synonym, case- and whitespace-insensitive), with that
        CAS number, or with that structure: any valid SMILES, canonicalized by RDKit. Where no
        structure matches exactly, a SMILES without stereo matches the one compound that differs
        only by stereo, and a SMILES with stereo matches a compound stored without stereo."""
        found = self._by_text.get(normalize_name(query))
        if found is not None:
            return found
        isomeric, flat = _query_smiles(query)
        if isomeric in self._by_smiles:
            return self._by_smiles[isomeric]
        candidates = self._by_flat_smiles.get(flat, [])
        if isomeric != flat:
            candidates = [c for c in candidates if c.smiles == flat]
        if len(candidates) != 1:
            raise UnknownCompoundError(query)
        return candidates[0]

    def to_frame(self) -> "pandas.DataFrame":
        """One row per compound (all fields plus ``restricted``), for notebooks."""
        import pandas

        return pandas.DataFrame([{**asdict(c), "restricted": c.restricted} for c in self.compounds])

    @functools.cached_property
    def _by_flat_smiles(self) -> dict[str, list[Compound]]:
        """Canonical SMILES without stereo -> the compounds that have it."""
        index: dict[str, list[Compound]] = {}
        for compound in self.compounds:
            index.setdefault(_query_smiles(compound.smiles)[1], []).append(compound)
        return index


def normalize_name(text: str) -> str:
    """Case-folded, whitespace-collapsed form used to match names, synonyms and CAS numbers."""
    return " ".join(text.split()).casefold()


@functools.lru_cache(maxsize=None)
def load_kb(table: Path | str = TABLE_CSV) -> KnowledgeBase:
    """The knowledge base from the generated table (cached per path)."""
    return KnowledgeBase(read_table(table))


# --- the generated table ---------------------------------------------------------------------

def write_table(compounds: Iterable[Compound], path: Path | str = TABLE_CSV) -> Path:
    """Write ``compounds`` (in knowledge-base order) as the CSV table ``load_kb`` reads, atomically."""
    buffer = _stdio.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TABLE_COLUMNS)
    for compound in KnowledgeBase(compounds).compounds:
        writer.writerow(_table_row(compound))
    return files.write_text(path, buffer.getvalue())


def read_table(path: Path | str = TABLE_CSV) -> list[Compound]:
    """The compounds of a table written by ``write_table``; a bad row raises ``DataFileError``."""
    compounds = []
    for line, row in _read_csv(path, TABLE_COLUMNS):
        try:
            compounds.append(_compound_from_table_row(row))
        except ValueError as err:
            raise DataFileError(f"{path}, line {line}: {err}") from None
    return compounds


def _table_row(c: Compound) -> list[str]:
    def text(value) -> str:
        return "" if value is None else str(value)

    twa_value, twa_unit = c.twa or (None, None)
    stel_value, stel_unit = c.stel or (None, None)
    return [text(v) for v in (
        c.name, SYNONYM_SEPARATOR.join(c.synonyms), c.cas, c.formula, c.molar_mass, c.smiles,
        c.compound_class, c.source_list, c.category, c.boiling_point_c, c.melting_point_c,
        c.flash_point_c, c.autoignition_c, twa_value, twa_unit, stel_value, stel_unit, c.carcinogen,
        c.hbd, c.hba, c.ring_count, str(c.aromatic).lower(), c.heavy_atoms,
    )]


def _compound_from_table_row(row: dict[str, str]) -> Compound:
    def number(key: str) -> Optional[float]:
        return float(row[key]) if row[key] else None

    def limit(kind: str) -> Optional[tuple[float, str]]:
        return (float(row[f"{kind}_value"]), row[f"{kind}_unit"]) if row[f"{kind}_value"] else None

    if row["compound_class"] not in COMPOUND_CLASSES:
        raise ValueError(f"unknown compound class {row['compound_class']!r}")
    if row["aromatic"] not in ("true", "false"):
        raise ValueError(f"aromatic must be true or false, not {row['aromatic']!r}")
    return Compound(
        name=row["name"], synonyms=_split_synonyms(row["synonyms"]), cas=row["cas"] or None,
        formula=row["formula"], molar_mass=float(row["molar_mass"]), smiles=row["smiles"],
        compound_class=row["compound_class"], source_list=row["source_list"],
        category=row["category"] or None, boiling_point_c=number("boiling_point_c"),
        melting_point_c=number("melting_point_c"), flash_point_c=number("flash_point_c"),
        autoignition_c=number("autoignition_c"), twa=limit("twa"), stel=limit("stel"),
        carcinogen=row["carcinogen"] or None, hbd=int(row["hbd"]), hba=int(row["hba"]),
        ring_count=int(row["ring_count"]), aromatic=row["aromatic"] == "true",
        heavy_atoms=int(row["heavy_atoms"]),
    )


# --- building the table from the curated lists -------------------------------------------------

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
        for line, row in _read_csv(path, columns):
            where = f"{path}, line {line}"
            compound = to_compound(row, where)
            _claim_identifiers(compound, where, seen)
            compounds.append(compound)
    return sorted(compounds, key=_sort_key)


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
    synonyms = _split_synonyms(row["synonyms"])
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
        name=name, synonyms=_split_synonyms(row["synonyms"]), cas=cas, formula=_rdkit_formula(mol),
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


def _query_smiles(query: str) -> tuple[Optional[str], Optional[str]]:
    """(canonical SMILES, canonical SMILES without stereo) of ``query``; (None, None) if not SMILES."""
    from rdkit import Chem, rdBase

    text = query.strip()
    if not text or any(ch.isspace() for ch in text):
        return None, None
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(text)
    if mol is None:
        return None, None
    return Chem.MolToSmiles(mol), Chem.MolToSmiles(mol, isomericSmiles=False)


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


# --- small shared pieces -----------------------------------------------------------------------

def _read_csv(path: Path | str, columns: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header must hold ``columns``."""
    path = Path(path)
    reader = csv.DictReader(_stdio.StringIO(files.read_utf8(path)))
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
        raise DataFileError(f"{path}: missing column(s) {', '.join(missing)}")
    for row in reader:
        if None in row or any(row[c] is None for c in columns):
            raise DataFileError(f"{path}, line {reader.line_num}: expected {len(reader.fieldnames)} fields")
        yield reader.line_num, row


def _required(row: dict[str, str], column: str, where: str) -> str:
    value = row[column].strip()
    if not value:
        raise DataFileError(f"{where}: empty {column}")
    return value


def _split_synonyms(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(SYNONYM_SEPARATOR) if s.strip())


def _index(index: dict[str, Compound], key: str, compound: Compound) -> None:
    if index.setdefault(key, compound) is not compound:
        raise ValueError(f"{key!r} names both {index[key].name!r} and {compound.name!r}")


def _sort_key(compound: Compound) -> tuple[int, str]:
    return COMPOUND_CLASSES.index(compound.compound_class), compound.name.casefold()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m librachem_utils.chem.knowledge_base",
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
