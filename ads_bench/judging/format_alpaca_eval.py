"""AlpacaEval's published files: ``annotations.json`` (one JSON list of objects ``{instruction,
output_1, generator_1, output_2, generator_2, annotator, preference, ...}``; ``preference`` in
[1, 2], 2 = output_2, the evaluated model, wins; ``null`` when the judge failed; ``.json.gz``
too), the instruction difficulty CSV and gamed annotations.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ads_bench.errors import UserError
from ads_bench.judging.format_text import (
    _csv_float,
    _csv_rows,
    _json_list_with_lines,
    _read_text,
)
from ads_bench.judging.metrics.length_control import GamedAnnotations
from ads_bench.judging.metrics.winrate import preferences_from_alpaca_eval


@dataclass(frozen=True)
class AlpacaEvalAnnotations:
    """One model's AlpacaEval annotations against the reference, in file order."""

    path: Path
    instructions: tuple[str, ...]
    #: p = P(model beats reference) in [0, 1]; NaN for a failed (null / out-of-range) judgment
    preferences: np.ndarray
    #: characters of each output (NaN when the output is missing)
    lengths_model: np.ndarray
    lengths_reference: np.ndarray
    model: str | None
    reference: str | None
    annotator: str | None


def _text_length(value: object) -> float:
    return float(len(value)) if isinstance(value, str) else float("nan")


def read_alpaca_eval(path: Path) -> AlpacaEvalAnnotations:
    """Read an AlpacaEval ``annotations.json`` (see the module docstring)."""
    expected = "annotation"
    items = _json_list_with_lines(path, _read_text(path), expected)
    if not items:
        raise UserError(f"{path}: the annotation list is empty; pass a file with judgments")
    instructions: list[str] = []
    raw_preferences: list[object] = []
    lengths_model: list[float] = []
    lengths_reference: list[float] = []
    generators_1: set[str] = set()
    generators_2: set[str] = set()
    annotators: set[str] = set()
    for line, item in items:
        if not isinstance(item, dict):
            raise UserError(f"{path}, line {line}: each list item must be an annotation object")
        missing = [key for key in ("output_1", "output_2", "preference") if key not in item]
        if missing:
            raise UserError(
                f"{path}, line {line}: annotation lacks {', '.join(missing)}; AlpacaEval "
                f"annotations need output_1 (reference), output_2 (model) and preference "
                f"(1..2, null if the judge failed)"
            )
        preference = item["preference"]
        if isinstance(preference, str):
            try:
                float(preference)
            except ValueError:
                raise UserError(
                    f"{path}, line {line}: preference {preference!r} is not a number; use a "
                    f"number in [1, 2] (2 = output_2 wins) or null for a failed judgment"
                ) from None
        elif preference is not None and (
            isinstance(preference, bool) or not isinstance(preference, (int, float))
        ):
            raise UserError(
                f"{path}, line {line}: preference {preference!r} is not a number; use a number "
                f"in [1, 2] (2 = output_2 wins) or null for a failed judgment"
            )
        raw_preferences.append(preference)
        instructions.append(str(item.get("instruction", "")))
        lengths_model.append(_text_length(item["output_2"]))
        lengths_reference.append(_text_length(item["output_1"]))
        for key, seen in (
            ("generator_1", generators_1),
            ("generator_2", generators_2),
            ("annotator", annotators),
        ):
            if isinstance(item.get(key), str):
                seen.add(item[key])
    if len(generators_2) > 1:
        raise UserError(
            f"{path}: annotations of {len(generators_2)} models "
            f"({', '.join(sorted(generators_2))}); "
            f"split the file into one file per generator_2"
        )
    return AlpacaEvalAnnotations(
        path=path,
        instructions=tuple(instructions),
        preferences=preferences_from_alpaca_eval(raw_preferences),
        lengths_model=np.array(lengths_model),
        lengths_reference=np.array(lengths_reference),
        model=next(iter(generators_2), None),
        reference=next(iter(generators_1), None) if len(generators_1) == 1 else None,
        annotator=next(iter(annotators), None) if len(annotators) == 1 else None,
    )


def read_instruction_difficulty(path: Path) -> dict[int, float]:
    """AlpacaEval's ``instruction_difficulty.csv``: instruction position -> difficulty.

    The first column is the instruction's position in the AlpacaEval set (pandas' index
    column), the ``instruction_difficulty`` column its value.
    """
    text = _read_text(path).splitlines()
    if not text:
        raise UserError(f"{path}: empty; pass AlpacaEval's instruction_difficulty.csv")
    header = next(csv.reader([text[0]]))
    if "instruction_difficulty" not in header:
        raise UserError(
            f"{path}, line 1: no instruction_difficulty column; pass AlpacaEval's "
            f"instruction_difficulty.csv (index, instruction_difficulty)"
        )
    column = header.index("instruction_difficulty")
    table: dict[int, float] = {}
    for number, row in enumerate(csv.reader(text[1:]), start=2):
        if not row:
            continue
        try:
            table[int(row[0])] = float(row[column])
        except (ValueError, IndexError):
            raise UserError(
                f"{path}, line {number}: expected an integer index and a number"
            ) from None
    return table


def read_gamed_annotations(path: Path) -> GamedAnnotations:
    """AlpacaEval's ``df_gamed.csv`` (annotations of the reference's verbose/concise variants).

    Columns used: ``index``, ``preference`` (already in [0, 1], as AlpacaEval concatenates it
    with its own rescaled preferences), ``std_delta_len``, ``instruction_difficulty``.
    """
    required = ("index", "preference", "std_delta_len", "instruction_difficulty")
    rows = _csv_rows(path, required, "the gamed annotations (AlpacaEval's df_gamed.csv)")
    if not rows:
        raise UserError(f"{path}: no rows; pass AlpacaEval's df_gamed.csv")
    index, preference, delta, difficulty = [], [], [], []
    for line, row in rows:
        index.append(int(_csv_float(path, line, row, "index")))
        preference.append(_csv_float(path, line, row, "preference", blank_ok=True))
        delta.append(_csv_float(path, line, row, "std_delta_len"))
        difficulty.append(_csv_float(path, line, row, "instruction_difficulty"))
    return GamedAnnotations(
        preference=np.array(preference),
        std_delta_len=np.array(delta),
        instruction_difficulty=np.array(difficulty),
        instruction_index=np.array(index),
    )
