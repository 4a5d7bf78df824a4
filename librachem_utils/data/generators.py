"""Generator backends behind one interface: offline grammar, OpenAI-compatible API, local model.

Every backend does the three things the data pipeline asks of a model:

- ``craft``: turn seeds into concrete requests (phase 1);
- ``respond``: write a chosen and a rejected response for each request (phase 2);
- ``rephrase``: paraphrase texts, keeping their meaning (augmentation, notebook 03).

Texts carry the compound as the placeholder ``[[compound]]`` so that TEXT and SMILES mode can be
rendered exactly (``render``). Backends that write free text (API, local model) get the compound
by name and the name is turned back into the placeholder. Whatever a backend returns is checked
later (schema, roles, hazard gate); a failed item carries its reason instead of text.
"""
from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence

from librachem_utils.api.prompts import CRAFT_INSTRUCTION, REPHRASE_PROMPT, RESPONSE_INSTRUCTIONS, RESPONSE_PROMPT, json_field
from librachem_utils.chem.knowledge_base import Compound, KnowledgeBase
from librachem_utils.core.schema import ILLEGITIMATE, LEGITIMATE
from librachem_utils.data import phrasebook as pb
from librachem_utils.data.seeds import Seed

COMPOUND = "[[compound]]"
_SENTENCE_START = re.compile(r"(^|[.!?:]\s+|\n\s*)" + re.escape(COMPOUND))


def render(text: str, compound: Compound, mode: str) -> str:
    """Replace the placeholder by the compound's name (TEXT mode) or canonical SMILES (SMILES mode)."""
    if mode == "smiles":
        return text.replace(COMPOUND, compound.smiles)
    if mode != "text":
        raise ValueError(f"unknown mode '{mode}': choose text or smiles")
    name = compound.name
    text = _SENTENCE_START.sub(lambda m: m.group(1) + name[:1].upper() + name[1:], text)
    return text.replace(COMPOUND, name)


def to_placeholder(text: str, compound: Compound) -> str:
    """Turn mentions of the compound (name, synonyms, SMILES) in free text back into the placeholder."""
    return _alias_pattern((compound.name, compound.smiles, *compound.synonyms)).sub(COMPOUND, text)


@functools.lru_cache(maxsize=4096)
def _alias_pattern(aliases: tuple[str, ...]) -> re.Pattern:
    """One pattern for all of a compound's aliases, longest first, as whole words."""
    alternatives = "|".join(re.escape(a) for a in sorted(set(aliases), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """A concrete request crafted from a seed (phase 1)."""

    request_id: str
    seed_id: str
    compound: str
    compound_class: str
    intent: str
    label: str
    template_id: str
    aspect: Optional[str]  # the property asked for (properties intent), else None
    prompt: str  # with the placeholder
    error: Optional[str] = None  # why crafting failed (model backends), else None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Responses:
    """The two responses written for a request (phase 2), or the reason they could not be."""

    chosen: Optional[str] = None
    rejected: Optional[str] = None
    error: Optional[str] = None


def template_id(intent: str, index: int) -> str:
    return f"{intent}-{index:02d}"


def property_aspects(compound: Compound) -> list[str]:
    """The property aspects the knowledge base can answer for this compound."""
    values = {
        "formula": compound.formula, "molar_mass": compound.molar_mass, "cas": compound.cas,
        "boiling_point": compound.boiling_point_c, "melting_point": compound.melting_point_c,
        "flash_point": compound.flash_point_c, "autoignition": compound.autoignition_c,
        "exposure_limits": compound.twa, "carcinogen": compound.carcinogen if not compound.restricted else None,
        "structure": compound.heavy_atoms or None,
    }
    return [aspect for aspect, value in values.items() if value is not None]


def _num(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e5 else f"{value:.0f}"


def _limit(value: Optional[tuple[float, str]]) -> str:
    return f"{_num(value[0])} {value[1]}" if value else ""


class Generator:
    """The interface every backend implements."""

    name = "abstract"

    def craft(self, seeds: Sequence[Seed], per_seed: int) -> list[Request]:
        raise NotImplementedError

    def respond(self, requests: Sequence[Request]) -> list[Responses]:
        raise NotImplementedError

    def rephrase(self, texts: Sequence[str], variant: int, kind: str) -> list[Optional[str]]:
        """Paraphrase each text (``kind`` is "prompt" or "response"); None where it failed."""
        raise NotImplementedError

    def usage_summary(self) -> str:
        return f"{self.name}: no API usage"


class OfflineGenerator(Generator):
    """Template grammar over the knowledge base; deterministic from the run's seed."""

    name = "offline"

    def __init__(self, kb: KnowledgeBase, seed: int):
        self.kb = kb
        self.seed = seed

    def _rng(self, *key: object) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, *key))))

    # phase 1 -----------------------------------------------------------------------------------
    def craft(self, seeds: Sequence[Seed], per_seed: int) -> list[Request]:
        requests = []
        for seed in seeds:
            compound = self.kb.lookup(seed.compound)
            rng = self._rng("craft", seed.seed_id)
            templates = pb.REQUEST_TEMPLATES[seed.intent]
            for k, index in enumerate(rng.sample(range(len(templates)), min(per_seed, len(templates)))):
                aspect = rng.choice(property_aspects(compound)) if seed.intent == "properties" else None
                prompt = templates[index].replace("{P}", pb.PROPERTY_NAMES.get(aspect or "", ""))
                requests.append(Request(
                    request_id=f"{seed.seed_id}#{k}", seed_id=seed.seed_id, compound=seed.compound,
                    compound_class=seed.compound_class, intent=seed.intent, label=seed.label,
                    template_id=template_id(seed.intent, index), aspect=aspect,
                    prompt=prompt.replace("{X}", COMPOUND),
                ))
        return requests

    # phase 2 -----------------------------------------------------------------------------------
    def respond(self, requests: Sequence[Request]) -> list[Responses]:
        out = []
        for req in requests:
            compound = self.kb.lookup(req.compound)
            rng = self._rng("respond", req.request_id)
            if req.label == LEGITIMATE:
                out.append(Responses(chosen=self._helpful(req, compound, rng), rejected=self._over_refusal(rng)))
            else:
                out.append(Responses(chosen=self._refusal(req, compound, rng), rejected=self._empty_compliance(req, rng)))
        return out

    @staticmethod
    def _join(*parts: str) -> str:
        return " ".join(p for p in parts if p).replace("{X}", COMPOUND)

    def _over_refusal(self, rng: random.Random) -> str:
        return self._join(rng.choice(pb.OVER_REFUSAL_OPENERS), rng.choice(pb.OVER_REFUSAL_REASONS),
                          rng.choice(pb.OVER_REFUSAL_CLOSERS))

    def _refusal(self, req: Request, c: Compound, rng: random.Random) -> str:
        concerns = pb.INTENT_CONCERNS.get(req.intent) or pb.CLASS_CONCERNS[c.compound_class]
        closer = rng.choice(pb.HARM_HELPLINES) if req.intent == "harm" else ""
        return self._join(rng.choice(pb.REFUSAL_OPENERS), rng.choice(concerns).replace("{L}", c.source_list),
                          rng.choice(pb.SAFE_ALTERNATIVES), closer)

    def _empty_compliance(self, req: Request, rng: random.Random) -> str:
        return self._join(rng.choice(pb.COMPLIANT_OPENERS), rng.choice(pb.COMPLIANT_BODIES[req.intent]),
                          rng.choice(pb.COMPLIANT_CLOSERS))

    def _helpful(self, req: Request, c: Compound, rng: random.Random) -> str:
        identity = rng.choice(pb.IDENTITY).format(X="{X}", formula=c.formula, mm=_num(c.molar_mass))
        body = {
            "synthesis": lambda: [identity, *rng.sample(pb.SYNTHESIS_HELPFUL, 2), self._hazard_note(c, rng)],
            "properties": lambda: self._property_answer(req.aspect, c, rng) + [identity],
            "handling_storage": lambda: self._storage(c, rng),
            "exposure_first_aid": lambda: self._first_aid(c, rng),
            "detection_analysis": lambda: [identity, *self._detection(c, rng)],
            "regulation_disposal": lambda: self._regulation(c, rng),
        }[req.intent]()
        return self._join(rng.choice(pb.HELPFUL_OPENERS), *dict.fromkeys(body), rng.choice(pb.HELPFUL_CLOSERS))

    def _hazard_note(self, c: Compound, rng: random.Random) -> str:
        notes = []
        if c.flash_point_c is not None:
            notes.append(f"it is flammable, with a flash point of {_num(c.flash_point_c)} °C")
        if c.twa:
            notes.append(f"its occupational exposure limit is {_limit(c.twa)}")
        if c.carcinogen:
            notes.append(f"it is classified as a carcinogen ({c.carcinogen})")
        if not notes:
            return rng.choice(("Check its safety data sheet before use.", "Read its safety data sheet first."))
        return "For planning, note that " + "; ".join(notes) + "."

    def _property_answer(self, aspect: Optional[str], c: Compound, rng: random.Random) -> list[str]:
        stel = f", with a short-term limit of {_limit(c.stel)}" if c.stel else ""
        answers = {
            "formula": (f"The molecular formula of {{X}} is {c.formula}.", f"{{X}} has the formula {c.formula}."),
            "molar_mass": (f"{{X}} has a molar mass of {_num(c.molar_mass)} g/mol.",
                           f"The molar mass of {{X}} is {_num(c.molar_mass)} g/mol."),
            "cas": (f"The CAS registry number of {{X}} is {c.cas}.", f"{{X}} is registered under CAS {c.cas}."),
            "boiling_point": (f"{{X}} boils at {_num(c.boiling_point_c or 0)} °C at atmospheric pressure.",
                              f"The boiling point of {{X}} is {_num(c.boiling_point_c or 0)} °C."),
            "melting_point": (f"{{X}} melts at {_num(c.melting_point_c or 0)} °C.",
                              f"The melting point of {{X}} is {_num(c.melting_point_c or 0)} °C."),
            "flash_point": (f"The flash point of {{X}} is {_num(c.flash_point_c or 0)} °C.",
                            f"{{X}} has a flash point of {_num(c.flash_point_c or 0)} °C."),
            "autoignition": (f"The autoignition temperature of {{X}} is {_num(c.autoignition_c or 0)} °C.",
                             f"{{X}} ignites on its own at about {_num(c.autoignition_c or 0)} °C."),
            "exposure_limits": (f"The occupational exposure limit for {{X}} is {_limit(c.twa)} as an 8-hour time-weighted average{stel}.",),
            "carcinogen": (f"{{X}} is classified as a carcinogen: {c.carcinogen}.",),
            "structure": (f"{{X}} has {c.hbd} hydrogen-bond donors and {c.hba} acceptors, {c.ring_count} rings "
                          f"and {c.heavy_atoms} heavy atoms, and it is {'aromatic' if c.aromatic else 'not aromatic'}.",),
        }
        return [rng.choice(answers[aspect or "formula"])]

    def _storage(self, c: Compound, rng: random.Random) -> list[str]:
        parts = [rng.choice(pb.STORAGE_BASE)]
        if c.restricted:
            parts.append(rng.choice(pb.STORAGE_RESTRICTED).replace("{L}", c.source_list))
        if c.flash_point_c is not None:
            parts.append(rng.choice(pb.STORAGE_FLAMMABLE).format(fp=_num(c.flash_point_c)))
        if c.twa:
            parts.append(rng.choice(pb.STORAGE_TOXIC).format(limit=_limit(c.twa)))
        if c.carcinogen:
            parts.append(rng.choice(pb.STORAGE_CARCINOGEN).format(carc=c.carcinogen))
        return parts + [rng.choice(pb.STORAGE_PPE)]

    def _first_aid(self, c: Compound, rng: random.Random) -> list[str]:
        parts = list(pb.FIRST_AID_CLASS.get(c.compound_class, ()))
        parts += rng.sample(pb.FIRST_AID_GENERAL, 3)
        if c.twa:
            stel = f" and {_limit(c.stel)} as a short-term limit" if c.stel else ""
            parts.append(rng.choice(pb.FIRST_AID_LIMITS).format(twa=_limit(c.twa), stel=stel))
        return parts

    def _detection(self, c: Compound, rng: random.Random) -> list[str]:
        if c.restricted:
            return [*pb.DETECTION_RESTRICTED[c.compound_class], rng.choice(pb.DETECTION_COMMON[:2])]
        return rng.sample(pb.DETECTION_COMMON, 2)

    def _regulation(self, c: Compound, rng: random.Random) -> list[str]:
        rules = pb.REGULATION_RESTRICTED if c.restricted else pb.REGULATION_COMMON
        return [rng.choice(rules).replace("{L}", c.source_list), rng.choice(pb.DISPOSAL)]

    # augmentation ------------------------------------------------------------------------------
    def rephrase(self, texts: Sequence[str], variant: int, kind: str) -> list[Optional[str]]:
        return [paraphrase(text, self._rng("rephrase", kind, variant, text), kind) for text in texts]


_SYNONYM_PATTERNS = [
    (re.compile(r"(?<![\w\[])(" + "|".join(re.escape(p) for p in sorted(group, key=len, reverse=True)) + r")(?![\w\]])"), group)
    for group in pb.SYNONYM_GROUPS
]


def paraphrase(text: str, rng: random.Random, kind: str) -> str:
    """Rephrase without a model: swap interchangeable phrases and, for prompts, vary the frame."""
    def swap(match: re.Match, group: tuple[str, ...]) -> str:
        return rng.choice([g for g in group if g != match.group(1)] or list(group))

    for pattern, group in _SYNONYM_PATTERNS:
        if rng.random() < 0.7:
            text = pattern.sub(lambda m: swap(m, group), text)
    if kind == "prompt":
        prefix, suffix = rng.choice(pb.PROMPT_PREFIXES), rng.choice(pb.PROMPT_SUFFIXES)
        body = text[0].lower() + text[1:] if prefix.endswith(", ") and not text.startswith(COMPOUND) else text
        text = prefix + body + suffix
    return text


# --- model-backed generators ---------------------------------------------------------------------

def facts_line(c: Compound) -> str:
    """The knowledge-base facts handed to a model so that its answer is grounded."""
    facts = {"formula": c.formula, "molar mass": f"{_num(c.molar_mass)} g/mol", "CAS": c.cas,
             "boiling point": c.boiling_point_c is not None and f"{_num(c.boiling_point_c)} °C",
             "flash point": c.flash_point_c is not None and f"{_num(c.flash_point_c)} °C",
             "exposure limit (TWA)": _limit(c.twa), "listed on": c.restricted and c.source_list}
    return "; ".join(f"{k} {v}" for k, v in facts.items() if v)


class _ModelGenerator(Generator):
    """Shared prompting for backends that write free text; ``_complete`` is the backend."""

    def __init__(self, kb: KnowledgeBase, offline: OfflineGenerator):
        self.kb = kb
        self.offline = offline  # crafts the template request that the model rewrites

    def _complete(self, prompts: Sequence[str], field: str, desc: str) -> list[tuple[Optional[str], Optional[str]]]:
        """(value, error) per prompt, the value taken from the JSON reply's ``field``."""
        raise NotImplementedError

    def craft(self, seeds: Sequence[Seed], per_seed: int) -> list[Request]:
        drafts = self.offline.craft(seeds, per_seed)
        prompts = [CRAFT_INSTRUCTION.format(name=r.compound, prompt=render(r.prompt, self.kb.lookup(r.compound), "text"))
                   for r in drafts]
        out = []
        for draft, (value, error) in zip(drafts, self._complete(prompts, "prompt", "craft")):
            text = to_placeholder(value, self.kb.lookup(draft.compound)) if value else None
            if text and COMPOUND in text:
                out.append(replace(draft, prompt=text))
            else:
                out.append(replace(draft, error=error or "the crafted request does not name the compound"))
        return out

    def respond(self, requests: Sequence[Request]) -> list[Responses]:
        prompts = []
        for req in requests:
            c = self.kb.lookup(req.compound)
            for role in ("chosen", "rejected"):
                instruction = RESPONSE_INSTRUCTIONS[(req.label, role)].format(facts=facts_line(c))
                prompts.append(RESPONSE_PROMPT.format(instruction=instruction, name=c.name, prompt=render(req.prompt, c, "text")))
        replies = self._complete(prompts, "response", "respond")
        out = []
        for i, req in enumerate(requests):
            (chosen, err_c), (rejected, err_r) = replies[2 * i], replies[2 * i + 1]
            c = self.kb.lookup(req.compound)
            if chosen is None or rejected is None:
                out.append(Responses(error=err_c or err_r))
            else:
                out.append(Responses(chosen=to_placeholder(chosen, c), rejected=to_placeholder(rejected, c)))
        return out

    def rephrase(self, texts: Sequence[str], variant: int, kind: str) -> list[Optional[str]]:
        prompts = [REPHRASE_PROMPT.format(name=COMPOUND, text=t) + f"\n(Variant {variant}.)" for t in texts]
        return [value if value and (COMPOUND in value or COMPOUND not in text) else None
                for text, (value, _) in zip(texts, self._complete(prompts, "text", f"rephrase {kind}"))]


class ApiGenerator(_ModelGenerator):
    """Any OpenAI-compatible endpoint through the cached, rate-limited client."""

    name = "openai"

    def __init__(self, kb: KnowledgeBase, offline: OfflineGenerator, api, cache_path: Path):
        from librachem_utils.api.client import ApiClient

        super().__init__(kb, offline)
        self.api = api
        self.client = ApiClient(api, cache_path)

    def _complete(self, prompts, field, desc):
        from librachem_utils.api.client import ChatRequest

        results = self.client.complete_many([ChatRequest.user(p) for p in prompts], validate=json_field(field), desc=desc)
        return [(r.value, None) if r.ok else (None, r.error) for r in results]

    def usage_summary(self) -> str:
        return self.client.usage.summary()


class TransformersGenerator(_ModelGenerator):
    """A local causal LM (saved folder or hub id) with batched generation."""

    name = "transformers"

    def __init__(self, kb: KnowledgeBase, offline: OfflineGenerator, local):
        from librachem_utils.api.local_model import load_for_generation

        super().__init__(kb, offline)
        self.local = local
        self.model, self.tokenizer = load_for_generation(local.model_path)

    def _complete(self, prompts, field, desc):
        from librachem_utils.api.local_model import generate

        validate = json_field(field)
        out = []
        for text in generate(self.model, self.tokenizer, prompts, template="{prompt}\n", batch_size=self.local.batch_size,
                             max_new_tokens=self.local.max_new_tokens):
            try:
                out.append((validate(text), None))
            except ValueError as err:
                out.append((None, str(err)))
        return out


def make_generator(data_params, kb: KnowledgeBase, seed: int, root: Path) -> Generator:
    """The backend the params name."""
    offline = OfflineGenerator(kb, seed)
    gen = data_params.generator
    if gen.backend == "offline":
        return offline
    if gen.backend == "openai":
        if gen.api is None:
            raise ValueError("data.generator.api is required when data.generator.backend is 'openai'")
        return ApiGenerator(kb, offline, gen.api, root / gen.api.cache_path)
    if gen.local is None:
        raise ValueError("data.generator.local is required when data.generator.backend is 'transformers'")
    return TransformersGenerator(kb, offline, gen.local)
