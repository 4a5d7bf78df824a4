"""Notebook 05: answer the test prompts with every arm (and API baselines), judge, score.

- ``eval_prompts``: the prompts of the test splits in the modes the params name, capped per split
  and mode by a seeded draw that keeps the labels balanced;
- ``generate_arm`` / ``generate_baseline``: responses as JSON Lines in ``results/responses/``,
  one file per model, with prompt, response, label, model, split, mode and the params hash; a
  file whose prompts and params hash match is reused, so a rerun resumes where it stopped;
- ``judge_and_score``: every response judged (``judge.judge_rows``, the judges of ``judges_to_run``)
  into ``results/judged.jsonl`` and scored (``metrics.compute_metrics``) into ``results/metrics.json``.
"""
from __future__ import annotations

import os
import random
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Optional

from librachem_utils.core import files
from librachem_utils.core.params import ApiParams, RunConfig

PROMPT_FIELDS = ("triplet_id", "prompt", "label", "split", "mode", "intent", "compound", "compound_class", "aspect")


def eval_prompts(cfg: RunConfig) -> list[dict]:
    """The evaluation prompts: each split and mode capped at ``max_prompts_per_split``, labels balanced."""
    ev, rng = cfg.params.eval, random.Random(f"{cfg.params.seed}:eval")
    prompts = []
    for split in ev.splits:
        rows = files.read_jsonl(cfg.paths.dataset / f"{split}.jsonl")
        for mode in ev.modes:
            by_label = defaultdict(list)
            for row in rows:
                if row["mode"] == mode:
                    by_label[row["label"]].append({**{k: row.get(k) for k in PROMPT_FIELDS}, "split": split})
            cap = ev.max_prompts_per_split
            for label in sorted(by_label):
                pool = by_label[label]
                if cap is not None and len(pool) > cap // 2:
                    pool = rng.sample(pool, cap // 2)
                prompts += sorted(pool, key=lambda r: r["triplet_id"])
    return prompts


def responses_path(cfg: RunConfig, model: str) -> Path:
    return cfg.paths.results / "responses" / f"{model.replace('/', '_')}.jsonl"


def _reusable(path: Path, prompts: list[dict], params_hash: str) -> bool:
    """Whether ``path`` already answers exactly these prompts under these params."""
    if not path.is_file():
        return False
    rows = files.read_jsonl(path, allow_empty=True)
    return (len(rows) == len(prompts) and all(r.get("params_hash") == params_hash for r in rows)
            and [(r["triplet_id"], r["mode"], r["split"]) for r in rows]
            == [(p["triplet_id"], p["mode"], p["split"]) for p in prompts])


def _write_responses(cfg: RunConfig, model: str, prompts: list[dict], responses: list[Optional[str]],
                     errors: Optional[list[Optional[str]]] = None) -> Path:
    errors = errors or [None] * len(prompts)
    rows = [{**p, "model": model, "response": r, "error": e, "params_hash": cfg.params_hash}
            for p, r, e in zip(prompts, responses, errors, strict=True)]
    return files.write_jsonl(responses_path(cfg, model), rows)


def generate_arm(cfg: RunConfig, arm: str, prompts: list[dict], progress: bool = True) -> Path:
    """Answer ``prompts`` with the arm saved in ``models/<arm>`` (batched, greedy unless params sample)."""
    from librachem_utils.api.local_model import generate, load_for_generation

    path = responses_path(cfg, arm)
    if _reusable(path, prompts, cfg.params_hash):
        return path
    folder = cfg.paths.models / arm
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no trained arm '{arm}' (run 04_dpo_qlora first)")
    ev = cfg.params.eval
    model, tokenizer = load_for_generation(folder)
    answers = generate(model, tokenizer, [p["prompt"] for p in prompts], template=cfg.params.train.prompt_template,
                       batch_size=ev.batch_size, max_new_tokens=ev.max_new_tokens, do_sample=ev.do_sample,
                       temperature=ev.temperature, seed=cfg.params.seed, progress=progress)
    return _write_responses(cfg, arm, prompts, answers)


def generate_baseline(cfg: RunConfig, api: ApiParams, prompts: list[dict]) -> Optional[Path]:
    """Answer ``prompts`` with an API model; None (with a note printed) when its key is not set."""
    from librachem_utils.api.client import ApiClient, ChatRequest

    if not os.environ.get(api.api_key_env):
        print(f"baseline {api.model}: skipped, the environment variable {api.api_key_env} is not set")
        return None
    path = responses_path(cfg, api.model)
    if _reusable(path, prompts, cfg.params_hash):
        return path
    client = ApiClient(api, cfg.paths.resolve(api.cache_path))
    results = client.complete_many([ChatRequest.user(p["prompt"]) for p in prompts], desc=api.model)
    print(f"baseline {api.model}: {client.usage.summary(api)}")
    return _write_responses(cfg, api.model, prompts, [r.text for r in results],
                            [r.error for r in results])


def judges_to_run(cfg: RunConfig) -> tuple[list[str], Optional[ApiParams]]:
    """The judges of this run and the LLM endpoint they may use.

    The primary judge (``eval.judge``) comes first, then every other judge that can run, so that
    the results hold their agreement. Without ``eval.judge_api``, or without its key in the
    environment, the LLM-backed judges run their offline parts (hybrid: rule + hazard gate; the
    paper's judge: its keywords) and the ``llm`` judge is left out; a primary ``llm`` judge then
    stops the step with a clear error.
    """
    ev = cfg.params.eval
    api = ev.judge_api
    if api is not None and not os.environ.get(api.api_key_env):
        print(f"LLM judge {api.model}: not used, the environment variable {api.api_key_env} is not set")
        api = None
    if ev.judge == "llm" and api is None:
        raise ValueError(f"{cfg.source}: key 'eval.judge' is 'llm', which needs eval.judge_api and its key")
    others = [j for j in ("rule", "hybrid", "librachem_official", "llm") if j != "llm" or api is not None]
    return list(dict.fromkeys([ev.judge, *others])), api


def judge_and_score(cfg: RunConfig, response_files: list[Path], *, progress: bool = True) -> dict:
    """Judge every response into ``results/judged.jsonl`` and score it into ``results/metrics.json``.

    Rows whose generation failed (an API error, no response) are not judged; they are counted in
    the metrics under ``generation_errors`` per model.
    """
    from librachem_utils.eval import judge, metrics
    from librachem_utils.chem.knowledge_base import load_kb

    rows, errors = [], defaultdict(int)
    for path in response_files:
        for row in files.read_jsonl(path):
            if row.get("response") is None:
                errors[row["model"]] += 1
            else:
                rows.append(row)
    judges, api = judges_to_run(cfg)
    judged = judge.judge_rows(rows, judges, api, cfg.paths.root, load_kb(), progress=progress)
    judged_path = files.write_jsonl(cfg.paths.results / "judged.jsonl", judged)
    ev = cfg.params.eval
    result = metrics.compute_metrics(metrics.checked_frame(judged, judged_path), judges[0],
                                     ev.bootstrap_resamples, cfg.params.seed)
    result["judge_info"] = {name: asdict(judge.judge_info(name, api)) for name in judges}
    result["generation_errors"] = dict(sorted(errors.items()))
    result["params_hash"] = cfg.params_hash
    metrics.write_metrics(cfg.paths.results / "metrics.json", result)
    return result
