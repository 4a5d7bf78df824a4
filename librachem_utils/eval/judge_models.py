"""The models behind model-backed judges: an OpenAI-compatible endpoint, or a local model run with
transformers. One interface for both: ``ask(conversations, parse)`` gives one ``Reply`` per
conversation, in order.

- ``ApiBackend``: the cached ``api.client.ApiClient`` (OpenAI, vLLM, any compatible server), at
  temperature 0; a reply that ``parse`` rejects is retried ``format_retries`` times, then failed.
- ``LocalBackend``: a saved folder, adapter folder or hub id loaded with
  ``api.local_model.load_for_generation`` and answered greedily in batches with ``generate``. A chat
  conversation is rendered with the tokenizer's chat template; a *raw* conversation (one user
  message that already is the model's whole input, as WildGuard's format is) is given as it stands.
  Greedy decoding gives the same reply twice, so a rejected reply fails at once.

A reply ``parse`` rejects is a parse failure: ``value`` None, ``error`` says why and quotes the
start of the reply. It is never mapped to a label.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from librachem_utils.api.client import ApiClient, ChatRequest
from librachem_utils.core.params import ApiParams

Conversation = tuple[tuple[str, str], ...]  # (role, content) pairs
TEMPERATURE = 0.0
_QUOTED_REPLY_CHARS = 120


class JudgeModelError(ValueError):
    """A model cannot be given a judge's prompt (no chat template where one is needed, ...)."""


@dataclass(frozen=True)
class JudgeModel:
    """One model behind a judge: ``api`` (an OpenAI-compatible endpoint) or ``local`` (a saved
    folder or hub id, run with transformers), not both."""

    api: Optional[ApiParams] = None
    local: Optional[str] = None
    batch_size: int = 8  # local only
    device: Optional[str] = None  # local only; None = CUDA when available, else CPU

    def __post_init__(self) -> None:
        if (self.api is None) == (self.local is None):
            raise ValueError("a judge model is either an endpoint (api) or a local model (local), exactly one")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")

    @property
    def name(self) -> str:
        return self.api.model if self.api is not None else str(self.local)

    @property
    def base_url(self) -> Optional[str]:
        return self.api.base_url if self.api is not None else None


@dataclass(frozen=True)
class Reply:
    """One parsed reply (``value``), or None and the reason (``error``)."""

    value: Any
    text: Optional[str]
    error: Optional[str] = None

    @property
    def reason(self) -> str:
        return self.error if self.error is not None else (self.text or "").strip()


class ApiBackend:
    """Conversations through the cached OpenAI-compatible client."""

    def __init__(self, api: ApiParams, cache_root: Path, *, progress: bool = True):
        self.client = ApiClient(api, Path(cache_root) / api.cache_path, progress=progress)

    def ask(self, conversations: Sequence[Conversation], parse: Callable[[str], Any], *, max_tokens: Optional[int],
            raw: bool = False, require_template: bool = False, desc: str = "judge") -> list[Reply]:
        """``raw`` and ``require_template`` make no difference here: the server renders the messages
        with its chat template (see the README for the one WildGuard needs)."""
        requests = [ChatRequest(messages=tuple(c), temperature=TEMPERATURE, max_tokens=max_tokens)
                    for c in conversations]
        results = self.client.complete_many(requests, validate=parse, desc=desc)
        return [Reply(r.value, r.text) if r.ok else Reply(None, None, r.error) for r in results]


class LocalBackend:
    """Conversations through a local causal LM, loaded once, answered greedily in batches."""

    def __init__(self, source: str, *, batch_size: int, device: Optional[str] = None, progress: bool = True):
        from librachem_utils.api import local_model

        self.source = source
        self.batch_size = batch_size
        self.progress = progress
        self.model, self.tokenizer = local_model.load_for_generation(source, device=device)

    def render(self, conversation: Conversation, *, raw: bool, require_template: bool = False) -> str:
        """The text the model reads: a raw input as it stands, or the chat template's rendering (a
        single user message as it stands where the tokenizer has no template and none is required)."""
        if raw:
            return _only_user_message(conversation)
        if not getattr(self.tokenizer, "chat_template", None):
            if require_template:
                raise JudgeModelError(f"{self.source}: the tokenizer has no chat template, and this judge's prompt is "
                                 "the model's chat template")
            return _only_user_message(conversation)
        messages = [{"role": role, "content": content} for role, content in conversation]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self._without_leading_bos(text)

    def ask(self, conversations: Sequence[Conversation], parse: Callable[[str], Any], *, max_tokens: Optional[int],
            raw: bool = False, require_template: bool = False, desc: str = "judge") -> list[Reply]:
        from librachem_utils.api import local_model

        texts = [self.render(c, raw=raw, require_template=require_template) for c in conversations]
        answers = local_model.generate(self.model, self.tokenizer, texts, template="{prompt}",
                                       batch_size=self.batch_size, max_new_tokens=max_tokens or 128,
                                       progress=self.progress)
        return [parse_reply(answer, parse) for answer in answers]

    def _without_leading_bos(self, text: str) -> str:
        """The rendering without its BOS text when the tokenizer adds BOS itself (no doubled BOS)."""
        bos = self.tokenizer.bos_token
        if bos and text.startswith(bos) and self.tokenizer("x").input_ids[:1] == [self.tokenizer.bos_token_id]:
            return text[len(bos):]
        return text


def parse_reply(text: str, parse: Callable[[str], Any]) -> Reply:
    """``parse(text)`` as a Reply; a ValueError makes it a parse failure that quotes the reply."""
    try:
        return Reply(parse(text), text)
    except ValueError as err:
        return Reply(None, text, f"unparseable reply ({err}): {text[:_QUOTED_REPLY_CHARS]!r}")


def _only_user_message(conversation: Conversation) -> str:
    if len(conversation) != 1 or conversation[0][0] != "user":
        raise JudgeModelError("a raw prompt is one user message")
    return conversation[0][1]


def open_backend(model: JudgeModel, cache_root: Path, *, progress: bool = True):
    """The backend that runs ``model``."""
    if model.api is not None:
        return ApiBackend(model.api, cache_root, progress=progress)
    return LocalBackend(model.local, batch_size=model.batch_size, device=model.device, progress=progress)
