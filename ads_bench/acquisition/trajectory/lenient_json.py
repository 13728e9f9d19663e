"""A JSON reader that accepts what models write, and nothing more.

json.loads rejects most model output (trailing commas, single quotes, True/None, a missing
closing bracket when generation hit its token limit). Repair libraries (json_repair) accept
anything and invent structure from prose, which would hide malformed output instead of
reporting it; ast.literal_eval rejects JSON's true/false/null. This reader accepts JSON plus
exactly those slips and fails on anything else, so "malformed" keeps its meaning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any


# The partial containers keep their private names: a trajectory's error message can show one
# ("'plan' must be a list of calls, got _PartialDict"). Callers use is_partial().
class _PartialDict(dict):
    """An object the text ended inside of (the model ran out of tokens)."""


class _PartialList(list):
    """An array the text ended inside of."""


class Malformed(ValueError):
    """The text is not JSON, even allowing for the slips models make."""


class EndOfText(Exception):
    """The text ended inside a scalar; the enclosing container drops it."""


def is_partial(value: Any) -> bool:
    """Whether ``value`` is a container the text ended inside of."""
    return isinstance(value, (_PartialDict, _PartialList))


_MAX_DEPTH = 48  # model trajectories nest 4 deep; the cap keeps junk like "[[[[..." cheap
_WHITESPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$-]*")
_LITERALS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_CLOSERS = {"{": "}", "[": "]", "(": ")"}
_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "/": "/",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "0": "\0",
    "\n": "",
}


class LenientReader:
    """Reads values from ``text`` at a given position: ``value(pos, depth)`` returns the value
    and the position after it; a value the text ends inside of comes back partial."""

    def __init__(self, text: str):
        self.text = text

    def skip(self, pos: int) -> int:
        return _WHITESPACE.match(self.text, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        text = self.text
        pos = self.skip(pos)
        if pos >= len(text):
            raise EndOfText
        char = text[pos]
        if char in _CLOSERS:
            if depth >= _MAX_DEPTH:
                raise Malformed("nested too deep")
            if char == "{":
                return self.mapping(pos + 1, depth + 1)
            return self.sequence(pos + 1, depth + 1, _CLOSERS[char])
        if char in "\"'":
            return self.string(pos)
        number = _NUMBER.match(text, pos)
        if number:
            literal = number.group()
            is_int = not any(c in literal for c in ".eE")
            return (int(literal) if is_int else float(literal)), number.end()
        word = _IDENTIFIER.match(text, pos)
        if word and word.group() in _LITERALS:
            return _LITERALS[word.group()], word.end()
        if (
            word
            and word.end() == len(text)
            and any(lit.startswith(word.group()) for lit in _LITERALS)
        ):
            raise EndOfText
        raise Malformed(f"unexpected {char!r} at {pos}")

    def string(self, pos: int) -> tuple[str, int]:
        text, quote = self.text, self.text[pos]
        stop = re.compile(r"[\\" + quote + "]")
        parts: list[str] = []
        pos += 1
        while True:
            found = stop.search(text, pos)
            if found is None:
                raise EndOfText
            parts.append(text[pos : found.start()])
            pos = found.start()
            if text[pos] == quote:
                return "".join(parts), pos + 1
            escaped, pos = self.escape(pos + 1)
            parts.append(escaped)

    def escape(self, pos: int) -> tuple[str, int]:
        text = self.text
        if pos >= len(text):
            raise EndOfText
        char = text[pos]
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char], pos + 1
        width = {"u": 4, "x": 2, "U": 8}.get(char)
        digits = text[pos + 1 : pos + 1 + width] if width else ""
        if width and len(digits) < width and pos + 1 + len(digits) >= len(text):
            raise EndOfText
        if not width or not re.fullmatch(r"[0-9a-fA-F]+", digits or "-"):
            return "\\" + char, pos + 1  # an invalid escape is kept as written
        code = int(digits, 16)
        end = pos + 1 + width
        if 0xD800 <= code < 0xDC00 and text[end : end + 2] == "\\u":  # a JSON surrogate pair
            low = text[end + 2 : end + 6]
            if re.fullmatch(r"[0-9a-fA-F]{4}", low) and 0xDC00 <= int(low, 16) < 0xE000:
                return chr(0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)), end + 6
        if code > 0x10FFFF:
            return "\\" + char + digits, end
        return chr(code), end

    def mapping(self, pos: int, depth: int) -> tuple[dict, int]:
        text, result = self.text, {}
        while True:
            pos = self.skip(pos)
            if pos >= len(text):
                return _PartialDict(result), pos
            char = text[pos]
            if char == "}":
                return result, pos + 1
            if char == ",":  # trailing or doubled commas
                pos += 1
                continue
            try:
                if char in "\"'":
                    key, pos = self.string(pos)
                else:
                    word = _IDENTIFIER.match(text, pos) or _NUMBER.match(text, pos)
                    if not word:
                        raise Malformed(f"unexpected {char!r} at {pos}")
                    key, pos = word.group(), word.end()
                pos = self.skip(pos)
                if pos >= len(text):
                    raise EndOfText
                if text[pos] not in ":=":
                    raise Malformed(f"expected ':' at {pos}")
                item, pos = self.value(pos + 1, depth)
            except EndOfText:
                return _PartialDict(result), len(text)
            result[key] = item  # a repeated key keeps its last value, as json.loads does
            if is_partial(item):
                return _PartialDict(result), pos

    def sequence(self, pos: int, depth: int, closer: str) -> tuple[list, int]:
        text, result = self.text, []
        while True:
            pos = self.skip(pos)
            if pos >= len(text):
                return _PartialList(result), pos
            char = text[pos]
            if char == closer:
                return result, pos + 1
            if char == ",":
                pos += 1
                continue
            try:
                item, pos = self.value(pos, depth)
            except EndOfText:
                return _PartialList(result), len(text)
            result.append(item)
            if is_partial(item):
                return _PartialList(result), pos


_OPENER = re.compile(r"[{\[]")
_MAX_STARTS = 256  # bracket positions tried; real outputs need one or two


def json_values(text: str) -> Iterator[Any]:
    """Every JSON-like value in ``text``, left to right, skipping prose and what fails to parse."""
    decoder = json.JSONDecoder()
    reader = LenientReader(text)
    pos = 0
    for _ in range(_MAX_STARTS):
        opener = _OPENER.search(text, pos)
        if opener is None:
            return
        start = opener.start()
        try:
            value, end = decoder.raw_decode(text, start)  # the fast path for well-formed JSON
        except (ValueError, RecursionError):
            try:
                value, end = reader.value(start, 0)
            except (Malformed, EndOfText, RecursionError):
                pos = start + 1
                continue
        yield value
        pos = end


def plain(value: Any) -> Any:
    """``value`` with the partial-container markers removed, for storing in a Dropped."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
