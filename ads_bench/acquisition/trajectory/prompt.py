"""The optimizer's prompt: the chat messages that ask for a trajectory for one task.

The text lives in a template file (``DEFAULT_TEMPLATE``, or one a run names) split into
``---section---`` parts, so prompts are data, not code.

It shows two demonstrations, one with calls and one without (a task the assistant already
handles), each after the instructions of its own task, and the task at hand last. A small
optimizer shown one bare trajectory copied it for every task (issue 14: the haiku example);
pairing each demonstration with its task is meant to show that a trajectory is written about
its task. It does not stop the untrained 135M model from copying now and then, so
:func:`copied_demonstration` lets a benchmark or test count the outputs that copy one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from ads_bench.acquisition.trajectory.api_signatures import API_NAMES, canonical_api_or_user_error
from ads_bench.acquisition.trajectory.budget import Budget, restrict_apis
from ads_bench.acquisition.trajectory.parser import parse_trajectory
from ads_bench.acquisition.trajectory.records import Trajectory
from ads_bench.errors import UserError

# The shipped prompt lives beside the other acquisition prompts, outside this package.
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[1] / "prompts" / "optimizer_trajectory.md"
_SECTION_HEADER = re.compile(r"^---([a-z_]+(?: [a-z_]+)?)---[ \t]*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_MESSAGE_PLACEHOLDERS = {"observed_instructions", "apis", "budget", "output_format"}
#: the demonstrations, in the order shown: (trajectory section, its task's section); only
#: ``example`` is required (a one-shot template without its task still works). The one with
#: calls comes last, nearest the task: with the empty plan there instead, the untrained embedded
#: optimizer copied it in 3 of 6 samples.
_DEMONSTRATIONS = (("example_no_calls", "example_no_calls task"), ("example", "example task"))


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


@dataclass(frozen=True)
class Demonstration:
    """One worked example of the prompt: a task's instructions and the trajectory written for it."""

    task: tuple[str, ...]
    trajectory: Trajectory


def demonstrations(
    allowed_apis: Iterable[str] | None = None, *, template: str | Path | None = None
) -> list[Demonstration]:
    """The prompt's demonstrations, as the optimizer sees them (disallowed APIs' calls removed)."""
    path = Path(template) if template else DEFAULT_TEMPLATE
    sections = _template_sections(path)
    apis = list(API_NAMES) if allowed_apis is None else [
        canonical_api_or_user_error(n, "the allowed APIs") for n in allowed_apis
    ]
    shown = []
    for trajectory_section, task_section in _DEMONSTRATIONS:
        if trajectory_section not in sections:
            continue
        trajectory = parse_trajectory(sections[trajectory_section])
        if trajectory.error or trajectory.dropped:
            problem = trajectory.error or trajectory.dropped[0].reason
            raise UserError(
                f"the prompt template's ---{trajectory_section}--- is not a valid trajectory ({problem}): fix it"
            )
        task = tuple(
            re.sub(r"^\d+\.\s*", "", line).strip()
            for line in sections.get(task_section, "").splitlines() if line.strip()
        )
        shown.append(Demonstration(task, restrict_apis(trajectory, apis)))
    return shown


#: word-sequence similarity (difflib's ratio, 2·matches / total words) from which a text counts as
#: copied: the ROUGE-L cut Self-Instruct uses for near-duplicates (``suites/inhouse/expand.py``)
COPY_SIMILARITY = 0.7


def _similar(a: str, b: str) -> bool:
    words_a, words_b = a.lower().split(), b.lower().split()
    return bool(words_a and words_b) and SequenceMatcher(None, words_a, words_b).ratio() >= COPY_SIMILARITY


def copied_demonstration(trajectory: Trajectory, shown: Sequence[Demonstration]) -> str | None:
    """How ``trajectory`` copies one of the prompt's demonstrations, or None, the strongest first.

    "identical": the same rendering; "same calls": the same non-empty list of calls (the plan is
    copied whatever the prose); "copied call": some call's text argument (query, scenario,
    question) is a demonstration's, near word for word; "copied analysis": the analysis is.
    """
    calls = [(c.api, c.args) for c in trajectory.calls]
    texts = [str(v) for c in trajectory.calls for v in c.args.values() if isinstance(v, str)]
    found = []
    for demonstration in shown:
        example = demonstration.trajectory
        if trajectory.render() == example.render():
            found.append(0)
        elif example.calls and calls == [(c.api, c.args) for c in example.calls]:
            found.append(1)
        example_texts = [str(v) for c in example.calls for v in c.args.values() if isinstance(v, str)]
        if any(_similar(t, e) for t in texts for e in example_texts):
            found.append(2)
        if _similar(trajectory.analysis, example.analysis):
            found.append(3)
    kinds = ("identical", "same calls", "copied call", "copied analysis")
    return kinds[min(found)] if found else None


def _render_demonstrations(shown: Sequence[Demonstration]) -> str:
    """Each demonstration after its own task's instructions; a lone one without a task: bare."""
    if len(shown) == 1 and not shown[0].task:
        return shown[0].trajectory.render()
    parts = []
    for demonstration in shown:
        lines = "\n".join(f"{i}. {text}" for i, text in enumerate(demonstration.task, 1))
        parts.append(f"Example task:\n{lines}\nReply:\n{demonstration.trajectory.render()}")
    return "\n\n".join(parts)


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
    shown = demonstrations(apis, template=template)
    values = {
        "observed_instructions": "\n".join(
            f"{i}. {instruction.strip()}" for i, instruction in enumerate(observed_instructions, 1)
        ),
        "apis": "\n".join(
            _fill(sections[f"api {api}"], {"cost": f"{costs[api]:g}"}) for api in apis
        ),
        "budget": (budget or Budget()).describe(),
        "output_format": _render_demonstrations(shown),
    }
    return [
        {"role": "system", "content": _fill(sections["system"], values)},
        {"role": "user", "content": _fill(sections["user"], values)},
    ]
