"""A suite YAML file read and checked: its keys, fields, split rule, references and judge, as a
:class:`SuiteSpec` (the data it points to is read by :mod:`.yaml_suite`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ads_bench.errors import UserError
from ads_bench.suites._task import (
    JUDGE_MODES,
)

LAYOUTS = ("row", "grouped", "list", "presplit")


TOP_KEYS = {
    "name",
    "task",
    "kind",
    "description",
    "source",
    "license",
    "data",
    "split_name",
    "layout",
    "fields",
    "split",
    "references",
    "judge",
    "metadata",
    "build",
    "observed_file",
}


FIELD_KEYS = {
    "id",
    "instruction",
    "instructions",
    "turns",
    "task",
    "category",
    "cluster",
    "metadata",
    "observed",
    "held_out",
}


SPLIT_KEYS = {"n_observed", "min_held_out", "seed"}


REFERENCE_KEYS = {"file", "key", "file_key", "answer", "model", "flagged_wrong"}


FLAG_KEYS = {"ids", "source", "note"}


JUDGE_KEYS = {"mode", "reference_guided", "prompts"}


@dataclass(frozen=True)
class SplitRule:
    n_observed: int = 3
    min_held_out: int = 1
    seed: int = 0


@dataclass(frozen=True)
class ReferenceSpec:
    answer: str
    file: Path | None = None
    key: str | None = None
    file_key: str | None = None
    model: str | None = None
    flagged_ids: frozenset[str] = frozenset()
    flag_source: str = ""
    flag_note: str = ""


@dataclass(frozen=True)
class SuiteSpec:
    """A parsed suite YAML; paths are resolved against the YAML's folder."""

    name: str
    path: Path
    data: Path
    layout: str = "row"
    kind: str = "yaml"
    description: str = ""
    source: str = ""
    license: str = ""
    split_name: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    split: SplitRule = SplitRule()
    references: ReferenceSpec | None = None
    judge_mode: str = "pairwise"
    reference_guided: bool | frozenset[str] = False
    judge_prompts: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    #: layout ``row``: the observed-set file (``suites build-observed``) giving each task its
    #: observed instructions, so that the benchmark prompt itself stays held out
    observed_file: Path | None = None


def _fail(path: Path, message: str) -> UserError:
    return UserError(f"{path}: {message}")


def _check_keys(path: Path, where: str, given: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise _fail(path, f"unknown key(s) {unknown} in {where}; allowed: {sorted(allowed)}")


def _mapping(path: Path, raw: Any, where: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(path, f"`{where}` must be a mapping, got {type(raw).__name__}")
    return raw


def _int(path: Path, raw: Any, where: str, minimum: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise _fail(path, f"`{where}` must be an integer >= {minimum}, got {raw!r}")
    return raw


def load_spec(path: Path) -> SuiteSpec:
    """Parse and check a suite YAML (not its data: see :func:`.yaml_suite.validate_suite_file`)."""
    path = Path(path)
    raw = _mapping(path, _read_yaml(path), "the file")
    _check_keys(path, "the file", raw, TOP_KEYS)
    name = raw.get("name", raw.get("task"))
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "needs `name:` (the suite's name)")
    if ":" in name or "/" in name or name != name.strip():
        raise _fail(path, f"suite name {name!r} may not contain ':' or '/' or surrounding spaces")
    if not isinstance(raw.get("data"), str):
        raise _fail(path, "needs `data:` (a data file path, relative to this file)")
    layout = raw.get("layout", "row")
    if layout not in LAYOUTS:
        raise _fail(path, f"`layout: {layout}` is not one of {list(LAYOUTS)}")
    fields = _fields(path, raw, layout)
    split = _split_rule(path, raw)
    references = _references(path, raw)
    judge_raw, mode, guided = _judge(path, raw)
    observed_file = _observed_file(path, raw, layout)
    return SuiteSpec(
        name=name,
        path=path,
        data=path.parent / raw["data"],
        layout=layout,
        kind=str(raw.get("kind", "yaml")),
        description=str(raw.get("description", "")).strip(),
        source=str(raw.get("source", "")).strip(),
        license=str(raw.get("license", "")).strip(),
        split_name=raw.get("split_name"),
        fields=fields,
        split=split,
        references=references,
        judge_mode=mode,
        reference_guided=guided,
        judge_prompts=judge_raw.get("prompts"),
        metadata=dict(_mapping(path, raw.get("metadata"), "metadata")),
        observed_file=(path.parent / observed_file) if observed_file else None,
    )


def _read_yaml(path: Path) -> Any:
    """The file's YAML, or one clear error if it cannot be read or parsed."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read suite file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc


def _fields(path: Path, raw: Mapping[str, Any], layout: str) -> dict[str, Any]:
    """``fields:``: which data field holds what, checked against the layout."""
    fields = {str(k): v for k, v in _mapping(path, raw.get("fields"), "fields").items()}
    _check_keys(path, "fields", fields, FIELD_KEYS)
    for key, value in fields.items():
        if not isinstance(value, str) or not value:
            raise _fail(
                path, f"`fields.{key}` must be a field name (dotted for nested), got {value!r}"
            )
    needed = {
        "row": ("instruction", "turns"),
        "grouped": ("instruction",),
        "list": ("instructions",),
        "presplit": ("held_out",),
    }[layout]
    if not any(key in fields for key in needed):
        raise _fail(path, f"layout {layout!r} needs `fields.{needed[0]}`")
    if layout == "grouped" and "task" not in fields:
        raise _fail(
            path, "layout 'grouped' needs `fields.task` (the field whose value names a row's task)"
        )
    return fields


def _split_rule(path: Path, raw: Mapping[str, Any]) -> SplitRule:
    """``split:``: how many instructions of a task are observed, and the seed."""
    split_raw = _mapping(path, raw.get("split"), "split")
    _check_keys(path, "split", split_raw, SPLIT_KEYS)
    return SplitRule(
        n_observed=_int(path, split_raw.get("n_observed", 3), "split.n_observed", 0),
        min_held_out=_int(path, split_raw.get("min_held_out", 1), "split.min_held_out", 1),
        seed=_int(path, split_raw.get("seed", 0), "split.seed", 0),
    )


def _references(path: Path, raw: Mapping[str, Any]) -> ReferenceSpec | None:
    """``references:``: where the reference answers are, and which are flagged wrong."""
    references = None
    ref_raw = raw.get("references")
    if ref_raw is not None:
        ref_raw = _mapping(path, ref_raw, "references")
        _check_keys(path, "references", ref_raw, REFERENCE_KEYS)
        if not isinstance(ref_raw.get("answer"), str):
            raise _fail(
                path, "`references.answer` must name the field holding the reference answer"
            )
        ref_file = ref_raw.get("file")
        if ref_file is not None and not ref_raw.get("key"):
            raise _fail(
                path,
                "`references.file` needs `references.key` (the field joining data rows to answers)",
            )
        flag_raw = _mapping(path, ref_raw.get("flagged_wrong"), "references.flagged_wrong")
        _check_keys(path, "references.flagged_wrong", flag_raw, FLAG_KEYS)
        references = ReferenceSpec(
            answer=ref_raw["answer"],
            file=(path.parent / ref_file) if ref_file else None,
            key=ref_raw.get("key"),
            file_key=ref_raw.get("file_key"),
            model=None if ref_raw.get("model") is None else str(ref_raw["model"]),
            flagged_ids=frozenset(str(i) for i in flag_raw.get("ids", ()) or ()),
            flag_source=str(flag_raw.get("source", "")),
            flag_note=str(flag_raw.get("note", "")),
        )
    return references


def _judge(path: Path, raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, bool | frozenset[str]]:
    """``judge:``: its mode and which categories it judges against the reference."""
    judge_raw = _mapping(path, raw.get("judge"), "judge")
    _check_keys(path, "judge", judge_raw, JUDGE_KEYS)
    mode = judge_raw.get("mode", "pairwise")
    if mode not in JUDGE_MODES:
        raise _fail(path, f"`judge.mode: {mode}` is not one of {list(JUDGE_MODES)}")
    guided_raw = judge_raw.get("reference_guided", False)
    if isinstance(guided_raw, bool):
        guided: bool | frozenset[str] = guided_raw
    elif isinstance(guided_raw, list) and all(isinstance(c, str) for c in guided_raw):
        guided = frozenset(guided_raw)
    else:
        raise _fail(path, "`judge.reference_guided` must be true, false or a list of categories")
    return judge_raw, mode, guided


def _observed_file(path: Path, raw: Mapping[str, Any], layout: str) -> Any:
    """``observed_file:``: the observed instructions of a row layout, kept in a file of their own."""
    observed_file = raw.get("observed_file")
    if observed_file is not None:
        if not isinstance(observed_file, str) or not observed_file.strip():
            raise _fail(path, "`observed_file` must be a file path, relative to this file")
        if layout != "row":
            raise _fail(
                path, f"`observed_file` is for layout 'row'; layout {layout!r} splits its own instructions"
            )
    return observed_file
