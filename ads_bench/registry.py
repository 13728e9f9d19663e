"""One registry type for every plugin kind: suites, strategies, APIs, learners, backends, judges,
programmatic judges and metrics.

An entry comes from one of four sources, and a name taken by more than one resolves in this
order (the first wins):

1. ``python``: registered in this process by code outside the package (``@REGISTRY.register``);
2. ``built-in``: the package's own, declared as ``"module:attribute"`` targets or registered by a
   decorator in the package;
3. ``file``: a file found by the kind's scanner (a suite or judge YAML);
4. ``entry point``: another installed package's entry point in the group ``ads_bench.<kind>``
   (the groups are declared in ``pyproject.toml``).

Everything is lazy: a target is imported, a file read, an entry point loaded only when its
entry is asked for by name (or listed with its details). A plugin that fails to import is the
user's to fix: one line naming the entry point, never a traceback.

This module is the lowest layer: it imports nothing from the package but its errors.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ads_bench.errors import UserError

BUILT_IN = "built-in"
PYTHON = "python"
FILE = "file"
ENTRY_POINT = "entry point"
SOURCES = (PYTHON, BUILT_IN, FILE, ENTRY_POINT)


@dataclass(frozen=True)
class Entry:
    """One named plugin: where it comes from and how to get it (``load()``, not cached)."""

    kind: str
    name: str
    source: str  # one of SOURCES
    target: str  # "module:attribute", a file path, or the registered object's qualified name
    loader: Callable[[], Any]
    description: str = ""
    #: what a kind shows before loading (a suite's kind and file, say)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        return self.loader()


def import_target(target: str) -> Any:
    """``"package.module:attribute"`` -> the attribute (imported now)."""
    module_name, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value


def source_of(value: Any) -> str:
    """``built-in`` for the package's own code, ``python`` for anyone else's."""
    module = getattr(value, "__module__", None) or type(value).__module__
    return BUILT_IN if str(module).startswith("ads_bench.") else PYTHON


def _qualified(value: Any) -> str:
    module = getattr(value, "__module__", None) or type(value).__module__
    name = getattr(value, "__qualname__", None) or getattr(value, "name", None) or type(value).__qualname__
    return f"{module}:{name}"


class Registry:
    """The named plugins of one kind. ``scan`` (optional) finds file entries: a function
    returning ``{name: Entry}``, called each time the kind is listed or looked up."""

    def __init__(
        self,
        kind: str,
        *,
        what: str | None = None,
        builtins: dict[str, str] | None = None,
        scan: Callable[[], dict[str, Entry]] | None = None,
        adapt: Callable[[str, Any], Any] | None = None,
        points: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.kind = kind
        self.what = what or kind.rstrip("s")  # the singular, for messages
        self.group = f"ads_bench.{kind}"
        self._builtins: dict[str, str] = dict(builtins or {})
        self._registered: dict[str, Entry] = {}
        self._scan = scan
        # turns a loaded object into what the kind hands out (e.g. a bare function -> Learner)
        self._adapt = adapt or (lambda name, value: value)
        # name -> "module:attribute" of the group's entry points (a kind may read them its own way)
        self._points = points

    # -- registering --------------------------------------------------------------------------

    def register(self, name: str, value: Any = None, *, description: str = "", source: str | None = None) -> Any:
        """``@registry.register("name")`` over a class, factory or object, or
        ``registry.register("name", value)``. Code inside the package registers as built-in."""

        def add(obj: Any) -> Any:
            self._registered[name] = Entry(
                self.kind, name, source or source_of(obj), _qualified(obj), lambda: obj,
                description or _doc(obj),
            )
            return obj

        return add if value is None else add(value)

    def register_entry(self, entry: Entry) -> None:
        """Add a ready-made entry (e.g. a suite family or a Python suite factory)."""
        self._registered[entry.name] = entry

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)

    # -- looking up ---------------------------------------------------------------------------

    def entries(self) -> dict[str, Entry]:
        """Every entry by name, the highest-precedence source winning a shared name."""
        merged: dict[str, Entry] = {}
        for layer in (self._python(), self._builtin_entries(), self._files(), self._entry_points()):
            for name, entry in layer.items():
                merged.setdefault(name, entry)
        return merged

    def names(self) -> list[str]:
        return list(self.entries())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries().values())

    def _find(self, name: str) -> Entry | None:
        # the registered and built-in layers win, so a name found there needs no scan of files
        # or installed packages (a scorer is looked up once per answer)
        if name in self._registered:
            return self._registered[name]
        if name in self._builtins:
            return self._builtin_entries()[name]
        return self.entries().get(name)

    def entry(self, name: str) -> Entry:
        found = self._find(name)
        if found is None:
            known = ", ".join(self.names()) or "none"
            raise UserError(f"no {self.what} named '{name}': use one of {known}")
        return found

    def load(self, name: str) -> Any:
        """The object registered as ``name`` (imported now); an unknown name or a plugin that
        fails to import is one UserError line."""
        return self.load_entry(self.entry(name))

    def load_entry(self, entry: Entry) -> Any:
        """What ``entry`` holds, adapted to the kind (see :meth:`load`)."""
        name = entry.name
        try:
            value = entry.load()
        except UserError:
            raise
        except Exception as exc:
            if entry.source != ENTRY_POINT:
                raise
            raise UserError(
                f"{self.what} entry point '{name}' ({entry.target}) failed to import: {exc}; "
                "fix or uninstall the package that declares it"
            ) from exc
        return self._adapt(name, value)

    def rows(self) -> list[dict[str, object]]:
        """``name``, ``source`` and ``target`` per entry, for ``ads-bench list``."""
        return [
            {"name": e.name, "source": e.source, "target": e.target, "description": e.description}
            for e in self.entries().values()
        ]

    # -- the four sources ---------------------------------------------------------------------

    def _python(self) -> dict[str, Entry]:
        return {n: e for n, e in self._registered.items() if e.source != BUILT_IN}

    def _builtin_entries(self) -> dict[str, Entry]:
        entries = {
            name: Entry(self.kind, name, BUILT_IN, target, partial(import_target, target))
            for name, target in self._builtins.items()
        }
        entries.update({n: e for n, e in self._registered.items() if e.source == BUILT_IN})
        return entries

    def _files(self) -> dict[str, Entry]:
        return self._scan() if self._scan is not None else {}

    def _entry_points(self) -> dict[str, Entry]:
        if self._points is not None:
            return {
                name: Entry(self.kind, name, ENTRY_POINT, value, partial(import_target, value))
                for name, value in self._points().items()
            }
        return {
            point.name: Entry(self.kind, point.name, ENTRY_POINT, point.value, point.load)
            for point in importlib.metadata.entry_points(group=self.group)
        }


def _doc(obj: Any) -> str:
    text = getattr(obj, "description", None)
    if isinstance(text, str):
        return text
    lines = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    return lines[0] if lines else ""
