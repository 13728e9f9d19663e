"""Declarative suites: one YAML file names a data file, which fields hold what, how a task's
instructions split into observed and held-out ones, where reference answers come from and how
a judge should grade. The built-in public benchmarks and in-house suites are such files in
``tasks/``; a user adds a suite by dropping another one there.

Layouts (``layout:``):

- ``row`` — every row is one task of one prompt (public benchmarks). The prompt is held out only;
  the observed instructions come from ``observed_file`` (made by ``ads-bench suites
  build-observed``), or are none when the suite names no such file.
- ``grouped`` — rows with the same ``fields.task`` value form one task (one instruction a row).
- ``list`` — every row is one task whose ``fields.instructions`` lists its instructions.
- ``presplit`` — every row is one task already split: ``fields.observed`` and ``fields.held_out``
  list its instructions (a built suite whose split carries meaning, e.g. ``wikifacts``: observed
  and held-out questions are about different articles); ``split:`` does not apply.

See ``tasks/README.md`` for every key, and ``ads-bench suites validate FILE`` to check a file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.suites._records import Record, get_path, read_records
from ads_bench.suites._split import split_instructions
from ads_bench.suites._task import (
    META_CLUSTER,
    META_JUDGE_MODE,
    META_REFERENCE_FLAGGED,
    META_REFERENCE_GUIDED,
    META_REFERENCE_MODEL,
    Suite,
    Task,
)
from ads_bench.suites.yaml_spec import SuiteSpec, load_spec


@dataclass
class _Item:
    """One instruction (with its turns and reference) before tasks are split."""

    instruction: str
    turns: tuple[str, ...] = ()
    reference: tuple[str, ...] | None = None


@dataclass
class _Group:
    id: str
    category: str = ""
    cluster: str | None = None
    items: list[_Item] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    observed: tuple[str, ...] | None = None  # layout presplit: the row's own observed part


def _text(spec: SuiteSpec, row: Record, number: int, key: str) -> Any:
    dotted = spec.fields[key]
    try:
        return get_path(row, dotted)
    except KeyError:
        fields = ", ".join(sorted(row)) or "none"
        raise UserError(
            f"{spec.path}: row {number} of {spec.data.name} has no field {dotted!r} (fields.{key}); "
            f"its fields are: {fields}"
        ) from None


def _as_texts(value: Any, what: str, spec: SuiteSpec, number: int) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UserError(
        f"{spec.path}: row {number}: {what} must be a string or a list of strings, got {value!r:.80}"
    )


def _reference_index(spec: SuiteSpec) -> dict[str, tuple[str, ...]] | None:
    """Reference answers from a separate file, keyed by the join field's value (as a string)."""
    ref = spec.references
    if ref is None or ref.file is None:
        return None
    index: dict[str, tuple[str, ...]] = {}
    file_key = ref.file_key or ref.key or ""
    for number, row in enumerate(read_records(ref.file), 1):
        try:
            key = get_path(row, file_key)
            answer = get_path(row, ref.answer)
        except KeyError as exc:
            raise UserError(
                f"{spec.path}: row {number} of {ref.file.name} has no field {exc.args[0]!r}; "
                f"its fields are: {', '.join(sorted(row))}"
            ) from None
        index[str(key)] = _as_texts(answer, "a reference answer", spec, number)
    return index


def _groups(spec: SuiteSpec, rows: list[Record]) -> list[_Group]:
    ref = spec.references
    ref_index = _reference_index(spec)
    groups: dict[str, _Group] = {}
    presplit: dict[str, tuple[str, ...]] = {}
    for number, row in enumerate(rows, 1):

        def reference_of(row: Record = row, number: int = number) -> tuple[str, ...] | None:
            if ref is None:
                return None
            if ref_index is not None:
                return ref_index.get(str(get_path(row, ref.key or "", default=None)))
            value = get_path(row, ref.answer, default=None)
            return None if value is None else _as_texts(value, "a reference answer", spec, number)

        if spec.layout == "presplit":
            observed = _as_texts(get_path(row, spec.fields.get("observed", ""), default=[]) or [],
                                 "observed", spec, number)
            held = _as_texts(_text(spec, row, number, "held_out"), "held_out", spec, number)
            items = [_Item(t) for t in held]
            group_id = str(_text(spec, row, number, "id")) if "id" in spec.fields else str(number - 1)
            presplit[group_id] = observed
        elif spec.layout == "list":
            texts = _as_texts(
                _text(spec, row, number, "instructions"), "instructions", spec, number
            )
            answers: list[tuple[str, ...] | None] = [None] * len(texts)
            if ref is not None and ref_index is None:
                raw = get_path(row, ref.answer, default=None)
                if isinstance(raw, list) and len(raw) == len(texts):
                    answers = [_as_texts(a, "a reference answer", spec, number) for a in raw]
            items = [_Item(t, reference=a) for t, a in zip(texts, answers, strict=True)]
            group_id = (
                str(_text(spec, row, number, "id")) if "id" in spec.fields else str(number - 1)
            )
        else:
            turns: tuple[str, ...] = ()
            if "turns" in spec.fields:
                turns = _as_texts(_text(spec, row, number, "turns"), "turns", spec, number)
            if "instruction" in spec.fields:
                value = _text(spec, row, number, "instruction")
                if not isinstance(value, str):
                    raise UserError(
                        f"{spec.path}: row {number}: the instruction must be a string, got {value!r:.80}"
                    )
                instruction = value
            else:
                instruction = turns[0]
            if turns and turns[0] != instruction:
                turns = (instruction, *turns[1:])
            items = [
                _Item(instruction, turns=turns if len(turns) > 1 else (), reference=reference_of())
            ]
            if spec.layout == "grouped":
                group_id = str(_text(spec, row, number, "task"))
            else:
                group_id = (
                    str(_text(spec, row, number, "id")) if "id" in spec.fields else str(number - 1)
                )

        group = groups.get(group_id)
        if group is None:
            group = groups[group_id] = _Group(id=group_id)
            if "category" in spec.fields:
                group.category = str(get_path(row, spec.fields["category"], default=""))
            if "cluster" in spec.fields:
                group.cluster = str(get_path(row, spec.fields["cluster"], default=""))
            if "metadata" in spec.fields:
                extra = get_path(row, spec.fields["metadata"], default={})
                group.metadata = dict(extra) if isinstance(extra, Mapping) else {}
            if spec.layout == "row" and "id" in spec.fields:
                group.metadata.setdefault("source_id", get_path(row, spec.fields["id"]))
        elif spec.layout != "grouped":
            raise UserError(f"{spec.path}: two rows have the id {group_id!r}: ids must be unique")
        group.items.extend(items)
        if spec.layout == "presplit":
            group.observed = presplit[group_id]
    return list(groups.values())


def _task_metadata(spec: SuiteSpec, group: _Group, has_reference: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {**spec.metadata, **group.metadata, META_JUDGE_MODE: spec.judge_mode}
    guided = spec.reference_guided
    in_scope = guided if isinstance(guided, bool) else group.category in guided
    metadata[META_REFERENCE_GUIDED] = bool(in_scope and has_reference)
    if group.cluster is not None:
        metadata[META_CLUSTER] = group.cluster
    ref = spec.references
    if ref is not None and has_reference:
        if ref.model:
            metadata[META_REFERENCE_MODEL] = ref.model
        source_id = str(group.metadata.get("source_id", group.id))
        if source_id in ref.flagged_ids:
            metadata[META_REFERENCE_FLAGGED] = True
            metadata["reference_flag_source"] = ref.flag_source
    if spec.judge_prompts:
        metadata["judge_prompts"] = spec.judge_prompts
    return metadata


#: per-instruction provenance a list-layout row may carry in its metadata (aligned with its
#: instructions); on loading it is split to follow the observed and held-out instructions
INSTRUCTION_SOURCES = "instruction_sources"


def _split_sources(
    metadata: dict[str, Any], group: _Group, observed: Sequence[str], held_out: Sequence[str]
) -> dict[str, Any]:
    sources = metadata.pop(INSTRUCTION_SOURCES, None)
    if isinstance(sources, list) and len(sources) == len(group.items):
        origin = dict(zip((item.instruction for item in group.items), sources, strict=True))
        metadata["observed_sources"] = [origin[text] for text in observed]
        metadata["held_out_sources"] = [origin[text] for text in held_out]
    return metadata


@dataclass
class BuildStats:
    rows: int = 0
    groups: int = 0
    tasks: int = 0
    too_small: int = 0
    with_references: int = 0
    reference_guided: int = 0
    flagged_references: int = 0
    categories: dict[str, int] = field(default_factory=dict)


def build_suite(
    spec: SuiteSpec, *, seed: int | None = None, n_observed: int | None = None
) -> tuple[Suite, BuildStats]:
    """Read the spec's data and make its tasks; tasks too small to split are skipped (counted)."""
    rows = read_records(spec.data, split=spec.split_name)
    if not rows:
        raise UserError(f"{spec.path}: {spec.data} holds no rows")
    seed = spec.split.seed if seed is None else seed
    n_obs = spec.split.n_observed if n_observed is None else n_observed
    if n_obs < 0:
        raise UserError(f"n_observed must be >= 0, got {n_obs}")
    stats = BuildStats(rows=len(rows))
    tasks: list[Task] = []
    groups = _groups(spec, rows)
    stats.groups = len(groups)
    observed_sets = load_observed_sets(spec, {g.id: g.items[0].instruction for g in groups})
    for group in groups:
        items = list(dict((item.instruction, item) for item in group.items).values())
        if spec.layout == "row":
            held_out = (items[0].instruction,)
            observed = observed_sets.get(group.id, ())
            if isinstance(observed, str):
                group.metadata[META_OBSERVED_MISSING] = observed
                observed = ()
            chosen = items
        elif spec.layout == "presplit":
            observed, held_out = group.observed or (), tuple(item.instruction for item in group.items)
            chosen = list(group.items)
        else:
            if len(items) < n_obs + spec.split.min_held_out:
                stats.too_small += 1
                continue
            observed, held_out = split_instructions(
                [item.instruction for item in items],
                n_observed=n_obs,
                seed=seed,
                key=f"{spec.name}/{group.id}",
            )
            by_text = {item.instruction: item for item in items}
            chosen = [by_text[text] for text in held_out]
        references: tuple[tuple[str, ...], ...] = ()
        if chosen and all(item.reference is not None for item in chosen):
            references = tuple(item.reference for item in chosen if item.reference is not None)
        turns: tuple[tuple[str, ...], ...] = ()
        if any(item.turns for item in chosen):
            turns = tuple(item.turns or (item.instruction,) for item in chosen)
        task = Task(
            id=group.id,
            suite=spec.name,
            category=group.category,
            observed=observed,
            held_out=held_out,
            references=references,
            turns=turns,
            metadata=_split_sources(_task_metadata(spec, group, bool(references)), group, observed, held_out),
        )
        check_unicode(task, f"{spec.path} (data {spec.data})")
        tasks.append(task)
        stats.with_references += bool(references)
        stats.reference_guided += task.reference_guided
        stats.flagged_references += bool(task.metadata.get(META_REFERENCE_FLAGGED))
        stats.categories[task.category] = stats.categories.get(task.category, 0) + 1
    stats.tasks = len(tasks)
    if not tasks:
        raise UserError(
            f"{spec.path}: no task has {n_obs} observed + {spec.split.min_held_out} held-out instructions: "
            "lower n_observed or give larger tasks"
        )
    suite = Suite(
        spec.name,
        tuple(tasks),
        kind=spec.kind,
        source=spec.source or str(spec.data),
        description=spec.description,
        metadata={
            "spec": str(spec.path),
            "seed": seed,
            "n_observed": n_obs if spec.layout != "row" else None,
            "observed_file": str(spec.observed_file) if spec.observed_file else None,
            "skipped_too_small": stats.too_small,
            "license": spec.license,
        },
    )
    return suite, stats


#: task metadata naming why a task has no observed set yet (the refusal a strategy gives)
META_OBSERVED_MISSING = "observed_missing"


def load_observed_sets(spec: SuiteSpec, prompts: Mapping[str, str]) -> dict[str, Any]:
    """Each task's observed instructions from the spec's ``observed_file``. A task the file does
    not (yet) hold gets, instead of a tuple, the one-line refusal that any strategy which observes
    gives for it (:mod:`ads_bench.suites.held_out_guard`): the suite still loads, so evaluating,
    rescoring and scoring (which show the optimizer nothing) keep working, and it never falls
    back to observing the held-out prompt. A file built for other prompts is refused here."""
    if spec.observed_file is None:
        return {}
    from ads_bench.suites.observed_build import read_observed_file

    rebuild = f"ads-bench suites build-observed --suite {spec.name} --model MODEL"
    header, records = (None, {}) if not spec.observed_file.is_file() else read_observed_file(spec.observed_file)
    changed = [i for i, prompt in prompts.items() if i in records and records[i].get("prompt") != prompt]
    if changed:
        raise UserError(
            f"{spec.path}: the observed set {spec.observed_file} was built for other prompts "
            f"({len(changed)} tasks differ, first: {changed[0]}): rebuild it with `{rebuild}`"
        )
    missing = sum(task_id not in records for task_id in prompts)
    where = "is missing" if header is None else f"lacks {missing} of its {len(prompts)} tasks"
    refusal = (
        f"suite {spec.name}: the observed set {spec.observed_file} {where}, so this task has no "
        f"observed instructions (its prompt is held out): build them with `{rebuild}`"
    )
    empty = (
        f"suite {spec.name}: in {spec.observed_file} no instruction the model wrote for this task "
        f"survived the filters: rebuild it with another model or more --max-attempts (`{rebuild}`)"
    )
    sets: dict[str, Any] = {}
    for task_id in prompts:
        observed = tuple(records[task_id]["observed"]) if task_id in records else ()
        sets[task_id] = observed or (refusal if task_id not in records else empty)
    return sets


def check_unicode(task: Task, where: str) -> None:
    """A task's text must be encodable as UTF-8: a lone surrogate (JSON's ``"\\ud800"``) cannot
    be written to a log, sent to a model or hashed into a cache key, so it is refused here, at
    load, before any paid call, rather than crashing halfway through a run."""
    try:
        json.dumps(task.to_dict(), ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError as exc:
        before = exc.object[max(0, exc.start - 40) : exc.start].rsplit('"', 1)[-1]
        raise UserError(
            f"{where}: task {task.id!r} holds a lone surrogate ({exc.object[exc.start]!a}) after "
            f"{before!r}, which is not valid Unicode: fix or remove that character in the data"
        ) from None


def load_suite_file(path: Path, *, seed: int | None = None, n_observed: int | None = None) -> Suite:
    """Build the suite a YAML file describes."""
    suite, _ = build_suite(load_spec(Path(path)), seed=seed, n_observed=n_observed)
    return suite


def validate_suite_file(path: Path) -> dict[str, Any]:
    """Check a suite YAML end to end (keys, data readable, fields present in every row, the
    reference join, a split possible) and say what was found; one :class:`UserError` if not."""
    spec = load_spec(Path(path))
    suite, stats = build_suite(spec)
    rows_with_turns = sum(1 for task in suite for conv in task.turns if len(conv) > 1)
    report: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "layout": spec.layout,
        "data": str(spec.data),
        "rows": stats.rows,
        "tasks": stats.tasks,
        "prompts": suite.prompt_count,
        "held_out_prompts": suite.held_out_count,
        "skipped_too_small": stats.too_small,
        "multi_turn_prompts": rows_with_turns,
        "categories": dict(sorted(stats.categories.items(), key=lambda kv: (-kv[1], kv[0]))),
        "judge_mode": spec.judge_mode,
    }
    if spec.layout == "row":
        report["observed"] = {
            "file": str(spec.observed_file) if spec.observed_file else "(none: tasks observe nothing)",
            "instructions": sum(len(task.observed) for task in suite),
            "tasks_without": sum(not task.observed for task in suite),
            "tasks_not_built": sum(META_OBSERVED_MISSING in task.metadata for task in suite),
        }
    else:
        report["split"] = {
            "n_observed": spec.split.n_observed,
            "min_held_out": spec.split.min_held_out,
            "seed": spec.split.seed,
        }
    if spec.references is not None:
        report["references"] = {
            "tasks_with_references": stats.with_references,
            "reference_guided_tasks": stats.reference_guided,
            "flagged_wrong": stats.flagged_references,
            "file": str(spec.references.file) if spec.references.file else "(in the data rows)",
        }
        if spec.references.file is not None and stats.with_references == 0:
            raise UserError(
                f"{spec.path}: no data row matched a reference in {spec.references.file.name} "
                f"on key {spec.references.key!r}: check references.key / references.file_key"
            )
    return report
