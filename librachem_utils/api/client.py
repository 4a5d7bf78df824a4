"""A robust client for OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, gateways).

A ``TextRequest`` goes to the completions endpoint instead (the prompt sent as written, no chat
template: a model served by vLLM answers a ``Question: ... Answer:`` prompt as it does locally).

- Bounded concurrency, requests- and tokens-per-minute pacing, explicit retries with exponential
  backoff and full jitter (``Retry-After`` honoured); the SDK's own retries are off.
- Every reply that passes validation is committed at once to a SQLite cache (``api.cache``), keyed
  by the sha256 of the canonical request: a rerun repeats no cached request.
- A reply cut at ``max_tokens`` (``finish_reason == "length"``) is returned once, as truncated: an
  error that says so, the partial text kept, neither retried (the same request would be cut again)
  nor cached. Raise ``max_tokens`` to get it whole.
- ``Usage.requests_sent`` counts the requests that reached the endpoint; a try that never did (no
  connection, or the request not written within the timeout) is counted in ``requests_unsent``.
- The API key is read from the environment variable named in the params, handed to the SDK and
  nothing else; error messages are scrubbed of it.
- ``complete_many`` works from plain code and from inside a running event loop (Jupyter,
  papermill): there it runs on a fresh loop in a worker thread.
"""
from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import openai
from tqdm.auto import tqdm

from librachem_utils.api.cache import ReplyCache
from librachem_utils.api.usage import RateLimits, Usage
from librachem_utils.core.params import ApiParams

DEFAULT_BASE_DELAY_S = 0.5
MAX_BACKOFF_S = 30.0
RETRYABLE_4XX = {408, 409, 429}
CHARS_PER_TOKEN = 4
TRUNCATED = "reply truncated at max_tokens (finish_reason=length)"
#: errors of the SDK's transport (httpx, by class name) raised before the whole request was written
NOT_DELIVERED = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout", "WriteTimeout", "WriteError"})


class MissingApiKeyError(RuntimeError):
    """The environment variable that should hold the API key is unset or empty."""


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to make; identical requests share one answer (and one cache row)."""

    messages: tuple[tuple[str, str], ...]  # (role, content) pairs
    temperature: Optional[float] = None  # None = the params' default
    max_tokens: Optional[int] = None

    @staticmethod
    def user(content: str, system: Optional[str] = None) -> ChatRequest:
        messages = ((("system", system),) if system is not None else ()) + (("user", content),)
        return ChatRequest(messages=messages)


@dataclass(frozen=True)
class TextRequest:
    """One text completion (the completions endpoint): ``prompt`` is sent as written."""

    prompt: str
    temperature: Optional[float] = None  # None = the params' default
    max_tokens: Optional[int] = None


Request = ChatRequest | TextRequest


@dataclass
class ChatResult:
    text: Optional[str]
    value: Any  # what ``validate`` returned; the text when there is no validator
    error: Optional[str]
    cached: bool
    attempts: int  # tries for this item in this call (requests sent, and tries that never reached the endpoint)
    truncated: bool = False  # the reply was cut at max_tokens: ``text`` is the partial reply, ``error`` says so

    @property
    def ok(self) -> bool:
        return self.error is None


class _RetryableError(Exception):
    def __init__(self, reason: str, retry_after_s: Optional[float] = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class _ItemFailed(Exception):
    def __init__(self, reason: str, attempts: int):
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


@dataclass(frozen=True)
class _Reply:
    text: str
    truncated: bool


@dataclass
class _Call:
    """What one ``complete_many`` call shares between its items (bound to that call's loop)."""

    sdk: openai.AsyncOpenAI
    semaphore: asyncio.Semaphore
    cache: ReplyCache
    validate: Optional[Callable[[str], Any]]
    secret: str


class ApiClient:
    """Chat completions against the endpoint in ``api``, cached at ``cache_path``."""

    def __init__(
        self,
        api: ApiParams,
        cache_path: Path,
        *,
        base_delay_s: float = DEFAULT_BASE_DELAY_S,
        progress: bool = True,
        cache_scope: str = "",
    ):
        self.api = api
        self.cache_path = Path(cache_path)
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        self.base_delay_s = base_delay_s
        self.progress = progress
        self.cache_scope = cache_scope  # part of every cache key: e.g. the version of the model behind the name
        self.usage = Usage()
        self._limits = RateLimits(api)

    # --- public entry points -----------------------------------------------------------------

    def complete_many(
        self,
        requests: Sequence[Request],
        validate: Optional[Callable[[str], Any]] = None,
        desc: str = "api",
    ) -> list[ChatResult]:
        """Results in input order; works with or without a running event loop in this thread."""
        coroutine = self.acomplete_many(requests, validate, desc)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coroutine)
        return _run_in_worker_thread(coroutine)

    async def acomplete_many(
        self,
        requests: Sequence[Request],
        validate: Optional[Callable[[str], Any]] = None,
        desc: str = "api",
    ) -> list[ChatResult]:
        """The coroutine behind ``complete_many``, for callers that are already async."""
        positions: dict[str, list[int]] = {}
        canonical: dict[str, tuple[Request, str]] = {}
        for index, request in enumerate(requests):
            request_json = self._canonical_json(request)
            key = hashlib.sha256(request_json.encode()).hexdigest()
            positions.setdefault(key, []).append(index)
            canonical[key] = (request, request_json)

        results: list[Optional[ChatResult]] = [None] * len(requests)
        cache = ReplyCache(self.cache_path)
        try:
            with tqdm(total=len(requests), desc=desc, disable=not self.progress) as bar:
                misses = []
                for key, indexes in positions.items():
                    hit = self._from_cache(cache, key, validate)
                    if hit is None:
                        misses.append(key)
                        continue
                    for index in indexes:
                        results[index] = hit
                    self.usage.cache_hits += len(indexes)
                    bar.update(len(indexes))
                if misses:
                    secret = self._read_api_key()
                    sdk = openai.AsyncOpenAI(
                        base_url=self.api.base_url, api_key=secret, max_retries=0, timeout=self.api.timeout_s
                    )
                    async with sdk:
                        call = _Call(sdk, asyncio.Semaphore(self.api.concurrency), cache, validate, secret)

                        async def complete_and_place(key: str) -> None:
                            result = await self._complete(call, key, *canonical[key])
                            for index in positions[key]:
                                results[index] = result
                            if not result.ok:
                                self.usage.failures += len(positions[key])
                            bar.update(len(positions[key]))

                        await asyncio.gather(*(complete_and_place(key) for key in misses))
        finally:
            cache.close()
        return results

    # --- one item ----------------------------------------------------------------------------

    def _from_cache(
        self, cache: ReplyCache, key: str, validate: Optional[Callable[[str], Any]]
    ) -> Optional[ChatResult]:
        text, repaired = cache.get(key)
        self.usage.cache_repairs += repaired
        if text is None:
            return None
        try:
            value = validate(text) if validate else text
        except ValueError:  # the validator changed since the reply was cached: fetch a new one
            return None
        return ChatResult(text=text, value=value, error=None, cached=True, attempts=0)

    async def _complete(self, call: _Call, key: str, request: Request, request_json: str) -> ChatResult:
        """Fetch, validate (retrying rejected replies) and cache one item."""
        attempts = 0
        reason = ""
        for format_try in range(self.api.format_retries + 1):
            if format_try:
                self.usage.retries += 1
            try:
                reply, sent = await self._fetch(call, request)
            except _ItemFailed as failed:
                attempts += failed.attempts
                return ChatResult(text=None, value=None, error=failed.reason, cached=False, attempts=attempts)
            attempts += sent
            text = reply.text
            if reply.truncated:
                self.usage.truncated += 1
                return ChatResult(text=text, value=None, error=TRUNCATED, cached=False, attempts=attempts,
                                  truncated=True)
            try:
                value = call.validate(text) if call.validate else text
            except ValueError as err:
                reason = f"reply rejected by validation {format_try + 1} times; last: {err}"
                continue
            call.cache.put(key, request_json, text)
            return ChatResult(text=text, value=value, error=None, cached=False, attempts=attempts)
        return ChatResult(text=None, value=None, error=_scrub(reason, call.secret), cached=False, attempts=attempts)

    async def _fetch(self, call: _Call, request: Request) -> tuple[_Reply, int]:
        """One reply and the number of tries it took; retries transient failures."""
        last: Optional[_RetryableError] = None
        for attempt in range(self.api.max_retries + 1):
            if attempt:
                self.usage.retries += 1
            try:
                return await self._send(call, request), attempt + 1
            except _ItemFailed as failed:
                raise _ItemFailed(_scrub(failed.reason, call.secret), attempt + 1) from None
            except _RetryableError as err:
                last = err
            if attempt < self.api.max_retries:
                backoff = random.uniform(0.0, min(MAX_BACKOFF_S, self.base_delay_s * 2**attempt))
                await asyncio.sleep(last.retry_after_s if last.retry_after_s is not None else backoff)
        reason = f"gave up after {self.api.max_retries + 1} attempts; last: {last.reason}"
        raise _ItemFailed(_scrub(reason, call.secret), self.api.max_retries + 1)

    async def _send(self, call: _Call, request: Request) -> _Reply:
        """One HTTP request; raises ``_RetryableError`` or ``_ItemFailed``."""
        max_tokens = request.max_tokens or self.api.max_tokens
        estimate = len(_request_text(request)) / CHARS_PER_TOKEN + max_tokens
        settings = {"model": self.api.model, "temperature": self._temperature(request), "max_tokens": max_tokens}
        async with call.semaphore:
            await asyncio.sleep(self._limits.reserve(estimate))
            delivered = True
            try:
                if isinstance(request, TextRequest):
                    completion = await call.sdk.completions.create(prompt=request.prompt, **settings)
                else:
                    messages = [{"role": role, "content": content} for role, content in request.messages]
                    completion = await call.sdk.chat.completions.create(messages=messages, **settings)
            except openai.APIConnectionError as err:  # a timeout is one too
                delivered = type(err.__cause__).__name__ not in NOT_DELIVERED
                timed_out = isinstance(err, openai.APITimeoutError)
                raise _RetryableError("request timed out" if timed_out else f"connection error: {err}") from None
            except openai.APIStatusError as err:
                raise _classify_status_error(err) from None
            except (openai.APIResponseValidationError, ValueError) as err:  # a body that is not JSON
                raise _RetryableError(f"malformed response body: {type(err).__name__}") from None
            finally:
                if delivered:
                    self.usage.requests_sent += 1
                else:
                    self.usage.requests_unsent += 1
        return self._reply(completion, estimate)

    def _reply(self, completion: Any, estimate: float) -> _Reply:
        usage = getattr(completion, "usage", None)
        if usage is not None:
            self.usage.prompt_tokens += usage.prompt_tokens or 0
            self.usage.completion_tokens += usage.completion_tokens or 0
            self._limits.settle(estimate, usage.total_tokens or 0)
        choices = getattr(completion, "choices", None) or []
        choice = choices[0] if choices else None
        finish_reason = getattr(choice, "finish_reason", None)
        text = getattr(getattr(choice, "message", None), "content", getattr(choice, "text", None))
        if finish_reason == "content_filter":
            raise _ItemFailed("the endpoint's content filter refused the request", 1)
        if finish_reason == "length":
            return _Reply(text if isinstance(text, str) else "", truncated=True)
        if not isinstance(text, str):
            raise _RetryableError("malformed response body: no message content")
        return _Reply(text, truncated=False)

    # --- helpers -----------------------------------------------------------------------------

    def _temperature(self, request: Request) -> float:
        return self.api.temperature if request.temperature is None else request.temperature

    def _canonical_json(self, request: Request) -> str:
        """Everything that determines the reply: the cache key is its sha256."""
        asked = ({"prompt": request.prompt} if isinstance(request, TextRequest)
                 else {"messages": [[role, content] for role, content in request.messages]})
        max_tokens = request.max_tokens or self.api.max_tokens
        canonical = {"base_url": self.api.base_url.rstrip("/"), "model": self.api.model, **asked,
                     "temperature": self._temperature(request), "max_tokens": max_tokens}
        canonical.update({"scope": self.cache_scope} if self.cache_scope else {})
        return json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def _read_api_key(self) -> str:
        secret = os.environ.get(self.api.api_key_env, "")
        if not secret:
            raise MissingApiKeyError(
                f"environment variable {self.api.api_key_env} is not set or empty: it must hold the API key "
                f"for {self.api.base_url} (any non-empty value for a local server that needs none)"
            )
        return secret


def _request_text(request: Request) -> str:
    """What a request sends the model, as one text (for the token estimate)."""
    return request.prompt if isinstance(request, TextRequest) else "".join(c for _, c in request.messages)


def _classify_status_error(err: openai.APIStatusError) -> Exception:
    status = err.status_code
    reason = f"HTTP {status}: {err.message}"
    if err.code == "insufficient_quota" or not (status in RETRYABLE_4XX or status >= 500):
        return _ItemFailed(reason, 1)
    return _RetryableError(reason, _retry_after_s(err.response.headers))


def _retry_after_s(headers) -> Optional[float]:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), if present."""
    if headers.get("retry-after-ms"):
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if email.utils.parsedate_tz(value) else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _scrub(message: str, secret: str) -> str:
    """The message with the API key blanked out (an endpoint may echo it in an error)."""
    return message.replace(secret, "***") if secret else message


def _run_in_worker_thread(coroutine) -> Any:
    """Run ``coroutine`` on a fresh event loop in another thread; Ctrl-C cancels it cleanly."""
    started = threading.Event()
    handles: dict[str, Any] = {}

    async def main():
        handles["loop"], handles["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await coroutine

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-client") as pool:
        future = pool.submit(asyncio.run, main())
        try:
            return future.result()
        except KeyboardInterrupt:
            if started.wait(timeout=5):
                handles["loop"].call_soon_threadsafe(handles["task"].cancel)
            raise
