"""Run parameters: one YAML file per way of running, validated on load.

An unknown key, a wrong type or a missing file raises ``ParamsError`` with a one-line message that
names the file and the key, before any work starts. Relative paths inside a params file resolve
against the project root: the nearest folder above the file that holds a ``pyproject.toml``
(failing that, the file's own folder).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ParamsError(ValueError):
    """A params file is missing or invalid; the message names the file and key."""


class Section(BaseModel):
    """Base of every params section: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- data: notebooks 01-03 -------------------------------------------------------------------

class SeedParams(Section):
    legit_compounds: Optional[int] = Field(None, ge=1, description="cap on common compounds used; None = all")
    restricted_compounds: Optional[int] = Field(None, ge=1, description="cap on restricted compounds used; None = all")
    intents: Optional[list[str]] = Field(None, description="intents to build requests for; None = all")


class ApiParams(Section):
    """An OpenAI-compatible endpoint. The key is read from the environment variable named here."""

    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(400, ge=1)
    concurrency: int = Field(16, ge=1)
    requests_per_minute: Optional[float] = Field(None, gt=0)
    tokens_per_minute: Optional[float] = Field(None, gt=0)
    max_retries: int = Field(6, ge=0)
    format_retries: int = Field(2, ge=0, description="retries of a reply that is not what the prompt asked for")
    timeout_s: float = Field(60.0, gt=0)
    cache_path: str = "cache/api_cache.sqlite"
    usd_per_1m_input_tokens: float = Field(0.0, ge=0)
    usd_per_1m_output_tokens: float = Field(0.0, ge=0)


class LocalModelParams(Section):
    """A local causal LM (a saved folder, or a hub id where the network allows)."""

    model_path: str
    batch_size: int = Field(16, ge=1)
    max_new_tokens: int = Field(200, ge=1)


class GeneratorParams(Section):
    backend: Literal["offline", "openai", "transformers"] = "offline"
    api: Optional[ApiParams] = None
    local: Optional[LocalModelParams] = None


class TripletParams(Section):
    requests_per_seed: int = Field(1, ge=1, description="concrete requests crafted from each seed")
    min_chars: int = Field(40, ge=1)
    max_chars: int = Field(2000, ge=1)


class RephraseParams(Section):
    variants: int = Field(3, ge=0, description="rephrasings per triplet (prompt and both responses)")
    near_duplicate_jaccard: float = Field(0.9, gt=0, le=1, description="word 3-gram Jaccard at or above which rows are near duplicates")
    modes: list[Literal["text", "smiles"]] = ["text", "smiles"]


class SplitParams(Section):
    test_template_share: float = Field(0.2, ge=0, lt=1, description="share of prompt templates held out for the test split")
    unseen_compound_share: float = Field(0.1, ge=0, lt=1, description="share of compounds held out for test_unseen_compounds")


class DataParams(Section):
    seeds: SeedParams = SeedParams()
    generator: GeneratorParams = GeneratorParams()
    triplets: TripletParams = TripletParams()
    rephrase: RephraseParams = RephraseParams()
    splits: SplitParams = SplitParams()


# --- training: notebook 04 -------------------------------------------------------------------

class TinyModelParams(Section):
    """The small Llama-architecture model built locally for the CPU default."""

    vocab_size: int = Field(2000, ge=100)
    hidden_size: int = Field(64, ge=8)
    intermediate_size: int = Field(128, ge=8)
    num_hidden_layers: int = Field(2, ge=1)
    num_attention_heads: int = Field(4, ge=1)
    max_position_embeddings: int = Field(512, ge=32)
    pretrain_steps: int = Field(200, ge=0, description="causal-LM steps on the train split's texts; 0 = untrained")
    pretrain_lr: float = Field(3e-3, gt=0)
    pretrain_warmup_steps: int = Field(10, ge=0)


class TrainParams(Section):
    base_model: Optional[str] = Field(None, description="hub id or saved folder; None = build the tiny model locally")
    prompt_template: str = "Question: {prompt}\n\nAnswer: "
    arms: list[str] = ["base", "sft_helpful", "dpo_safety_only", "dpo_balanced", "sft_dpo_paper"]
    tiny: TinyModelParams = TinyModelParams()
    load_in_4bit: bool = False
    bf16: Literal["auto", True, False] = "auto"
    lora_r: int = Field(8, ge=1)
    lora_alpha: int = Field(16, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_target_modules: list[str] = ["q_proj", "v_proj"]
    sft_steps: int = Field(300, ge=1)
    sft_lr: float = Field(1e-4, gt=0)
    sft_warmup_steps: int = Field(100, ge=0)
    dpo_steps: int = Field(200, ge=1)
    dpo_lr: float = Field(5e-4, gt=0)
    dpo_warmup_steps: int = Field(100, ge=0)
    dpo_beta: float = Field(0.1, gt=0)
    dpo_sft_weight: float = Field(0.0, ge=0, description="weight of an NLL term on the chosen answers added to the DPO loss (RPO); 0 = plain DPO as in the paper")
    batch_size: int = Field(8, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_length: int = Field(256, ge=16)
    lr_scheduler: str = "cosine"
    beta_sweep: list[float] = []
    mix_sweep: list[float] = Field([], description="shares of illegitimate triplets for the data-mix sweep")
    compare_qlora: bool = Field(False, description="time one arm as LoRA fp32 and as 4-bit QLoRA side by side")
    compare_qlora_steps: int = Field(20, ge=1, description="DPO steps of each side of the LoRA vs QLoRA comparison")
    heldout_max_triplets: Optional[int] = Field(None, ge=1, description="held-out triplets per split for the reward accuracy; None = all")


# --- evaluation: notebook 05 -----------------------------------------------------------------

class EvalParams(Section):
    splits: list[str] = ["test", "test_unseen_compounds"]
    modes: list[Literal["text", "smiles"]] = ["text", "smiles"]
    max_prompts_per_split: Optional[int] = Field(None, ge=1)
    batch_size: int = Field(16, ge=1)
    max_new_tokens: int = Field(96, ge=1)
    do_sample: bool = False
    temperature: float = Field(1.0, gt=0)
    judge: Literal["rule", "llm", "hybrid", "librachem_official"] = "rule"
    judge_api: Optional[ApiParams] = None
    baselines: list[ApiParams] = []
    bootstrap_resamples: int = Field(1000, ge=100)


# --- figures: notebook 06 --------------------------------------------------------------------

class FigureParams(Section):
    out_dir: Optional[str] = Field(None, description="where figures go; None = <run dir>/figures")
    formats: list[Literal["png", "pdf"]] = ["png", "pdf"]


class Params(Section):
    run_name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = 13
    runs_dir: str = "runs"
    data: DataParams = DataParams()
    train: TrainParams = TrainParams()
    eval: EvalParams = EvalParams()
    figures: FigureParams = FigureParams()

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """A short hash of the values that shape results: the same params give the same hash
        wherever the run is written (``runs_dir`` and ``figures.out_dir`` are left out)."""
        values = self.to_dict()
        values.pop("runs_dir")
        values["figures"].pop("out_dir")
        canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunPaths:
    """Where one run's artifacts live; every step reads and writes through these."""

    root: Path
    run_dir: Path

    @property
    def notebooks(self) -> Path:
        return self.run_dir / "notebooks"

    @property
    def data(self) -> Path:
        return self.run_dir / "data"

    @property
    def dataset(self) -> Path:
        return self.data / "dataset"

    @property
    def models(self) -> Path:
        return self.run_dir / "models"

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def results(self) -> Path:
        return self.run_dir / "results"

    def resolve(self, relative: str) -> Path:
        """A path from a params file, resolved against the project root."""
        path = Path(relative)
        return path if path.is_absolute() else self.root / path


@dataclass(frozen=True)
class RunConfig:
    """Validated params together with the file they came from and the run's paths."""

    params: Params
    source: Path
    paths: RunPaths

    @property
    def params_hash(self) -> str:
        return self.params.digest()

    def figures_dir(self) -> Path:
        out = self.params.figures.out_dir
        return self.paths.resolve(out) if out else self.paths.run_dir / "figures"


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-4`` as a string; this loader reads it as the float a user meant."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?\d+(?:\.\d*)?[eE][-+]?\d+$"), list("-+0123456789")
)


def project_root(params_file: Path) -> Path:
    for folder in params_file.resolve().parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    return params_file.resolve().parent


def _format_error(source: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        problem = "unknown key"
    elif first["type"] == "missing":
        problem = "missing key"
    else:
        problem = first["msg"]
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{source}: key '{key}': {problem}{more}"


def validate(values: dict, source: Path) -> Params:
    """Validate a dict of values, naming ``source`` and the key in any error."""
    if not isinstance(values, dict):
        raise ParamsError(f"{source}: expected a mapping of keys to values at the top level")
    try:
        return Params.model_validate(values)
    except ValidationError as err:
        raise ParamsError(_format_error(source, err)) from None


def load(params_file: str | Path, values: Optional[dict] = None) -> RunConfig:
    """Load and validate a params file; ``values`` (already read, e.g. injected by the runner) win."""
    source = Path(params_file)
    if values is None:
        if not source.is_file():
            raise ParamsError(f"{source}: no such params file")
        try:
            values = yaml.load(source.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.YAMLError as err:
            raise ParamsError(f"{source}: not valid YAML: {str(err).splitlines()[0]}") from None
        except UnicodeDecodeError:
            raise ParamsError(f"{source}: not valid UTF-8") from None
    params = validate(values, source)
    root = project_root(source)
    run_dir = RunPaths(root, root).resolve(params.runs_dir) / params.run_name
    return RunConfig(params=params, source=source.resolve(), paths=RunPaths(root=root, run_dir=run_dir))
