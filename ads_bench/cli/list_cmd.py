"""``ads-bench list WHAT``: what the registries hold (backends, roles, suites, strategies ...)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import click
from rich.table import Table

from ads_bench.cli.common import console
from ads_bench.errors import UserError

Rows = list[dict[str, object]]


def _backends() -> Rows:
    from ads_bench.models.backend import BACKENDS

    examples = {
        "embedded": "embedded  |  gguf:/path/model.gguf",
        "http": "http://127.0.0.1:8000/v1::MODEL  (comma-separate replicas)",
        "openai": "openai:gpt-4o-mini",
        "hf": "hf:/path/to/model  |  hf:embedded?adapter=DIR",
        "vllm": "vllm:/path/to/model  (gpu extra)",
    }
    return [
        {"backend": entry.name, "implementation": entry.target, "spec": examples.get(entry.name, ""),
         "from": entry.source}
        for entry in BACKENDS
    ]


def _roles() -> Rows:
    from ads_bench.models.types import ROLES

    duties = {
        "policy": "the model being improved",
        "optimizer": "writes analysis, self-reflection and an API trajectory",
        "expert": "answers the Question Answering API",
        "judge": "compares or grades answers",
        "embedder": "dense retrieval embeddings",
    }
    return [{"role": role, "duty": duties.get(role, "")} for role in ROLES]


def _apis() -> Rows:
    import ads_bench.strategies.acquisition_setup  # noqa: F401  (registers the built-in APIs)
    from ads_bench.acquisition.api_implementations import api_table

    return api_table()


# registry name -> "module:function" returning rows; entries whose module is absent are hidden
LISTERS: dict[str, str | Callable[[], Rows]] = {
    "backends": _backends,
    "roles": _roles,
    "suites": "ads_bench.suites:suite_table",
    "strategies": "ads_bench.strategies:strategy_table",
    "learners": "ads_bench.learning:learner_table",
    "apis": _apis,
    "judges": "ads_bench.judging:judge_table",
    "program_judges": "ads_bench.judging.programmatic:program_judge_table",
    "metrics": "ads_bench.judging.metric_registry:metric_table",
}


# plugin kind -> "module:REGISTRY" (``ads_bench/registry.py``); importing the module registers
# its built-ins (the APIs' built-ins are registered where a run builds them)
PLUGIN_KINDS = {
    "suites": "ads_bench.suites._registry:SUITES",
    "strategies": "ads_bench.strategies:STRATEGIES",
    "apis": "ads_bench.strategies.acquisition_setup:APIS",
    "learners": "ads_bench.learning.registry:LEARNERS",
    "backends": "ads_bench.models.backend:BACKENDS",
    "judges": "ads_bench.judging.configs:JUDGES",
    "program_judges": "ads_bench.judging.programmatic:PROGRAM_JUDGES",
    "metrics": "ads_bench.judging.metric_registry:METRICS",
}


def plugin_rows() -> Rows:
    """Every plugin of every kind: kind, name, where it comes from (built-in, python, file,
    entry point) and its target (``module:attribute`` or file)."""
    from ads_bench.registry import import_target

    rows: Rows = []
    for kind, target in PLUGIN_KINDS.items():
        try:
            registry = import_target(target)
        except ModuleNotFoundError:  # a kind whose module needs an extra that is not installed
            continue
        rows.extend({"kind": kind, "name": e.name, "from": e.source, "target": e.target} for e in registry)
    return rows


# details that belong in `--json`-style output rather than a terminal table
HIDDEN_COLUMNS = {"file", "implementation"}


def _resolve(name: str) -> Callable[[], Rows] | None:
    target = LISTERS[name]
    if callable(target):
        return target
    module_name, function = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    return getattr(module, function, None)


def available() -> list[str]:
    return [name for name in LISTERS if _resolve(name) is not None]


@click.command("list")
@click.argument("what", required=False)
def list_registries(what: str | None) -> None:
    """List a registry: backends, roles, suites, strategies, learners, apis, judges,
    program_judges, metrics (no argument: every plugin of every kind, with its source)."""
    names = available()
    if what is None:
        _print(plugin_rows(), "plugins")
        console.print("registries: " + ", ".join(names))
        return
    if what not in names:
        raise UserError(f"nothing called '{what}' to list: choose one of {', '.join(names)}")
    rows = _resolve(what)()
    if not rows:
        console.print(f"no {what} registered")
        return
    _print(rows, what)


def _print(rows: Rows, title: str) -> None:
    table = Table(title=title)
    columns = [c for c in rows[0] if c not in HIDDEN_COLUMNS]
    for column in columns:
        table.add_column(str(column), overflow="ellipsis", max_width=60)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)
