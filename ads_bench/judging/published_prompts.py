"""The published judge prompts, kept as data files under ``tasks/judges/`` (verbatim copies;
provenance in ``tasks/README.md``) and returned as plain strings and dicts for the judge engine.

- AlpacaEval 2.0: the ``alpaca_eval_clf_gpt4_turbo`` prompt (ChatML; ``{instruction}``,
  ``{output_1}``, ``{output_2}``; the judge answers ``m`` or ``M``) and the
  ``weighted_alpaca_eval_gpt4_turbo`` config (logprob-weighted preference).
- MT-Bench: FastChat's ``judge_prompts.jsonl`` (pairwise and single, plain and
  reference-guided ``*-math-*`` variants, each also multi-turn).
- Arena-Hard v0.1: ``judge_config.yaml`` (system prompt, user template, verdict regex).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ads_bench import paths
from ads_bench.errors import UserError

ALPACA_EVAL_PROMPT = "alpaca_eval/judge_prompt_alpaca_eval_clf_gpt4_turbo.txt"
ALPACA_EVAL_CONFIG = "alpaca_eval/judge_config_weighted_alpaca_eval_gpt4_turbo.yaml"
MT_BENCH_PROMPTS = "mt_bench/judge_prompts.jsonl"
ARENA_HARD_CONFIG = "arena_hard/judge_config_v0.1.yaml"

#: MT-Bench categories FastChat judges with the reference-guided (``*-math-*``) prompts
MT_BENCH_REFERENCE_CATEGORIES: tuple[str, ...] = ("math", "reasoning", "coding")


def judges_dir() -> Path:
    """``tasks_dir()/judges``, falling back to the shipped ones (the checkout's or the installed
    wheel's) when a custom tasks folder has no judges of its own."""
    custom = paths.tasks_dir() / "judges"
    return custom if custom.is_dir() else paths.data_root() / "tasks" / "judges"


def _path(relative: str) -> Path:
    path = judges_dir() / relative
    if not path.is_file():
        raise UserError(
            f"judge prompt file {path} is missing: restore tasks/judges/ from the repository"
        )
    return path


def alpaca_eval_prompt_template() -> str:
    """The AlpacaEval 2.0 judge prompt, verbatim."""
    return _path(ALPACA_EVAL_PROMPT).read_text(encoding="utf-8")


def alpaca_eval_config() -> dict[str, Any]:
    """The ``weighted_alpaca_eval_gpt4_turbo`` annotator config (the key's value)."""
    data = yaml.safe_load(_path(ALPACA_EVAL_CONFIG).read_text(encoding="utf-8"))
    return dict(data["weighted_alpaca_eval_gpt4_turbo"])


def mt_bench_judge_prompts() -> dict[str, dict[str, Any]]:
    """FastChat's judge prompts keyed by name (``pair-v2``, ``single-math-v1-multi-turn`` ...)."""
    prompts: dict[str, dict[str, Any]] = {}
    with _path(MT_BENCH_PROMPTS).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                prompts[row["name"]] = row
    return prompts


def mt_bench_prompt_name(*, pairwise: bool, reference_guided: bool, multi_turn: bool) -> str:
    """Which FastChat prompt grades a question, as FastChat picks it."""
    name = (
        ("pair-math-v1" if reference_guided else "pair-v2")
        if pairwise
        else ("single-math-v1" if reference_guided else "single-v1")
    )
    return f"{name}-multi-turn" if multi_turn else name


def arena_hard_judge_config() -> dict[str, Any]:
    """Arena-Hard v0.1's judge config (``system_prompt``, ``prompt_template``, ``regex_pattern`` ...)."""
    return dict(yaml.safe_load(_path(ARENA_HARD_CONFIG).read_text(encoding="utf-8")))


def judge_prompt_files() -> dict[str, Path]:
    """Every shipped judge file by a short name."""
    return {
        "alpaca_eval_2.prompt": _path(ALPACA_EVAL_PROMPT),
        "alpaca_eval_2.config": _path(ALPACA_EVAL_CONFIG),
        "mt_bench.prompts": _path(MT_BENCH_PROMPTS),
        "arena_hard_v0.1.config": _path(ARENA_HARD_CONFIG),
    }
