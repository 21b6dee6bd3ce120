"""dvc.yaml lists every library module a stage imports, so a library edit reruns the stage."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "stancetopic"


def module_path(name: str) -> Path | None:
    """The file of a `stancetopic` module, or None for anything else."""
    parts = name.split(".")
    if parts[0] != "stancetopic":
        return None
    path = PACKAGE.joinpath(*parts[1:])
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"


def imported(path: Path) -> set[str]:
    """Every module name a file imports, at any depth of the file (lazy imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def transitive(script: Path) -> set[str]:
    """The library files a script needs: its imports, theirs, and the package's __init__."""
    seen: set[Path] = set()
    todo = [script]
    while todo:
        for name in imported(todo.pop()):
            path = module_path(name)
            if path is not None and path.exists() and path not in seen:
                seen.add(path)
                todo.append(path)
    if seen:
        seen.add(PACKAGE / "__init__.py")
    return {p.relative_to(ROOT).as_posix() for p in seen}


def test_every_stage_depends_on_every_library_module_it_imports():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    missing = {}
    for name, stage in stages.items():
        script = ROOT / stage["cmd"].split()[1]
        lacking = transitive(script) - set(stage["deps"])
        if lacking:
            missing[name] = sorted(lacking)
    assert not missing, f"dvc.yaml deps lack: {missing}"


def test_the_import_walk_sees_lazy_imports():
    assert "src/stancetopic/predictor.py" in transitive(ROOT / "evaluate" / "evaluate.py")
