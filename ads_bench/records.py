"""The records a run folder holds, each with a schema and a ``schema_version``.

A run folder is read long after it was written (leaderboards, reports, rescoring), possibly by
another release. So every record a run writes carries ``schema_version``:

- a writer stamps it (:func:`stamp`) after checking the record against its schema, so a
  record that lacks what readers need fails where it is made, not in someone's report;
- a reader checks it (:func:`check_version`): a record from a newer release is one line saying
  to upgrade, never a KeyError deep in a report. A record without one predates versioning
  (version 0) and reads as it always did (``tests/fixtures/run_before_schema_version``).

The schemas name the fields readers rely on and allow any others (``extra="allow"``): writers
add fields freely within a version; a version changes when a field's meaning changes or a field
readers rely on goes. Only the stamp is added to what a writer wrote: the record is validated,
never rewritten, so results are unchanged.

``config.json`` is not stamped: its digest names the run folder, and a stamp would make every
earlier folder look like another configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ads_bench.errors import UserError

#: the version this release writes and the newest it reads
SCHEMA_VERSION = 1
FIELD = "schema_version"


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    schema_version: int = 0


class AcquisitionRecord(_Record):
    """``acquisitions.jsonl``: what a strategy acquired for one task."""

    id: str
    strategy: str
    outcomes: list[dict[str, Any]] = []
    trajectory: dict[str, Any] | None = None
    n_items: int = 0
    cost_usd: float = 0.0
    error: str | None = None


class PolicyRecord(_Record):
    """``policies.jsonl``: the policy a learner made for one task."""

    id: str
    learner: str | None = None
    policy: str | None = None
    context_sha: str | None = None
    details: dict[str, Any] = {}


class AnswerRecord(_Record):
    """``answers.jsonl`` and ``reference_answers.jsonl``: one prompt's answers (one per turn)."""

    id: str
    answers: list[str | None] = []
    failed: bool = False
    error: str | None = None


class JudgmentRecord(_Record):
    """``judgments.jsonl`` in pairwise mode: the preference for the model over the reference."""

    id: str
    preference: float | None = None
    failed: bool = False
    orders: list[dict[str, Any]] = []
    error: str | None = None


class GradeRecord(_Record):
    """``judgments.jsonl`` in single-answer mode: one turn's grade."""

    id: str
    score: float | None = None
    error: str | None = None


class LedgerEntry(_Record):
    """``ledger.jsonl``: one event of a session's spending (open, start, call, fee, retry, close)."""

    kind: str
    session: str
    v: int = 1


class SessionRecord(_Record):
    """``sessions.jsonl``: what one invocation spent."""

    command: str
    session: str
    ledger: dict[str, Any]


class MetricsRecord(_Record):
    """``metrics.json``: the run's headline numbers."""

    n_prompts: int | None = None
    cost: dict[str, Any] | None = None


class EstimateRecord(_Record):
    """``estimate.json``: what the command expected the run to cost, before its first call (or
    why it could not say)."""

    usd: float | None = None
    calls: float | None = None
    lines: list[dict[str, Any]] = []
    error: str | None = None


#: a run folder's log (file name without ``.jsonl``) or JSON file -> its record schema
SCHEMAS: dict[str, type[_Record]] = {
    "acquisitions": AcquisitionRecord,
    "policies": PolicyRecord,
    "answers": AnswerRecord,
    "reference_answers": AnswerRecord,
    "judgments": JudgmentRecord,
    "ledger": LedgerEntry,
    "sessions": SessionRecord,
    "metrics.json": MetricsRecord,
    "estimate.json": EstimateRecord,
}


def schema_for(name: str, record: Mapping[str, Any]) -> type[_Record] | None:
    """The schema of ``record`` in the log or file ``name`` (None: not a versioned record)."""
    if name == "judgments" and "score" in record and "preference" not in record:
        return GradeRecord
    return SCHEMAS.get(name)


def stamp(name: str, record: Mapping[str, Any], where: object = None) -> dict[str, Any]:
    """``record`` with this release's ``schema_version``, after checking it against its schema.
    A record that does not fit is a bug in the writer (ValueError naming the field)."""
    schema = schema_for(name, record)
    if schema is None:
        return dict(record)
    stamped = {**record, FIELD: SCHEMA_VERSION}
    try:
        schema.model_validate(stamped)
    except ValidationError as exc:
        raise ValueError(f"a {name} record for {where or name} does not fit its schema: {_first(exc)}") from exc
    return stamped


def check_version(record: Mapping[str, Any], where: object) -> None:
    """One clear line when ``record`` comes from a newer release than this one."""
    version = record.get(FIELD, 0)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise UserError(
            f"{where} was written by a newer ads-bench (records of schema version {version}; this one "
            f"reads up to {SCHEMA_VERSION}): upgrade ads-bench (pip install -U ads-bench) to read it"
        )


def validate(name: str, record: Mapping[str, Any], where: object) -> _Record | None:
    """``record`` parsed by its schema (its version checked first); a record that does not fit
    is one UserError line naming the file."""
    check_version(record, where)
    schema = schema_for(name, record)
    if schema is None:
        return None
    try:
        return schema.model_validate(record)
    except ValidationError as exc:
        raise UserError(f"{where}: a {name} record {_first(exc)}: the file was edited or damaged") from exc


def _first(exc: ValidationError) -> str:
    """The first thing wrong, in one line: ``field 'preference': Input should be a valid number``."""
    first = exc.errors()[0]
    return f"field {'.'.join(str(part) for part in first['loc'])!r}: {first['msg']}"
