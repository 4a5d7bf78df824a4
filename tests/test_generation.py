"""Generation for evaluation: API baselines (skipped without a key), and the one rule for reusing a
responses file: reused exactly when the model files, the prompts and the settings that made it are unchanged."""
import shutil
from pathlib import Path

import pytest

from librachem_utils.api import local_model
from librachem_utils.core import files, params
from librachem_utils.core.params import ApiParams
from librachem_utils.eval import generation
from support.eval_prompts import PROMPTS
from support.fake_openai import fake_openai  # noqa: F401 (fixture)

SMOKE = Path(__file__).resolve().parents[1] / "params" / "smoke.yaml"
KEY_ENV = "LIBRACHEM_TEST_BASELINE_KEY"


def config(tmp_path, section: str = "eval", **values) -> params.RunConfig:
    loaded = params.load(SMOKE).params.to_dict()
    loaded.update(runs_dir=str(tmp_path / "runs"))
    loaded[section] = {**loaded[section], **values}
    return params.load(SMOKE, loaded)


# --- baselines ---------------------------------------------------------------------------------

def test_baseline_without_its_key_is_skipped_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(KEY_ENV, raising=False)
    cfg = config(tmp_path)
    api = ApiParams(base_url="http://127.0.0.1:9/v1", model="gpt-4o", api_key_env=KEY_ENV)
    assert generation.generate_baseline(cfg, api, PROMPTS) is None
    assert f"baseline gpt-4o: skipped, the environment variable {KEY_ENV} is not set" in capsys.readouterr().out
    assert not generation.responses_path(cfg, "gpt-4o").exists()


def test_baseline_answers_prints_its_cost_and_is_reused_only_while_its_settings_hold(
        tmp_path, monkeypatch, fake_openai, capsys):
    monkeypatch.setenv(KEY_ENV, "sk-local")
    cfg = config(tmp_path)
    api = dict(base_url=fake_openai.base_url, model="org/llama-3", api_key_env=KEY_ENV,
               cache_path=str(tmp_path / "cache.sqlite"), usd_per_1m_input_tokens=2.5, usd_per_1m_output_tokens=10.0)
    path = generation.generate_baseline(cfg, ApiParams(**api), PROMPTS)
    rows = files.read_jsonl(path)
    assert path.name == "org_llama-3.jsonl" and fake_openai.requests_total == 2
    assert [(r["model"], r["params_hash"], r["error"]) for r in rows] == [("org/llama-3", cfg.params_hash, None)] * 2
    assert all(r["response"].startswith("Reply ") for r in rows)
    printed = capsys.readouterr().out
    assert "baseline org/llama-3: 2 requests sent" in printed and ", $0.0" in printed
    fake_openai.reset_counts()
    assert generation.generate_baseline(cfg, ApiParams(**api, concurrency=3), PROMPTS) == path
    assert fake_openai.requests_total == 0 and files.read_jsonl(path) == rows, "client limits do not shape answers"
    before = path.stat().st_mtime_ns
    generation.generate_baseline(cfg, ApiParams(**{**api, "temperature": 0.0}), PROMPTS)
    assert path.stat().st_mtime_ns != before, "a new temperature asks again"
    assert fake_openai.requests_total == 2


# --- arms: the reuse rule ------------------------------------------------------------------------

@pytest.fixture
def arm(tmp_path, monkeypatch):
    """A run with a base folder and an adapter arm over it (files only), and a generator that counts its calls."""
    cfg = config(tmp_path)
    base, folder = cfg.paths.models / "base", cfg.paths.models / "dpo_balanced"
    for path, text in {base / "config.json": '{"model_type": "llama"}', base / "model.safetensors": "base v1",
                       folder / "adapter_config.json": f'{{"base_model_name_or_path": "{base}", "r": 8}}',
                       folder / "adapter_model.safetensors": "adapter v1", folder / "README.md": "card",
                       folder / "training_complete.json": '{"wall_s": 1.0}'}.items():
        files.write_text(path, text)
    calls = []
    monkeypatch.setattr(local_model, "load_for_generation", lambda source, loading=None: ("model", "tokenizer"))

    def generate(model, tokenizer, prompts, **settings):
        calls.append(settings)
        return [f"answer {len(calls)} to {prompt}" for prompt in prompts]

    monkeypatch.setattr(local_model, "generate", generate)
    return cfg, folder, calls


def answer(cfg, prompts=PROMPTS) -> list[dict]:
    return files.read_jsonl(generation.generate_arm(cfg, "dpo_balanced", prompts, progress=False))


def test_answers_are_kept_when_nothing_that_made_them_changed(tmp_path, arm):
    cfg, folder, calls = arm
    first = answer(cfg)
    assert len(calls) == 1 and {r["generation_key"] for r in first} == {first[0]["generation_key"]}
    assert answer(cfg) == first and len(calls) == 1
    other_figures = config(tmp_path, "figures", formats=["png"])
    assert other_figures.params_hash != cfg.params_hash
    assert answer(other_figures) == first and len(calls) == 1, "a figure format does not reach the answers"
    files.write_text(folder / "training_complete.json", '{"wall_s": 2.0}')
    files.write_text(folder / "README.md", "another card")
    assert answer(cfg) == first and len(calls) == 1, "a rewritten card or record does not change the model"


def test_moving_the_run_keeps_the_answers(tmp_path, arm):
    cfg, _, calls = arm
    first = answer(cfg)
    moved = params.load(SMOKE, {**cfg.params.to_dict(), "runs_dir": str(tmp_path / "elsewhere")})
    shutil.copytree(cfg.paths.run_dir, moved.paths.run_dir)
    adapter_config = moved.paths.models / "dpo_balanced" / "adapter_config.json"
    files.write_json(adapter_config, {**files.read_json(adapter_config),
                                      "base_model_name_or_path": str(moved.paths.models / "base")})
    shutil.rmtree(cfg.paths.run_dir)
    assert answer(moved) == first and len(calls) == 1


@pytest.mark.parametrize("change", ["retrained adapter", "retrained base", "max_new_tokens", "template",
                                    "4-bit loading", "prompt text"])
def test_answers_are_made_again_when_what_made_them_changed(tmp_path, arm, change):
    cfg, folder, calls = arm
    first = answer(cfg)
    prompts = PROMPTS
    if change == "retrained adapter":  # a forced retrain: same params, other weights
        files.write_text(folder / "adapter_model.safetensors", "adapter v2")
    elif change == "retrained base":
        files.write_text(cfg.paths.models / "base" / "model.safetensors", "base v2")
    elif change == "max_new_tokens":
        cfg = config(tmp_path, max_new_tokens=cfg.params.eval.max_new_tokens + 1)
    elif change == "template":
        train = cfg.params.train.model_dump(mode="json")
        cfg = config(tmp_path, "train", project={**train["project"], "prompt_template": "Q: {prompt}\nA: "})
    elif change == "4-bit loading":
        train = cfg.params.train.model_dump(mode="json")
        cfg = config(tmp_path, "train", model={**train["model"], "load_in_4bit": True})
    else:
        prompts = [{**PROMPTS[0], "prompt": "What is the melting point of acetone?"}, PROMPTS[1]]
    again = answer(cfg, prompts)
    assert len(calls) == 2 and again != first
    assert {r["generation_key"] for r in again} != {r["generation_key"] for r in first}


def test_a_missing_arm_names_its_folder(tmp_path):
    cfg = config(tmp_path)
    with pytest.raises(FileNotFoundError, match="no trained arm 'sft_helpful'"):
        generation.generate_arm(cfg, "sft_helpful", PROMPTS)


# --- the evaluation prompts ------------------------------------------------------------------------

def _dataset_rows(split: str) -> list[dict]:
    rows = []
    for label in ("legitimate", "illegitimate"):
        for intent, n in (("synthesis", 12), ("properties", 30)):
            rows += [{"triplet_id": f"{split}-{label}-{intent}-{i}", "prompt": f"{intent} {i}", "label": label,
                      "mode": "text", "intent": intent, "compound": "ethanol"} for i in range(n)]
    return rows


def test_eval_prompts_keep_the_draws_mix_and_top_up_the_dual_use_cell(tmp_path):
    cfg = config(tmp_path, splits=["test"], modes=["text"], max_prompts_per_split=20, dual_use_prompts_per_label=10)
    files.write_jsonl(cfg.paths.dataset / "test.jsonl", _dataset_rows("test"))
    prompts = generation.eval_prompts(cfg)
    for label in ("legitimate", "illegitimate"):
        mine = [p for p in prompts if p["label"] == label]
        drawn = [p for p in mine if "focus" not in p]
        assert len(drawn) == 10  # half of max_prompts_per_split, from every intent
        assert sum(p["intent"] == "synthesis" for p in mine) == 10
        assert all(p["intent"] == "synthesis" and p["focus"] == "dual_use" for p in mine if "focus" in p)
        assert len({p["triplet_id"] for p in mine}) == len(mine)  # no prompt twice
    assert prompts == generation.eval_prompts(cfg)  # seeded


def test_eval_prompts_without_a_dual_use_cap_take_every_synthesis_prompt(tmp_path):
    cfg = config(tmp_path, splits=["test"], modes=["text"], max_prompts_per_split=20, dual_use_prompts_per_label=None)
    files.write_jsonl(cfg.paths.dataset / "test.jsonl", _dataset_rows("test"))
    prompts = generation.eval_prompts(cfg)
    assert sum(p["intent"] == "synthesis" for p in prompts) == 24
