"""scripts/gpu_check.sh: its clear stop on CPU, its device branch, the short run's params and its report."""
import os
import subprocess
import sys
from pathlib import Path

from librachem_utils.core import files, params
from librachem_utils.eval import gpu_check

ROOT = Path(__file__).resolve().parents[1]


def test_the_script_stops_on_cpu_with_a_clear_message():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh"), "some/model"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == gpu_check.NO_GPU_EXIT
    assert "no CUDA GPU found" in result.stderr and "make test" in result.stderr


def test_the_device_branch_goes_on_with_a_gpu(capsys):
    assert gpu_check.main(["device"], probe=lambda: "NVIDIA Test GPU") == 0
    assert capsys.readouterr().out.startswith("cuda (NVIDIA Test GPU, ")
    assert gpu_check.main(["device"], probe=lambda: None) == gpu_check.NO_GPU_EXIT


def test_the_short_run_keeps_the_gpu_recipe_and_cuts_its_length(tmp_path):
    cfg = params.load(gpu_check.check_params("org/small-lm", tmp_path))
    model, train = cfg.params.train.model, cfg.params.train
    assert (model.model_name_or_path, model.load_in_4bit, model.bnb_4bit_quant_type, model.dtype) == (
        "org/small-lm", True, "nf4", "auto")
    assert model.lora_target_modules == ["q_proj", "v_proj"]
    assert train.sft["max_steps"] == train.dpo["max_steps"] == 10
    assert cfg.params.eval.max_prompts_per_split == gpu_check.PROMPTS and cfg.paths.run_dir.parent == tmp_path / "runs"


def test_the_report_gives_speed_memory_answers_and_warnings(tmp_path):
    cfg = params.load(gpu_check.check_params("org/small-lm", tmp_path))
    results = cfg.paths.results
    files.write_json(results / "train_metrics.json", {"device": {"device": "cuda", "gpu": "NVIDIA Test GPU"}, "arms": {
        "dpo_balanced": {"tokens_per_s": 1234.5, "peak_memory_mb": 2048.0, "wall_s": 30.0}}})
    files.write_json(results / "metrics.json", {"primary_judge": "rule"})
    files.write_jsonl(results / "responses" / "dpo_balanced.jsonl", [{"response": "a"}, {"response": None}])
    log = files.write_text(tmp_path / "steps.log", "step 04\nUserWarning: padding side is right\nstep 05\n")
    lines = gpu_check.report_lines(cfg.source, log)
    assert "device: NVIDIA Test GPU" in lines
    assert "train dpo_balanced: 1234.5 tokens/s, peak GPU memory 2048.0 MB, 30.0 s" in lines
    assert "answered: {'dpo_balanced': 1} (primary judge rule)" in lines
    assert lines[-2:] == ["warnings: 1", "  UserWarning: padding side is right"]
