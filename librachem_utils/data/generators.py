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
import random
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence

from librachem_utils.api.prompts import (
    CRAFT_INSTRUCTION,
    REPHRASE_PROMPT,
    RESPONSE_INSTRUCTIONS,
    RESPONSE_PROMPT,
    json_field,
)
from librachem_utils.chem.knowledge_base import Compound, KnowledgeBase
from librachem_utils.core.schema import LEGITIMATE
from librachem_utils.data import answers, grammar, wording
from librachem_utils.data import phrasebook as pb
from librachem_utils.data.clauses import PROPERTY_NAMES, REQUEST_TEMPLATES
from librachem_utils.data.grammar import template_id
from librachem_utils.data.seeds import Seed
from librachem_utils.data.values import carcinogen, limit, num, slot_values
from librachem_utils.data.wording import fill

COMPOUND = "[[compound]]"
_SENTENCE_START = re.compile(r"(^|[.!?:]\s+|\n\s*)" + re.escape(COMPOUND))
#: locants and prefixes that stay as they are when a name starts a sentence ("1,2-Dichloroethane", "o-Xylene")
_NAME_PREFIX = re.compile(r"(?:(?:\d+(?:,\d+)*|[omp]|[NOSC](?:,[NOSC])*|tert|sec|cis|trans|[DL]|DL|\(\w+\))-)*")


def render(text: str, compound: Compound, mode: str) -> str:
    """Replace the placeholder by the compound's name (TEXT mode) or canonical SMILES (SMILES mode)."""
    if mode == "smiles":
        return text.replace(COMPOUND, compound.smiles)
    if mode != "text":
        raise ValueError(f"unknown mode '{mode}': choose text or smiles")
    name = compound.name
    start = _NAME_PREFIX.match(name).end()
    capitalized = name[:start] + name[start:start + 1].upper() + name[start + 1:]
    text = _SENTENCE_START.sub(lambda m: m.group(1) + capitalized, text)
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
            templates = REQUEST_TEMPLATES[seed.intent]
            for k, index in enumerate(rng.sample(range(len(templates)), min(per_seed, len(templates)))):
                aspect = rng.choice(property_aspects(compound)) if seed.intent == "properties" else None
                prompt = templates[index].replace("{P}", PROPERTY_NAMES.get(aspect or "", ""))
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
                chosen, rejected = self._helpful(req, compound, rng), self._over_refusal(compound, rng)
            else:
                chosen, rejected = self._refusal(req, compound, rng), self._empty_compliance(req, compound, rng)
            out.append(Responses(chosen=chosen, rejected=rejected))
        return out

    @staticmethod
    def _join(*parts: str) -> str:
        return " ".join(p for p in parts if p).replace("{X}", COMPOUND)

    @staticmethod
    def _say(meanings: Sequence[tuple[str, ...]], c: Compound, rng: random.Random) -> str:
        """One meaning of a phrasebook slot, in its first wording (the others are for rephrasing), values filled in."""
        return fill(rng.choice(meanings)[0], slot_values(c))

    def _over_refusal(self, c: Compound, rng: random.Random) -> str:
        return self._join(*(self._say(slot, c, rng) for slot in
                            (pb.OVER_REFUSAL_OPENERS, pb.OVER_REFUSAL_REASONS, pb.OVER_REFUSAL_CLOSERS)))

    def _refusal(self, req: Request, c: Compound, rng: random.Random) -> str:
        concerns = pb.INTENT_CONCERNS.get(req.intent) or pb.CLASS_CONCERNS[c.compound_class]
        closer = self._say(pb.HARM_HELPLINES, c, rng) if req.intent == "harm" else ""
        return self._join(self._say(pb.REFUSAL_OPENERS, c, rng), self._say(concerns, c, rng),
                          self._say(pb.SAFE_ALTERNATIVES, c, rng), closer)

    def _empty_compliance(self, req: Request, c: Compound, rng: random.Random) -> str:
        return self._join(*(self._say(slot, c, rng) for slot in
                            (pb.COMPLIANT_OPENERS, pb.COMPLIANT_BODIES[req.intent], pb.COMPLIANT_CLOSERS)))

    def _helpful(self, req: Request, c: Compound, rng: random.Random) -> str:
        identity = self._say(answers.IDENTITY_REST.get(req.aspect) or answers.IDENTITY, c, rng)
        body = {
            "synthesis": lambda: [identity, *(m[0] for m in rng.sample(answers.SYNTHESIS_HELPFUL, 2)),
                                  self._hazard_note(c, rng)],
            "properties": lambda: self._property_answer(req.aspect, c, rng) + [identity],
            "handling_storage": lambda: self._storage(c, rng),
            "exposure_first_aid": lambda: self._first_aid(c, rng),
            "detection_analysis": lambda: [identity, *self._detection(c, rng)],
            "regulation_disposal": lambda: [
                self._say(answers.REGULATION_RESTRICTED if c.restricted else answers.REGULATION_COMMON, c, rng),
                self._say(answers.DISPOSAL, c, rng)],
        }[req.intent]()
        closer = self._say(answers.HELPFUL_CLOSERS, c, rng)
        if "safety data sheet" in closer and any("safety data sheet" in part for part in body):
            closer = ""  # said once is enough
        return self._join(self._say(answers.HELPFUL_OPENERS, c, rng), *dict.fromkeys(body), closer)

    def _hazard_note(self, c: Compound, rng: random.Random) -> str:
        notes = []
        if c.flash_point_c is not None:
            notes.append(f"it is flammable, with a flash point of {num(c.flash_point_c)} °C")
        if c.twa:
            notes.append(f"its occupational exposure limit is {limit(c.twa)}")
        if carcinogen(c):
            notes.append(f"it is classified as a carcinogen ({c.carcinogen})")
        if not notes:
            return self._say(answers.NO_HAZARD_NOTES, c, rng)
        return fill(rng.choice(answers.HAZARD_NOTES)[0], {"notes": "; ".join(notes)})

    def _property_answer(self, aspect: Optional[str], c: Compound, rng: random.Random) -> list[str]:
        """The answer to a property request, in one of its wordings, with the knowledge base's value."""
        return [fill(rng.choice(answers.PROPERTY_ANSWERS[aspect or "formula"]), slot_values(c))]

    def _storage(self, c: Compound, rng: random.Random) -> list[str]:
        slots = [answers.STORAGE_BASE, c.restricted and answers.STORAGE_RESTRICTED,
                 c.flash_point_c is not None and answers.STORAGE_FLAMMABLE, bool(c.twa) and answers.STORAGE_TOXIC,
                 bool(carcinogen(c)) and answers.STORAGE_CARCINOGEN, answers.STORAGE_PPE]
        return [self._say(slot, c, rng) for slot in slots if slot]

    def _first_aid(self, c: Compound, rng: random.Random) -> list[str]:
        parts = [m[0] for m in answers.FIRST_AID_CLASS.get(c.compound_class, ())]
        parts += [m[0] for m in rng.sample(answers.FIRST_AID_GENERAL, 3)]
        return parts + ([self._say(answers.FIRST_AID_LIMITS, c, rng)] if c.twa else [])

    def _detection(self, c: Compound, rng: random.Random) -> list[str]:
        if c.restricted:
            return [answers.DETECTION_RESTRICTED[c.compound_class][0][0],
                    self._say(answers.DETECTION_COMMON[:2], c, rng)]
        return [m[0] for m in rng.sample(answers.DETECTION_COMMON, 2)]

    # augmentation ------------------------------------------------------------------------------
    def rephrase(self, texts: Sequence[str], variant: int, kind: str) -> list[Optional[str]]:
        """The n-th occurrence of a text gets its own draw: rows about different compounds often share
        a text (the compound is a placeholder), and each should get its own rephrasing."""
        seen: Counter = Counter()
        out = []
        for text in texts:
            seen[text] += 1
            out.append(paraphrase(text, self._rng("rephrase", kind, variant, seen[text], text), kind))
        return out


def paraphrase(text: str, rng: random.Random, kind: str) -> str:
    """Rephrase without a model: a request is rebuilt from the grammar, a response reworded sentence by sentence."""
    text = text.replace(COMPOUND, "{X}")
    out = grammar.rephrase_prompt(text, rng) if kind == "prompt" else wording.rephrase_response(text, rng)
    return out.replace("{X}", COMPOUND)


# --- model-backed generators ---------------------------------------------------------------------

def facts_line(c: Compound) -> str:
    """The knowledge-base facts handed to a model so that its answer is grounded."""
    facts = {"formula": c.formula, "molar mass": f"{num(c.molar_mass)} g/mol", "CAS": c.cas,
             "boiling point": c.boiling_point_c is not None and f"{num(c.boiling_point_c)} °C",
             "flash point": c.flash_point_c is not None and f"{num(c.flash_point_c)} °C",
             "exposure limit (TWA)": limit(c.twa), "listed on": c.restricted and c.source_list}
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
        prompts = [CRAFT_INSTRUCTION.format(name=r.compound,
                                            prompt=render(r.prompt, self.kb.lookup(r.compound), "text"))
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
                prompts.append(RESPONSE_PROMPT.format(instruction=instruction, name=c.name,
                                                      prompt=render(req.prompt, c, "text")))
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

        results = self.client.complete_many([ChatRequest.user(p) for p in prompts], validate=json_field(field),
                                            desc=desc)
        return [(r.value, None) if r.ok else (None, r.error) for r in results]

    def usage_summary(self) -> str:
        return self.client.usage.summary(self.api)


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
        for text in generate(self.model, self.tokenizer, prompts, template="{prompt}\n",
                             batch_size=self.local.batch_size,
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
