"""The package's layers import in one direction only (DESIGN: web -> operations and queries ->
policy and rules -> models): no module imports from a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

PACKAGE = Path(__file__).resolve().parents[2] / "scoring"
# Lowest first. A module may import its own layer and those below, never one above.
LAYERS = [
    {"rules", "analytics", "extensions", "problems", "labels", "i18n"},
    {"models", "inputs", "policy"},
    {"queries", "audit_words"},  # audit_words: the audit log in words (reads names)
    {"operations"},
    {"files"},
    {"web", "cli", "demo", "backup", "gunicorn_conf", "__init__", "migrations"},
]


def layer(name: str) -> int:
    """The layer of a module by its first name inside the package (scoring.X...)."""
    for rank, names in enumerate(LAYERS):
        if name in names:
            return rank
    raise AssertionError(f"scoring.{name} is in no layer: add it to LAYERS")


def imported(path: Path) -> set[str]:
    """The package's modules `path` imports, by their first name (relative imports resolved)."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                parts = [*base, *(node.module.split(".") if node.module else [])]
            else:
                parts = (node.module or "").split(".")
            if parts[:1] != ["scoring"]:
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:  # from scoring import x, y: modules, or names of the package itself
                found.update(alias.name if (PACKAGE / alias.name).is_dir()
                             or (PACKAGE / f"{alias.name}.py").is_file() else "__init__"
                             for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "scoring" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_no_module_imports_a_layer_above_its_own() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        own = path.relative_to(PACKAGE).with_suffix("").parts[0]
        for name in imported(path):
            if layer(name) > layer(own):
                wrong.append(f"{path.relative_to(PACKAGE)} imports scoring.{name}")
    assert not wrong, "\n".join(wrong)


def test_the_layers_are_folders_a_newcomer_sees() -> None:
    for folder in ("web", "operations", "queries", "files"):
        assert (PACKAGE / folder / "__init__.py").is_file()
    assert (PACKAGE / "policy.py").is_file() and (PACKAGE / "rules.py").is_file()
