"""Judges are data: a YAML file naming a published prompt, its sampling and how to parse a verdict.

Built-in judges live in ``ads_bench/judging/judges/*.yaml`` and point at the verbatim prompt
files under ``tasks/judges/``; a user's own judge is a YAML file of the same shape passed by
path (``--judge-config FILE``). Rendering fills placeholders by plain replacement, as AlpacaEval
does, because the prompts themselves contain literal braces that ``str.format`` would reject.

Loading a config builds every message template it can be asked for and checks it (each message
a role and a string, each answer's placeholder present), so a judge that cannot render fails when
it is named, in one line naming its file, never after the answers have been paid for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from ads_bench.errors import UserError
from ads_bench.judging import published_prompts
from ads_bench.models.types import Message
from ads_bench.registry import BUILT_IN, Entry, Registry

BUILTIN_DIR = Path(__file__).with_name("judges")
PARSER_KINDS = ("logprob_tokens", "verdict", "rating")
PROMPT_FORMATS = ("chatml", "fastchat", "arena_hard", "messages")
ROLES = ("system", "user", "assistant")
# the values the engine fills in (before a config's ``fields`` renames them) that a template
# must show the judge: without them it would judge text it never saw
REQUIRED_VALUES = {
    # (mode, multi_turn) -> names; reference-guided templates also need the reference
    ("pairwise", False): ("instruction", "first", "second"),
    ("single", False): ("question", "answer"),
    ("single", True): ("question_1", "answer_1", "question_2", "answer_2"),
}
REFERENCE_VALUE = {"pairwise": "reference", "single": "ref_answer_1"}


@dataclass(frozen=True)
class JudgeConfig:
    name: str
    mode: str  # "pairwise" | "single"
    description: str
    prompt: dict[str, Any]
    sampling: dict[str, Any]
    parser: dict[str, Any]
    source: str = ""
    _templates: dict[str, list[Message]] = field(default_factory=dict, compare=False, repr=False)

    def template(self, reference_guided: bool = False, multi_turn: bool = False) -> list[Message]:
        """The message templates for this judgment (placeholders still in)."""
        key = f"{reference_guided}-{multi_turn}"
        if key not in self._templates:
            self._templates[key] = _load_template(self, reference_guided, multi_turn)
        return self._templates[key]

    def render(self, values: dict[str, str], *, reference_guided: bool = False, multi_turn: bool = False) -> list[Message]:
        """Fill ``{name}`` placeholders; ``values`` keys are the config's field *roles* or raw names."""
        fields = self.prompt.get("fields", {})
        filled = {fields.get(k, k): v for k, v in values.items()}
        return [
            {"role": m["role"], "content": fill(m["content"], filled)}
            for m in self.template(reference_guided, multi_turn)
        ]


def fill(template: str, values: dict[str, str]) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", str(value))
    return out


def chatml_to_messages(text: str) -> list[Message]:
    """AlpacaEval's ChatML prompt files -> chat messages (as its OpenAI decoder does)."""
    blocks = re.findall(r"<\|im_start\|>(\w+)\n(.*?)<\|im_end\|>", text, flags=re.S)
    if not blocks:
        return [{"role": "user", "content": text}]
    return [{"role": role, "content": content.strip("\n")} for role, content in blocks]


def _load_template(config: JudgeConfig, reference_guided: bool, multi_turn: bool) -> list[Message]:
    prompt = config.prompt
    kind = prompt.get("format")
    if kind == "messages":
        return list(prompt["messages"])
    if kind == "chatml":
        path = published_prompts.judges_dir() / prompt["file"]
        return chatml_to_messages(path.read_text(encoding="utf-8"))
    if kind == "arena_hard":
        arena = published_prompts.arena_hard_judge_config()
        # Arena-Hard's ``prompt_template`` is a list: gen_judgment.py sends each entry as one
        # user message after the system prompt (v0.1 has one); a plain string is one message
        templates = arena["prompt_template"]
        if isinstance(templates, str):
            templates = [templates]
        return [
            {"role": "system", "content": arena["system_prompt"]},
            *({"role": "user", "content": template} for template in templates),
        ]
    if kind == "fastchat":
        prompts = published_prompts.mt_bench_judge_prompts()
        if reference_guided and "reference_name" not in prompt:
            raise UserError(f"judge '{config.name}' has no reference_name: it cannot grade reference-guided items")
        name = prompt["reference_name"] if reference_guided else prompt["name"]
        if multi_turn:
            name += "-multi-turn"
        if name not in prompts:
            raise UserError(f"judge '{config.name}' names FastChat prompt '{name}', which is not in judge_prompts.jsonl")
        row = prompts[name]
        return [
            {"role": "system", "content": row["system_prompt"]},
            {"role": "user", "content": row["prompt_template"]},
        ]
    raise UserError(f"judge '{config.name}': prompt format '{kind}' is unknown; use one of {', '.join(PROMPT_FORMATS)}")


def _judge_files() -> dict[str, Entry]:
    return {
        path.stem: Entry("judges", path.stem, BUILT_IN, str(path), partial(Path, path))
        for path in sorted(BUILTIN_DIR.glob("*.yaml"))
    }


#: judges by name: the YAML files in ``judging/judges/`` and, under the entry-point group
#: ``ads_bench.judges``, other packages' (an entry point names a judge YAML's path, or a
#: ready :class:`JudgeConfig`); a judge YAML elsewhere is passed by path instead
JUDGES = Registry("judges", scan=_judge_files)


def load_judge_config(name_or_path: str) -> JudgeConfig:
    """A registered judge by name, or a judge YAML file by path."""
    if name_or_path in JUDGES:
        loaded = JUDGES.load(name_or_path)
        if isinstance(loaded, JudgeConfig):
            return loaded
        path = Path(loaded)
        if JUDGES.entry(name_or_path).source != BUILT_IN:  # a plugin's judge keeps its name
            return replace(_load_judge_file(path), name=name_or_path)
    else:
        path = Path(name_or_path)
    if not path.is_file():
        raise UserError(
            f"no judge config '{name_or_path}': use one of {', '.join(JUDGES.names())} or a YAML file path"
        )
    return _load_judge_file(path)


def _load_judge_file(path: Path) -> JudgeConfig:
    if not path.is_file():
        raise UserError(f"judge config {path} does not exist: fix the entry point that names it")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"judge config {path} is not valid YAML: fix line {getattr(exc, 'problem_mark', '?')}") from exc
    missing = {"mode", "prompt", "parser"} - set(data)
    if missing:
        raise UserError(f"judge config {path} lacks {', '.join(sorted(missing))}: see ads_bench/judging/judges/")
    if data["mode"] not in ("pairwise", "single"):
        raise UserError(f"judge config {path}: mode must be pairwise or single, not {data['mode']!r}")
    if data["parser"].get("kind") not in PARSER_KINDS:
        raise UserError(f"judge config {path}: parser.kind must be one of {', '.join(PARSER_KINDS)}")
    if not isinstance(data["prompt"], dict):
        raise UserError(f"judge config {path}: prompt must be a mapping with a format ({', '.join(PROMPT_FORMATS)})")
    config = JudgeConfig(
        name=path.stem,
        mode=data["mode"],
        description=data.get("description", ""),
        prompt=dict(data["prompt"]),
        sampling=dict(data.get("sampling", {})),
        parser=dict(data["parser"]),
        source=str(path),
    )
    _check_templates(config, path)
    return config


def template_variants(config: JudgeConfig) -> list[tuple[bool, bool]]:
    """The (reference_guided, multi_turn) templates the engine can ask this judge for.

    Only FastChat's prompts come in reference-guided and multi-turn versions; every other format
    has one template. Pairwise judges compare first turns only.
    """
    if config.prompt.get("format") != "fastchat":
        return [(False, False)]
    guided = [False, True] if "reference_name" in config.prompt else [False]
    turns = [False, True] if config.mode == "single" else [False]
    return [(g, t) for g in guided for t in turns]


def _check_templates(config: JudgeConfig, path: Path) -> None:
    """Build every template now and check it renders: one line naming the file if not."""
    fields = config.prompt.get("fields") or {}
    for reference_guided, multi_turn in template_variants(config):
        variant = f"{'reference-guided ' if reference_guided else ''}{'multi-turn ' if multi_turn else ''}template"
        try:
            messages = config.template(reference_guided, multi_turn)
        except (KeyError, TypeError, OSError) as exc:
            raise UserError(f"judge config {path}: its {variant} cannot be built ({exc}): fix its prompt section") from exc
        if not isinstance(messages, list) or not messages:
            raise UserError(f"judge config {path}: its {variant} has no messages: fix its prompt section")
        for message in messages:
            if not (isinstance(message, dict) and message.get("role") in ROLES and isinstance(message.get("content"), str)):
                raise UserError(
                    f"judge config {path}: every message of its {variant} needs a role ({', '.join(ROLES)}) "
                    f"and a string content, not {message!r:.80}"
                )
        text = "\n".join(m["content"] for m in messages)
        required = list(REQUIRED_VALUES[(config.mode, multi_turn)])
        if reference_guided:
            required.append(REFERENCE_VALUE[config.mode])
        missing = [fields.get(name, name) for name in required if "{" + fields.get(name, name) + "}" not in text]
        if missing:
            raise UserError(
                f"judge config {path}: its {variant} lacks the placeholder(s) "
                f"{', '.join('{' + m + '}' for m in missing)}: fix the template or the prompt's fields mapping"
            )


# a suite's published judge prompts (``judge_prompts`` in its tasks' metadata) -> our judge config
_JUDGE_BY_PROMPTS = {
    "alpaca_eval": {"pairwise": "alpaca_eval_2"},
    "arena_hard": {"pairwise": "arena_hard_v0.1"},
    "mt_bench": {"pairwise": "mt_bench_pair", "single": "mt_bench_single"},
}
_JUDGE_BY_MODE = {"pairwise": "alpaca_eval_2", "single": "mt_bench_single"}


def default_judge(judge_mode: str, judge_prompts: str | None = None) -> str:
    """The judge a suite asks for: its published prompts when it names them, else by mode."""
    if judge_prompts:
        family = Path(judge_prompts).parts[1] if judge_prompts.startswith("judges/") else ""
        named = _JUDGE_BY_PROMPTS.get(family, {}).get(judge_mode)
        if named:
            return named
    return _JUDGE_BY_MODE.get(judge_mode, "alpaca_eval_2")


def builtin_judges() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def judge_table() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for entry in JUDGES:
        try:
            config = load_judge_config(entry.name)
        except UserError as exc:
            rows.append({"judge": entry.name, "mode": "", "parser": "", "description": f"(unavailable: {exc})",
                         "from": entry.source})
            continue
        rows.append({"judge": entry.name, "mode": config.mode, "parser": config.parser["kind"],
                     "description": config.description, "from": entry.source})
    return rows
