"""The accelerate configs: both parse, and two CPU processes (gloo) train the tiny model's arms under the DDP
config (``--cpu`` would start one process without MPI); the adapters they save load and answer."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from librachem_utils import steps
from librachem_utils.core import files, params

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "accelerate"
SMOKE = ROOT / "params" / "smoke.yaml"


def test_the_configs_are_one_node_ddp_and_fsdp():
    ddp, fsdp = (yaml.safe_load((CONFIGS / name).read_text()) for name in ("ddp.yaml", "fsdp_qlora.yaml"))
    assert (ddp["distributed_type"], ddp["num_machines"]) == ("MULTI_GPU", 1)
    assert (fsdp["distributed_type"], fsdp["fsdp_config"]["fsdp_sharding_strategy"]) == ("FSDP", "FULL_SHARD")


def short_run(tmp_path) -> Path:
    values = params.load(SMOKE).params.to_dict()
    values.update(run_name="ddp", runs_dir=str(tmp_path / "runs"))
    train = values["train"]
    train["pretrain"].update(max_steps=4)
    train["sft"].update(max_steps=3)
    train["dpo"].update(max_steps=3)
    train["project"].update(arms=["sft_helpful", "dpo_balanced"], compare_qlora=False, heldout_max_triplets=8)
    path = tmp_path / "ddp.yaml"
    files.write_text(path, yaml.safe_dump(values))
    return path


def test_two_cpu_processes_train_the_arms_and_their_adapters_load(tmp_path):
    from librachem_utils.api.local_model import generate, load_for_generation

    params_file = short_run(tmp_path)
    cfg = params.load(params_file)
    for step in (steps.seeds, steps.triplets, steps.rephrase):
        step(cfg)
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or "accelerate"
    command = [accelerate, "launch", "--config_file", str(CONFIGS / "ddp.yaml"), "--num_processes", "2",
               "-m", "librachem_utils.train", "--params", str(params_file), "--no-progress"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = files.read_json(cfg.paths.results / "train_metrics.json")
    assert sorted(metrics["arms"]) == ["dpo_balanced", "sft_helpful"]
    assert result.stdout.count("[train] dpo_balanced: dpo stage 'dpo_balanced'") == 2, "each process trains"
    for arm in ("sft_helpful", "dpo_balanced"):
        model, tokenizer = load_for_generation(cfg.paths.models / arm, device="cpu")
        (answer,) = generate(model, tokenizer, ["What is acetone?"], template="Question: {prompt}\n\nAnswer: ",
                             batch_size=1, max_new_tokens=4)
        assert isinstance(answer, str) and hasattr(model, "peft_config")


def test_under_fsdp_4bit_weights_are_stored_in_the_compute_dtype_without_a_device_map(monkeypatch):
    import torch

    from librachem_utils.train.device import DeviceSettings
    from librachem_utils.train.loading import model_kwargs

    settings = DeviceSettings(device="cuda", gpu="test", bf16=True, load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              use_bnb_nested_quant=False, gradient_checkpointing=False, torch_threads=1)
    assert settings.dtype == torch.bfloat16
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "false")
    ddp = model_kwargs(settings)
    assert "device_map" in ddp and ddp["quantization_config"].bnb_4bit_quant_storage == torch.uint8
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    fsdp = model_kwargs(settings)
    assert "device_map" not in fsdp and fsdp["quantization_config"].bnb_4bit_quant_storage == torch.bfloat16
