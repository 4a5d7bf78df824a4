"""The building blocks of params sections: the strict base of every section, and the sections that name a
model: an OpenAI-compatible endpoint, a local model, a guard model (an endpoint serving it or a local copy), a
server of the trained arms (vLLM with LoRA adapters)."""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


class ServerParams(Section):
    """``eval.server``: the arms answered by OpenAI-compatible servers (vLLM) that serve each base model with
    the arms over it as LoRA adapters, one server per base: the i-th base of ``vllm-command``'s list is
    served on ``base_url``'s port + i. Generation settings are ``eval``'s own (``max_new_tokens``, sampling)."""

    base_url: str = Field("http://127.0.0.1:8000/v1", description="the first server; its port must be given")
    api_key_env: str = Field("VLLM_API_KEY", description="variable holding the server's --api-key (any non-empty)")
    concurrency: int = Field(64, ge=1)
    max_retries: int = Field(6, ge=0)
    timeout_s: float = Field(300.0, gt=0)
    cache_path: str = "cache/generation_cache.sqlite"

    @field_validator("base_url")
    @classmethod
    def _has_port(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.port is None:
            raise ValueError(f"'{url}' needs a scheme and a port, e.g. http://127.0.0.1:8000/v1")
        return url
