"""The arms answered by OpenAI-compatible servers (``eval.generation: server``): vLLM serving each base model
with the arms over it as LoRA adapters, each arm asked by its name on the completions endpoint, with the prompt
template of local generation, through the concurrent, cached, retrying ``api.client``.

    python -m librachem_utils.eval.server_generation vllm-command --params params/colab_gpu.yaml

prints the ``vllm serve`` lines for the params' arms, to run from the project root. A DPO arm is an adapter
over its *merged* SFT model, so the arms fall into one group per base: the base model (the ``base`` arm itself
and ``sft_helpful``), ``models/sft_helpful/merged`` (the DPO arms and sweeps), ``models/sft_all/merged``
(``sft_dpo_paper``). The i-th group is served on ``eval.server.base_url``'s port + i.

Responses files and their reuse are those of ``generation``: the ``generation_key`` sums up the arm's files
(``model_fingerprint``), the server it is asked at, the template, the generation settings and the prompts.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence
from urllib.parse import urlsplit, urlunsplit

from librachem_utils.api.local_model import POINTER_FILE, format_prompt, resolve_source
from librachem_utils.core.params import ApiParams, RunConfig
from librachem_utils.core.sections import ServerParams
from librachem_utils.eval import generation
from librachem_utils.train.arms import arm_names, arm_stages


@dataclass(frozen=True)
class ServedBase:
    """One server: a base model (served under ``name``) and the arms served over it as LoRA adapters."""

    name: str
    source: str  # the folder or hub id vLLM loads
    arms: tuple[str, ...]  # adapters; the ``base`` arm is the base model itself
    url: str


def _port_url(url: str, offset: int) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.hostname}:{parts.port + offset}"
    return urlunsplit(parts._replace(netloc=netloc))


def served_bases(cfg: RunConfig) -> list[ServedBase]:
    """The servers that answer the params' arms, in the order of their ports (the base model's first)."""
    train, models = cfg.params.train, cfg.paths.models
    groups: dict[str, list[str]] = {}
    for arm in arm_names(train):
        parent = "base" if arm == "base" else arm_stages(arm, train)[-1].parent
        groups.setdefault(parent, []).append(arm)
    server = cfg.params.eval.server or ServerParams()
    bases = []
    for offset, (parent, members) in enumerate(sorted(groups.items(), key=lambda item: item[0] != "base")):
        source = _base_source(cfg) if parent == "base" else str(models / parent / "merged")
        name = "base_model" if parent == "base" else f"{parent}_merged"
        bases.append(ServedBase(name, source, tuple(members), _port_url(server.base_url, offset)))
    return bases


def _base_source(cfg: RunConfig) -> str:
    """The base model: what ``models/base`` points to, else the params' checkpoint, else the tiny model's folder."""
    folder = cfg.paths.models / "base"
    if (folder / POINTER_FILE).is_file():
        return resolve_source(folder)
    return cfg.params.train.model.model_name_or_path or str(folder)


def _shown(cfg: RunConfig, source: str | Path) -> str:
    """A path under the project root relative to it (the lines are run from there); a hub id as it is."""
    path = Path(source)
    return str(path.relative_to(cfg.paths.root)) if path.is_absolute() and path.is_relative_to(cfg.paths.root) \
        else str(source)


def vllm_commands(cfg: RunConfig) -> list[str]:
    """One ``vllm serve`` line per served base, adapters by arm name, loading as training did."""
    model = cfg.params.train.model
    lines = []
    for base in served_bases(cfg):
        adapters = [arm for arm in base.arms if arm != "base"]
        served = ["base", base.name] if "base" in base.arms else [base.name]
        words = ["vllm", "serve", _shown(cfg, base.source), "--served-model-name", *served,
                 "--port", str(urlsplit(base.url).port), "--dtype", model.dtype]
        if model.load_in_4bit:
            words += ["--quantization", "bitsandbytes"]
        if adapters:
            modules = [f"{arm}={_shown(cfg, cfg.paths.models / arm)}" for arm in adapters]
            words += ["--enable-lora", "--max-lora-rank", str(max(16, model.lora_r)), "--max-loras",
                      str(len(adapters)), "--lora-modules", *modules]
        lines.append(shlex.join(words))
    return lines


def server_settings(cfg: RunConfig) -> dict:
    """What shapes a served arm's answers besides its files and the prompts."""
    ev = cfg.params.eval
    settings = {"engine": "server", "template": cfg.params.train.project.prompt_template,
                "max_new_tokens": ev.max_new_tokens, "do_sample": ev.do_sample}
    if ev.do_sample:
        settings["temperature"] = ev.temperature
    return settings


def arm_api(cfg: RunConfig, arm: str, url: str) -> ApiParams:
    """The client's settings for one arm: its adapter name as the model, ``eval``'s generation settings."""
    ev, server = cfg.params.eval, cfg.params.eval.server
    return ApiParams(base_url=url, model=arm, api_key_env=server.api_key_env, max_tokens=ev.max_new_tokens,
                     temperature=ev.temperature if ev.do_sample else 0.0, concurrency=server.concurrency,
                     max_retries=server.max_retries, format_retries=0, timeout_s=server.timeout_s,
                     cache_path=server.cache_path)


def generate_served_arm(cfg: RunConfig, arm: str, prompts: list[dict], progress: bool = True) -> Path:
    """Answer ``prompts`` with ``arm`` at its server; reused like a local arm's file while nothing changed.
    A reply cut at ``max_new_tokens`` is kept as the answer (as local generation stops there too). The client's
    cache is scoped by the arm's fingerprint: a retrained adapter served under the same name is asked again."""
    from librachem_utils.api.client import ApiClient, TextRequest

    folder = cfg.paths.models / arm
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no trained arm '{arm}' (run 04_dpo_qlora first)")
    base = next((base for base in served_bases(cfg) if arm in base.arms), None)
    if base is None:
        raise ValueError(f"{cfg.source}: arm '{arm}' is not one of the params' arms, so no server serves it")
    settings = server_settings(cfg)
    identity = {"fingerprint": generation.model_fingerprint(folder), "adapter": arm, "url": base.url}
    key = generation.generation_key(identity, settings, prompts)
    path = generation.responses_path(cfg, arm)
    if generation.reusable(path, prompts, key):
        return path
    api = arm_api(cfg, arm, base.url)
    client = ApiClient(api, cfg.paths.resolve(api.cache_path), progress=progress, cache_scope=identity["fingerprint"])
    requests = [TextRequest(format_prompt(settings["template"], p["prompt"])) for p in prompts]
    results = client.complete_many(requests, desc=arm)
    print(f"arm {arm} at {base.url}: {client.usage.summary(api)}")
    answers = [r.text.strip() if r.text is not None else None for r in results]
    errors = [None if r.ok or r.truncated else r.error for r in results]
    return generation.write_responses(cfg, arm, key, prompts, answers, errors)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from librachem_utils.core.params import ParamsError, load

    parser = argparse.ArgumentParser(prog="python -m librachem_utils.eval.server_generation",
                                     description="The arms served by vLLM, as LoRA adapters over their bases.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("vllm-command", help="print the vllm serve lines for the params' arms")
    command.add_argument("--params", required=True, help="a params YAML file, e.g. params/colab_gpu.yaml")
    args = parser.parse_args(argv)
    try:
        cfg = load(args.params)
    except ParamsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("\n".join(vllm_commands(cfg)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
