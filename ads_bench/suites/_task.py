"""The records every suite yields: a :class:`Task` (a few instructions of one kind) and a
:class:`Suite` (named, ordered tasks with their provenance)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ads_bench.utils.atomic import write_text_atomic

JudgeMode = Literal["pairwise", "single"]
JUDGE_MODES: tuple[str, ...] = ("pairwise", "single")

# Metadata keys with a meaning shared across the project (a task may carry others).
META_JUDGE_MODE = "judge_mode"  # "pairwise" | "single"
META_REFERENCE_GUIDED = "reference_guided"  # judge with the reference answer in the prompt
META_REFERENCE_MODEL = "reference_model"  # who wrote the references, e.g. "gpt-4-0314"
META_REFERENCE_FLAGGED = "reference_flagged_wrong"  # a public review found the reference wrong
META_CLUSTER = "cluster"
META_SOURCE = "source"


def _tuple_of_str(values: Any, what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence of strings, not one string")
    result = tuple(values)
    for value in result:
        if not isinstance(value, str):
            raise TypeError(f"{what} must hold strings, got {type(value).__name__}")
    return result


@dataclass(frozen=True)
class Task:
    """A target task: instructions of one kind, split into observed and held-out ones.

    - ``observed``: shown to the optimizer (the data-acquisition strategy).
    - ``held_out``: answered by the policy and judged; never shown to the optimizer.
      For public benchmarks (AlpacaEval, Arena-Hard, MT-Bench) a task is *one prompt*:
      ``held_out == (prompt,)`` and ``observed`` holds Self-Instruct instructions of the same
      kind (the suite's ``observed_file``; ``tasks/README.md``), never the prompt itself
      (``ads_bench/suites/held_out_guard.py`` refuses any request that would show it).
    - ``references``: empty, or aligned with ``held_out``: for each held-out prompt, one
      reference answer per turn (what a pairwise judge compares against, or what a
      reference-guided judge is shown).
    - ``turns``: empty when every held-out prompt is single-turn; otherwise aligned with
      ``held_out``: the full list of user turns (MT-Bench: 2), whose first is the prompt.
    - ``metadata``: judge mode, reference-guided flag, cluster, source ids ...; see the
      ``META_*`` keys. Not part of equality or hashing.
    """

    id: str
    suite: str
    category: str
    observed: tuple[str, ...]
    held_out: tuple[str, ...]
    references: tuple[tuple[str, ...], ...] = ()
    turns: tuple[tuple[str, ...], ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "observed", _tuple_of_str(self.observed, "observed"))
        object.__setattr__(self, "held_out", _tuple_of_str(self.held_out, "held_out"))
        references = tuple(_tuple_of_str(r, "a reference") for r in self.references)
        turns = tuple(_tuple_of_str(t, "turns") for t in self.turns)
        object.__setattr__(self, "references", references)
        object.__setattr__(self, "turns", turns)
        object.__setattr__(self, "metadata", dict(self.metadata))
        if not self.held_out:
            raise ValueError(f"task {self.id!r} has no held-out instruction")
        if references and len(references) != len(self.held_out):
            raise ValueError(
                f"task {self.id!r}: {len(references)} references for {len(self.held_out)} held-out prompts"
            )
        if turns:
            if len(turns) != len(self.held_out):
                raise ValueError(
                    f"task {self.id!r}: {len(turns)} conversations for {len(self.held_out)} held-out prompts"
                )
            for prompt, conversation in zip(self.held_out, turns, strict=True):
                if not conversation or conversation[0] != prompt:
                    raise ValueError(f"task {self.id!r}: a conversation must start with its prompt")

    @property
    def uid(self) -> str:
        """Unique across suites: ``suite/id``."""
        return f"{self.suite}/{self.id}"

    @property
    def judge_mode(self) -> str:
        return str(self.metadata.get(META_JUDGE_MODE, "pairwise"))

    @property
    def reference_guided(self) -> bool:
        return bool(self.metadata.get(META_REFERENCE_GUIDED, False))

    @property
    def instructions(self) -> tuple[str, ...]:
        """Every distinct instruction of the task, observed first."""
        return tuple(dict.fromkeys(self.observed + self.held_out))

    def conversation(self, index: int) -> tuple[str, ...]:
        """The user turns of held-out prompt ``index`` (one turn unless the suite is multi-turn)."""
        return self.turns[index] if self.turns else (self.held_out[index],)

    def reference(self, index: int) -> tuple[str, ...] | None:
        """The reference answer (one per turn) of held-out prompt ``index``, if the suite has one."""
        return self.references[index] if self.references else None

    def reference_for(self, instruction: str) -> tuple[str, ...] | None:
        """The reference answer of a held-out instruction, looked up by its text."""
        if not self.references:
            return None
        try:
            return self.references[self.held_out.index(instruction)]
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "suite": self.suite,
            "category": self.category,
            "observed": list(self.observed),
            "held_out": list(self.held_out),
        }
        if self.references:
            data["references"] = [list(r) for r in self.references]
        if self.turns:
            data["turns"] = [list(t) for t in self.turns]
        if self.metadata:
            data["metadata"] = dict(self.metadata)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Task:
        return cls(
            id=str(data["id"]),
            suite=str(data["suite"]),
            category=str(data.get("category", "")),
            observed=tuple(data.get("observed", ())),
            held_out=tuple(data["held_out"]),
            references=tuple(tuple(r) for r in data.get("references", ())),
            turns=tuple(tuple(t) for t in data.get("turns", ())),
            metadata=dict(data.get("metadata", {})),
        )


@dataclass(frozen=True)
class Suite:
    """Named, ordered tasks. ``kind`` says where it came from (benchmark, inhouse, yaml,
    python, entry-point, lm-eval); ``source`` names its data and provenance."""

    name: str
    tasks: tuple[Task, ...]
    kind: str = "python"
    source: str = ""
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "metadata", dict(self.metadata))
        seen: set[str] = set()
        for task in self.tasks:
            if task.id in seen:
                raise ValueError(f"suite {self.name!r} has two tasks with id {task.id!r}")
            seen.add(task.id)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"suite {self.name!r} has no task {task_id!r}")

    @property
    def prompt_count(self) -> int:
        """Distinct instructions across all tasks (observed and held-out)."""
        return len({text for task in self.tasks for text in task.instructions})

    @property
    def held_out_count(self) -> int:
        """Held-out prompts to answer and judge (summed over tasks)."""
        return sum(len(task.held_out) for task in self.tasks)

    def limited(self, limit: int | None) -> Suite:
        """The first ``limit`` tasks in the suite's own order (like lm-eval's ``--limit``)."""
        if limit is None or limit >= len(self.tasks):
            return self
        if limit < 0:
            raise ValueError("limit must be >= 0")
        # replace() keeps subclasses (e.g. LmEvalSuite and its scorer) intact
        return dataclasses.replace(
            self,
            tasks=self.tasks[:limit],
            metadata={**self.metadata, "limit": limit, "tasks_before_limit": len(self.tasks)},
        )

    def to_jsonl(self, path: Path) -> None:
        """One task per line (gzip when the name ends in ``.gz``), written atomically."""
        write_tasks_jsonl(Path(path), self.tasks)


def write_tasks_jsonl(path: Path, tasks: Sequence[Task]) -> None:
    text = "".join(json.dumps(t.to_dict(), ensure_ascii=False) + "\n" for t in tasks)
    if path.suffix == ".gz":
        write_bytes_gzip_atomic(path, text.encode("utf-8"))
    else:
        write_text_atomic(path, text)


def read_tasks_jsonl(path: Path) -> list[Task]:
    opener = gzip.open if Path(path).suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [Task.from_dict(json.loads(line)) for line in handle if line.strip()]


def write_bytes_gzip_atomic(path: Path, raw: bytes) -> None:
    """gzip without a timestamp or file name in the header, so a rebuild is byte-identical."""
    import io
    import os
    import tempfile

    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
