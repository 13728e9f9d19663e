"""The optimizer's prompt: the chat messages that ask for a trajectory for one task.

The text lives in a template file (``DEFAULT_TEMPLATE``, or one a run names) split into
``---section---`` parts, so prompts are data, not code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ads_bench.acquisition.trajectory.apis import API_NAMES, canonical_api_or_user_error
from ads_bench.acquisition.trajectory.budget import Budget, restrict_apis
from ads_bench.acquisition.trajectory.parser import parse_trajectory
from ads_bench.errors import UserError

# The shipped prompt lives beside the other acquisition prompts, outside this package.
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[1] / "prompts" / "optimizer_trajectory.md"
_SECTION_HEADER = re.compile(r"^---([a-z_]+(?: [a-z_]+)?)---[ \t]*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_MESSAGE_PLACEHOLDERS = {"observed_instructions", "apis", "budget", "output_format"}


def _template_sections(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"cannot read the prompt template {path}: {exc.strerror}; fix the path"
        ) from exc
    headers = list(_SECTION_HEADER.finditer(text))
    sections = {
        header.group(1): text[header.end() : nxt.start() if nxt else len(text)].strip("\n")
        for header, nxt in zip(headers, [*headers[1:], None], strict=True)
    }
    missing = [name for name in ("system", "user", "example") if name not in sections]
    missing += [f"api {api}" for api in API_NAMES if f"api {api}" not in sections]
    if missing:
        raise UserError(
            f"prompt template {path} has no ---{missing[0]}--- section: add it "
            "(see docs/trajectory-format.md)"
        )
    used = set(_PLACEHOLDER.findall(sections["system"] + sections["user"]))
    if used != _MESSAGE_PLACEHOLDERS:
        problem = sorted(used - _MESSAGE_PLACEHOLDERS) or sorted(_MESSAGE_PLACEHOLDERS - used)
        raise UserError(
            f"prompt template {path}: placeholder {{{problem[0]}}} is unknown or missing; "
            f"the system and user parts must use exactly {sorted(_MESSAGE_PLACEHOLDERS)}"
        )
    return sections


def _fill(text: str, values: Mapping[str, str]) -> str:
    # Only known {names} are replaced, so JSON braces in a template need no escaping.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def optimizer_messages(
    observed_instructions: Sequence[str],
    api_costs: Mapping[str, float],
    budget: Budget | None = None,
    allowed_apis: Iterable[str] | None = None,
    *,
    template: str | Path | None = None,
) -> list[dict[str, str]]:
    """The chat messages asking the optimizer for a trajectory for one task.

    ``api_costs`` is the cost of one call per API (its canonical name or an alias), in the
    run's cost unit. ``template`` replaces the shipped prompt file (same section layout).
    """
    sections = _template_sections(Path(template) if template else DEFAULT_TEMPLATE)
    apis = (
        list(API_NAMES)
        if allowed_apis is None
        else list(
            dict.fromkeys(canonical_api_or_user_error(n, "the allowed APIs") for n in allowed_apis)
        )
    )
    if not apis:
        raise UserError("no API is allowed: allow at least one of " + ", ".join(API_NAMES))
    costs = {
        canonical_api_or_user_error(name, "api_costs"): cost for name, cost in api_costs.items()
    }
    missing = [api for api in apis if api not in costs]
    if missing:
        raise UserError(f"no cost given for API {missing[0]}: add it to the cost table")
    if not observed_instructions:
        raise UserError("the task has no observed instructions: give the optimizer at least one")
    example = parse_trajectory(sections["example"])
    if example.error or example.dropped:
        problem = example.error or example.dropped[0].reason
        raise UserError(
            f"the prompt template's ---example--- is not a valid trajectory ({problem}): fix it"
        )
    example = restrict_apis(example, apis)
    values = {
        "observed_instructions": "\n".join(
            f"{i}. {instruction.strip()}" for i, instruction in enumerate(observed_instructions, 1)
        ),
        "apis": "\n".join(
            _fill(sections[f"api {api}"], {"cost": f"{costs[api]:g}"}) for api in apis
        ),
        "budget": (budget or Budget()).describe(),
        "output_format": example.render(),
    }
    return [
        {"role": "system", "content": _fill(sections["system"], values)},
        {"role": "user", "content": _fill(sections["user"], values)},
    ]
