"""The TRL trainer configs a params file fills: ``train.pretrain`` and ``train.sft`` take any field of
the installed TRL's ``SFTConfig``, ``train.dpo`` any field of its ``DPOConfig``.

Keys are checked against the dataclass fields of the installed classes and values against their
type annotations (an enum-typed field, such as ``lr_scheduler_type``, takes only the enum's values;
a field whose metadata lists choices takes only those), so a misspelt key or value stops the load.
The values then pass through to the config unchanged.

Importing TRL takes seconds (it brings in torch), too long for every params load: what the checks
need of each field (its types, allowed values, default) is read from the installed classes once per
installed version of TRL and transformers and kept as JSON in the user's cache folder
(``$XDG_CACHE_HOME`` or ``~/.cache``, then ``librachem_utils/``).
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import importlib.metadata
import json
import os
import types
import typing
from pathlib import Path
from typing import Any

from librachem_utils.core import files

CONFIG_CLASSES = {"pretrain": "SFTConfig", "sft": "SFTConfig", "dpo": "DPOConfig"}

#: fields the code sets itself, and from what; a params file may not set them
OWNED_FIELDS = {
    "output_dir": "the stage's folder under models/",
    "seed": "the top-level seed",
    "data_seed": "the top-level seed",
    "disable_tqdm": "the progress setting",
    "use_cpu": "the device training finds",
}

_KINDS = {int: "int", float: "float", str: "str", bool: "bool", dict: "dict", list: "list", type(None): "null"}


class KeyProblem(ValueError):
    """A problem with one key below the section being validated (``key`` is relative to it, dotted)."""

    def __init__(self, key: str, problem: str):
        super().__init__(problem)
        self.key = key


def cache_file() -> Path:
    """Where the field specs of the installed TRL and transformers are kept."""
    versions = "-".join(importlib.metadata.version(name) for name in ("trl", "transformers"))
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "librachem_utils" / f"trl_fields-{versions}.json"


@functools.cache
def _specs() -> dict[str, dict[str, dict]]:
    cache, names = cache_file(), sorted(set(CONFIG_CLASSES.values()))
    try:
        specs = files.read_json(cache)
        if sorted(specs) == names:
            return specs
    except (OSError, ValueError):  # none yet, or unreadable: made again
        pass
    specs = {name: class_specs(name) for name in names}
    try:
        files.write_json(cache, specs)
    except OSError:  # a read-only home: check without a cache
        pass
    return specs


def config_fields(kind: str) -> dict[str, dict]:
    """Field name -> spec (``kinds``, ``values``, ``items``, ``choices``, ``default``) of ``kind``'s config."""
    return _specs()[CONFIG_CLASSES[kind]]


def class_specs(class_name: str) -> dict[str, dict]:
    """The spec of every field of TRL's ``class_name``, from ``dataclasses.fields`` of the installed class."""
    import trl

    cls = getattr(trl, class_name)
    hints = typing.get_type_hints(cls)
    specs = {}
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        spec = type_spec(hints[field.name])
        if field.metadata.get("choices"):
            spec["choices"] = list(field.metadata["choices"])
        default = field.default_factory() if field.default is dataclasses.MISSING else field.default
        default = default.value if isinstance(default, enum.Enum) else default
        try:
            spec["default"] = json.loads(json.dumps(default))
        except (TypeError, ValueError):  # not a YAML value: no default to report
            pass
        specs[field.name] = spec
    return specs


def type_spec(annotation) -> dict:
    """What a YAML value must be to fit ``annotation``: its ``kinds``, the allowed ``values`` of an enum or
    Literal, and the spec of a list's ``items``."""
    members = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) \
        else (annotation,)
    spec: dict = {"kinds": []}
    for member in members:
        origin = typing.get_origin(member) or member
        if member is Any:
            spec["kinds"].append("any")
        elif origin is typing.Literal:
            spec.setdefault("literals", []).extend(typing.get_args(member))
        elif isinstance(origin, type) and issubclass(origin, enum.Enum):
            spec.setdefault("values", []).extend(e.value for e in origin)
        elif origin in _KINDS:
            spec["kinds"].append(_KINDS[origin])
            if origin is list:
                spec["items"] = type_spec((typing.get_args(member) or (Any,))[0])
    return spec


def fits(spec: dict, value) -> bool:
    """Whether ``value`` (as YAML reads it) is of the type ``spec`` describes."""
    if isinstance(value, str) and spec.get("values"):
        return value in spec["values"]
    if any(type(value) is type(literal) and value == literal for literal in spec.get("literals", [])):
        return True
    kinds = spec["kinds"]
    if "any" in kinds:
        return True
    if isinstance(value, bool) or value is None:
        return _KINDS[type(value)] in kinds
    if isinstance(value, int):
        return "int" in kinds or "float" in kinds
    if isinstance(value, list):
        return "list" in kinds and all(fits(spec["items"], item) for item in value)
    return type(value) in _KINDS and _KINDS[type(value)] in kinds


def _describe(spec: dict) -> str:
    if spec.get("values"):
        return "one of " + ", ".join(spec["values"])
    return "of type " + " or ".join(spec["kinds"] + [repr(v) for v in spec.get("literals", [])])


def setting(kind: str, values: dict, key: str):
    """``values[key]``, or the TRL config's default for it."""
    return values[key] if key in values else config_fields(kind)[key]["default"]


def check_section(kind: str, values: dict) -> dict:
    """``values`` if every key is a field of the TRL config behind ``kind`` and every value fits it."""
    fields = config_fields(kind)
    for key, value in values.items():
        if key in OWNED_FIELDS:
            raise KeyProblem(key, f"set by the code from {OWNED_FIELDS[key]}, not by params")
        if key not in fields:
            raise KeyProblem(key, f"unknown key: not a field of the installed TRL's {CONFIG_CLASSES[kind]}")
        spec = fields[key]
        if not fits(spec, value):
            raise KeyProblem(key, f"{value!r} is not {_describe(spec)}")
        if spec.get("choices") and value not in spec["choices"]:
            raise KeyProblem(key, f"{value!r} is not one of {', '.join(map(str, spec['choices']))}")
    _check_cross_fields(values)
    return values


def _check_cross_fields(values: dict) -> None:
    steps, warmup = values.get("max_steps", -1), values.get("warmup_steps", 0)
    if steps > 0 and warmup >= 1 and warmup > steps:
        raise KeyProblem("warmup_steps", f"warm-up of {warmup:g} steps is longer than max_steps ({steps})")
    loss_types, weights = values.get("loss_type"), values.get("loss_weights")
    if weights is not None:
        n_types = 1 if isinstance(loss_types, str) else len(loss_types or ["sigmoid"])
        if len(weights) != n_types:
            raise KeyProblem("loss_weights", f"{len(weights)} weights for {n_types} loss types (loss_type)")
