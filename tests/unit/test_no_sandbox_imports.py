"""The product never imports the test sandbox (or anything else under `tests`): gefyra and the Operator must
work against any real cluster, and `tests/` is not shipped."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("gefyra", "operator")


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every absolute import, including `importlib.import_module("...")` with a literal."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def is_tests(module: str) -> bool:
    return module == "tests" or module.startswith("tests.")


def test_product_sources_exist():
    files = [f for package in PRODUCT for f in (REPO / package).rglob("*.py")]
    assert len(files) > 20 and any(f.parts[-2] == "gefyra" for f in files)


def test_product_never_imports_tests():
    offenders = []
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            offenders += [
                f"{path.relative_to(REPO)}:{line}: {module}"
                for line, module in imported_modules(tree)
                if is_tests(module)
            ]
    assert offenders == [], "the product imports test code:\n" + "\n".join(offenders)


def test_the_check_catches_every_import_form():
    source = (
        "import tests.sandbox\n"
        "from tests.sandbox.cluster import Sandbox\n"
        "import importlib\n"
        "importlib.import_module('tests.sandbox.fixtures')\n"
        "def f():\n"
        "    from tests import sandbox\n"
        "import testsuite, gefyra.tests_helpers\n"
        "from . import tests\n"
    )
    hits = [module for _, module in imported_modules(ast.parse(source)) if is_tests(module)]
    assert hits == ["tests.sandbox", "tests.sandbox.cluster", "tests.sandbox.fixtures", "tests"]
