"""What a client's requests cost and how fast they may go: usage counters and per-minute budgets."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from librachem_utils.core.params import ApiParams


@dataclass
class Usage:
    """Counters accumulated over a client's calls."""

    requests_sent: int = 0  # requests that reached the endpoint (the ones it may bill)
    requests_unsent: int = 0  # tries that never reached it: no connection, or the request not written in time
    cache_hits: int = 0
    retries: int = 0  # tries after a failed attempt or a rejected reply
    failures: int = 0  # items returned with an error
    truncated: int = 0  # replies cut at max_tokens (returned as failures, never retried)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_repairs: int = 0  # corrupted cache rows deleted and fetched again

    def cost_usd(self, api: ApiParams) -> float:
        return (
            self.prompt_tokens * api.usd_per_1m_input_tokens
            + self.completion_tokens * api.usd_per_1m_output_tokens
        ) / 1e6

    def summary(self, api: Optional[ApiParams] = None) -> str:
        """One line for a notebook; with ``api`` it includes the cost."""
        line = (
            f"{self.requests_sent} requests sent, {self.cache_hits} cache hits, {self.retries} retries, "
            f"{self.failures} failures, {self.prompt_tokens:,} prompt + {self.completion_tokens:,} "
            f"completion tokens"
        )
        if self.requests_unsent:
            line += f", {self.requests_unsent} tries never reached the endpoint"
        if self.truncated:
            line += f", {self.truncated} replies cut at max_tokens"
        if self.cache_repairs:
            line += f", {self.cache_repairs} corrupted cache rows refetched"
        if api is not None:
            line += f", ${self.cost_usd(api):.4f}"
        return line


class TokenBucket:
    """Paces a per-minute budget: a reservation is booked at once and the caller waits out any debt.

    The bucket holds at most ``burst`` units, so the rate over any window stays at the limit
    plus at most one burst; the level may go negative (a request larger than the burst).
    """

    def __init__(self, per_minute: float, burst: float):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.level = burst
        self.updated = time.monotonic()

    def reserve(self, amount: float) -> float:
        """Book ``amount`` now; return the seconds to wait before using it."""
        now = time.monotonic()
        self.level = min(self.burst, self.level + (now - self.updated) * self.rate)
        self.updated = now
        self.level -= amount
        return max(0.0, -self.level / self.rate)

    def refund(self, amount: float) -> None:
        """Correct a reservation by ``amount`` (negative when more was used than booked)."""
        self.level = min(self.burst, self.level + amount)


class RateLimits:
    """The requests- and tokens-per-minute budgets of an endpoint (either may be absent)."""

    def __init__(self, api: ApiParams):
        self.requests = TokenBucket(api.requests_per_minute, burst=1.0) if api.requests_per_minute else None
        self.tokens = (TokenBucket(api.tokens_per_minute, burst=api.tokens_per_minute / 60.0)
                       if api.tokens_per_minute else None)

    def reserve(self, estimated_tokens: float) -> float:
        """Book one request of about ``estimated_tokens``; the seconds to wait before sending it."""
        waits = [0.0]
        if self.requests:
            waits.append(self.requests.reserve(1.0))
        if self.tokens:
            waits.append(self.tokens.reserve(estimated_tokens))
        return max(waits)

    def settle(self, estimated_tokens: float, used_tokens: int) -> None:
        """Give back what the reservation over-booked (or take what it under-booked)."""
        if self.tokens:
            self.tokens.refund(estimated_tokens - used_tokens)
