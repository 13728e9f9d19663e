"""Our judgments in the published file formats, so AlpacaEval's, Arena-Hard's and FastChat's own
tools (and ``ads-bench score``) can read and re-score them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ads_bench.pipeline.prompts import Prompt
from ads_bench.utils.atomic import write_json_atomic, write_text_atomic


def alpaca_eval_annotations(
    prompts: Sequence[Prompt], judgments: Mapping[str, Mapping[str, Any]], *, model: str, reference: str
) -> list[dict[str, Any]]:
    """AlpacaEval's annotations.json rows: output_1 = reference, output_2 = the model, preference in
    [1, 2] (2 = the model wins), null when the judgment failed."""
    rows = []
    for prompt in prompts:
        record = judgments.get(prompt.id)
        if record is None or "reference_output" not in record:
            continue
        preference = record.get("preference")
        rows.append(
            {
                "instruction": prompt.instruction,
                "output_1": record["reference_output"],
                "generator_1": reference,
                "output_2": record["model_output"],
                "generator_2": model,
                "dataset": prompt.category,
                "annotator": record.get("judge"),
                "preference": None if preference is None else 1.0 + preference,
            }
        )
    return rows


def mt_bench_single(
    prompts: Sequence[Prompt], judgments: Mapping[str, Mapping[str, Any]], *, model: str
) -> list[dict[str, Any]]:
    """FastChat's ``model_judgment/*_single.jsonl`` rows (score -1 when the judge gave no rating)."""
    rows = []
    for prompt in prompts:
        for turn in range(1, len(prompt.turns) + 1):
            record = judgments.get(f"{prompt.id}/turn{turn}")
            if record is None:
                continue
            raw = record.get("attempts", [{}])[-1].get("raw", "")
            rows.append(
                {
                    "question_id": prompt.task_id,
                    "model": model,
                    "judge": [record.get("judge_model"), record.get("judge")],
                    "judgment": raw,
                    "score": -1 if record.get("score") is None else record["score"],
                    "turn": turn,
                }
            )
    return rows


def write_exports(
    folder: Path, prompts: Sequence[Prompt], judgments: Mapping[str, Mapping[str, Any]], *, model: str, reference: str
) -> list[Path]:
    written = []
    annotations = alpaca_eval_annotations(prompts, judgments, model=model, reference=reference)
    if annotations:
        path = folder / "annotations.json"
        write_json_atomic(path, annotations)
        written.append(path)
    single = mt_bench_single(prompts, judgments, model=model)
    if single:
        path = folder / "mt_bench_single.jsonl"
        write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in single))
        written.append(path)
    return written
