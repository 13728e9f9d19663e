"""Judgment files as AlpacaEval, Arena-Hard-Auto and FastChat's MT-Bench publish them: which format
a file is, and its reader (one module per format: ``format_alpaca_eval``, ``format_arena_hard``,
``format_mt_bench``).

* ``alpaca_eval``: ``annotations.json``, one JSON list of objects ``{instruction, output_1,
  generator_1, output_2, generator_2, annotator, preference, ...}``; ``preference`` in [1, 2]
  (2 = output_2, the evaluated model, wins), a number or a numeric string, ``null`` when the
  judge failed. ``.json.gz`` is read too.
* ``arena_hard``: judgment JSONL as arena-hard-auto's ``gen_judgment.py`` writes it, one file per
  model (a folder of them is read whole): ``{question_id (v2: uid), model, judge, games:
  [{user_prompt, judgment, score}, {...}]}``; game 1 shows the baseline as A, game 2 swaps;
  ``score`` is the verdict label (``A>>B`` ... ``B>>A``) or ``null`` when none was found.
* ``mt_bench``: FastChat single-answer judgment JSONL (``gen_judgment.py``, mode single):
  ``{question_id, model, judge: [judge, prompt], user_prompt, judgment, score, turn, tstamp}``;
  ``score`` is the 1–10 rating, ``-1`` when the rating could not be parsed.

A file that is not what it claims ends in one :class:`UserError` naming the file, the line and
the fix. Failed judgments are kept and counted, never turned into ties.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from ads_bench.errors import UserError
from ads_bench.judging.format_alpaca_eval import read_alpaca_eval
from ads_bench.judging.format_arena_hard import read_arena_hard
from ads_bench.judging.format_mt_bench import read_mt_bench
from ads_bench.judging.format_text import (
    _jsonl_files,
    _read_text,
)

# --------------------------------------------------------------------------- detection

READERS: dict[str, Callable[[Sequence[Path]], object]] = {
    "alpaca_eval": lambda paths: read_alpaca_eval(paths[0]),
    "arena_hard": read_arena_hard,
    "mt_bench": read_mt_bench,
}


def detect_format(path: Path) -> str:
    """Tell the format from the content: a JSON list is AlpacaEval; JSONL whose first object has
    ``games`` is Arena-Hard, one with ``turn`` and ``score`` MT-Bench. A folder is read as the
    JSONL files in it."""
    if path.is_dir():
        files = _jsonl_files([path])
        return detect_format(files[0])
    text = _read_text(path).lstrip()
    if text.startswith("["):
        return "alpaca_eval"
    first_line = text.split("\n", 1)[0]
    try:
        record = json.loads(first_line) if first_line else None
    except json.JSONDecodeError:
        record = None
    if isinstance(record, dict):
        if "games" in record:
            return "arena_hard"
        if "turn" in record and "score" in record:
            return "mt_bench"
    raise UserError(
        f"cannot tell the format of {path}: it is neither a JSON list (alpaca_eval) nor JSONL "
        f"with 'games' (arena_hard) or 'turn' and 'score' (mt_bench); pass --format"
    )
