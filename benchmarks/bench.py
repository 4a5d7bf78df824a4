"""Benchmarks, side by side in one run: a table on stdout and ``runs/bench.json``.

    python benchmarks/bench.py [--quick] [--out runs/bench.json]

- API generation throughput (the pipeline's crafting phase through ``ApiGenerator``) against the
  local OpenAI-compatible server (``fake_openai``) answering after 100 ms: concurrency 1 and 32,
  next to the ideal (requests x latency / concurrency);
- the rate limiter: sustained throughput against a server enforcing a requests-per-minute limit,
  as a share of that limit, with no failed item;
- the cache: a warm rerun's time as a share of the cold run's;
- the rule judge: ``refusal.classify`` responses per second on one core;
- batched versus one-at-a-time generation (batch 16) with ``local_lm`` on a small Llama built here;
- training tokens per second per arm and the wall time of each notebook, read from the default
  run's ``results/train_metrics.json`` and ``timings.json`` (``make reproduce`` writes them).

Goals are ratios, not absolute times, so they mean the same on any machine; the machine is
recorded. Every loop is bounded in time and count; all traffic goes to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from librachem_utils.core import files

LOCAL_KEY_ENV = "LIBRACHEM_BENCH_API_KEY"  # the local server accepts any key; no real key is read


@dataclass
class Row:
    name: str
    value: Optional[float]
    unit: str
    goal: str = ""
    met: Optional[bool] = None  # None: no goal, or not measured
    note: str = ""
    details: dict = field(default_factory=dict)

    def cells(self) -> list[str]:
        value = "-" if self.value is None else f"{self.value:,.3g}" if abs(self.value) < 100 else f"{self.value:,.0f}"
        met = {True: "yes", False: "NO", None: "-"}[self.met]
        return [self.name, f"{value} {self.unit}".strip(), self.goal or "-", met, self.note]


@dataclass(frozen=True)
class Sizes:
    latency_s: float
    sequential_items: int
    concurrent_items: int
    concurrency: int
    rate_limit_rpm: float
    rate_limit_s: float
    judge_s: float
    generation_prompts: int
    generation_tokens: int


FULL = Sizes(latency_s=0.1, sequential_items=30, concurrent_items=960, concurrency=32, rate_limit_rpm=600.0,
             rate_limit_s=20.0, judge_s=3.0, generation_prompts=32, generation_tokens=32)
QUICK = Sizes(latency_s=0.1, sequential_items=10, concurrent_items=320, concurrency=32, rate_limit_rpm=600.0,
              rate_limit_s=5.0, judge_s=1.0, generation_prompts=16, generation_tokens=16)


def project_root() -> Path:
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return Path.cwd()


def machine() -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu_model": cpu_model or platform.processor() or "unknown", "cores": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform()}
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    return info


# --- API: throughput, rate limiter, cache ---------------------------------------------------------

class _LocalApi:
    """The local server plus what the pipeline needs to craft requests through it."""

    def __init__(self, workdir: Path):
        os.environ.setdefault(LOCAL_KEY_ENV, "sk-local-bench")
        no_proxy = os.environ.get("NO_PROXY", "")
        if "127.0.0.1" not in no_proxy:  # a proxy set in the environment must not see local traffic
            os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(filter(None, [no_proxy, "127.0.0.1", "localhost"]))
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
    """``fake_openai`` in a process of its own (so that it does not share this one's GIL), on 127.0.0.1.

    Yields (base_url, stats); on exit ``stats`` holds what the server counted ("requests", "outcomes").
    """
    command = [sys.executable, "-m", "librachem_utils.api.test_server", "--port", "0", "--latency-ms", str(latency_s * 1000)]
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
    from librachem_utils.api.client import ApiClient, ChatRequest
    from librachem_utils.data.generators import CRAFT_INSTRUCTION, _json_field

    local = _LocalApi(workdir)
    rows: list[Row] = []
    with local_server(sizes.latency_s) as (base_url, _):
        local.craft(local.api(base_url, concurrency=1), 1)  # untimed: the SDK's one-time imports and set-up
        seq_s, seq_items, _ = local.craft(local.api(base_url, concurrency=1), sizes.sequential_items)
        seq_rate = len(seq_items) / seq_s
        ideal_seq = 1 / sizes.latency_s
        rows.append(Row("API generation, concurrency 1", seq_rate, "items/s", note=(
            f"{len(seq_items)} items, {sizes.latency_s * 1000:.0f} ms latency; ideal {ideal_seq:.1f}/s, "
            f"{seq_rate / ideal_seq:.0%} of it"), details={"seconds": seq_s, "items": len(seq_items), "ideal_per_s": ideal_seq}))

    cold_cache = workdir / "cold.sqlite"
    with local_server(sizes.latency_s) as (base_url, stats):
        api = local.api(base_url, concurrency=sizes.concurrency)
        cold_s, items, client = local.craft(api, sizes.concurrent_items, cold_cache)
        warm_s, warm_items, warm_client = local.craft(api, sizes.concurrent_items, cold_cache)
        # the cache alone: chat requests straight through the client, cold (fresh cache) then warm
        prompts = [ChatRequest.user(CRAFT_INSTRUCTION.format(name="water", prompt=f"Is water wet? (item {i})"))
                   for i in range(len(items))]
        cache_client = ApiClient(api, workdir / "cache-only.sqlite", progress=False)
        started = time.perf_counter()
        cold_results = cache_client.complete_many(prompts, validate=_json_field("prompt"))
        client_cold_s = time.perf_counter() - started
        started = time.perf_counter()
        warm_results = cache_client.complete_many(prompts, validate=_json_field("prompt"))
        client_warm_s = time.perf_counter() - started
    failed = sum(1 for r in items if r.error)
    rate = len(items) / cold_s
    ideal = sizes.concurrency / sizes.latency_s
    rows.append(Row(f"API generation, concurrency {sizes.concurrency}", rate, "items/s",
                    goal=">= 60% of ideal", met=rate >= 0.6 * ideal and not failed,
                    note=f"{len(items)} items; ideal {ideal:.0f}/s (n x latency / concurrency), {rate / ideal:.0%} of it"
                         + (f"; {failed} FAILED" if failed else ""),
                    details={"seconds": cold_s, "items": len(items), "ideal_per_s": ideal, "failed": failed}))
    rows.append(Row(f"API speed-up, concurrency {sizes.concurrency} vs 1", rate / seq_rate, "x", goal=">= 15x",
                    met=rate / seq_rate >= 15))
    share = client_warm_s / client_cold_s
    rows.append(Row("Cache: warm rerun / cold run (API client)", share * 100, "%", goal="< 5%",
                    met=share < 0.05 and all(r.cached for r in warm_results) and all(r.ok for r in cold_results),
                    note=f"{len(prompts)} requests: {client_warm_s * 1000:.0f} ms warm vs {client_cold_s:.2f} s cold",
                    details={"warm_s": client_warm_s, "cold_s": client_cold_s}))
    share = warm_s / cold_s
    rows.append(Row("Cache: warm rerun / cold run (crafting step)", share * 100, "%", goal="< 5%",
                    met=share < 0.05 and warm_items == items and warm_client.usage.requests_sent == 0,
                    note=f"{len(items)} items: {warm_s * 1000:.0f} ms warm vs {cold_s:.2f} s cold; "
                         f"{warm_client.usage.requests_sent} requests sent on the warm run",
                    details={"warm_s": warm_s, "cold_s": cold_s, "requests_sent_warm": warm_client.usage.requests_sent,
                             "server": stats}))

    with local_server(sizes.latency_s, sizes.rate_limit_rpm) as (base_url, stats):
        n = max(2, int(sizes.rate_limit_s * sizes.rate_limit_rpm / 60.0))
        api = local.api(base_url, concurrency=sizes.concurrency, rpm=sizes.rate_limit_rpm)
        seconds, items, client = local.craft(api, n)
    failed = sum(1 for r in items if r.error)
    got_429 = stats["outcomes"].get("rate_limit", 0) if "outcomes" in stats else "?"
    per_minute = len(items) / seconds * 60.0
    share = per_minute / sizes.rate_limit_rpm
    rows.append(Row(f"Rate limiter at {sizes.rate_limit_rpm:.0f} rpm", share * 100, "% of limit",
                    goal=">= 90%, no failed item", met=share >= 0.9 and not failed,
                    note=f"{len(items)} items in {seconds:.1f} s ({per_minute:.0f} rpm), {failed} failed, "
                         f"{got_429} answered 429",
                    details={"seconds": seconds, "items": len(items), "failed": failed, "http_429": got_429,
                             "per_minute": per_minute, "server": stats}))
    return rows


# --- the rule judge ------------------------------------------------------------------------------

def judge_texts(root: Path, limit: int = 2000) -> tuple[list[str], str]:
    """~100-word responses: from a generated dataset under runs/ if there is one, else the offline generator's."""
    candidates = sorted(root.glob("runs/*/data/dataset/train.jsonl"), key=lambda p: (p.parent.parent.parent.name != "default", str(p)))
    for path in candidates:
        try:
            rows = files.read_jsonl(path)
        except files.DataFileError:
            continue
        texts = [r[f] for r in rows for f in ("chosen", "rejected") if isinstance(r.get(f), str) and r[f].strip()]
        if texts:
            return _about_100_words(texts, limit), f"responses from {path.relative_to(root)}"
    return _about_100_words(offline_texts(limit), limit), "responses from the offline generator"


def offline_setup():
    """(knowledge base, offline generator, balanced seed over every compound), all seeded with 13."""
    from librachem_utils.chem.knowledge_base import load_kb
    from librachem_utils.data.generators import OfflineGenerator
    from librachem_utils.data.seeds import balanced_seeds

    kb = load_kb()
    return kb, OfflineGenerator(kb, seed=13), balanced_seeds(kb.compounds, seed=13)


def offline_texts(limit: int) -> list[str]:
    """Chosen and rejected responses (TEXT mode) that the offline generator writes for ``limit`` seeds."""
    from librachem_utils.data.generators import render

    kb, gen, seeds = offline_setup()
    requests = gen.craft(seeds[:limit], per_seed=1)
    texts = []
    for req, resp in zip(requests, gen.respond(requests)):
        compound = kb.lookup(req.compound)
        texts += [render(resp.chosen, compound, "text"), render(resp.rejected, compound, "text")]
    return texts


def _about_100_words(texts: Sequence[str], limit: int) -> list[str]:
    """Responses of about 100 words: each text, followed by the next ones of the pool until ~100 words."""
    out, i = [], 0
    while len(out) < limit and i < len(texts) * 3:
        parts, words = [], 0
        while words < 90 and len(parts) < 50:
            text = texts[i % len(texts)]
            parts.append(text)
            words += len(text.split())
            i += 1
        out.append(" ".join(parts))
    return out


def bench_judge(sizes: Sizes, root: Path) -> list[Row]:
    from librachem_utils.safety import refusal

    texts, source = judge_texts(root)
    words = statistics.mean(len(t.split()) for t in texts)
    for text in texts[:50]:  # warm the regex caches
        refusal.classify(text)
    done, started, deadline = 0, time.perf_counter(), time.perf_counter() + sizes.judge_s
    max_calls = 10_000_000
    while time.perf_counter() < deadline and done < max_calls:
        for text in texts:
            refusal.classify(text)
        done += len(texts)
    elapsed = time.perf_counter() - started
    rate = done / elapsed
    return [Row("Rule judge (refusal.classify), one core", rate, "responses/s", goal=">= 2,000/s", met=rate >= 2000,
                note=f"{done:,} calls over {len(texts)} texts of {words:.0f} words on average ({source})",
                details={"calls": done, "seconds": elapsed, "mean_words": words, "source": source})]


# --- batched generation with a local model ------------------------------------------------------

def bench_generation(sizes: Sizes, workdir: Path) -> list[Row]:
    name = "Local generation, batch 16 vs one at a time"
    try:
        from librachem_utils.api import local_model
        from librachem_utils.train import stages
        from librachem_utils.core.params import TinyModelParams
    except ImportError as err:
        return [Row(name, None, "x", goal=">= 4x", note=f"skipped: {err}")]
    import torch

    texts = offline_texts(400)  # for the tokenizer and the prompts
    tokenizer = stages.train_tokenizer(texts, vocab_size=2000)
    model = stages.build_tiny_model(tokenizer, TinyModelParams(), seed=13)
    folder = workdir / "tiny-llama"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    model, tokenizer = local_model.load_for_generation(folder, device="cpu")
    prompts = [t.split(".")[0][:160] for t in texts[: sizes.generation_prompts]]
    template = "Question: {prompt}\n\nAnswer: "
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # per-item cost without the thread pool's say in it
    try:
        timings = {}
        for batch_size in (1, 16):
            started = time.perf_counter()
            outputs = local_model.generate(model, tokenizer, prompts, template=template, batch_size=batch_size,
                                        max_new_tokens=sizes.generation_tokens, progress=False)
            timings[batch_size] = time.perf_counter() - started
    finally:
        torch.set_num_threads(threads)
    new_tokens = sum(len(tokenizer(o).input_ids) for o in outputs)
    speedup = timings[1] / timings[16]
    return [Row(name, speedup, "x", goal=">= 4x", met=speedup >= 4,
                note=f"{len(prompts)} prompts x {sizes.generation_tokens} new tokens on CPU (1 thread): "
                     f"{timings[1]:.2f} s one at a time, {timings[16]:.2f} s batched",
                details={"seconds_one_at_a_time": timings[1], "seconds_batched": timings[16],
                         "prompts": len(prompts), "max_new_tokens": sizes.generation_tokens,
                         "tokens_decoded_last_run": new_tokens})]


# --- training and notebook timings of the default run ---------------------------------------------

def bench_default_run(root: Path) -> list[Row]:
    run_dir = root / "runs" / "default"
    rows = []
    metrics_file = run_dir / "results" / "train_metrics.json"
    if metrics_file.is_file():
        metrics = files.read_json(metrics_file)
        for arm, entry in metrics.get("arms", {}).items():
            rows.append(Row(f"Training tokens/s, {arm}", entry.get("tokens_per_s"), "tokens/s",
                            note=f"{entry.get('train_tokens', '?')} tokens, {entry.get('wall_s', '?')} s wall "
                                 f"(runs/default, {metrics.get('device', {}).get('device', 'device ?')})"))
    else:
        rows.append(Row("Training tokens/s per arm", None, "", note="run make reproduce first"))
    timings_file = run_dir / "timings.json"
    if timings_file.is_file():
        for step, seconds in files.read_json(timings_file).items():
            rows.append(Row(f"make reproduce: {step}", seconds, "s", note="wall time (runs/default/timings.json)"))
    else:
        rows.append(Row("make reproduce: time per notebook", None, "", note="run make reproduce first"))
    return rows


# --- main ------------------------------------------------------------------------------------------

def _guarded(name: str, fn: Callable[[], list[Row]]) -> list[Row]:
    """Run one benchmark; a failure becomes a row that says so instead of stopping the others."""
    started = time.perf_counter()
    try:
        rows = fn()
    except Exception as err:  # noqa: BLE001 - reported in the table
        rows = [Row(name, None, "", note=f"FAILED: {type(err).__name__}: {err}"[:200])]
    print(f"[bench] {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return rows


def table(rows: Sequence[Row]) -> str:
    head = ["measurement", "value", "goal", "met", "note"]
    cells = [head] + [row.cells() for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(4)]
    lines = []
    for k, r in enumerate(cells):
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--out", type=Path, help="where to write the results (default: <project>/runs/bench.json)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: api, judge, generation, default_run")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    root = project_root()
    out = args.out or root / "runs" / "bench.json"
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="librachem-bench-") as tmp:
        workdir = Path(tmp)
        parts = {"api": lambda: bench_api(sizes, workdir), "judge": lambda: bench_judge(sizes, root),
                 "generation": lambda: bench_generation(sizes, workdir), "default_run": lambda: bench_default_run(root)}
        for name, fn in parts.items():
            if name not in skip:
                rows += _guarded(name, fn)
    total = time.perf_counter() - started
    info = machine()
    print(f"\nmachine: {info['cpu_model']}, {info['cores_usable']} usable cores of {info['cores']}, "
          f"Python {info['python']}; mode {'quick' if args.quick else 'full'}, {total:.0f} s\n")
    print(table(rows))
    files.write_json(out, {"mode": "quick" if args.quick else "full", "machine": info, "sizes": asdict(sizes),
                        "seconds": round(total, 2), "rows": [asdict(row) for row in rows]})
    print(f"\n-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
