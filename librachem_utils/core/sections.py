"""The building blocks of params sections: the strict base of every section, and the sections that name a
model: an OpenAI-compatible endpoint, a local model, a guard model (an endpoint serving it or a local copy)."""
from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Section(BaseModel):
    """Base of every params section: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ApiParams(Section):
    """An OpenAI-compatible endpoint. The key is read from the environment variable named here."""

    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(400, ge=1)
    concurrency: int = Field(16, ge=1)
    requests_per_minute: Optional[float] = Field(None, gt=0)
    tokens_per_minute: Optional[float] = Field(None, gt=0)
    max_retries: int = Field(6, ge=0)
    format_retries: int = Field(2, ge=0, description="retries of a reply that is not what the prompt asked for")
    timeout_s: float = Field(60.0, gt=0)
    cache_path: str = "cache/api_cache.sqlite"
    usd_per_1m_input_tokens: float = Field(0.0, ge=0)
    usd_per_1m_output_tokens: float = Field(0.0, ge=0)


class LocalModelParams(Section):
    """A local causal LM (a saved folder, or a hub id where the network allows)."""

    model_path: str
    batch_size: int = Field(16, ge=1)
    max_new_tokens: int = Field(200, ge=1)


GUARD_MODELS = {"wildguard": "allenai/wildguard", "llama_guard": "meta-llama/Llama-Guard-3-8B"}  # hub ids


class GuardParams(Section):
    """A guard model: an endpoint serving it (``api``, e.g. vLLM; ``model`` defaults to the guard's hub id) or a
    local copy (``local``), exactly one."""

    api: Optional[ApiParams] = None
    local: Optional[LocalModelParams] = None

    @model_validator(mode="after")
    def _one_backend(self) -> GuardParams:
        if (self.api is None) == (self.local is None):
            raise ValueError("give either api (an endpoint) or local (a local model), exactly one")
        return self
