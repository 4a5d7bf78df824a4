"""Benchmarks, side by side in one run: a table on stdout and ``runs/bench.json``.

    python benchmarks/bench.py [--quick] [--out runs/bench.json]

- API generation throughput (the pipeline's crafting phase through ``ApiGenerator``) against the
  local OpenAI-compatible server (``api.test_server``) answering after 100 ms: concurrency 1 and 32,
  next to the ideal (requests x latency / concurrency);
- the rate limiter: sustained throughput against a server enforcing a requests-per-minute limit,
  as a share of that limit, with no failed item;
- the cache: a warm rerun's time as a share of the cold run's (these three in ``bench_api``);
- the rule judge: ``refusal.classify`` responses per second on one core;
- batched versus one-at-a-time generation (batch 16) with ``api.local_model`` on a small Llama built here;
- training as model FLOPs utilization: the CPU's float32 matmul peak, and the MFU, tokens/s and padding
  share of pretraining, SFT and DPO with LoRA through TRL on the default params' tiny model, with
  pretraining's packing x batch size (8, 32) side by side (``bench_training``);
- training tokens per second per arm and the wall time of each notebook, read from the default
  run's ``results/train_metrics.json`` and ``timings.json`` (``make reproduce`` writes them).

Goals are ratios, not absolute times, so they mean the same on any machine; the machine is
recorded. Every loop is bounded in time and count; all traffic goes to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Optional, Sequence

from bench_api import bench_api
from common import FULL, QUICK, Row, Sizes, offline_setup
from librachem_utils.core import files


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



# --- the rule judge ------------------------------------------------------------------------------

def judge_texts(root: Path, limit: int = 2000) -> tuple[list[str], str]:
    """~100-word responses: from a generated dataset under runs/ if there is one, else the offline generator's."""
    candidates = sorted(root.glob("runs/*/data/dataset/train.jsonl"),
                        key=lambda p: (p.parent.parent.parent.name != "default", str(p)))
    for path in candidates:
        try:
            rows = files.read_jsonl(path)
        except files.DataFileError:
            continue
        texts = [r[f] for r in rows for f in ("chosen", "rejected") if isinstance(r.get(f), str) and r[f].strip()]
        if texts:
            return _about_100_words(texts, limit), f"responses from {path.relative_to(root)}"
    return _about_100_words(offline_texts(limit), limit), "responses from the offline generator"



def judge_requests(root: Path) -> list[str]:
    """The requests of the rule judge's labelled development cases, which the benchmark pairs with its texts."""
    path = root / "tests" / "fixtures" / "judge_cases" / "dev.jsonl"
    return [json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines()]


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
    requests = judge_requests(root)
    pairs = [(text, requests[i % len(requests)]) for i, text in enumerate(texts)]
    words = statistics.mean(len(t.split()) for t in texts)
    for text, prompt in pairs[:50]:  # warm the regex caches
        refusal.classify(text, prompt)
    done, started, deadline = 0, time.perf_counter(), time.perf_counter() + sizes.judge_s
    max_calls = 10_000_000
    while time.perf_counter() < deadline and done < max_calls:
        for text, prompt in pairs:
            refusal.classify(text, prompt)
        done += len(pairs)
    elapsed = time.perf_counter() - started
    rate = done / elapsed
    return [Row("Rule judge (refusal.classify), one core", rate, "responses/s", goal=">= 2,000/s", met=rate >= 2000,
                note=f"{done:,} calls over {len(texts)} texts of {words:.0f} words on average ({source}),"
                     f" each with a request of the labelled cases",
                details={"calls": done, "seconds": elapsed, "mean_words": words, "source": source})]


# --- batched generation with a local model ------------------------------------------------------

def bench_generation(sizes: Sizes, workdir: Path) -> list[Row]:
    name = "Local generation, batch 16 vs one at a time"
    try:
        from librachem_utils.api import local_model
        from librachem_utils.core.params import TinyModelParams
        from librachem_utils.train.tiny import build_tiny_model, train_tokenizer
    except ImportError as err:
        return [Row(name, None, "x", goal=">= 4x", note=f"skipped: {err}")]
    import torch

    texts = offline_texts(400)  # for the tokenizer and the prompts
    tokenizer = train_tokenizer(texts, vocab_size=2000)
    model = build_tiny_model(tokenizer, TinyModelParams(), random_seed=13)
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


# --- training MFU ------------------------------------------------------------------------------------

def bench_training(sizes: Sizes, workdir: Path, root: Path) -> list[Row]:
    """``bench_training``'s rows; imported here, as it loads torch, transformers and TRL."""
    from bench_training import bench_training as training_rows

    return training_rows(sizes, workdir, root)


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
    parser.add_argument("--skip", default="",
                        help="comma-separated parts to skip: api, judge, generation, training, default_run")
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
                 "generation": lambda: bench_generation(sizes, workdir),
                 "training": lambda: bench_training(sizes, workdir, root),
                 "default_run": lambda: bench_default_run(root)}
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
