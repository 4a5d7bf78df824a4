"""Generation for evaluation (notebook 05): the test prompts, answered by every arm and API baseline.

- ``eval_prompts``: the prompts of the test splits in the modes the params name, capped per split
  and mode by a seeded draw that keeps the labels balanced, with the dual-use cell (synthesis
  requests) topped up so that its rates rest on enough prompts;
- ``generate_arm`` (here, or at a server: ``server_generation``) / ``generate_baseline``: responses as JSON
  Lines in ``results/responses/``, one
  file per model, with prompt, response, label, model, split, mode, the params hash of the run that
  wrote them and their ``generation_key``.

One rule decides reuse: a responses file is reused exactly when what made it is unchanged, which
``generation_key`` sums up: the model (``model_fingerprint``: its weights, configs and tokenizer by
content, and the base an adapter or pointer names; for a baseline, the endpoint and model), the
prompts, and the generation settings. Retraining an arm into different weights regenerates its
answers; a params change that does not reach them (figure formats, other arms) keeps them.
"""
from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
import random
from collections import defaultdict
from pathlib import Path
from typing import Optional

from librachem_utils.api.local_model import POINTER_FILE, is_adapter_dir, resolve_source
from librachem_utils.core import files, schema
from librachem_utils.core.params import ApiParams, RunConfig

PROMPT_FIELDS = ("triplet_id", "prompt", "label", "split", "mode", "intent", "compound", "compound_class", "aspect")
#: the files a model folder is loaded from; its card, training record and trainer arguments are left out
MODEL_FILES = ("*.safetensors", "pytorch_model*.bin", "adapter_model.bin", "*config.json", "tokenizer*",
               "special_tokens_map.json", "vocab.*", "merges.txt", "chat_template.*", POINTER_FILE)
#: what shapes a baseline's answers (the client's limits, retries and cache do not)
BASELINE_FIELDS = ("base_url", "model", "temperature", "max_tokens")


def eval_prompts(cfg: RunConfig) -> list[dict]:
    """The evaluation prompts of each split and mode: at most ``max_prompts_per_split`` drawn from all
    intents (labels balanced), then the dual-use cell's synthesis prompts topped up to
    ``dual_use_prompts_per_label`` of each label. The top-up is marked ``focus: "dual_use"``: it
    counts for the dual-use rates only, so the headline rates keep the draw's mix of intents."""
    ev, rng = cfg.params.eval, random.Random(f"{cfg.params.seed}:eval")
    half = None if ev.max_prompts_per_split is None else ev.max_prompts_per_split // 2
    prompts = []
    for split in ev.splits:
        rows = files.read_jsonl(cfg.paths.dataset / f"{split}.jsonl")
        for mode in ev.modes:
            by_label = defaultdict(list)
            for row in rows:
                if row["mode"] == mode:
                    by_label[row["label"]].append({**{k: row.get(k) for k in PROMPT_FIELDS}, "split": split})
            for label in sorted(by_label):
                drawn = _draw(by_label[label], half, rng)
                prompts += sorted(drawn + _dual_use_top_up(by_label[label], drawn, ev.dual_use_prompts_per_label,
                                                           rng), key=lambda r: r["triplet_id"])
    return prompts


def _draw(pool: list[dict], cap: Optional[int], rng: random.Random) -> list[dict]:
    return rng.sample(pool, cap) if cap is not None and len(pool) > cap else list(pool)


def _dual_use_top_up(pool: list[dict], drawn: list[dict], target: Optional[int], rng: random.Random) -> list[dict]:
    """Synthesis prompts of ``pool`` not in ``drawn``, enough to bring its synthesis prompts to ``target``
    (None: all of them), each marked as the dual-use cell's."""
    taken = {p["triplet_id"] for p in drawn}
    spare = [p for p in pool if p.get("intent") == schema.DUAL_USE_INTENT and p["triplet_id"] not in taken]
    have = sum(p.get("intent") == schema.DUAL_USE_INTENT for p in drawn)
    wanted = len(spare) if target is None else max(0, target - have)
    return [{**p, "focus": "dual_use"} for p in _draw(spare, wanted, rng)]


def responses_path(cfg: RunConfig, model: str) -> Path:
    return cfg.paths.results / "responses" / f"{model.replace('/', '_')}.jsonl"


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """A file's sha256, computed once per version of the file (a base shared by several arms is read once)."""
    return files.sha256_file(path)


def model_fingerprint(source: str | Path) -> str:
    """What a model folder loads as, by content and not by place: the sha256 of its ``MODEL_FILES``
    (an adapter's config without the path of its base), then the fingerprint of the base that an
    adapter or a pointer names. A hub id is its own fingerprint."""
    folder = Path(source)
    if not folder.is_dir():
        return str(source)
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not any(fnmatch.fnmatch(path.name, pattern) for pattern in MODEL_FILES):
            continue
        if path.name == "adapter_config.json":
            config = {k: v for k, v in files.read_json(path).items() if k != "base_model_name_or_path"}
            content = files.json_digest(config, length=None)
        else:
            stat = path.stat()
            content = _file_digest(str(path), stat.st_size, stat.st_mtime_ns)
        digest.update(f"{path.name}:{content}\n".encode())
    if is_adapter_dir(folder):
        base = files.read_json(folder / "adapter_config.json")["base_model_name_or_path"]
        digest.update(f"base:{model_fingerprint(resolve_source(base))}\n".encode())
    elif (folder / POINTER_FILE).is_file():
        digest.update(f"base:{model_fingerprint(resolve_source(folder))}\n".encode())
    return digest.hexdigest()


def arm_settings(cfg: RunConfig) -> dict:
    """The settings that shape an arm's answers besides its files and the prompts: the prompt template,
    how the model is loaded (``train.model``: dtype, 4-bit) and the generation settings."""
    ev, train = cfg.params.eval, cfg.params.train
    settings = {"template": train.project.prompt_template, "loading": train.model.model_dump(mode="json"),
                "max_new_tokens": ev.max_new_tokens, "batch_size": ev.batch_size, "do_sample": ev.do_sample}
    if ev.do_sample:
        settings.update(temperature=ev.temperature, seed=cfg.params.seed)
    return settings


def generation_key(model: object, settings: dict, prompts: list[dict]) -> str:
    """A short hash of the model's identity, the generation settings and the prompts (ids and text)."""
    asked = [(p["triplet_id"], p["split"], p["mode"], p["prompt"]) for p in prompts]
    identity = {"model": model, "settings": settings, "prompts": asked}
    return files.json_digest(identity)


def reusable(path: Path, prompts: list[dict], key: str) -> bool:
    """Whether ``path`` holds one answer per prompt, all made under ``key``."""
    if not path.is_file():
        return False
    rows = files.read_jsonl(path, allow_empty=True)
    return len(rows) == len(prompts) and all(row.get("generation_key") == key for row in rows)


def write_responses(cfg: RunConfig, model: str, key: str, prompts: list[dict], responses: list[Optional[str]],
                     errors: Optional[list[Optional[str]]] = None) -> Path:
    errors = errors or [None] * len(prompts)
    rows = [{**p, "model": model, "response": r, "error": e, "params_hash": cfg.params_hash, "generation_key": key}
            for p, r, e in zip(prompts, responses, errors, strict=True)]
    return files.write_jsonl(responses_path(cfg, model), rows)


def generate_arm(cfg: RunConfig, arm: str, prompts: list[dict], progress: bool = True) -> Path:
    """Answer ``prompts`` with the arm saved in ``models/<arm>`` (batched, greedy unless params sample); with
    ``eval.generation: server``, at its server (``server_generation``)."""
    if cfg.params.eval.generation == "server":
        from librachem_utils.eval.server_generation import generate_served_arm

        return generate_served_arm(cfg, arm, prompts, progress)
    folder = cfg.paths.models / arm
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no trained arm '{arm}' (run 04_dpo_qlora first)")
    settings = arm_settings(cfg)
    key = generation_key(model_fingerprint(folder), settings, prompts)
    path = responses_path(cfg, arm)
    if reusable(path, prompts, key):
        return path
    from librachem_utils.api.local_model import generate, load_for_generation

    ev = cfg.params.eval
    model, tokenizer = load_for_generation(folder, cfg.params.train.model)
    answers = generate(model, tokenizer, [p["prompt"] for p in prompts], template=settings["template"],
                       batch_size=ev.batch_size, max_new_tokens=ev.max_new_tokens, do_sample=ev.do_sample,
                       temperature=ev.temperature, seed=cfg.params.seed, progress=progress)
    return write_responses(cfg, arm, key, prompts, answers)


def generate_baseline(cfg: RunConfig, api: ApiParams, prompts: list[dict]) -> Optional[Path]:
    """Answer ``prompts`` with an API model; None (with a note printed) when its key is not set.
    Prints the requests, tokens and cost it took."""
    from librachem_utils.api.client import ApiClient, ChatRequest

    if not os.environ.get(api.api_key_env):
        print(f"baseline {api.model}: skipped, the environment variable {api.api_key_env} is not set")
        return None
    key = generation_key({field: getattr(api, field) for field in BASELINE_FIELDS}, {}, prompts)
    path = responses_path(cfg, api.model)
    if reusable(path, prompts, key):
        return path
    client = ApiClient(api, cfg.paths.resolve(api.cache_path))
    results = client.complete_many([ChatRequest.user(p["prompt"]) for p in prompts], desc=api.model)
    print(f"baseline {api.model}: {client.usage.summary(api)}")
    return write_responses(cfg, api.model, key, prompts, [r.text for r in results], [r.error for r in results])
