"""Offline chemistry knowledge base: common (legitimate) and restricted compounds, and their lookup.

``load_kb`` reads the generated table ``data/compounds.csv`` without importing ``chemicals`` or
RDKit, so a warm start takes milliseconds; a lookup by SMILES imports RDKit to canonicalize the
query. The table is rebuilt from the curated lists by ``chem.build`` (``python -m
librachem_utils.chem.build --rebuild``), which says where each field comes from.
"""
from __future__ import annotations

import csv
import functools
import io as _stdio
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from librachem_utils.core import files
from librachem_utils.core.files import DataFileError
from librachem_utils.core.schema import COMMON_CLASS, COMPOUND_CLASSES

if TYPE_CHECKING:
    import pandas


DATA_DIR = Path(__file__).resolve().parent / "data"
TABLE_CSV = DATA_DIR / "compounds.csv"
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
        self.compounds: tuple[Compound, ...] = tuple(sorted(compounds, key=sort_key))
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

    def to_frame(self) -> pandas.DataFrame:
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


@functools.cache
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
    for line, row in read_csv_rows(path, TABLE_COLUMNS):
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
        name=row["name"], synonyms=split_synonyms(row["synonyms"]), cas=row["cas"] or None,
        formula=row["formula"], molar_mass=float(row["molar_mass"]), smiles=row["smiles"],
        compound_class=row["compound_class"], source_list=row["source_list"],
        category=row["category"] or None, boiling_point_c=number("boiling_point_c"),
        melting_point_c=number("melting_point_c"), flash_point_c=number("flash_point_c"),
        autoignition_c=number("autoignition_c"), twa=limit("twa"), stel=limit("stel"),
        carcinogen=row["carcinogen"] or None, hbd=int(row["hbd"]), hba=int(row["hba"]),
        ring_count=int(row["ring_count"]), aromatic=row["aromatic"] == "true",
        heavy_atoms=int(row["heavy_atoms"]),
    )


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


# --- shared with ``chem.build`` -------------------------------------------------------------------

def read_csv_rows(path: Path | str, columns: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
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


def split_synonyms(text: str) -> tuple[str, ...]:
    """The synonyms of a ``;``-separated cell, stripped, empty ones left out."""
    return tuple(s.strip() for s in text.split(SYNONYM_SEPARATOR) if s.strip())


def _index(index: dict[str, Compound], key: str, compound: Compound) -> None:
    if index.setdefault(key, compound) is not compound:
        raise ValueError(f"{key!r} names both {index[key].name!r} and {compound.name!r}")


def sort_key(compound: Compound) -> tuple[int, str]:
    """The knowledge-base order: class (in ``COMPOUND_CLASSES`` order), then name."""
    return COMPOUND_CLASSES.index(compound.compound_class), compound.name.casefold()
