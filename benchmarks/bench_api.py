"""API benchmarks against the local OpenAI-compatible server in a process of its own: generation
throughput at concurrency 1 and 32, the reply cache (warm rerun against cold run) and the rate limiter."""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

from common import Row, Sizes, offline_setup

LOCAL_KEY_ENV = "LIBRACHEM_BENCH_API_KEY"  # the local server accepts any key; no real key is read


class _LocalApi:
    """The local server plus what the pipeline needs to craft requests through it."""

    def __init__(self, workdir: Path):
        os.environ.setdefault(LOCAL_KEY_ENV, "sk-local-bench")
        no_proxy = os.environ.get("NO_PROXY", "")
        if "127.0.0.1" not in no_proxy:  # a proxy set in the environment must not see local traffic
            hosts = ",".join(filter(None, [no_proxy, "127.0.0.1", "localhost"]))
            os.environ["NO_PROXY"] = os.environ["no_proxy"] = hosts
        self.workdir = workdir
        self.kb, self.offline, self.seeds = offline_setup()
        self.runs = 0

    def api(self, base_url: str, *, concurrency: int, rpm: Optional[float] = None):
        from librachem_utils.core.params import ApiParams

        return ApiParams(base_url=base_url, model="bench-model", api_key_env=LOCAL_KEY_ENV, concurrency=concurrency,
                         requests_per_minute=rpm, max_retries=3, timeout_s=10.0)

    def craft(self, api, n: int, cache: Optional[Path] = None) -> tuple[float, list, Any]:
        """Craft ``n`` requests through the API backend; (seconds, requests, client)."""
        from librachem_utils.data.generators import ApiGenerator

        if n > len(self.seeds):
            raise ValueError(f"at most {len(self.seeds)} items")
        self.runs += 1
        generator = ApiGenerator(self.kb, self.offline, api, cache or self.workdir / f"cache{self.runs}.sqlite")
        generator.client.progress = False
        started = time.perf_counter()
        requests = generator.craft(self.seeds[:n], per_seed=1)
        return time.perf_counter() - started, requests, generator.client


@contextlib.contextmanager
def local_server(latency_s: float, rpm: Optional[float] = None, start_timeout_s: float = 60.0):
    """``api.test_server`` in a process of its own (so that it does not share this one's GIL), on 127.0.0.1.

    Yields (base_url, stats); on exit ``stats`` holds what the server counted ("requests", "outcomes").
    """
    command = [sys.executable, "-m", "librachem_utils.api.test_server", "--port", "0",
               "--latency-ms", str(latency_s * 1000)]
    if rpm:
        command += ["--rpm", str(rpm)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(start_timeout_s, proc.kill)  # a server that never says where it listens
    watchdog.start()
    try:
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", proc.stdout.readline())
    finally:
        watchdog.cancel()
    stats: dict = {}
    try:
        if match is None:
            raise RuntimeError("the local server did not start")
        yield match.group(1), stats
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
            stats.update(json.loads(out.strip().splitlines()[-1]))
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            proc.kill()
            proc.wait()


def bench_api(sizes: Sizes, workdir: Path) -> list[Row]:
    local = _LocalApi(workdir)
    sequential = _sequential(local, sizes)
    return [sequential, *_concurrent_and_cache(local, sizes, sequential.value), _rate_limiter(local, sizes)]


def _sequential(local: _LocalApi, sizes: Sizes) -> Row:
    with local_server(sizes.latency_s) as (base_url, _):
        local.craft(local.api(base_url, concurrency=1), 1)  # untimed: the SDK's one-time imports and set-up
        seq_s, seq_items, _ = local.craft(local.api(base_url, concurrency=1), sizes.sequential_items)
    seq_rate = len(seq_items) / seq_s
    ideal_seq = 1 / sizes.latency_s
    return Row("API generation, concurrency 1", seq_rate, "items/s", note=(
        f"{len(seq_items)} items, {sizes.latency_s * 1000:.0f} ms latency; ideal {ideal_seq:.1f}/s, "
        f"{seq_rate / ideal_seq:.0%} of it"),
        details={"seconds": seq_s, "items": len(seq_items), "ideal_per_s": ideal_seq})


def _timed(client, prompts, validate) -> tuple[float, list]:
    started = time.perf_counter()
    results = client.complete_many(prompts, validate=validate)
    return time.perf_counter() - started, results


def _concurrent_and_cache(local: _LocalApi, sizes: Sizes, seq_rate: float) -> list[Row]:
    from librachem_utils.api.client import ApiClient, ChatRequest
    from librachem_utils.api.prompts import CRAFT_INSTRUCTION, json_field

    cold_cache = local.workdir / "cold.sqlite"
    with local_server(sizes.latency_s) as (base_url, stats):
        api = local.api(base_url, concurrency=sizes.concurrency)
        cold_s, items, client = local.craft(api, sizes.concurrent_items, cold_cache)
        warm_s, warm_items, warm_client = local.craft(api, sizes.concurrent_items, cold_cache)
        # the cache alone: chat requests straight through the client, cold (fresh cache) then warm
        prompts = [ChatRequest.user(CRAFT_INSTRUCTION.format(name="water", prompt=f"Is water wet? (item {i})"))
                   for i in range(len(items))]
        cache_client = ApiClient(api, local.workdir / "cache-only.sqlite", progress=False)
        client_cold_s, cold_results = _timed(cache_client, prompts, json_field("prompt"))
        client_warm_s, warm_results = _timed(cache_client, prompts, json_field("prompt"))
    failed = sum(1 for r in items if r.error)
    rate = len(items) / cold_s
    ideal = sizes.concurrency / sizes.latency_s
    client_share, step_share = client_warm_s / client_cold_s, warm_s / cold_s
    return [
        Row(f"API generation, concurrency {sizes.concurrency}", rate, "items/s",
            goal=">= 60% of ideal", met=rate >= 0.6 * ideal and not failed,
            note=f"{len(items)} items; ideal {ideal:.0f}/s (n x latency / concurrency), {rate / ideal:.0%} of it"
                 + (f"; {failed} FAILED" if failed else ""),
            details={"seconds": cold_s, "items": len(items), "ideal_per_s": ideal, "failed": failed}),
        Row(f"API speed-up, concurrency {sizes.concurrency} vs 1", rate / seq_rate, "x", goal=">= 15x",
            met=rate / seq_rate >= 15),
        Row("Cache: warm rerun / cold run (API client)", client_share * 100, "%", goal="< 5%",
            met=client_share < 0.05 and all(r.cached for r in warm_results) and all(r.ok for r in cold_results),
            note=f"{len(prompts)} requests: {client_warm_s * 1000:.0f} ms warm vs {client_cold_s:.2f} s cold",
            details={"warm_s": client_warm_s, "cold_s": client_cold_s}),
        Row("Cache: warm rerun / cold run (crafting step)", step_share * 100, "%", goal="< 5%",
            met=step_share < 0.05 and warm_items == items and warm_client.usage.requests_sent == 0,
            note=f"{len(items)} items: {warm_s * 1000:.0f} ms warm vs {cold_s:.2f} s cold; "
                 f"{warm_client.usage.requests_sent} requests sent on the warm run",
            details={"warm_s": warm_s, "cold_s": cold_s, "requests_sent_warm": warm_client.usage.requests_sent,
                     "server": stats}),
    ]


def _rate_limiter(local: _LocalApi, sizes: Sizes) -> Row:
    with local_server(sizes.latency_s, sizes.rate_limit_rpm) as (base_url, stats):
        n = max(2, int(sizes.rate_limit_s * sizes.rate_limit_rpm / 60.0))
        api = local.api(base_url, concurrency=sizes.concurrency, rpm=sizes.rate_limit_rpm)
        seconds, items, _ = local.craft(api, n)
    failed = sum(1 for r in items if r.error)
    got_429 = stats["outcomes"].get("rate_limit", 0) if "outcomes" in stats else "?"
    per_minute = len(items) / seconds * 60.0
    share = per_minute / sizes.rate_limit_rpm
    return Row(f"Rate limiter at {sizes.rate_limit_rpm:.0f} rpm", share * 100, "% of limit",
               goal=">= 90%, no failed item", met=share >= 0.9 and not failed,
               note=f"{len(items)} items in {seconds:.1f} s ({per_minute:.0f} rpm), {failed} failed, "
                    f"{got_429} answered 429",
               details={"seconds": seconds, "items": len(items), "failed": failed, "http_429": got_429,
                        "per_minute": per_minute, "server": stats})
