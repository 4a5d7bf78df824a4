"""The package's shape: imports run one way down the stage order, modules and functions stay short."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "librachem_utils"
ORDER = ("core", "chem", "safety", "api", "data", "train", "eval", "report")
TOP_LEVEL = ("steps", "run")  # may import any stage
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def stage_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def imported_stages(path: Path) -> set[tuple[str, int]]:
    """(stage, line) for every import of the package in the module, lazy imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: use absolute imports of librachem_utils"
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "librachem_utils" and len(parts) > 1:
                found.add((parts[1], node.lineno))
            elif parts[0] == "librachem_utils" and isinstance(node, ast.ImportFrom):
                found.update((alias.name, node.lineno) for alias in node.names)
    return found


def test_every_module_belongs_to_a_stage():
    stages = {stage_of(p) for p in modules()} - {"__init__"}
    assert stages <= set(ORDER) | set(TOP_LEVEL), sorted(stages - set(ORDER) - set(TOP_LEVEL))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_stage_order(path):
    stage = stage_of(path)
    if stage in TOP_LEVEL or stage == "__init__":
        return
    allowed = set(ORDER[: ORDER.index(stage) + 1])
    wrong = sorted(f"line {line}: imports {target}" for target, line in imported_stages(path)
                   if target not in allowed)
    assert not wrong, f"{path.relative_to(PACKAGE)} ({stage}) may import only {sorted(allowed)}: {wrong}"


def test_the_layering_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from librachem_utils.report import plots\n")
    assert ("report", 2) in imported_stages(bad)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_are_short(path):
    source = path.read_text(encoding="utf-8")
    lines = source.count("\n")
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(PACKAGE)}: {lines} lines (at most {MAX_MODULE_LINES})"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.relative_to(PACKAGE)}: functions over {MAX_FUNCTION_LINES} lines: {long}"
