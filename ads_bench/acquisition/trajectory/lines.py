"""The last resort: calls written as numbered or bulleted lines, and labelled sections.

For output that has no JSON: ``1. question_answering("...")``, ``- **QA**: ...``,
``Analysis: ...``. Also reads a call written as one string inside JSON.
"""

from __future__ import annotations

import re
from typing import Any

from ads_bench.acquisition.trajectory.api_signatures import resolve_api_name, squash_name
from ads_bench.acquisition.trajectory.lenient_json import (
    EndOfText,
    LenientReader,
    Malformed,
    is_partial,
)
from ads_bench.acquisition.trajectory.raw_call import RawCall

_CALL_LINE = re.compile(
    r"""^\s*
    (?:(?:step\s*)?\d{1,3}\s*[.):\]-]\s*|[-*+\u2022]\s+|[a-z][.)]\s+)?  # list marker
    [`*_"']*(?P<name>[A-Za-z][\w &/-]{0,48}?)[`*_"']*                    # the API's name
    (?:\s*(?P<paren>\()(?P<inside>.*)                                    # name(arguments)
      |\s*[:=]\s*(?P<rest>.*)                                            # name: argument
      |\s+[-\u2013\u2014]+\s+(?P<dashed>.*))                             # name - argument
    $""",
    re.VERBOSE | re.IGNORECASE,
)
_SECTION_LINE = re.compile(
    r"^\s*(?:#+\s*)?[*_]*(?P<label>analysis|self[\s_-]*reflection|reflection|weaknesses)[*_]*"
    r"\s*(?::[*_]*\s*(?P<rest>.*)|[*_]*\s*$)",
    re.IGNORECASE,
)
_CALLS_HEADER = re.compile(
    r"^\s*(?:#+\s*)?[*_]*(?:api\s*)?(?:calls|trajectory|plan|steps)[*_]*\s*:?[*_]*\s*$",
    re.IGNORECASE,
)
_KEYWORD_ARG = re.compile(r"\s*([A-Za-z_]\w*)\s*[=:]\s*")
# A numbered or bulleted function call to an API that does not exist: reported, not skipped.
_OTHER_CALL_LINE = re.compile(r"^\s*(?:\d{1,3}\s*[.)]|[-*+\u2022])\s*[`*]*([A-Za-z_]\w*)[`*]*\(")


def _unquote(text: str) -> str:
    text = text.strip().rstrip(".;,").strip().strip("`*").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text.strip()


def _call_arguments(text: str, closer: str | None) -> tuple[list[Any], dict[str, Any], bool]:
    """Arguments written as in a function call, ``"text", k=3`` or ``question="..."``, up to
    ``closer``: (positional, named, truncated). Text that is not literals (an unquoted
    question) is taken whole as the main argument."""
    reader, positional, named = LenientReader(text), [], {}
    pos = 0
    try:
        while True:
            pos = reader.skip(pos)
            if pos >= len(text) or text[pos] == closer:
                return positional, named, False
            if text[pos] == ",":
                pos += 1
                continue
            keyword = _KEYWORD_ARG.match(text, pos)
            value, pos = reader.value(keyword.end() if keyword else pos, 0)
            if is_partial(value):
                return [], {}, True
            if keyword:
                named[keyword.group(1)] = value
            else:
                positional.append(value)
    except EndOfText:  # a quote opened and never closed: the line was cut off
        return [], {}, True
    except Malformed:
        end = text.rfind(closer) if closer else -1
        return [_unquote(text[:end] if end >= 0 else text)], {}, False


def call_from_line(line: str) -> RawCall | None:
    """A call written as one line (``2. question_answering("...")``, ``- QA: ...``), or None."""
    match = _CALL_LINE.match(line)
    if match is None or resolve_api_name(match.group("name")) is None:
        return None
    raw = RawCall(source=line.strip(), api_name=match.group("name"))
    if match.group("paren"):
        raw.positional, raw.named, raw.truncated = _call_arguments(match.group("inside"), ")")
    else:
        rest = match.group("rest") if match.group("rest") is not None else match.group("dashed")
        if rest.lstrip()[:1] in ("'", '"'):  # QA: "What ...?"   or   search: "x", k=3
            raw.positional, raw.named, raw.truncated = _call_arguments(rest, None)
        else:
            raw.positional = [_unquote(rest)]
    return raw


def read_lines(text: str) -> tuple[dict[str, str], list[RawCall]]:
    """Labelled sections ("Analysis: ...") and call lines, for output that has no JSON."""
    sections: dict[str, list[str]] = {}
    calls: list[RawCall] = []
    current: str | None = None
    for line in text.splitlines():
        section = _SECTION_LINE.match(line)
        if section:
            label = squash_name(section.group("label"))
            current = "analysis" if label == "analysis" else "self_reflection"
            sections.setdefault(current, []).append(section.group("rest") or "")
            continue
        call = call_from_line(line)
        other = None if call is not None else _OTHER_CALL_LINE.match(line)
        if other is not None:
            call = RawCall(source=line.strip(), api_name=other.group(1))
        if call is not None:
            calls.append(call)
            current = None
        elif _CALLS_HEADER.match(line):
            current = None
        elif current is not None:
            sections[current].append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}, calls
