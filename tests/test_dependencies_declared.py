"""pyproject.toml declares exactly what ads_bench imports: every third-party module imported
anywhere in the package comes from a declared distribution (core or an extra), every declared
distribution is imported somewhere, and every extra an error message names exists."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ads_bench"

# Modules whose distribution is not installed here (GPU-only), named by hand.
UNINSTALLED_MODULES = {"vllm": "vllm"}
# Declared but never imported by name, each with the reason the code cannot show.
DECLARED_NOT_IMPORTED: dict[str, str] = {}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared_distributions() -> set[str]:
    project = _pyproject()["project"]
    names = {_requirement_name(r) for r in project["dependencies"]}
    for extra, requirements in project["optional-dependencies"].items():
        if extra != "test":
            names |= {_requirement_name(r) for r in requirements}
    return names - {_normalise(project["name"])}  # `all` names the other extras


def imported_modules() -> dict[str, set[str]]:
    modules: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "ads_bench" and top not in sys.stdlib_module_names:
                    modules.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return modules


@functools.cache
def _installed_distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    installed = _installed_distributions().get(module)
    if installed:
        return {_normalise(d) for d in installed}
    return {_normalise(UNINSTALLED_MODULES.get(module, module))}


def test_every_third_party_import_is_declared():
    declared = declared_distributions()
    undeclared = {
        module: sorted(files)
        for module, files in imported_modules().items()
        if not distributions_of(module) & declared
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_distribution_is_imported():
    imported = set().union(*(distributions_of(m) for m in imported_modules()))
    unused = declared_distributions() - imported - set(DECLARED_NOT_IMPORTED)
    assert not unused, f"declared in pyproject.toml but never imported by ads_bench: {sorted(unused)}"


def test_every_extra_the_code_requires_is_declared_with_the_packages_it_checks():
    from ads_bench.extras import EXTRAS

    extras = _pyproject()["project"]["optional-dependencies"]
    for extra, (_, modules) in EXTRAS.items():
        declared = {_requirement_name(r) for r in extras[extra]}
        for module in modules:
            assert distributions_of(module) & declared, f"extra [{extra}] checks {module} but does not install it"


def test_every_extra_named_in_an_error_message_exists():
    extras = set(_pyproject()["project"]["optional-dependencies"])
    named = set()
    for path in PACKAGE.rglob("*.py"):
        named |= set(re.findall(r"MissingExtra\([^)]*?,\s*\"([^\"]+)\"", path.read_text(encoding="utf-8")))
    assert named, "no MissingExtra call found: the pattern above is stale"
    assert named <= extras, f"error messages name extras pyproject.toml lacks: {sorted(named - extras)}"
