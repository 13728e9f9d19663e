"""Where suite names come from, in order of precedence:

1. Python suites registered with :func:`register_suite` (a factory per name);
2. suite YAML files found by scanning ``tasks_dir()/*.yaml`` (the built-ins live there);
3. entry points in the group ``ads_bench.suites`` (other packages' suites);
4. families named by a prefix, ``PREFIX:ARG``, e.g. ``lm-eval:gsm8k`` (:func:`register_family`).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench import paths
from ads_bench.errors import UserError
from ads_bench.suites._task import Suite, Task
from ads_bench.suites.yaml_suite import check_unicode, load_spec, load_suite_file

ENTRY_POINT_GROUP = "ads_bench.suites"

#: factory(seed=..., n_observed=...) -> Suite (or an iterable of Tasks)
SuiteFactory = Callable[..., "Suite | Iterable[Task]"]
#: family loader(argument after the prefix, seed=..., n_observed=...) -> Suite
FamilyLoader = Callable[..., Suite]


@dataclass(frozen=True)
class SuiteEntry:
    name: str
    kind: str
    origin: str  # "python", "yaml", "entry-point"
    description: str
    source: str
    load: Callable[[int | None, int | None], Suite]
    file: str | None = None  # the suite YAML, for YAML suites


_PYTHON_SUITES: dict[str, SuiteEntry] = {}
_FAMILIES: dict[str, tuple[FamilyLoader, str]] = {}


def _as_suite(name: str, produced: Any, kind: str, source: str, description: str) -> Suite:
    if isinstance(produced, Suite):
        return produced
    return Suite(name, tuple(produced), kind=kind, source=source, description=description)


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

        _PYTHON_SUITES[name] = SuiteEntry(name, kind, "python", description, source, load)
        return factory

    return decorate


def unregister_suite(name: str) -> None:
    _PYTHON_SUITES.pop(name, None)


def register_family(prefix: str, loader: FamilyLoader, description: str) -> None:
    """``load_suite("PREFIX:ARG")`` calls ``loader(ARG, seed=..., n_observed=...)``."""
    _FAMILIES[prefix] = (loader, description)


def _yaml_entries() -> dict[str, SuiteEntry]:
    entries: dict[str, SuiteEntry] = {}
    folder = paths.tasks_dir()
    if not folder.is_dir():
        return entries
    for path in sorted(folder.glob("*.yaml")):
        spec = load_spec(path)
        if spec.name in entries:
            raise UserError(
                f"two suite files are named {spec.name!r}: {entries[spec.name].file} and {path}; rename one"
            )

        def load(seed: int | None, n_observed: int | None, path: Path = path) -> Suite:
            return load_suite_file(path, seed=seed, n_observed=n_observed)

        entries[spec.name] = SuiteEntry(
            spec.name, spec.kind, "yaml", spec.description, spec.source or str(path), load, str(path)
        )
    return entries


def _entry_point_entries() -> dict[str, SuiteEntry]:
    entries: dict[str, SuiteEntry] = {}
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):

        def load(seed: int | None, n_observed: int | None, point: Any = point) -> Suite:
            try:
                target = point.load()
            except Exception as exc:  # a broken plugin is the user's to fix, not our traceback
                raise UserError(
                    f"suite entry point {point.name!r} ({point.value}) failed to import: {exc}; "
                    "fix or uninstall the package that declares it"
                ) from exc
            produced = target(seed=seed, n_observed=n_observed) if callable(target) else target
            return _as_suite(point.name, produced, "entry-point", point.value, "")

        entries[point.name] = SuiteEntry(
            point.name, "entry-point", "entry-point", "", point.value, load
        )
    return entries


def suite_entries() -> dict[str, SuiteEntry]:
    """Every named suite (families excluded), highest precedence winning a shared name."""
    merged: dict[str, SuiteEntry] = {}
    for entries in (_entry_point_entries(), _yaml_entries(), dict(_PYTHON_SUITES)):
        merged.update(entries)
    return dict(sorted(merged.items()))


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
            }
        )
    return rows
