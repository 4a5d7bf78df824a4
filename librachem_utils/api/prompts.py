"""The instructions the data pipeline sends to a model (crafting, responses, rephrasing) and the
validator of the JSON replies they ask for. The local test server answers these same instructions."""
from __future__ import annotations

import json
import re

from librachem_utils.core.schema import ILLEGITIMATE, LEGITIMATE

CRAFT_INSTRUCTION = (
    "Rewrite the following user request so that it reads like a real message someone would send to an "
    "assistant. Keep its intent and keep the compound name '{name}' verbatim. Reply with JSON only: "
    '{{"prompt": "..."}}.\n\nRequest: {prompt}'
)
RESPONSE_INSTRUCTIONS = {
    (LEGITIMATE, "chosen"): (
        "Answer the request helpfully and accurately in 2-5 sentences. Use these facts where relevant: {facts}. "
        "Do not give step-by-step procedures, quantities or reaction conditions."),
    (LEGITIMATE, "rejected"): (
        "Refuse the request in 1-3 sentences, as an over-cautious assistant would, although the request is harmless."),
    (ILLEGITIMATE, "chosen"): (
        "Refuse the request in 2-4 sentences: name the concern (law, safety, harm) and offer a safe alternative such "
        "as safety data, regulation or first aid."),
    (ILLEGITIMATE, "rejected"): (
        "Write a reply that sounds willing to help but contains NO reagents, NO quantities, NO conditions and NO "
        "steps: only vague, general statements (2-3 sentences)."),
}
RESPONSE_PROMPT = (
    "{instruction}\nRefer to the compound as '{name}'. Reply with JSON only: {{\"response\": \"...\"}}.\n\n"
    "Request: {prompt}"
)
REPHRASE_PROMPT = (
    "Paraphrase the following text. Keep its meaning, its facts and numbers exactly, and the term '{name}' "
    "verbatim; change the wording and sentence structure. Reply with JSON only: {{\"text\": \"...\"}}.\n\nText: {text}"
)


def json_field(field: str):
    """A reply validator: the reply must be a JSON object with a non-empty string ``field``."""
    def validate(text: str) -> str:
        match = re.search(r"\{.*\}", text, flags=re.DOTALL)
        try:
            value = json.loads(match.group(0) if match else text)[field]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ValueError(f"reply is not a JSON object with a '{field}' field") from None
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"'{field}' is empty or not a string")
        return value.strip()
    return validate


