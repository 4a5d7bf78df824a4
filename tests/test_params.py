"""Params files are validated on load: each kind of bad file stops with its file and key named."""
import typing
from pathlib import Path

import pytest

from librachem_utils.core import files, schema, trl_fields
from librachem_utils.core import params as params_mod

PARAMS_DIR = Path(__file__).resolve().parents[1] / "params"


@pytest.mark.parametrize("name", ["smoke", "default", "paper_scale", "openai", "colab_gpu"])
def test_shipped_params_files_load(name):
    cfg = params_mod.load(PARAMS_DIR / f"{name}.yaml")
    assert cfg.params.run_name == name
    assert cfg.paths.run_dir == PARAMS_DIR.parent / "runs" / name


def write(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_names_file_and_key(tmp_path):
    path = write(tmp_path, "run_name: x\ntrain:\n  sft_stepz: 3\n")
    with pytest.raises(params_mod.ParamsError) as err:
        params_mod.load(path)
    assert str(err.value) == f"{path}: key 'train.sft_stepz': unknown key"
    path = write(tmp_path, "run_name: x\ntrain:\n  dpo:\n    max_stepz: 3\n")
    with pytest.raises(params_mod.ParamsError) as err:
        params_mod.load(path)
    assert str(err.value) == (f"{path}: key 'train.dpo.max_stepz': "
                              "unknown key: not a field of the installed TRL's DPOConfig")


def test_wrong_type_names_key(tmp_path):
    path = write(tmp_path, "run_name: x\nseed: 'thirteen'\n")
    with pytest.raises(params_mod.ParamsError, match=r"bad.yaml: key 'seed': Input should be a valid integer"):
        params_mod.load(path)


def test_string_number_is_not_coerced(tmp_path):
    path = write(tmp_path, "run_name: x\ndata:\n  rephrase:\n    variants: '3'\n")
    with pytest.raises(params_mod.ParamsError, match=r"key 'data.rephrase.variants'"):
        params_mod.load(path)


def test_missing_required_key(tmp_path):
    path = write(tmp_path, "seed: 3\n")
    with pytest.raises(params_mod.ParamsError, match=r"key 'run_name': missing key"):
        params_mod.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(params_mod.ParamsError, match=r"nope.yaml: no such params file"):
        params_mod.load(tmp_path / "nope.yaml")


def test_invalid_yaml_and_non_mapping(tmp_path):
    with pytest.raises(params_mod.ParamsError, match="not valid YAML"):
        params_mod.load(write(tmp_path, "run_name: [unclosed\n"))
    with pytest.raises(params_mod.ParamsError, match="expected a mapping"):
        params_mod.load(write(tmp_path, "- a\n- b\n"))


def test_out_of_range_value(tmp_path):
    with pytest.raises(params_mod.ParamsError, match=r"key 'train.model.lora_dropout'"):
        params_mod.load(write(tmp_path, "run_name: x\ntrain:\n  model:\n    lora_dropout: 1.5\n"))


def test_exponent_without_dot_reads_as_float(tmp_path):
    cfg = params_mod.load(write(tmp_path, "run_name: x\ntrain:\n  sft:\n    learning_rate: 1e-4\n"))
    assert cfg.params.train.sft["learning_rate"] == pytest.approx(1e-4)


def test_hash_is_stable_and_tracks_values(tmp_path):
    a = params_mod.load(write(tmp_path, "run_name: x\nseed: 1\n")).params_hash
    assert a == params_mod.load(tmp_path / "bad.yaml").params_hash
    b = params_mod.load(write(tmp_path, "run_name: x\nseed: 2\n")).params_hash
    assert a != b


def test_hash_ignores_where_the_run_is_written(tmp_path):
    path = write(tmp_path, "run_name: x\n")
    here = params_mod.load(path).params_hash
    elsewhere = params_mod.load(path, {"run_name": "x", "runs_dir": str(tmp_path / "other"),
                                   "figures": {"out_dir": str(tmp_path / "figs")}}).params_hash
    assert here == elsewhere


def test_injected_values_win_over_file(tmp_path):
    path = write(tmp_path, "run_name: x\n")
    cfg = params_mod.load(path, {"run_name": "y", "seed": 5})
    assert (cfg.params.run_name, cfg.params.seed) == ("y", 5)
    with pytest.raises(params_mod.ParamsError, match=r"key 'bogus': unknown key"):
        params_mod.load(path, {"run_name": "y", "bogus": 1})


# --- each kind of value no step could use stops the load with file and key -------------------

def refused(tmp_path, text):
    """The one-line error of loading ``text``: it names the file."""
    path = write(tmp_path, "run_name: x\n" + text)
    with pytest.raises(params_mod.ParamsError) as err:
        params_mod.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: key '") and "\n" not in message
    return message.removeprefix(f"{path}: ")


def test_misspelt_arm(tmp_path):
    assert refused(tmp_path, "train:\n  project:\n    arms: [base, dpo_balancd]\n").startswith(
        "key 'train.project.arms': unknown arm 'dpo_balancd': choose from base, sft_helpful")
    mix = refused(tmp_path, "train:\n  project:\n    mix_sweep: [1.5]\n")
    assert mix.startswith("key 'train.project.mix_sweep.0'")


def test_unknown_lr_scheduler(tmp_path):
    message = refused(tmp_path, "train:\n  sft:\n    lr_scheduler_type: cosin\n")
    assert message.startswith("key 'train.sft.lr_scheduler_type': 'cosin' is not one of linear, cosine,")


def test_trl_section_value_of_the_wrong_type_or_owned_by_the_code(tmp_path):
    assert refused(tmp_path, "train:\n  dpo:\n    beta: high\n") == "key 'train.dpo.beta': 'high' is not of type float"
    assert refused(tmp_path, "train:\n  pretrain:\n    seed: 3\n") == (
        "key 'train.pretrain.seed': set by the code from the top-level seed, not by params")
    assert refused(tmp_path, "train:\n  dpo:\n    loss_type: [sigmoid, sft]\n    loss_weights: [1.0]\n") == (
        "key 'train.dpo.loss_weights': 1 weights for 2 loss types (loss_type)")


def test_trl_fields_pass_through(tmp_path):
    cfg = params_mod.load(write(tmp_path, "run_name: x\ntrain:\n  dpo:\n    loss_type: [ipo]\n"
                                          "    precompute_ref_log_probs: true\n    lr_scheduler_type: constant\n"))
    assert cfg.params.train.dpo == {"loss_type": ["ipo"], "precompute_ref_log_probs": True,
                                    "lr_scheduler_type": "constant"}


def test_model_section_uses_trl_model_config_names():
    import dataclasses

    from trl import ModelConfig

    assert set(params_mod.ModelParams.model_fields) <= {field.name for field in dataclasses.fields(ModelConfig)}


def test_unknown_eval_split(tmp_path):
    message = refused(tmp_path, "eval:\n  splits: [test, tset]\n")
    assert message.startswith("key 'eval.splits.1': Input should be ")
    assert all(split in message for split in schema.HELDOUT_SPLITS)


def test_unknown_seed_request_intent(tmp_path):
    assert refused(tmp_path, "data:\n  seeds:\n    intents: [synthesis, cooking]\n").startswith(
        "key 'data.seeds.intents': unknown intent 'cooking': choose from synthesis, properties")


@pytest.mark.parametrize("backend, section", [("openai", "api"), ("transformers", "local")])
def test_generator_backend_without_its_section(tmp_path, backend, section):
    assert refused(tmp_path, f"data:\n  generator:\n    backend: {backend}\n") == (
        f"key 'data.generator.{section}': missing: backend '{backend}' needs it")


LLM_API = "  judge_api:\n    model: judge\n"
WILDGUARD_API = "  wildguard:\n    api:\n      base_url: http://127.0.0.1:9/v1\n"


def test_llm_judge_without_a_model(tmp_path):
    assert refused(tmp_path, "eval:\n  judge: llm\n") == (
        "key 'eval.judge': 'llm' needs judge_api (an OpenAI-compatible endpoint) or judge_local (a local model)")
    for judge in ("hybrid", "librachem_official"):  # these fall back to rules without an LLM
        assert params_mod.load(write(tmp_path, f"run_name: x\neval:\n  judge: {judge}\n")).params.eval.judge == judge
    local = params_mod.load(write(tmp_path, "run_name: x\neval:\n  judge: llm\n  judge_local:\n    model_path: m\n"))
    assert local.params.eval.judge_local.model_path == "m"


def test_llm_judge_as_endpoint_and_local_model_at_once(tmp_path):
    assert refused(tmp_path, "eval:\n" + LLM_API + "  judge_local:\n    model_path: m\n") == (
        "key 'eval.judge_local': judge_api is set too: the LLM judge is an endpoint or a local model")


@pytest.mark.parametrize("guard", ["wildguard", "llama_guard"])
def test_guard_judge_without_its_section(tmp_path, guard):
    assert refused(tmp_path, f"eval:\n  judge: {guard}\n") == f"key 'eval.judge': '{guard}' needs the {guard} section"


@pytest.mark.parametrize("body", ["{}", "\n    api: {}\n    local:\n      model_path: m"])
def test_guard_section_is_an_endpoint_or_a_local_model_exactly_one(tmp_path, body):
    assert refused(tmp_path, f"eval:\n  llama_guard: {body}\n") == (
        "key 'eval.llama_guard': give either api (an endpoint) or local (a local model), exactly one")


def test_guard_endpoints_default_to_the_guards_models(tmp_path):
    text = "run_name: x\neval:\n  judge: wildguard\n" + WILDGUARD_API + "  llama_guard:\n    api: {}\n"
    ev = params_mod.load(write(tmp_path, text)).params.eval
    assert (ev.wildguard.api.model, ev.llama_guard.api.model) == ("allenai/wildguard", "meta-llama/Llama-Guard-3-8B")
    assert ev.wildguard.api.base_url == "http://127.0.0.1:9/v1" and ev.hybrid_refusal is None


def test_hybrid_refusal_or_harm_naming_an_unconfigured_judge(tmp_path):
    assert refused(tmp_path, "eval:\n  hybrid_refusal: wildguard\n" + LLM_API) == (
        "key 'eval.hybrid_refusal': names 'wildguard', which needs the wildguard section")
    assert refused(tmp_path, "eval:\n  hybrid_refusal: llm\n" + WILDGUARD_API).startswith(
        "key 'eval.hybrid_refusal': names 'llm', which needs judge_api")
    assert refused(tmp_path, "eval:\n  hybrid_harm: [wildguard, llama_guard]\n" + WILDGUARD_API) == (
        "key 'eval.hybrid_harm': names 'llama_guard', which needs the llama_guard section")
    assert refused(tmp_path, "eval:\n  hybrid_refusal: llama_guard\n").startswith("key 'eval.hybrid_refusal': ")


def test_judge_names_agree_across_params_metrics_and_judges():
    from librachem_utils.eval import judges, metrics

    assert metrics.JUDGES == typing.get_args(params_mod.EvalParams.model_fields["judge"].annotation)
    assert set(judges.MODEL_JUDGES) <= set(metrics.JUDGES), "every model-backed judge can be eval.judge"
    assert set(params_mod.GUARD_MODELS) == set(judges.GUARDS), "every guard has a params section"


def test_hidden_size_not_a_multiple_of_heads(tmp_path):
    assert refused(tmp_path, "train:\n  project:\n    tiny:\n      hidden_size: 30\n") == (
        "key 'train.project.tiny.hidden_size': 30 is not a multiple of num_attention_heads (4)")


@pytest.mark.parametrize("section", ["pretrain", "sft", "dpo"])
def test_warmup_longer_than_the_steps(tmp_path, section):
    assert refused(tmp_path, f"train:\n  {section}:\n    max_steps: 60\n    warmup_steps: 100\n") == (
        f"key 'train.{section}.warmup_steps': warm-up of 100 steps is longer than max_steps (60)")
    ratio = params_mod.load(write(tmp_path, f"run_name: x\ntrain:\n  {section}:\n    max_steps: 60\n"
                                            "    warmup_steps: 0.1\n"))
    assert getattr(ratio.params.train, section)["warmup_steps"] == 0.1, "below 1 it is a share of the steps"


def test_odd_max_prompts_per_split(tmp_path):
    assert refused(tmp_path, "eval:\n  max_prompts_per_split: 25\n") == (
        "key 'eval.max_prompts_per_split': 25 is odd: each split and mode takes half its prompts from each label")


def test_prompt_template_without_prompt(tmp_path):
    assert refused(tmp_path, "train:\n  project:\n    prompt_template: 'Q: {question}'\n").startswith(
        "key 'train.project.prompt_template': must hold {prompt}")


def test_trl_field_specs_come_from_the_installed_classes_and_are_cached(tmp_path, monkeypatch):
    import dataclasses

    import trl

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    trl_fields._specs.cache_clear()
    try:
        fields = trl_fields.config_fields("dpo")
        cache = trl_fields.cache_file()
        assert cache.is_relative_to(tmp_path) and f"-{trl.__version__}-" in cache.name
        assert set(fields) == {field.name for field in dataclasses.fields(trl.DPOConfig) if field.init}
        assert fields["lr_scheduler_type"]["values"][:2] == ["linear", "cosine"] and fields["beta"]["default"] == 0.1
        assert files.read_json(cache)["DPOConfig"] == fields
        cache.write_text("{not json", encoding="utf-8")
        trl_fields._specs.cache_clear()
        assert trl_fields.config_fields("dpo") == fields, "an unreadable cache is made again"
        assert files.read_json(cache)["DPOConfig"] == fields
    finally:
        trl_fields._specs.cache_clear()
