"""Params files are validated on load: each kind of bad file stops with its file and key named."""
from pathlib import Path

import pytest

from librachem_utils.core import params

PARAMS_DIR = Path(__file__).resolve().parents[1] / "params"


@pytest.mark.parametrize("name", ["smoke", "default", "paper_scale", "openai", "colab_gpu"])
def test_shipped_params_files_load(name):
    cfg = params.load(PARAMS_DIR / f"{name}.yaml")
    assert cfg.params.run_name == name
    assert cfg.paths.run_dir == PARAMS_DIR.parent / "runs" / name


def write(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_names_file_and_key(tmp_path):
    path = write(tmp_path, "run_name: x\ntrain:\n  sft_stepz: 3\n")
    with pytest.raises(params.ParamsError) as err:
        params.load(path)
    assert str(err.value) == f"{path}: key 'train.sft_stepz': unknown key"


def test_wrong_type_names_key(tmp_path):
    path = write(tmp_path, "run_name: x\nseed: 'thirteen'\n")
    with pytest.raises(params.ParamsError, match=r"bad.yaml: key 'seed': Input should be a valid integer"):
        params.load(path)


def test_string_number_is_not_coerced(tmp_path):
    path = write(tmp_path, "run_name: x\ndata:\n  rephrase:\n    variants: '3'\n")
    with pytest.raises(params.ParamsError, match=r"key 'data.rephrase.variants'"):
        params.load(path)


def test_missing_required_key(tmp_path):
    path = write(tmp_path, "seed: 3\n")
    with pytest.raises(params.ParamsError, match=r"key 'run_name': missing key"):
        params.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(params.ParamsError, match=r"nope.yaml: no such params file"):
        params.load(tmp_path / "nope.yaml")


def test_invalid_yaml_and_non_mapping(tmp_path):
    with pytest.raises(params.ParamsError, match="not valid YAML"):
        params.load(write(tmp_path, "run_name: [unclosed\n"))
    with pytest.raises(params.ParamsError, match="expected a mapping"):
        params.load(write(tmp_path, "- a\n- b\n"))


def test_out_of_range_value(tmp_path):
    with pytest.raises(params.ParamsError, match=r"key 'train.lora_dropout'"):
        params.load(write(tmp_path, "run_name: x\ntrain:\n  lora_dropout: 1.5\n"))


def test_exponent_without_dot_reads_as_float(tmp_path):
    cfg = params.load(write(tmp_path, "run_name: x\ntrain:\n  sft_lr: 1e-4\n"))
    assert cfg.params.train.sft_lr == pytest.approx(1e-4)


def test_hash_is_stable_and_tracks_values(tmp_path):
    a = params.load(write(tmp_path, "run_name: x\nseed: 1\n")).params_hash
    assert a == params.load(tmp_path / "bad.yaml").params_hash
    b = params.load(write(tmp_path, "run_name: x\nseed: 2\n")).params_hash
    assert a != b


def test_hash_ignores_where_the_run_is_written(tmp_path):
    path = write(tmp_path, "run_name: x\n")
    here = params.load(path).params_hash
    elsewhere = params.load(path, {"run_name": "x", "runs_dir": str(tmp_path / "other"),
                                   "figures": {"out_dir": str(tmp_path / "figs")}}).params_hash
    assert here == elsewhere


def test_injected_values_win_over_file(tmp_path):
    path = write(tmp_path, "run_name: x\n")
    cfg = params.load(path, {"run_name": "y", "seed": 5})
    assert (cfg.params.run_name, cfg.params.seed) == ("y", 5)
    with pytest.raises(params.ParamsError, match=r"key 'bogus': unknown key"):
        params.load(path, {"run_name": "y", "bogus": 1})
