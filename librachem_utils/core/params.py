"""Run parameters: one YAML file per way of running, validated on load.

An unknown key, a wrong type, a value no step could use (an unknown arm, split, intent or LR
scheduler, a backend without its endpoint, a warm-up longer than its steps, ...) or a missing file
raises ``ParamsError`` with a one-line message that names the file and the key, before any work
starts. The training section uses TRL's names (``train.model``: ``ModelConfig``; ``train.pretrain``,
``train.sft``: ``SFTConfig``; ``train.dpo``: ``DPOConfig``), checked by ``trl_fields``.

Relative paths inside a params file resolve against the project root: the nearest folder above
the file that holds a ``pyproject.toml`` (failing that, the file's own folder).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from librachem_utils.core import schema, trl_fields
from librachem_utils.core.sections import GUARD_MODELS, ApiParams, GuardParams, LocalModelParams, Section, ServerParams
from librachem_utils.core.trl_fields import KeyProblem


class ParamsError(ValueError):
    """A params file is missing or invalid; the message names the file and key."""


# --- data: notebooks 01-03 -------------------------------------------------------------------

class SeedRequestParams(Section):
    """``data.seeds``: which seed requests (compound x intent) to build; the random seed is the top-level ``seed``."""

    legit_compounds: Optional[int] = Field(None, ge=1, description="cap on common compounds used; None = all")
    restricted_compounds: Optional[int] = Field(None, ge=1, description="cap on restricted compounds used; None = all")
    intents: Optional[list[str]] = Field(None, description="intents to build requests for; None = all")

    @field_validator("intents")
    @classmethod
    def _known_intents(cls, intents: Optional[list[str]]) -> Optional[list[str]]:
        for intent in intents or []:
            if intent not in schema.INTENTS:
                raise ValueError(f"unknown intent '{intent}': choose from {', '.join(schema.INTENTS)}")
        return intents


class GeneratorParams(Section):
    backend: Literal["offline", "openai", "transformers"] = "offline"
    api: Optional[ApiParams] = None
    local: Optional[LocalModelParams] = None

    @model_validator(mode="after")
    def _backend_has_its_section(self) -> GeneratorParams:
        needed = {"openai": "api", "transformers": "local"}.get(self.backend)
        if needed and getattr(self, needed) is None:
            raise KeyProblem(needed, f"missing: backend '{self.backend}' needs it")
        return self


class TripletParams(Section):
    requests_per_seed: int = Field(1, ge=1, description="concrete requests crafted from each seed")
    min_chars: int = Field(40, ge=1)
    max_chars: int = Field(2000, ge=1)


class RephraseParams(Section):
    variants: int = Field(3, ge=0, description="rephrasings per triplet (prompt and both responses)")
    near_duplicate_jaccard: float = Field(
        0.9, gt=0, le=1, description="word 3-gram Jaccard at or above which rows are near duplicates")
    modes: list[Literal["text", "smiles"]] = ["text", "smiles"]


class SplitParams(Section):
    test_template_share: float = Field(
        0.2, ge=0, lt=1, description="share of prompt templates held out for the test split")
    unseen_compound_share: float = Field(
        0.1, ge=0, lt=1, description="share of compounds held out for test_unseen_compounds")


class DataParams(Section):
    seeds: SeedRequestParams = SeedRequestParams()
    generator: GeneratorParams = GeneratorParams()
    triplets: TripletParams = TripletParams()
    rephrase: RephraseParams = RephraseParams()
    splits: SplitParams = SplitParams()


# --- training: notebook 04 -------------------------------------------------------------------

class ModelParams(Section):
    """The model and its (Q)LoRA adapter, by TRL's ``ModelConfig`` names."""

    model_name_or_path: Optional[str] = Field(None, description="hub id or saved folder; None = build the tiny model")
    dtype: Literal["auto", "bfloat16", "float32"] = Field(
        "auto", description="weights and compute dtype; auto = bfloat16 where the GPU supports it, else float32")
    load_in_4bit: bool = Field(
        False, description="QLoRA: frozen weights in 4-bit (bitsandbytes), in training and in evaluation")
    bnb_4bit_quant_type: Literal["nf4", "fp4"] = "nf4"
    use_bnb_nested_quant: bool = Field(
        False, description="quantize the 4-bit quantization constants too (QLoRA's double quantization)")
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_target_modules: Optional[list[str]] = Field(None, description="None = PEFT's default for the architecture")


class TinyModelParams(Section):
    """The small Llama-architecture model built locally when ``train.model.model_name_or_path`` is unset."""

    vocab_size: int = Field(2000, ge=100)
    hidden_size: int = Field(64, ge=8)
    intermediate_size: int = Field(128, ge=8)
    num_hidden_layers: int = Field(2, ge=1)
    num_attention_heads: int = Field(4, ge=1)
    max_position_embeddings: int = Field(512, ge=32)

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> TinyModelParams:
        if self.hidden_size % self.num_attention_heads:
            raise KeyProblem("hidden_size", f"{self.hidden_size} is not a multiple of num_attention_heads "
                                            f"({self.num_attention_heads})")
        return self


class KnowledgeParams(Section):
    """The tiny base's pretraining text beside the train split's requests: documents rendered from the
    knowledge base (``data.knowledge_text``), for every compound of every split."""

    documents_per_compound: int = Field(0, ge=0, description="documents stating each compound's facts; 0 = none")
    alignment_texts: Optional[int] = Field(
        None, ge=0, description="train-split requests with an answer (chosen or rejected) in the corpus; None = all")
    entity_tokens: bool = Field(False, description="one tokenizer token for each compound name and SMILES")


class ProjectParams(Section):
    """This project's own training knobs: which arms, the sweeps, the tiny model, held-out scoring."""

    prompt_template: str = "Question: {prompt}\n\nAnswer: "
    arms: list[str] = list(schema.FIXED_ARMS)
    beta_sweep: list[Annotated[float, Field(gt=0)]] = Field([], description="DPO betas of the beta sweep")
    mix_sweep: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        [], description="shares of illegitimate triplets for the data-mix sweep")
    tiny: TinyModelParams = TinyModelParams()
    knowledge: KnowledgeParams = KnowledgeParams()
    compare_qlora: bool = Field(False, description="time one DPO arm as LoRA and as 4-bit QLoRA side by side")
    compare_qlora_steps: int = Field(20, ge=1, description="DPO steps of each side of the LoRA vs QLoRA comparison")
    heldout_max_triplets: Optional[int] = Field(
        None, ge=1, description="held-out triplets per split for the reward accuracy; None = all")

    @field_validator("arms")
    @classmethod
    def _known_arms(cls, arms: list[str]) -> list[str]:
        return [schema.check_arm(arm) for arm in arms]

    @field_validator("prompt_template")
    @classmethod
    def _has_prompt(cls, template: str) -> str:
        try:
            holds_prompt = template.format(prompt="x") != template.format(prompt="")
        except (KeyError, IndexError, ValueError):
            holds_prompt = False
        if not holds_prompt:
            raise ValueError("must hold {prompt} and no other {field} (a literal brace is written {{ or }})")
        return template


class TrainParams(Section):
    """``model``: TRL's ModelConfig names; ``pretrain``, ``sft`` (SFTConfig) and ``dpo`` (DPOConfig): any field
    of the installed TRL's config, passed through; ``project``: this project's own knobs."""

    model: ModelParams = ModelParams()
    pretrain: dict[str, Any] = Field(
        {}, description="SFTConfig fields of the tiny model's pretraining; max_steps 0 = no pretraining")
    sft: dict[str, Any] = Field({}, description="SFTConfig fields of the SFT stages")
    dpo: dict[str, Any] = Field({}, description="DPOConfig fields of the DPO stages")
    project: ProjectParams = ProjectParams()

    @field_validator("pretrain", "sft", "dpo")
    @classmethod
    def _trl_config(cls, values: dict, info: ValidationInfo) -> dict:
        return trl_fields.check_section(info.field_name, values)


# --- evaluation: notebook 05 -----------------------------------------------------------------

class EvalParams(Section):
    splits: list[Literal[schema.HELDOUT_SPLITS]] = list(schema.HELDOUT_SPLITS)
    modes: list[Literal[schema.MODES]] = list(schema.MODES)
    max_prompts_per_split: Optional[int] = Field(
        None, ge=1, description="prompts per split and mode, half of each label; None = all")
    dual_use_prompts_per_label: Optional[int] = Field(
        None, ge=0, description="synthesis prompts per split, mode and label that the dual-use cell's rates rest on "
                                "(the same request about a common or a restricted compound): the draw's, topped up; "
                                "None = all of them")
    batch_size: int = Field(16, ge=1)
    max_new_tokens: int = Field(96, ge=1)
    do_sample: bool = False
    temperature: float = Field(1.0, gt=0)
    generation: Literal["local", "server"] = Field(
        "local", description="arms answer here (transformers) or at eval.server (vLLM with LoRA adapters)")
    server: Optional[ServerParams] = None
    judge: Literal["rule", "llm", "hybrid", "librachem_official", "wildguard", "llama_guard"] = Field(
        "rule", description="the primary judge; every other judge that can run runs too")
    judge_api: Optional[ApiParams] = Field(None, description="the LLM judge at an OpenAI-compatible endpoint")
    judge_local: Optional[LocalModelParams] = Field(
        None, description="the LLM judge as a local chat model (its max_new_tokens is the judge's own)")
    wildguard: Optional[GuardParams] = None
    llama_guard: Optional[GuardParams] = None
    hybrid_refusal: Optional[Literal["llm", "wildguard", "none"]] = Field(
        None, description="the hybrid's refusal model; None = the LLM if configured, else WildGuard if configured")
    hybrid_harm: Optional[list[Literal[tuple(GUARD_MODELS)]]] = Field(
        None, description="guards whose harm verdict the hybrid uses; None = every guard configured")
    baselines: list[ApiParams] = []
    bootstrap_resamples: int = Field(1000, ge=100)

    @field_validator("max_prompts_per_split")
    @classmethod
    def _even(cls, cap: Optional[int]) -> Optional[int]:
        if cap is not None and cap % 2:
            raise ValueError(f"{cap} is odd: each split and mode takes half its prompts from each label")
        return cap

    @field_validator(*GUARD_MODELS, mode="before")
    @classmethod
    def _guard_model_default(cls, section: Any, info: ValidationInfo) -> Any:
        if isinstance(section, dict) and isinstance(section.get("api"), dict):
            return {**section, "api": {"model": GUARD_MODELS[info.field_name], **section["api"]}}
        return section

    def configured(self, judge: str) -> bool:
        """Whether a model-backed judge (``llm`` or a guard) has its model in these params."""
        if judge == "llm":
            return self.judge_api is not None or self.judge_local is not None
        return getattr(self, judge) is not None

    @model_validator(mode="after")
    def _model_judges_have_models(self) -> EvalParams:
        if self.generation == "server" and self.server is None:
            raise KeyProblem("server", "missing: generation 'server' needs it (its base_url)")
        if self.judge_api is not None and self.judge_local is not None:
            raise KeyProblem("judge_local", "judge_api is set too: the LLM judge is an endpoint or a local model")
        needs = {"llm": "judge_api (an OpenAI-compatible endpoint) or judge_local (a local model)",
                 **{guard: f"the {guard} section" for guard in GUARD_MODELS}}
        if self.judge in needs and not self.configured(self.judge):
            raise KeyProblem("judge", f"'{self.judge}' needs {needs[self.judge]}")
        named = [("hybrid_refusal", self.hybrid_refusal), *(("hybrid_harm", g) for g in self.hybrid_harm or ())]
        for key, judge in named:
            if judge in needs and not self.configured(judge):
                raise KeyProblem(key, f"names '{judge}', which needs {needs[judge]}")
        return self


# --- figures: notebook 06 --------------------------------------------------------------------

class FigureParams(Section):
    out_dir: Optional[str] = Field(None, description="where figures go; None = <run dir>/figures")
    formats: list[Literal["png", "pdf"]] = ["png", "pdf"]


class Params(Section):
    run_name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(schema.DEFAULT_SEED, description="the random seed every random choice derives from")
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
    loc = [str(part) for part in first["loc"]]
    error = first.get("ctx", {}).get("error")
    if isinstance(error, KeyProblem):
        loc.append(error.key)
    key = ".".join(loc) or "(top level)"
    if first["type"] == "extra_forbidden":
        problem = "unknown key"
    elif first["type"] == "missing":
        problem = "missing key"
    elif first["type"] == "value_error":
        problem = str(error)
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
