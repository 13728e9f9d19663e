"""Where suite names come from, in order of precedence:

1. Python suites registered with :func:`register_suite` (a factory per name);
2. suite YAML files found by scanning ``tasks_dir()/*.yaml`` (the built-ins live there);
3. entry points in the group ``ads_bench.suites`` (other packages' suites);
4. families named by a prefix, ``PREFIX:ARG``, e.g. ``lm-eval:gsm8k`` (:func:`register_family`).
"""

from __future__ import annotations

import importlib.metadata  # noqa: F401  (tests stand in for its entry_points)
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench import paths
from ads_bench.errors import UserError
from ads_bench.registry import BUILT_IN, ENTRY_POINT, FILE, PYTHON, Entry, Registry, source_of
from ads_bench.suites._task import Suite, Task
from ads_bench.suites.yaml_spec import load_spec
from ads_bench.suites.yaml_suite import check_unicode, load_suite_file

ENTRY_POINT_GROUP = "ads_bench.suites"

#: factory(seed=..., n_observed=...) -> Suite (or an iterable of Tasks)
SuiteFactory = Callable[..., "Suite | Iterable[Task]"]
#: family loader(argument after the prefix, seed=..., n_observed=...) -> Suite
FamilyLoader = Callable[..., Suite]
#: the registry's sources as a suite's ``origin``
_ORIGIN = {BUILT_IN: "python", PYTHON: "python", FILE: "yaml", ENTRY_POINT: "entry-point"}


@dataclass(frozen=True)
class SuiteEntry:
    name: str
    kind: str
    origin: str  # "python", "yaml", "entry-point"
    description: str
    source: str
    load: Callable[[int | None, int | None], Suite]
    file: str | None = None  # the suite YAML, for YAML suites


_FAMILIES: dict[str, tuple[FamilyLoader, str]] = {}


def _as_suite(name: str, produced: Any, kind: str, source: str, description: str) -> Suite:
    if isinstance(produced, Suite):
        return produced
    return Suite(name, tuple(produced), kind=kind, source=source, description=description)


def _yaml_entries() -> dict[str, Entry]:
    """The suite YAML files in ``tasks_dir()`` (the built-ins live there), read on each listing."""
    entries: dict[str, Entry] = {}
    folder = paths.tasks_dir()
    if not folder.is_dir():
        return entries
    for path in sorted(folder.glob("*.yaml")):
        spec = load_spec(path)
        if spec.name in entries:
            raise UserError(
                f"two suite files are named {spec.name!r}: {entries[spec.name].target} and {path}; rename one"
            )

        def load(seed: int | None, n_observed: int | None, path: Path = path) -> Suite:
            return load_suite_file(path, seed=seed, n_observed=n_observed)

        entries[spec.name] = Entry(
            "suites", spec.name, FILE, str(path), lambda load=load: load, spec.description,
            {"kind": spec.kind, "source": spec.source or str(path), "file": str(path)},
        )
    return entries


#: suites by name; every entry loads to ``load(seed, n_observed) -> Suite`` except an entry
#: point's, which is a factory ``(*, seed, n_observed)`` or a ready Suite
SUITES = Registry("suites", scan=_yaml_entries)


def register_suite(
    name: str, *, kind: str = "python", description: str = "", source: str = ""
) -> Callable[[SuiteFactory], SuiteFactory]:
    """Decorator: ``@register_suite("my-suite")`` over ``def factory(*, seed, n_observed)``."""
    if ":" in name:
        raise ValueError(f"suite name {name!r} may not contain ':' (reserved for families)")

    def decorate(factory: SuiteFactory) -> SuiteFactory:
        def load(seed: int | None, n_observed: int | None) -> Suite:
            produced = factory(seed=seed, n_observed=n_observed)
            return _as_suite(name, produced, kind, source, description)

        SUITES.register_entry(Entry(
            "suites", name, source_of(factory), f"{factory.__module__}:{factory.__qualname__}",
            lambda: load, description, {"kind": kind, "source": source},
        ))
        return factory

    return decorate


def unregister_suite(name: str) -> None:
    SUITES.unregister(name)


def register_family(prefix: str, loader: FamilyLoader, description: str) -> None:
    """``load_suite("PREFIX:ARG")`` calls ``loader(ARG, seed=..., n_observed=...)``."""
    _FAMILIES[prefix] = (loader, description)


def _suite_entry(entry: Entry) -> SuiteEntry:
    origin = _ORIGIN[entry.source]

    def load(seed: int | None, n_observed: int | None) -> Suite:
        return SUITES.load_entry(entry)(seed, n_observed)

    if origin == "entry-point":
        def load_plugin(seed: int | None, n_observed: int | None) -> Suite:
            target = SUITES.load_entry(entry)
            produced = target(seed=seed, n_observed=n_observed) if callable(target) else target
            return _as_suite(entry.name, produced, "entry-point", entry.target, "")

        return SuiteEntry(entry.name, "entry-point", origin, "", entry.target, load_plugin)
    return SuiteEntry(
        entry.name, entry.extra.get("kind", "python"), origin, entry.description,
        entry.extra.get("source", ""), load, entry.extra.get("file"),
    )


def suite_entries() -> dict[str, SuiteEntry]:
    """Every named suite (families excluded), highest precedence winning a shared name."""
    return {name: _suite_entry(entry) for name, entry in sorted(SUITES.entries().items())}


def suite_names() -> list[str]:
    return list(suite_entries()) + [f"{prefix}:<task>" for prefix in sorted(_FAMILIES)]


def load_suite(
    name: str, *, limit: int | None = None, seed: int | None = None, n_observed: int | None = None
) -> Suite:
    """A suite by name (or by the path of a suite YAML). ``seed`` and ``n_observed`` override
    the suite's own split rule (``seed=None``: the suite's default, 0 unless its YAML says);
    ``limit`` keeps the first tasks in the suite's order."""
    if limit is not None and limit < 0:
        raise UserError(f"--limit must be >= 0, got {limit}")
    if name.endswith((".yaml", ".yml")) and Path(name).is_file():
        suite = load_suite_file(Path(name), seed=seed, n_observed=n_observed)
        return suite.limited(limit)
    prefix, sep, argument = name.partition(":")
    if sep and prefix in _FAMILIES:
        if not argument:
            raise UserError(f"suite {name!r} needs a name after '{prefix}:', e.g. '{prefix}:gsm8k'")
        loader, _ = _FAMILIES[prefix]
        return _checked(loader(argument, seed=seed, n_observed=n_observed).limited(limit))
    entries = suite_entries()
    entry = entries.get(name)
    if entry is None:
        known = ", ".join(suite_names()) or "none"
        raise UserError(
            f"unknown suite {name!r}; known suites: {known} (or the path of a suite YAML)"
        )
    suite = entry.load(seed, n_observed).limited(limit)
    return suite if entry.origin == "yaml" else _checked(suite)  # YAML suites check as they build


def _checked(suite: Suite) -> Suite:
    """Python, entry-point and family suites pass the same Unicode check as YAML ones."""
    for task in suite.tasks:
        check_unicode(task, f"suite {suite.name!r} ({suite.source or 'python'})")
    return suite


def canonical_suite(name: str) -> str:
    """The one spelling of a suite for a run's configuration: a path to a named suite's YAML
    (``tasks/inhouse.yaml``, ``./tasks/inhouse.yaml``) is that suite's name; another YAML file
    is its absolute path; a name stays a name."""
    if not (name.endswith((".yaml", ".yml")) and Path(name).is_file()):
        return name
    path = Path(name).resolve()
    for entry in suite_entries().values():  # the winners only: a shadowed YAML is not that name
        if entry.file and Path(entry.file).resolve() == path:
            return entry.name
    return str(path)


def suite_table() -> list[dict[str, Any]]:
    """One row per suite for ``ads-bench list suites``: name, kind, tasks, prompts, source.

    ``tasks``/``prompts`` are counted by loading the suite; a suite that fails to load shows
    its error instead. Families (``lm-eval:<task>``) have no fixed size and show ``None``.
    """
    rows: list[dict[str, Any]] = []
    for name, entry in suite_entries().items():
        row: dict[str, Any] = {
            "name": name,
            "kind": entry.kind,
            "tasks": None,
            "prompts": None,
            "source": entry.source,
            "file": entry.file,
            "from": SUITES.entry(name).source,
        }
        try:
            suite = entry.load(None, None)
            row.update(tasks=len(suite), prompts=suite.prompt_count)
        except UserError as exc:
            row["error"] = str(exc)
        rows.append(row)
    for prefix, (_, description) in sorted(_FAMILIES.items()):
        rows.append(
            {
                "name": f"{prefix}:<task>",
                "kind": prefix,
                "tasks": None,
                "prompts": None,
                "source": description,
                "from": BUILT_IN,
            }
        )
    return rows
