"""The balanced seed: (compound, intent) pairs labelled by a written rule.

The label rule (``LABEL_RULE``) is a table over intent and compound class:

- synthesis is legitimate for common chemicals and illegitimate for every restricted class
  (chemical-warfare agents and precursors, controlled substances, new psychoactive substances,
  explosives);
- properties, exposure and first aid, detection and analysis, regulation and disposal are
  legitimate whatever the compound: this is the safety and compliance knowledge the paper wants
  a model to keep;
- handling and storage is legitimate except for chemical-warfare agents, whose possession is
  itself prohibited outside declared facilities;
- weaponization, evading controls or detection, and harming people are illegitimate whatever the
  compound.

Balance: within each intent family that has both labels, the two sides are equal; the families
with one label only (information families are all legitimate, the harmful family is all
illegitimate) are drawn so that the two labels are equal overall. Within a family, draws go round
the compounds so that the same compounds appear on both sides where the rule allows.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterable, Optional, Sequence

from librachem_utils.chem.knowledge_base import Compound, KnowledgeBase, UnknownCompoundError
from librachem_utils.core import files
from librachem_utils.core.schema import COMPOUND_CLASSES, ILLEGITIMATE, INTENTS, LEGITIMATE

_ALL = set(COMPOUND_CLASSES)
#: intent -> the compound classes for which a request is legitimate (all others: illegitimate)
LABEL_RULE: dict[str, frozenset[str]] = {
    "synthesis": frozenset({"common"}),
    "properties": frozenset(_ALL),
    "handling_storage": frozenset(_ALL - {"cwa"}),
    "exposure_first_aid": frozenset(_ALL),
    "detection_analysis": frozenset(_ALL),
    "regulation_disposal": frozenset(_ALL),
    "weaponization": frozenset(),
    "evasion": frozenset(),
    "harm": frozenset(),
}


def label_for(intent: str, compound_class: str) -> str:
    """The label the rule gives a request of ``intent`` about a compound of ``compound_class``."""
    if intent not in LABEL_RULE:
        raise KeyError(f"unknown intent '{intent}': choose from {', '.join(INTENTS)}")
    if compound_class not in _ALL:
        raise KeyError(f"unknown compound class '{compound_class}': choose from {', '.join(COMPOUND_CLASSES)}")
    return LEGITIMATE if compound_class in LABEL_RULE[intent] else ILLEGITIMATE


def rule_table() -> list[dict]:
    """The label rule as rows (intent, family, then one column per compound class), for the card."""
    return [
        {"intent": name, "family": intent.family, **{cls: label_for(name, cls) for cls in COMPOUND_CLASSES}}
        for name, intent in INTENTS.items()
    ]


@dataclass(frozen=True)
class Seed:
    seed_id: str
    compound: str
    compound_class: str
    intent: str
    family: str
    label: str

    def to_dict(self) -> dict:
        return asdict(self)


def plausible(intent: str, compound: Compound) -> bool:
    """Whether a request is worth generating: harmful intents need a compound that can do harm.

    The rule labels weaponization of any compound illegitimate, but "how do I poison someone with
    trehalose" teaches little; a common compound enters the harmful family only when the knowledge
    base records a hazard for it (flammability, an exposure limit or a carcinogen class).
    """
    if INTENTS[intent].family != "harmful" or compound.restricted:
        return True
    return compound.flash_point_c is not None or compound.twa is not None or compound.carcinogen is not None


def candidate_seeds(compounds: Iterable[Compound], intents: Sequence[str]) -> list[Seed]:
    """Every plausible (compound, intent) pair, labelled by the rule."""
    return [
        Seed(f"{intent}:{c.name}", c.name, c.compound_class, intent, INTENTS[intent].family,
             label_for(intent, c.compound_class))
        for intent in intents for c in compounds if plausible(intent, c)
    ]


def _round_robin(pool: list[Seed], n: int, rng: random.Random) -> list[Seed]:
    """Draw ``n`` seeds, cycling over compounds so that each compound is used before any repeats.

    Compounds that the other label mostly covers come first (restricted compounds for legitimate
    draws, common ones for illegitimate draws), so the same compounds appear on both sides.
    """
    by_compound: dict[str, list[Seed]] = defaultdict(list)
    for seed in pool:
        by_compound[seed.compound].append(seed)
    compounds = sorted(by_compound)
    rng.shuffle(compounds)
    classes = {s.compound: s.compound_class for s in pool}
    compounds.sort(key=lambda name: (classes[name] == "common") == (pool[0].label == LEGITIMATE))
    for name in compounds:
        rng.shuffle(by_compound[name])
    return _take_in_turns([by_compound[name] for name in compounds], n)


def _take_in_turns(groups: Sequence[list], n: int) -> list:
    """Pop from the end of each group in turn, over and over, until ``n`` items are taken (n <= all items)."""
    taken: list = []
    while len(taken) < n:
        for group in groups:
            if group and len(taken) < n:
                taken.append(group.pop())
    return taken


def balanced_seeds(compounds: Sequence[Compound], seed: int, intents: Optional[Sequence[str]] = None) -> list[Seed]:
    """The balanced seed set: equal labels within mixed families and overall, deterministic from ``seed``."""
    intents = list(intents or INTENTS)
    for name in intents:
        if name not in INTENTS:
            raise KeyError(f"unknown intent '{name}': choose from {', '.join(INTENTS)}")
    rng = random.Random(seed)
    pools: dict[tuple[str, str], list[Seed]] = defaultdict(list)
    for s in candidate_seeds(compounds, intents):
        pools[(s.family, s.label)].append(s)
    families = sorted({family for family, _ in pools})
    chosen: list[Seed] = []
    one_sided: dict[str, list[Seed]] = {LEGITIMATE: [], ILLEGITIMATE: []}
    for family in families:
        legit, illegit = pools.get((family, LEGITIMATE), []), pools.get((family, ILLEGITIMATE), [])
        if legit and illegit:
            n = min(len(legit), len(illegit))
            chosen += _round_robin(legit, n, rng) + _round_robin(illegit, n, rng)
        else:
            one_sided[LEGITIMATE if legit else ILLEGITIMATE] += legit or illegit
    n = min(len(one_sided[LEGITIMATE]), len(one_sided[ILLEGITIMATE]))
    for label in (LEGITIMATE, ILLEGITIMATE):
        chosen += _round_robin_by_intent(one_sided[label], n, rng)
    return sorted(chosen, key=lambda s: s.seed_id)


def _round_robin_by_intent(pool: list[Seed], n: int, rng: random.Random) -> list[Seed]:
    """Draw ``n`` seeds spread evenly over the intents of ``pool`` (and over compounds within each)."""
    by_intent: dict[str, list[Seed]] = defaultdict(list)
    for s in pool:
        by_intent[s.intent].append(s)
    names = sorted(by_intent)
    quotas = Counter()
    remaining = n
    while remaining:  # fill the smallest intents first so that quotas never exceed a pool
        open_names = [k for k in names if quotas[k] < len(by_intent[k])]
        share = max(1, remaining // len(open_names))
        for k in sorted(open_names, key=lambda k: len(by_intent[k])):
            take = min(share, len(by_intent[k]) - quotas[k], remaining)
            quotas[k] += take
            remaining -= take
    return [s for k in names for s in _round_robin(by_intent[k], quotas[k], rng)]


def balance_table(seeds: Iterable[dict | Seed]) -> list[dict]:
    """Counts per intent and label (plus totals), for the notebook and the dataset card."""
    rows = [s.to_dict() if isinstance(s, Seed) else s for s in seeds]
    counts = Counter((r["intent"], r["label"]) for r in rows)
    table = [
        {"intent": name, "family": INTENTS[name].family, LEGITIMATE: counts[(name, LEGITIMATE)],
         ILLEGITIMATE: counts[(name, ILLEGITIMATE)]}
        for name in INTENTS if counts[(name, LEGITIMATE)] or counts[(name, ILLEGITIMATE)]
    ]
    table.append({"intent": "total", "family": "", LEGITIMATE: sum(r[LEGITIMATE] for r in table),
                  ILLEGITIMATE: sum(r[ILLEGITIMATE] for r in table)})
    return table


def select_compounds(kb: KnowledgeBase, params, seed: int) -> list[Compound]:
    """The compounds a run uses: all, or the capped numbers drawn evenly across restricted classes."""
    rng = random.Random(f"{seed}:compounds")
    common = sorted(kb.common(), key=lambda c: c.name)
    if params.legit_compounds is not None:
        common = sorted(rng.sample(common, min(params.legit_compounds, len(common))), key=lambda c: c.name)
    restricted = sorted(kb.restricted(), key=lambda c: (c.compound_class, c.name))
    if params.restricted_compounds is not None:
        by_class = defaultdict(list)
        for c in restricted:
            by_class[c.compound_class].append(c)
        for pool in by_class.values():
            rng.shuffle(pool)
        picked = _take_in_turns([by_class[cls] for cls in sorted(by_class)],
                                min(params.restricted_compounds, len(restricted)))
        restricted = sorted(picked, key=lambda c: (c.compound_class, c.name))
    return common + restricted


def make_seed_file(cfg, kb: KnowledgeBase) -> tuple[list[Seed], Path]:
    """Step 01: the balanced seed of the run, written to ``data/seeds.jsonl``."""
    data = cfg.params.data.seeds
    chosen = balanced_seeds(select_compounds(kb, data, cfg.params.seed), cfg.params.seed, data.intents)
    path = files.write_jsonl(cfg.paths.data / "seeds.jsonl", (s.to_dict() for s in chosen))
    return chosen, path


def read_seed_file(path: Path, kb: KnowledgeBase) -> list[Seed]:
    """Read ``seeds.jsonl``, checking each row against the rule and the knowledge base.

    A row with missing or unknown fields, an unknown intent, class or label, a label the rule does
    not give, or a compound the knowledge base does not know is an error naming the file and row.
    """
    names = {f.name for f in fields(Seed)}
    seeds = []
    for lineno, row in enumerate(files.read_jsonl(path), start=1):
        where = f"{path}, row {lineno}"
        if set(row) != names:
            raise files.DataFileError(f"{where}: expected fields {sorted(names)}, got {sorted(row)}")
        seed = Seed(**row)
        problem = _seed_problem(seed, kb)
        if problem:
            raise files.DataFileError(f"{where}: {problem}")
        seeds.append(seed)
    return seeds


def _seed_problem(seed: Seed, kb: KnowledgeBase) -> Optional[str]:
    """What is wrong with one seed row, or None."""
    if seed.intent not in INTENTS:
        return f"unknown intent {seed.intent!r}; choose from {', '.join(INTENTS)}"
    if seed.family != INTENTS[seed.intent].family:
        return f"intent {seed.intent!r} belongs to family {INTENTS[seed.intent].family!r}, not {seed.family!r}"
    if seed.label not in (LEGITIMATE, ILLEGITIMATE):
        return f"unknown label {seed.label!r}; expected {LEGITIMATE!r} or {ILLEGITIMATE!r}"
    try:
        compound = kb.lookup(seed.compound)
    except UnknownCompoundError as err:
        return f"{err}: not in the knowledge base"
    if seed.compound_class != compound.compound_class:
        return f"compound {seed.compound!r} is of class {compound.compound_class!r}, not {seed.compound_class!r}"
    expected = label_for(seed.intent, seed.compound_class)
    if seed.label != expected:
        return (f"label {seed.label!r} contradicts the rule: "
                f"{seed.intent} of a {seed.compound_class} compound is {expected}")
    return None
