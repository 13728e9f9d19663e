"""Reading published judgment files: text (plain or gzipped), JSON and JSONL with line numbers,
CSV, and numbers parsed as pandas parses them, each failure one :class:`UserError` naming the
file, the line and the fix.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from ads_bench.errors import UserError


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
