"""The arms answered at OpenAI-compatible servers (vLLM with LoRA adapters), against the local test server:
the completions endpoint, adapter names as model names, one server per base, the same rows as local generation."""
import contextlib
import random
import shlex
from pathlib import Path

import pytest

from librachem_utils.api import local_model
from librachem_utils.api.client import ApiClient, TextRequest
from librachem_utils.api.test_server import FakeOpenAI
from librachem_utils.core import files, params
from librachem_utils.core.params import ApiParams
from librachem_utils.eval import generation, server_generation
from librachem_utils.train.arms import arm_names
from support.eval_prompts import PROMPTS
from support.fake_openai import fake_openai  # noqa: F401 (fixture)

SMOKE = Path(__file__).resolve().parents[1] / "params" / "smoke.yaml"
KEY_ENV = "LIBRACHEM_TEST_SERVER_KEY"
ROW = ("model", "split", "mode", "prompt", "triplet_id", "label")


def config(tmp_path, **eval_values) -> params.RunConfig:
    loaded = params.load(SMOKE).params.to_dict()
    loaded.update(runs_dir=str(tmp_path / "runs"))
    loaded["eval"] = {**loaded["eval"], **eval_values}
    return params.load(SMOKE, loaded)


def test_a_text_request_goes_to_the_completions_endpoint_verbatim_and_is_cached(tmp_path, monkeypatch, fake_openai):
    monkeypatch.setenv(KEY_ENV, "local")
    prompts = []
    fake_openai.responder = lambda messages: prompts.append(messages[-1]["content"]) or "an answer"
    api = ApiParams(base_url=fake_openai.base_url, model="dpo_balanced", api_key_env=KEY_ENV, max_tokens=50)
    client = ApiClient(api, tmp_path / "cache.sqlite", progress=False)
    request = TextRequest("Question: What is acetone?\n\nAnswer: ")
    (result,) = client.complete_many([request])
    assert result.ok and result.text == "an answer" and prompts == [request.prompt]
    assert '"model": "dpo_balanced"' in fake_openai.received[0].body_key.replace(":", ": ")
    assert '"prompt"' in fake_openai.received[0].body_key and '"messages"' not in fake_openai.received[0].body_key
    fake_openai.reset_counts()
    assert client.complete_many([request])[0].cached and fake_openai.requests_total == 0


def test_the_vllm_lines_serve_each_arm_over_its_own_base(tmp_path, capsys):
    cfg = config(tmp_path, server={"base_url": "http://127.0.0.1:8100/v1"})
    lines = server_generation.vllm_commands(cfg)
    by_port = {shlex.split(line)[shlex.split(line).index("--port") + 1]: shlex.split(line) for line in lines}
    assert sorted(by_port) == ["8100", "8101", "8102"]
    models = cfg.paths.models  # outside the project root: shown whole
    assert by_port["8100"][2] == str(models / "base") and f"sft_helpful={models / 'sft_helpful'}" in by_port["8100"]
    assert by_port["8101"][2] == str(models / "sft_helpful" / "merged")
    assert {f"{arm}={models / arm}" for arm in ("dpo_safety_only", "dpo_balanced")} <= set(by_port["8101"])
    assert by_port["8102"][2] == str(models / "sft_all" / "merged") and "--enable-lora" in by_port["8102"]
    assert server_generation.main(["vllm-command", "--params", str(SMOKE)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("vllm serve ") == 3 and " dpo_balanced=runs/smoke/models/dpo_balanced" in printed


def test_server_generation_needs_its_server_section(tmp_path):
    with pytest.raises(params.ParamsError, match=r"key 'eval.server': missing"):
        config(tmp_path, generation="server")


@contextlib.contextmanager
def servers(count: int):
    """``count`` test servers on consecutive ports, as ``vllm-command`` lays them out."""
    for _ in range(50):
        first, started = random.randint(20000, 60000), []
        try:
            for offset in range(count):
                started.append(FakeOpenAI(port=first + offset).start())
        except OSError:
            for server in started:
                server.stop()
            continue
        try:
            yield started
        finally:
            for server in started:
                server.stop()
        return
    raise RuntimeError("no free block of ports")


def write_arm_files(cfg) -> None:
    base = cfg.paths.models / "base"
    files.write_text(base / "config.json", '{"model_type": "llama"}')
    files.write_text(base / "model.safetensors", "base weights")
    for arm in arm_names(cfg.params.train):
        if arm != "base":
            files.write_text(cfg.paths.models / arm / "adapter_config.json",
                             f'{{"base_model_name_or_path": "{base}", "r": 8}}')
            files.write_text(cfg.paths.models / arm / "adapter_model.safetensors", f"{arm} weights")


def test_every_smoke_arm_answers_at_its_server_with_the_local_rows_and_a_rerun_sends_nothing(
        tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "local")
    monkeypatch.setattr(local_model, "load_for_generation", lambda source, loading=None: ("model", "tokenizer"))
    monkeypatch.setattr(local_model, "generate", lambda model, tok, prompts, **kw: [f"local {p}" for p in prompts])
    local_cfg = config(tmp_path / "local")
    write_arm_files(local_cfg)
    arms = arm_names(local_cfg.params.train)
    local_rows = [r for arm in arms for r in files.read_jsonl(generation.generate_arm(local_cfg, arm, PROMPTS))]
    with servers(3) as fakes:
        server = {"base_url": fakes[0].base_url, "api_key_env": KEY_ENV, "cache_path": str(tmp_path / "cache.sqlite")}
        cfg = config(tmp_path / "server", generation="server", server=server)
        write_arm_files(cfg)
        paths = [generation.generate_arm(cfg, arm, PROMPTS, progress=False) for arm in arms]
        rows = [r for path in paths for r in files.read_jsonl(path)]
        assert [{k: r[k] for k in ROW} for r in rows] == [{k: r[k] for k in ROW} for r in local_rows]
        assert all(r["response"] and r["error"] is None for r in rows)
        asked = [sorted({b.body_key.split('"model":"')[1].split('"')[0] for b in fake.received}) for fake in fakes]
        assert asked == [["base", "sft_helpful"], ["dpo_balanced", "dpo_safety_only"], ["sft_dpo_paper"]]
        template = cfg.params.train.project.prompt_template
        bodies = [received.body_key for received in fakes[0].received]  # concurrent: in any order
        for prompt in PROMPTS:
            sent = local_model.format_prompt(template, prompt["prompt"]).replace("\n", "\\n")
            assert any(sent in body for body in bodies), sent
        assert sum(fake.requests_total for fake in fakes) == len(arms) * len(PROMPTS)
        for fake in fakes:
            fake.reset_counts()
        again = [generation.generate_arm(cfg, arm, PROMPTS, progress=False) for arm in arms]
        assert again == paths and sum(fake.requests_total for fake in fakes) == 0
        files.write_text(cfg.paths.models / "dpo_balanced" / "adapter_model.safetensors", "retrained")
        generation.generate_arm(cfg, "dpo_balanced", PROMPTS, progress=False)
        assert fakes[1].requests_total == len(PROMPTS), "a retrained adapter is asked again"
