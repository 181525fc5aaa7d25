"""The packages import each other in one direction only (docs/architecture.md §1).

sandbox ← platform ← marketplace, and sdk → sandbox: the platform never imports the marketplace (not even
lazily inside a function), the sandbox imports none of the others, the SDK only the sandbox. Walking the
AST finds every ``import``/``from … import`` wherever it sits, and every string that is a dotted module path
(``importlib.import_module("…")``, the route lists the app factory imports), so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "souk_sandbox": ROOT / "sandbox" / "souk_sandbox",
    "souk_platform": ROOT / "platform" / "souk_platform",
    "souk_marketplace": ROOT / "marketplace" / "souk_marketplace",
    "souk_sdk": ROOT / "sdk" / "souk_sdk",
}
# Which of our other packages each package may import.
ALLOWED: dict[str, set[str]] = {
    "souk_sandbox": set(),
    "souk_platform": {"souk_sandbox"},
    "souk_marketplace": {"souk_platform", "souk_sandbox"},
    "souk_sdk": {"souk_sandbox"},
}
MODULE_PATH = re.compile(r"souk_[a-z]+(\.[a-z_][a-z0-9_]*)*(:[a-z_][a-z0-9_]*)?")


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module name ``tree`` imports, with its line: statements anywhere, and strings naming a module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_PATH.fullmatch(node.value):
            found.append((node.lineno, node.value.partition(":")[0]))
    return found


def violations(package: str, folder: Path) -> list[str]:
    forbidden = set(PACKAGES) - ALLOWED[package] - {package}
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in imported_modules(tree):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_imports_only_the_layers_below_it(package: str) -> None:
    assert violations(package, PACKAGES[package]) == []


def test_the_check_sees_lazy_and_dynamic_imports() -> None:
    source = (
        "def later():\n"
        "    from souk_marketplace.billing import services\n"
        "    import souk_sdk.client\n"
        "    importlib.import_module('souk_marketplace.app')\n"
        "API_MODULES = ['souk_platform.orders.api']\n"
    )
    assert sorted(name for _, name in imported_modules(ast.parse(source))) == [
        "souk_marketplace.app",
        "souk_marketplace.billing",
        "souk_platform.orders.api",
        "souk_sdk.client",
    ]
