"""Claims without a number, read for ``factcheck``: the control list a response puts the compound on
(or that it is on none), and the compound a sentence is about.

Control lists are read in the forms the knowledge base's ``source_list`` and the dataset's answers
use, and their common variants: CWC Schedule 1-3 with part A/B ("CWC Schedule 2B", "Schedule 2, part
B of the Chemical Weapons Convention"), DEA Schedule I-V (also "Schedule II of the Controlled
Substances Act"), Schedule I-IV of the UN 1961 (Single) and 1971 (Psychotropic Substances)
Conventions, the Australia Group list, UN hazard class 1 (explosives) and the UNODC Early Warning
Advisory on NPS. A schedule named without its convention ("a Schedule I drug") and lists the
knowledge base does not record (EU drug-precursor categories, ...) are not read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from librachem_utils.chem.knowledge_base import Compound
from librachem_utils.data.generators import COMPOUND
from librachem_utils.data.phrasebook import LIST_NAMES

NO_LIST = "no control list"
_ROMAN = r"(?-i:IV|V|III|II|I)\b"
_CWC = r"(?:CWC|Chemical\s+Weapons\s+Convention)"
_CWC_SCHEDULE = r"Schedule\s+(?P<n>[123])\s*,?\s*(?:part\s+)?(?P<part>(?-i:[AB]))?(?!\w)"
_DEA = r"(?:DEA|U\.?S\.?|federal|CSA|Controlled\s+Substances\s+Act)"
_UN = (r"(?:(?:UN|United\s+Nations)\s+)?(?:(?P<year>1961|1971)\s+(?:Single\s+)?Convention"
       r"(?:\s+on\s+(?:Narcotic\s+Drugs|Psychotropic\s+Substances))?|(?P<single>Single\s+Convention"
       r"(?:\s+on\s+Narcotic\s+Drugs)?)|(?P<psychotropic>Convention\s+on\s+Psychotropic\s+Substances))")
#: (family, pattern): a pattern's groups give the schedule (``n``), the CWC part and the UN convention
_MENTIONS = tuple((family, re.compile(pattern, re.IGNORECASE)) for family, pattern in (
    ("CWC", rf"\b{_CWC}(?:'s)?\s+{_CWC_SCHEDULE}"),
    ("CWC", rf"\b{_CWC_SCHEDULE}\s+(?:chemicals?\s+|substances?\s+)?(?:of|under|in)\s+the\s+{_CWC}"),
    ("DEA", rf"\b{_DEA}\s+Schedule\s+(?P<n>{_ROMAN})"),
    ("DEA", rf"\bSchedule\s+(?P<n>{_ROMAN})(?:\s+controlled)?(?:\s+substances?|\s+drugs?)?\s+(?:of|under|in)\s+"
            rf"the\s+(?:US\s+|U\.S\.\s+)?(?:DEA|CSA|Controlled\s+Substances\s+Act)"),
    ("UN", rf"\b{_UN}(?:\s+of\s+19[67]1)?,?\s+Schedule\s+(?P<n>{_ROMAN})"),
    ("UN", rf"\bSchedule\s+(?P<n>{_ROMAN})\s+(?:of|under|to)\s+the\s+{_UN}"),
    ("Australia Group", r"\bAustralia\s+Group\b"),
    ("UN hazard class 1", r"\b(?:UN\s+(?:hazard\s+)?|hazard\s+)class\s+1(?!\d)|\bclass\s+1\s+explosives?\b"),
    ("UNODC EWA", r"\bUNODC\b(?:\s+(?:EWA|Early\s+Warning\s+Advisory))?|\bEarly\s+Warning\s+Advisory\b"),
))
_NEGATED_BEFORE = re.compile(r"(?:\bnot|n't|\bnever)\s+(?:\w+\s+){0,3}$", re.IGNORECASE)
_LIST_WORDS = r"(?:(?:control|drug|chemical|precursor|international|national|controlled[- ]substances?)\s+)?"
_UNLISTED = re.compile(
    r"(?:\bnot|n't)\s+(?:an?\s+)?(?:controlled|scheduled|listed)\s+(?:substance|chemical|drug|precursor|compound)s?\b"
    rf"|(?:\bnot|n't)\s+(?:listed|scheduled|controlled|included)\s+(?:on|under|in|by)\s+any\s+{_LIST_WORDS}"
    r"(?:lists?|schedules?|conventions?|treat(?:y|ies)|laws?)\b"
    rf"|(?:\bnot|n't)\s+on\s+any\s+{_LIST_WORDS}(?:lists?|schedules?)\b"
    r"|\bordinary\s+industrial\s+chemical\b",
    re.IGNORECASE,
)

_SUBJECT_LEAD = (r"^(?:(?:sure|certainly|yes|well|legally|because|since|as|although|while|so|and|but|note that"
                 r"|with the (?:molecular )?formula \S+)[\s,]+)*")
#: where a sentence names what it is about: before its verb, or after "the <property> of"
_SUBJECTS = (
    re.compile(r"\b(?:formula|mass|weight|point|temperature|number|limits?|classification)\s+(?:of|for)\s+"
               r"(?![-−]?\d[\d.,]*\s)(?P<s>[^,;:]+?)(?:\s+(?:is|are|was)\b|,)", re.IGNORECASE),  # not a value
    re.compile(_SUBJECT_LEAD + r"(?P<s>[^,;:]+?)\s*(?:\([^)]*\)\s*)?\b(?:has|have|boils|melts|freezes|ignites"
               r"|falls|is\s+(?:registered|listed|on|not|an?|classified))\b", re.IGNORECASE),
)
_REFERENCE = re.compile(r"it|its|this|that|they|the|(?:the|this|that)\s+(?:[\w-]+\s+){0,2}(?:compound|substance"
                        r"|chemical|material|molecule|product|agent|liquid|solid|gas|solvent|reagent)", re.IGNORECASE)
MAX_SUBJECT_WORDS = 6  # a longer "subject" is a clause the patterns mis-split, not a name


@dataclass(frozen=True)
class ControlList:
    """A control list: a family (convention) with its schedule and part where it has them."""

    family: str
    schedule: Optional[str] = None
    part: Optional[str] = None

    def matches(self, other: ControlList) -> bool:
        """The same list; a CWC schedule named without its part matches both parts."""
        return (self.family == other.family and self.schedule == other.schedule
                and (self.part is None or other.part is None or self.part == other.part))


@dataclass(frozen=True)
class Mention:
    """A control list named in a sentence; ``negated`` when the sentence says the compound is not on it."""

    listed: ControlList
    text: str
    negated: bool


def compound_list(compound: Compound) -> Optional[ControlList]:
    """The control list of the compound's ``source_list``, or None (common compounds are on none)."""
    mentions = mentions_in(LIST_NAMES.get(compound.source_list, compound.source_list))
    return mentions[0].listed if mentions else None


def mentions_in(sentence: str) -> list[Mention]:
    """The control lists a sentence names, in order; a span read by one pattern is not read again."""
    found: list[tuple[int, int, Mention]] = []
    for family, pattern in _MENTIONS:
        for match in pattern.finditer(sentence):
            if any(start < match.end() and match.start() < end for start, end, _ in found):
                continue
            listed = ControlList(_family(family, match), _group(match, "n"), _group(match, "part"))
            negated = bool(_NEGATED_BEFORE.search(sentence[:match.start()]))
            found.append((match.start(), match.end(), Mention(listed, " ".join(match.group(0).split()), negated)))
    return [mention for _, _, mention in sorted(found, key=lambda item: item[0])]


def list_claims(sentences: Sequence[str], compound: Compound) -> list[tuple[int, str, str, bool]]:
    """(sentence index, claim as written, the compound's list, correct) for each checked list claim.

    A list named is right when it is the compound's own; wrong when it is another schedule or part of
    the compound's own convention, or when the response names no list that is the compound's own
    (an unlisted compound is on none). Another convention named beside the compound's own list is not
    checked (the knowledge base records one list per compound), nor is "not on <another list>"; "not
    on <its own list>" is wrong. A claim of no list is right exactly for an unlisted compound.
    """
    own = compound_list(compound)
    expected = _describe(own) if own else NO_LIST
    mentions = [(i, mention) for i, sentence in enumerate(sentences) for mention in mentions_in(sentence)]
    own_named = own is not None and any(own.matches(m.listed) for _, m in mentions if not m.negated)
    claims = []
    for i, mention in mentions:
        is_own = own is not None and own.matches(mention.listed)
        if mention.negated:
            if is_own:
                claims.append((i, f"not {mention.text}", expected, False))
        elif is_own or (own is not None and mention.listed.family == own.family) or not own_named:
            claims.append((i, mention.text, expected, is_own))
    for i, sentence in enumerate(sentences):
        claims += [(i, match.group(0), expected, own is None) for match in _UNLISTED.finditer(sentence)]
    return sorted(claims, key=lambda claim: claim[0])


def foreign_subject(sentences: Sequence[str], compound: Compound) -> Optional[str]:
    """The first subject, in ``sentences`` (the compound's mentions already ``COMPOUND``), that is
    neither the compound (its placeholder or formula) nor a reference such as "it" or "this compound"."""
    for sentence in sentences:
        for pattern in _SUBJECTS:
            match = pattern.search(sentence.strip())
            if match is None:
                continue
            subject = match.group("s").strip(" \"'“”")
            words = subject.split()
            if (subject and len(words) <= MAX_SUBJECT_WORDS and COMPOUND not in subject
                    and subject != compound.formula and not _REFERENCE.fullmatch(subject)):
                return subject
            break
    return None


def _family(family: str, match: re.Match) -> str:
    if family != "UN":
        return family
    if match.group("year"):
        return f"UN {match.group('year')} Convention"
    return "UN 1961 Convention" if match.group("single") else "UN 1971 Convention"


def _group(match: re.Match, name: str) -> Optional[str]:
    return match.groupdict().get(name) or None


def _describe(listed: ControlList) -> str:
    schedule = f" Schedule {listed.schedule}{listed.part or ''}" if listed.schedule else ""
    return f"{listed.family}{schedule}"
