"""What made an artifact: params hash, run, step and library versions, recorded beside it.

Records hold no time stamps, so the same params on the same machine give the same bytes.
"""
from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Iterable

from librachem_utils.core import files

TRACKED_LIBRARIES = ("librachem-utils", "torch", "transformers", "trl", "peft", "accelerate", "bitsandbytes",
                     "tokenizers", "datasets", "openai", "rdkit", "chemicals", "numpy", "pandas")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape results."""
    versions = {}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _name(path: Path, cfg) -> str:
    """An artifact's path relative to the run folder, else to the project root (figures may go there)."""
    for folder in (cfg.paths.run_dir, cfg.paths.root):
        if path.is_relative_to(folder):
            return str(path.relative_to(folder))
    return str(path)


def record(cfg, step: str, artifacts: Iterable[Path], **extra) -> Path:
    """Write ``<run_dir>/provenance/<step>.json``: params hash, versions, and each artifact's sha256."""
    run_dir = cfg.paths.run_dir
    hashes = {_name(p, cfg): files.sha256_file(p) for p in sorted(map(Path, artifacts))}
    return files.write_json(run_dir / "provenance" / f"{step}.json", {
        "step": step, "run_name": cfg.params.run_name, "params_hash": cfg.params_hash,
        "params_file": cfg.source.name, "libraries": library_versions(), "artifacts": hashes, **extra,
    })
