"""The packages import one another in one direction only (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "segway_gateway"

MAY_IMPORT: dict[str, set[str]] = {
    "contract": set(),
    "clock": set(),
    "devicelink": {"contract", "clock"},
    "sim": {"contract", "clock", "devicelink"},
    "client": {"contract"},
    "webhooks": {"contract"},
    "gateway": {"contract", "clock", "devicelink", "sim"},
    "cli": {"contract", "clock", "devicelink", "sim", "client", "webhooks", "gateway"},
    "__init__": {"client", "contract"},
}
"""Which of the project's packages each package may import (itself always)."""


def _package(path: Path) -> str:
    return path.relative_to(SOURCE).parts[0].removesuffix(".py")


def _imported_packages(path: Path) -> set[str]:
    """The project's top-level packages a module imports, at its top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "segway_gateway" and len(parts) > 1:
                found.add(parts[1])
    return found


MODULES = sorted(SOURCE.rglob("*.py"))


def test_every_package_has_a_rule() -> None:
    assert {_package(path) for path in MODULES} == set(MAY_IMPORT)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_a_module_imports_only_the_packages_its_layer_may(module: Path) -> None:
    package = _package(module)
    allowed = MAY_IMPORT[package] | {package}
    assert _imported_packages(module) <= allowed, (
        f"{module.relative_to(SOURCE)} imports {sorted(_imported_packages(module) - allowed)}"
    )


def test_the_rule_catches_an_import_inside_a_function(tmp_path: Path) -> None:
    """The check reads imports anywhere in a module, not only at its top."""
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from segway_gateway.gateway.app import create_app\n")
    assert _imported_packages(module) == {"gateway"}
