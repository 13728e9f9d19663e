"""Readers for judgment files as AlpacaEval, Arena-Hard-Auto and FastChat's MT-Bench publish them.

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

import csv
import gzip
import json
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ads_bench.errors import UserError
from ads_bench.judging.metrics.battles import Game, style_counts
from ads_bench.judging.metrics.length_control import GamedAnnotations
from ads_bench.judging.metrics.winrate import preferences_from_alpaca_eval

# --------------------------------------------------------------------------- reading text


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {path}: {error}; pass a UTF-8 text (or .gz) file") from None


def _jsonl_lines(path: Path, expected: str) -> Iterator[tuple[int, dict]]:
    """Yield ``(line number, object)`` for every non-blank line of a JSONL file."""
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(
                f"{path}, line {number}: not valid JSON ({error.msg}); each line must be one "
                f"{expected} object"
            ) from None
        if not isinstance(record, dict):
            raise UserError(f"{path}, line {number}: expected one {expected} object per line")
        yield number, record


def _jsonl_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.jsonl")) + sorted(path.glob("*.jsonl.gz"))
            if not found:
                raise UserError(f"{path} holds no .jsonl file; pass judgment files or their folder")
            files.extend(found)
        else:
            files.append(path)
    return files


# AlpacaEval reads annotations with ``pandas.read_json``, whose default float parser
# (``precise_float=False``, pandas' vendored ultrajson ``decode_numeric``/``createDouble``)
# computes ``(int + frac_digits * 10**-n) * sign`` with an inexact power of ten, so it can be
# one ulp off the correctly rounded value (25 of the 805 preferences of the validation file).
# Published win rates were computed from those values; parsing the same way reproduces them to
# the last digit instead of to ~1e-15.
_NEGATIVE_POWERS_OF_TEN = (
    1.0,
    0.1,
    0.01,
    0.001,
    0.0001,
    0.00001,
    0.000001,
    0.0000001,
    0.00000001,
    0.000000001,
    0.0000000001,
    0.00000000001,
    0.000000000001,
    0.0000000000001,
    0.00000000000001,
    0.000000000000001,
)
_MAX_DECIMALS = 15


def _pandas_float(token: str) -> float:
    mantissa, _, exponent = token.lower().partition("e")
    sign = -1.0 if mantissa.startswith("-") else 1.0
    integer, _, fraction = mantissa.lstrip("-").partition(".")
    fraction = fraction[:_MAX_DECIMALS]
    fraction_value = 0.0
    for digit in fraction:
        fraction_value = fraction_value * 10.0 + float(digit)
    value = (float(int(integer)) + fraction_value * _NEGATIVE_POWERS_OF_TEN[len(fraction)]) * sign
    if exponent:
        value *= 10.0 ** float(int(exponent))
    return value


def _json_list_with_lines(path: Path, text: str, expected: str) -> list[tuple[int, object]]:
    """Parse a JSON list, keeping the line each element starts on (for error messages)."""
    decoder = json.JSONDecoder(parse_float=_pandas_float)
    position = len(text) - len(text.lstrip())
    if not text.startswith("[", position):
        raise UserError(
            f"{path}, line {text.count(chr(10), 0, position) + 1}: expected a JSON list of "
            f"{expected} objects; pass the AlpacaEval annotations.json or choose another --format"
        )
    position += 1
    items: list[tuple[int, object]] = []
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if text.startswith("]", position):
            return items
        line = text.count("\n", 0, position) + 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise UserError(
                f"{path}, line {error.lineno}: not valid JSON ({error.msg}); the file must be "
                f"one JSON list of {expected} objects"
            ) from None
        items.append((line, item))
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if text.startswith(",", position):
            position += 1
        elif not text.startswith("]", position):
            line = text.count("\n", 0, position) + 1
            raise UserError(
                f"{path}, line {line}: expected ',' or ']' between list items; the file must be "
                f"one JSON list of {expected} objects"
            )


# --------------------------------------------------------------------------- AlpacaEval


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


def _csv_rows(path: Path, required: Sequence[str], what: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(_read_text(path).splitlines())
    header = reader.fieldnames or []
    missing = [column for column in required if column not in header]
    if missing:
        raise UserError(
            f"{path}, line 1: {what} needs the columns {', '.join(required)}; "
            f"missing {', '.join(missing)}"
        )
    return [(number, row) for number, row in enumerate(reader, start=2)]


def _csv_float(path: Path, line: int, row: dict, column: str, blank_ok: bool = False) -> float:
    value = (row.get(column) or "").strip()
    if not value and blank_ok:
        return float("nan")
    try:
        return float(value)
    except ValueError:
        raise UserError(f"{path}, line {line}: {column} {value!r} is not a number") from None


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


# --------------------------------------------------------------------------- Arena-Hard


@dataclass(frozen=True)
class ArenaHardJudgment:
    """One judged (question, model) pair; ``game.verdicts`` baseline-first, then swapped."""

    game: Game
    judge: str | None
    baseline: str | None
    path: Path
    line: int


def read_arena_hard(paths: Sequence[Path]) -> list[ArenaHardJudgment]:
    """Read arena-hard-auto judgment JSONL files (or folders of them)."""
    expected = "arena-hard judgment"
    judgments: list[ArenaHardJudgment] = []
    for path in _jsonl_files(paths):
        for line, record in _jsonl_lines(path, expected):
            question = record.get("question_id", record.get("uid"))
            model = record.get("model")
            games = record.get("games")
            if question is None or not isinstance(model, str) or not isinstance(games, list):
                raise UserError(
                    f"{path}, line {line}: an arena-hard judgment needs question_id (or uid), "
                    f"model and games (a list of {{user_prompt, judgment, score}}); is this "
                    f"the judgment file of gen_judgment.py?"
                )
            if not 1 <= len(games) <= 2:
                raise UserError(
                    f"{path}, line {line}: {len(games)} games; arena-hard writes 2 (baseline "
                    f"first, then swapped) or 1 for single games"
                )
            verdicts: list[str | None] = []
            for game in games:
                if game is None:
                    verdicts.append(None)
                    continue
                if not isinstance(game, dict) or "score" not in game:
                    raise UserError(
                        f"{path}, line {line}: each game must be an object with a score "
                        f"(verdict label such as 'A>B', or null)"
                    )
                score = game["score"]
                if score is not None and not isinstance(score, str):
                    raise UserError(
                        f"{path}, line {line}: game score {score!r} is not a verdict label; "
                        f"use 'A>>B', 'A>B', 'A=B', 'B>A', 'B>>A' or null"
                    )
                verdicts.append(score)
            judge = record.get("judge")
            baseline = record.get("baseline")
            judgments.append(
                ArenaHardJudgment(
                    game=Game(prompt=str(question), model=model, verdicts=tuple(verdicts)),
                    judge=judge if isinstance(judge, str) else None,
                    baseline=baseline if isinstance(baseline, str) else None,
                    path=path,
                    line=line,
                )
            )
    if not judgments:
        raise UserError(f"no judgment in {', '.join(map(str, paths))}; pass non-empty JSONL files")
    return judgments


def read_arena_hard_style(paths: Sequence[Path]) -> dict[str, dict[Hashable, np.ndarray]]:
    """Style counts per model per question from arena-hard model answer JSONL files.

    Uses the answer's ``conv_metadata`` (token_len, header/list/bold counts) when present, as
    arena-hard's style control does, and otherwise counts the markdown of the first turn's
    ``content`` itself, with ``token_len`` as its length (characters when absent).
    """
    expected = "arena-hard model answer"
    style: dict[str, dict[Hashable, np.ndarray]] = {}
    for path in _jsonl_files(paths):
        for line, record in _jsonl_lines(path, expected):
            question = record.get("question_id", record.get("uid"))
            model = record.get("model_id", record.get("model"))
            if question is None or not isinstance(model, str):
                raise UserError(
                    f"{path}, line {line}: a model answer needs question_id and model_id; pass "
                    f"arena-hard model_answer files"
                )
            counts = _style_from_answer(path, line, record)
            style.setdefault(model, {})[str(question)] = counts
    return style


def _summed(value: object) -> float:
    return float(sum(value.values())) if isinstance(value, dict) else float(value)


def _style_from_answer(path: Path, line: int, record: dict) -> np.ndarray:
    metadata = record.get("conv_metadata")
    try:
        if isinstance(metadata, dict):
            return np.array(
                [
                    _summed(metadata[key])
                    for key in ("token_len", "header_count", "list_count", "bold_count")
                ]
            )
        turn = record["choices"][0]["turns"][0]
        return style_counts(str(turn["content"]), turn.get("token_len"))
    except (KeyError, IndexError, TypeError, ValueError):
        raise UserError(
            f"{path}, line {line}: cannot find the answer text (choices[0].turns[0].content) "
            f"or conv_metadata; pass arena-hard model_answer files"
        ) from None


# --------------------------------------------------------------------------- MT-Bench


@dataclass(frozen=True)
class SingleJudgment:
    """One FastChat single-answer grade; ``score`` None when the judge gave no rating (-1)."""

    question_id: Hashable
    model: str
    turn: int
    score: float | None
    judge: str | None


def read_mt_bench(paths: Sequence[Path]) -> list[SingleJudgment]:
    """Read FastChat ``*_single.jsonl`` judgment files."""
    expected = "MT-Bench single-answer judgment"
    judgments: list[SingleJudgment] = []
    for path in _jsonl_files(paths):
        for line, record in _jsonl_lines(path, expected):
            missing = [
                key for key in ("question_id", "model", "score", "turn") if key not in record
            ]
            if missing:
                raise UserError(
                    f"{path}, line {line}: judgment lacks {', '.join(missing)}; FastChat single "
                    f"judgments have question_id, model, score (-1 = no rating) and turn"
                )
            score, turn = record["score"], record["turn"]
            if score is not None and (
                isinstance(score, bool) or not isinstance(score, (int, float))
            ):
                raise UserError(
                    f"{path}, line {line}: score {score!r} is not a number; use the 1-10 rating, "
                    f"or -1 when the judge gave none"
                )
            if score is not None and score != -1 and not 1 <= score <= 10:  # NaN fails this too
                raise UserError(
                    f"{path}, line {line}: score {score!r} is outside MT-Bench's 1-10 scale; fix the "
                    f"file (-1 means the judge gave no rating)"
                )
            if isinstance(turn, bool) or not isinstance(turn, int) or turn < 1:
                raise UserError(f"{path}, line {line}: turn {turn!r} must be 1 or 2")
            judge = record.get("judge")
            if isinstance(judge, list):
                judge = "/".join(str(part) for part in judge)
            judgments.append(
                SingleJudgment(
                    question_id=record["question_id"],
                    model=str(record["model"]),
                    turn=turn,
                    score=None if score is None or score == -1 else float(score),
                    judge=judge if isinstance(judge, str) else None,
                )
            )
    if not judgments:
        raise UserError(f"no judgment in {', '.join(map(str, paths))}; pass non-empty JSONL files")
    return judgments


@dataclass(frozen=True)
class Question:
    question_id: Hashable
    category: str | None
    cluster: str | None = None


def read_questions(path: Path) -> dict[str, Question]:
    """A ``question.jsonl`` (MT-Bench or Arena-Hard), keyed by ``str(question_id)``."""
    questions: dict[str, Question] = {}
    for line, record in _jsonl_lines(path, "question"):
        question = record.get("question_id", record.get("uid"))
        if question is None:
            raise UserError(
                f"{path}, line {line}: question lacks question_id; pass the benchmark's "
                f"question.jsonl"
            )
        category, cluster = record.get("category"), record.get("cluster")
        questions[str(question)] = Question(
            question_id=question,
            category=category if isinstance(category, str) else None,
            cluster=cluster if isinstance(cluster, str) else None,
        )
    return questions


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
