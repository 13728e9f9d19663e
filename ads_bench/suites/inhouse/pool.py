"""Instruction pools the in-house suites are clustered from.

The default pool (copied under ``tasks/data/inhouse/source/``, provenance in
``tasks/README.md``): the Stanford Alpaca 5,000-example subset (instruction + input), the
Dynosaur task instructions and the 175 Self-Instruct seed tasks. A user pool is any JSON /
JSONL / parquet / CSV file or local ``datasets`` folder with an instruction field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ads_bench import paths
from ads_bench.errors import UserError
from ads_bench.suites._records import get_path, read_records


@dataclass(frozen=True)
class PoolItem:
    """One instruction of the pool. ``instruction`` says what kind of task it is (it is what
    gets embedded and clustered); ``text`` is what a policy would be asked (with the input)."""

    instruction: str
    input: str = ""
    source: str = ""
    source_id: str = ""

    @property
    def text(self) -> str:
        return f"{self.instruction}\n\n{self.input}" if self.input else self.instruction

    @property
    def provenance(self) -> str:
        return f"{self.source}:{self.source_id}"


@dataclass(frozen=True)
class PoolSource:
    path: Path
    instruction_field: str = "instruction"
    input_field: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or Path(self.path).name.split(".")[0]


def default_pool_sources() -> tuple[PoolSource, ...]:
    folder = paths.tasks_dir() / "data" / "inhouse" / "source"
    return (
        PoolSource(folder / "alpaca_5000_subset.json.gz", "instruction", "input", "alpaca_5000"),
        PoolSource(folder / "dynosaur_instructions_full.json.gz", "instruction", None, "dynosaur"),
        PoolSource(
            folder / "self_instruct_seed_tasks.jsonl",
            "instruction",
            "instances.0.input",
            "self_instruct_seed",
        ),
    )


def load_pool(sources: Sequence[PoolSource]) -> list[PoolItem]:
    """Every instruction of every source, in file order; empty instructions are skipped."""
    items: list[PoolItem] = []
    for source in sources:
        rows = read_records(Path(source.path))
        found = 0
        for number, row in enumerate(rows):
            instruction = get_path(row, source.instruction_field, default=None)
            if instruction is None:
                continue
            if not isinstance(instruction, str):
                raise UserError(
                    f"{source.path}: row {number + 1}: field {source.instruction_field!r} is not text"
                )
            found += 1
            extra = get_path(row, source.input_field, default="") if source.input_field else ""
            extra = extra if isinstance(extra, str) else ""
            if instruction.strip():
                items.append(
                    PoolItem(instruction.strip(), extra.strip(), source.label, str(number))
                )
        if not found:
            fields = ", ".join(sorted(rows[0])) if rows else "none"
            raise UserError(
                f"{source.path} has no field {source.instruction_field!r} in any row (its fields: {fields}): "
                "name the instruction field with --field"
            )
    return items


_SPACE = re.compile(r"\s+")


def normalized(text: str) -> str:
    return _SPACE.sub(" ", text.lower()).strip()


def dedupe(items: Iterable[PoolItem]) -> tuple[list[PoolItem], int]:
    """Drop exact duplicates (case and whitespace folded) of instruction+input; first one wins."""
    seen: set[str] = set()
    kept: list[PoolItem] = []
    dropped = 0
    for item in items:
        key = normalized(item.text)
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        kept.append(item)
    return kept, dropped
