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
    from ads_bench.models.backend import backend_names

    examples = {
        "embedded": "embedded  |  gguf:/path/model.gguf",
        "http": "http://127.0.0.1:8000/v1::MODEL  (comma-separate replicas)",
        "openai": "openai:gpt-4o-mini",
        "hf": "hf:/path/to/model  |  hf:embedded?adapter=DIR",
        "vllm": "vllm:/path/to/model  (gpu extra)",
    }
    return [
        {"backend": name, "implementation": target, "spec": examples.get(name, "")}
        for name, target in backend_names().items()
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


# registry name -> "module:function" returning rows; entries whose module is absent are hidden
LISTERS: dict[str, str | Callable[[], Rows]] = {
    "backends": _backends,
    "roles": _roles,
    "suites": "ads_bench.suites:suite_table",
    "strategies": "ads_bench.strategies:strategy_table",
    "learners": "ads_bench.learning:learner_table",
    "apis": "ads_bench.acquisition.apis:api_table",
    "judges": "ads_bench.judging:judge_table",
}


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
    """List a registry: backends, roles, suites, strategies, learners, apis, judges."""
    names = available()
    if what is None:
        console.print("registries: " + ", ".join(names))
        return
    if what not in names:
        raise UserError(f"nothing called '{what}' to list: choose one of {', '.join(names)}")
    rows = _resolve(what)()
    if not rows:
        console.print(f"no {what} registered")
        return
    table = Table(title=what)
    columns = [c for c in rows[0] if c not in HIDDEN_COLUMNS]
    for column in columns:
        table.add_column(str(column), overflow="ellipsis", max_width=60)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)
