"""Layers import only downward (docs/architecture.md), read from the source with ``ast``.

Every ``import`` and ``from ... import`` of every module under ``ads_bench/`` counts, including
the ones inside functions (a lazy import is still a dependency). A module may import its own
package, any package of a lower layer, and another package of its own layer only where no import
leads back (packages of one layer form no cycle).
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ads_bench"

#: lowest first; a top-level module (``ads_bench/errors.py``) is named like a package
LAYERS: tuple[tuple[str, ...], ...] = (
    ("utils", "errors", "paths", "extras", "registry", "records", "__init__"),
    ("models", "progress"),
    ("suites", "acquisition", "store", "execution"),
    ("learning", "judging", "strategies"),
    ("pipeline", "optimizer", "config"),
    ("reporting",),
    ("cli",),
)
LAYER = {name: rank for rank, names in enumerate(LAYERS) for name in names}

#: (importing module, imported module) pairs that go upward and could not be fixed yet, each
#: with the reason; empty is the goal
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """The ``ads_bench`` modules ``source`` imports, relative imports resolved, wherever they sit."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: None if is_package else -1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # ``from . import jsonl`` imports a module; ``from ads_bench import __version__`` does not
            found |= {f"{target}.{alias.name}" for alias in node.names if _is_module(f"{target}.{alias.name}")}
    return {name for name in found if name == "ads_bench" or name.startswith("ads_bench.")}


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or path.is_dir()


def unit(module: str) -> str:
    """The layered unit a module belongs to: its package below ``ads_bench``, or the top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every upward import, every unit no layer names, and every cycle between units of one layer."""
    found, between = [], {}
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            source_unit, target_unit = unit(module), unit(target)
            if target == "ads_bench" or source_unit == target_unit:
                continue
            for name in (source_unit, target_unit):
                if name not in LAYER:
                    found.append(f"{name} is in no layer: add it to LAYERS and docs/architecture.md")
            if source_unit not in LAYER or target_unit not in LAYER:
                continue
            if LAYER[target_unit] > LAYER[source_unit] and (module, target) not in KNOWN_EXCEPTIONS:
                found.append(f"{module} imports {target}: {source_unit} (layer {LAYER[source_unit]}) "
                             f"may not import {target_unit} (layer {LAYER[target_unit]})")
            elif LAYER[target_unit] == LAYER[source_unit]:
                between.setdefault((source_unit, target_unit), f"{module} imports {target}")
    for (a, b), example in sorted(between.items()):
        if a < b and (b, a) in between:
            found.append(f"{a} and {b} import each other ({example}; {between[(b, a)]})")
    return sorted(set(found))


def project_graph() -> dict[str, set[str]]:
    return {module_name(path, PACKAGE): imports_of(path.read_text(encoding="utf-8"), module_name(path, PACKAGE),
                                                   path.name == "__init__.py")
            for path in PACKAGE.rglob("*.py")}


def test_every_module_of_ads_bench_imports_only_downward():
    assert violations(project_graph()) == []


def test_pipeline_and_optimizer_do_not_import_each_other_at_all():
    # one layer, two jobs: a run does not train, and training does not run the pipeline; the
    # command that makes a run decides whether a smoke optimizer is trained first
    crossing = [(module, target) for module, targets in project_graph().items() for target in targets
                if {unit(module), unit(target)} == {"pipeline", "optimizer"}]
    assert crossing == []


def test_every_known_exception_is_still_needed():
    graph = project_graph()
    assert [pair for pair in KNOWN_EXCEPTIONS if pair[1] not in graph.get(pair[0], set())] == []


UPWARD = '''
from ads_bench.utils.atomic import write_json_atomic

def leaderboard_of(folder):
    from ads_bench.reporting.leaderboard import load_leaderboard   # lazy, but still upward
    return load_leaderboard([folder])
'''


def test_an_upward_import_inside_a_function_is_caught():
    graph = {"ads_bench.models.ledger": imports_of(UPWARD, "ads_bench.models.ledger")}
    assert violations(graph) == [
        "ads_bench.models.ledger imports ads_bench.reporting.leaderboard: models (layer 1) may not import "
        "reporting (layer 5)"
    ]


@pytest.mark.parametrize(("source", "module", "imported"), [
    ("from . import jsonl", "ads_bench.utils.atomic", "ads_bench.utils.jsonl"),
    ("from ..judging import summary", "ads_bench.reporting.report", "ads_bench.judging.summary"),
    ("from ads_bench import paths", "ads_bench.suites._registry", "ads_bench.paths"),
    ("import ads_bench.cli.common", "ads_bench.models.client", "ads_bench.cli.common"),
])
def test_relative_and_plain_imports_are_resolved(source, module, imported):
    assert imported in imports_of(source, module)


def test_two_packages_of_one_layer_may_not_import_each_other():
    graph = {"ads_bench.pipeline.run": {"ads_bench.optimizer.checkpoints"},
             "ads_bench.optimizer.trainer": {"ads_bench.pipeline.session"}}
    assert violations(graph) == [
        "optimizer and pipeline import each other (ads_bench.optimizer.trainer imports ads_bench.pipeline.session; "
        "ads_bench.pipeline.run imports ads_bench.optimizer.checkpoints)"
    ]


def test_the_layers_name_each_unit_once():
    names = list(itertools.chain.from_iterable(LAYERS))
    assert len(names) == len(set(names))
