"""What a command will cost before it makes a call: calls, tokens, model seconds and $ per role,
model and acquisition API (``ads-bench estimate``, ``--dry-run``).

The estimate multiplies what the configuration implies by what one call of each kind costs:

- **calls**: from the suite (the tasks and held-out prompts the slice keeps), the strategy (how
  many calls of which API a task makes), the judge's protocol (orders, turns) and, for ``train``,
  iterations × tasks × samples × held-out instructions;
- **prompt tokens**: the real prompts, rendered by the same functions the run uses (the
  optimizer prompt, the judge templates), with answers of the expected length in them; text is
  counted at :data:`CHARS_PER_TOKEN`;
- **completion tokens and seconds**: measured, where earlier run folders hold calls of the same
  role and model (their ``ledger.jsonl``, for the same suite where there is one), else documented
  defaults (:data:`DEFAULT_FILL` of the token cap; :data:`DEFAULT_SPEED`);
- **$**: the price table (the same one the ledger bills with) and the acquisition fees.

An optimizer's API mix and calls per task come from earlier runs of that strategy where there
are some, else its budget spread evenly over the APIs it may use. Work a run folder already holds
(a resumed command) is shown as covered and costs nothing again. Each line says which basis it
has, and the estimate states what it leaves out (LoRA training time, retries, racing's savings).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
)
from ads_bench.acquisition.trajectory import API_NAMES, Budget, optimizer_messages
from ads_bench.errors import UserError
from ads_bench.judging.configs import load_judge_config
from ads_bench.models.client import Runtime
from ads_bench.models.ledger import Price
from ads_bench.models.spec import parse_spec
from ads_bench.pipeline.prompts import Prompt
from ads_bench.utils.jsonl import JsonlLog  # read-only iteration: skips torn or garbage lines

#: characters per token for English text under the BPE tokenizers of the models we run (SmolLM2,
#: Llama, Qwen, GPT-4o: 3.7–4.3 on the shipped suites); plus a few tokens of chat template a message
CHARS_PER_TOKEN = 4.0
TEMPLATE_TOKENS_PER_MESSAGE = 4
#: with no measured calls: the share of its token cap a free-text completion fills
DEFAULT_FILL = 0.6
#: with no measured calls: a written judgment's length (an explanation and a verdict), whatever
#: its cap (Arena-Hard allows 4,096 tokens; its GPT-4 judgments run to a few hundred)
TYPICAL_JUDGMENT_TOKENS = 500
#: with no measured calls: (seconds per prompt token, seconds per completion token, seconds per call).
#: The embedded engine: the fit (History.speed) over the quickstart's own ledger on 2 quiet cores in
#: exact mode, 152 calls; a call's seconds include its wait for the engine's one slot, as the
#: ledger's do. Otherwise a hosted API.
DEFAULT_SPEED = {"embedded": (1 / 60, 1 / 40, 0.0), "other": (0.0, 1 / 60, 0.5)}
#: typical sizes of acquired items, in tokens, when none were measured: a retrieved Wikipedia
#: summary (the shipped corpus' mean is 131 at 4 characters a token), and what a demonstration's
#: instruction adds
RETRIEVED_DOCUMENT_TOKENS = 131
DEMONSTRATION_INSTRUCTION_TOKENS = 30


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def message_tokens(messages: Iterable[dict[str, Any]]) -> int:
    return sum(tokens(str(m.get("content", ""))) + TEMPLATE_TOKENS_PER_MESSAGE for m in messages)


# -- measured figures ---------------------------------------------------------------------------


@dataclass
class Measured:
    """Non-cached, non-failed calls of one (role, model, api) in earlier ledgers."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def add(self, line: dict[str, Any]) -> None:
        self.calls += 1
        self.prompt_tokens += int(line.get("prompt_tokens") or 0)
        self.completion_tokens += int(line.get("completion_tokens") or 0)
        self.seconds += float(line.get("seconds") or 0.0)


@dataclass
class History:
    """What earlier run folders measured: per-call figures, and optimizer strategies' API mix."""

    by_suite: dict[tuple[str, str, str, str], Measured] = field(default_factory=dict)
    by_model: dict[tuple[str, str, str], Measured] = field(default_factory=dict)
    api_mix: dict[str, dict[str, float]] = field(default_factory=dict)  # strategy -> api -> calls/task
    samples: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)  # model -> calls
    #: strategy -> tokens the ICL learner put in the policy's context, one entry a task
    context_tokens: dict[str, list[int]] = field(default_factory=dict)
    folders: int = 0

    @classmethod
    def read(cls, roots: Sequence[str | Path]) -> History:
        history = cls()
        mixes: dict[str, list[dict[str, float]]] = defaultdict(list)
        for root in roots:
            root = Path(root)
            if not root.is_dir():
                continue
            for ledger in sorted(root.glob("**/ledger.jsonl"))[:2000]:
                folder = ledger.parent
                config = _read_json(folder / "config.json") or {}
                suite = str(config.get("suite", ""))
                history.folders += 1
                for line in JsonlLog(ledger):
                    if line.get("kind") != "call" or line.get("cached") or line.get("failed"):
                        continue
                    key = (str(line.get("role")), str(line.get("model")), str(line.get("api") or "-"))
                    history.by_suite.setdefault((suite, *key), Measured()).add(line)
                    history.by_model.setdefault(key, Measured()).add(line)
                    calls = history.samples.setdefault(key[1], [])
                    if len(calls) < 20_000:
                        calls.append((int(line.get("prompt_tokens") or 0), int(line.get("completion_tokens") or 0),
                                      float(line.get("seconds") or 0.0)))
                if config.get("strategy") and (folder / "policies.jsonl").is_file():
                    used = [line["details"]["tokens_used"] for line in JsonlLog(folder / "policies.jsonl")
                            if isinstance(line.get("details"), dict) and "tokens_used" in line["details"]]
                    history.context_tokens.setdefault(str(config["strategy"]), []).extend(used)
                metrics = _read_json(folder / "metrics.json") or {}
                acquisition, tasks = metrics.get("acquisition") or {}, (metrics.get("acquisition") or {}).get("tasks")
                if metrics.get("strategy") and tasks:
                    mix = {api: n / tasks for api, n in (acquisition.get("api_calls") or {}).items()}
                    mixes[metrics["strategy"]].append(mix)
                    if metrics.get("optimizer"):  # an optimizer's own mix beats its strategy's
                        mixes[f"{metrics['strategy']}@{metrics['optimizer']}"].append(mix)
        for strategy, runs in mixes.items():
            apis = {api for run in runs for api in run}
            history.api_mix[strategy] = {api: sum(run.get(api, 0.0) for run in runs) / len(runs) for api in apis}
        return history

    def measured(self, suite: str, role: str, model: str, api: str = "-") -> Measured | None:
        found = self.by_suite.get((suite, role, model, api))
        if found and found.calls:
            return found
        found = self.by_model.get((role, model, api))
        return found if found and found.calls else None

    def speed(self, model: str) -> tuple[float, float, float] | None:
        """(s per prompt token, s per completion token, s per call) of ``model``: a least-squares
        fit of seconds = a·prompt + b·completion over its measured calls, in any role."""
        samples = self.samples.get(model)
        if not samples or len(samples) < 3:
            return None
        import numpy as np

        data = np.asarray(samples, dtype=float)
        (a, b), *_ = np.linalg.lstsq(data[:, :2], data[:, 2], rcond=None)
        if a < 0 or b < 0:  # collinear or noisy: one rate for every token instead
            rate = data[:, 2].sum() / max(1.0, data[:, :2].sum())
            return (rate, rate, 0.0)
        return (float(a), float(b), 0.0)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- the estimate -------------------------------------------------------------------------------


@dataclass
class Line:
    """Expected calls of one role, model and API."""

    role: str
    model: str
    api: str
    calls: float = 0.0
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    seconds: float = 0.0
    usd: float = 0.0
    covered_calls: float = 0.0  # already in the run folder: not made again
    basis: str = "default"


@dataclass
class Estimate:
    command: str
    lines: dict[tuple[str, str, str], Line] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scope: str = ""

    def line(self, role: str, model: str, api: str = "-") -> Line:
        return self.lines.setdefault((role, model, api), Line(role, model, api))

    def total(self) -> Line:
        total = Line("total", "", "")
        for line in self.lines.values():
            for name in ("calls", "prompt_tokens", "completion_tokens", "seconds", "usd", "covered_calls"):
                setattr(total, name, getattr(total, name) + getattr(line, name))
        return total

    def merge(self, other: Estimate) -> None:
        for key, line in other.lines.items():
            mine = self.line(*key)
            for name in ("calls", "prompt_tokens", "completion_tokens", "seconds", "usd", "covered_calls"):
                setattr(mine, name, getattr(mine, name) + getattr(line, name))
            if line.basis != "default":
                mine.basis = line.basis
        self.notes.extend(n for n in other.notes if n not in self.notes)

    def to_json(self) -> dict[str, Any]:
        rows = [asdict(line) for line in self.lines.values()]
        return {"command": self.command, "scope": self.scope, "lines": rows,
                "total": asdict(self.total()), "notes": list(self.notes)}


class Estimator:
    """Adds expected calls to an :class:`Estimate`, pricing and timing them as it goes."""

    def __init__(self, runtime: Runtime, history: History, estimate: Estimate):
        self.runtime = runtime
        self.history = history
        self.estimate = estimate

    def describe(self, spec: str, role: str) -> tuple[str, Price, str]:
        """(label, price, backend) of a spec, without a call. A spec whose backend cannot be built
        here (an API key not set: the estimate needs none) is priced from the price table."""
        try:
            model = self.runtime.model(spec, role=role)
            return model.label, model.price(), model.spec.backend
        except UserError:
            parsed = parse_spec(spec)
            if "price_in" in parsed.options or "price_out" in parsed.options:
                price = Price(float(parsed.options.get("price_in", 0)), float(parsed.options.get("price_out", 0)))
            else:
                price = self.runtime.prices.lookup(parsed.target) or Price()
            note = f"{parsed.label}: its backend cannot start here (no API key?); priced from the price table"
            if note not in self.estimate.notes:
                self.estimate.notes.append(note)
            return parsed.label, price, parsed.backend

    def model_label(self, spec: str, role: str) -> str:
        return self.describe(spec, role)[0]

    def completion(self, suite: str, spec: str, role: str, api: str, cap: int, fill: float = DEFAULT_FILL) -> tuple[float, str]:
        measured = self.history.measured(suite, role, self.model_label(spec, role), api)
        if measured:
            mean = measured.completion_tokens / measured.calls
            return min(float(cap), mean), f"measured ({measured.calls} calls)"
        return cap * fill, "default"

    def add(self, spec: str, role: str, api: str, *, calls: float, prompt_tokens: float,
            completion_tokens: float, basis: str, covered: float = 0.0) -> None:
        """``calls`` each of ``prompt_tokens`` in and ``completion_tokens`` out (per call)."""
        if calls <= 0:
            return
        label, price, backend = self.describe(spec, role)
        line = self.estimate.line(role, label, api)
        todo = max(0.0, calls - covered)
        line.calls += calls
        line.covered_calls += min(calls, covered)
        line.prompt_tokens += todo * prompt_tokens
        line.completion_tokens += todo * completion_tokens
        line.usd += todo * price.cost(round(prompt_tokens), round(completion_tokens))
        per_prompt, per_completion, per_call = self.history.speed(label) or DEFAULT_SPEED[
            "embedded" if backend == "embedded" else "other"]
        line.seconds += todo * (per_call + per_prompt * prompt_tokens + per_completion * completion_tokens)
        if basis != "default" or line.basis == "default":
            line.basis = basis

    def add_fees(self, costs: CostModel, api: str, calls: float, covered: float = 0.0) -> None:
        if calls <= 0:
            return
        line = self.estimate.line("acquisition", "-", api)
        line.calls += calls
        line.covered_calls += min(calls, covered)
        line.usd += max(0.0, calls - covered) * costs.fee(api)
        line.basis = "fee table"

    # -- stages ---------------------------------------------------------------------------
    def answers(self, suite: str, spec: str, prompts: Sequence[Prompt], max_tokens: int, *,
                context_tokens: float = 0.0, covered: float = 0.0, role: str = "policy") -> float:
        """Answers to ``prompts`` (every turn); returns the expected answer length in tokens."""
        completion, basis = self.completion(suite, spec, role, "-", max_tokens)
        calls = 0
        prompt_total = 0.0
        for prompt in prompts:
            history_tokens = 0.0
            for turn in prompt.turns:
                calls += 1
                prompt_total += context_tokens + history_tokens + tokens(turn) + 2 * TEMPLATE_TOKENS_PER_MESSAGE
                history_tokens += tokens(turn) + completion + 2 * TEMPLATE_TOKENS_PER_MESSAGE
        if calls:
            turns_per_prompt = calls / len(prompts)
            self.add(spec, role, "-", calls=calls, prompt_tokens=prompt_total / calls,
                     completion_tokens=completion, basis=basis, covered=covered * turns_per_prompt)
        return completion

    def judgments(self, suite: str, spec: str, prompts: Sequence[Prompt], *, judge_config: str | None,
                  orders: str, answer_tokens: float, reference_tokens: float | None, cap: int | None,
                  covered: float = 0.0) -> None:
        from ads_bench.judging.programmatic import is_program_judge

        if is_program_judge(spec):
            note = f"judged by {spec}: a program checks each answer against the truth (no model call, $0)"
            if note not in self.estimate.notes:
                self.estimate.notes.append(note)
            return
        by_config: dict[str, list[Prompt]] = defaultdict(list)
        for prompt in prompts:
            by_config[judge_config or prompt.judge].append(prompt)
        answer = "x " * int(answer_tokens * CHARS_PER_TOKEN / 2)
        reference = "x " * int((reference_tokens if reference_tokens is not None else answer_tokens) * CHARS_PER_TOKEN / 2)
        done_share = covered / len(prompts) if prompts else 0.0
        for name, group in by_config.items():
            config = load_judge_config(name)
            config_cap = int(config.sampling.get("max_tokens", 1024))
            token_cap = min(config_cap, cap) if cap else config_cap
            fill = 1.0 if token_cap <= 4 else min(DEFAULT_FILL, TYPICAL_JUDGMENT_TOKENS / token_cap)
            completion, basis = self.completion(suite, spec, "judge", "-", token_cap, fill=fill)
            calls, prompt_total = 0, 0.0
            for prompt in group:
                if config.mode == "pairwise":
                    n = 2 if orders == "both" else 1
                    values = {"instruction": prompt.turns[0], "first": answer, "second": reference}
                    if prompt.reference:
                        values["reference"] = reference
                    prompt_tokens = message_tokens(config.render(values, reference_guided=prompt.reference_guided))
                else:  # single grading: one judgment per turn, the later ones see the dialogue
                    n = len(prompt.turns)
                    values = {"question": prompt.turns[0], "answer": answer, "instruction": prompt.turns[0]}
                    prompt_tokens = message_tokens(config.render(values, reference_guided=prompt.reference_guided))
                    prompt_tokens += (n - 1) * (tokens(" ".join(prompt.turns)) + answer_tokens) / 2
                calls += n
                prompt_total += n * prompt_tokens
            self.add(spec, "judge", "-", calls=calls, prompt_tokens=prompt_total / calls,
                     completion_tokens=completion, basis=basis, covered=calls * done_share)


def optimizer_plan(strategy: str, allowed: Sequence[str], max_calls: int | None, history: History,
                   optimizer: str | None = None) -> tuple[dict[str, float], str]:
    """Expected calls per task of each API for an optimizer-driven strategy: this optimizer's
    measured mix, else the strategy's with any optimizer, else the budget spread evenly."""
    if f"{strategy}@{optimizer}" in history.api_mix:
        mix = history.api_mix[f"{strategy}@{optimizer}"]
        return {api: n for api, n in mix.items() if api in allowed}, "this optimizer's measured API mix"
    if strategy in history.api_mix:
        return {api: n for api, n in history.api_mix[strategy].items() if api in allowed}, "measured API mix"
    calls = max_calls if max_calls is not None else 4
    return {api: calls / len(allowed) for api in allowed}, "default: the call budget spread evenly"


def acquired_tokens(api: str, calls: float, *, retrieval_k: int, demos_per_call: int, answer_tokens: float) -> float:
    """What ``calls`` calls of ``api`` put into the policy's context, in tokens."""
    if api == INFORMATION_RETRIEVAL:
        return calls * retrieval_k * RETRIEVED_DOCUMENT_TOKENS
    if api == DEMONSTRATION_GENERATION:
        return calls * demos_per_call * (answer_tokens + DEMONSTRATION_INSTRUCTION_TOKENS)
    if api == QUESTION_ANSWERING:
        return calls * (answer_tokens + DEMONSTRATION_INSTRUCTION_TOKENS)
    return 0.0


def optimizer_prompt_tokens(observed: Sequence[str], costs: CostModel, budget: Budget, allowed: Sequence[str]) -> int:
    messages = optimizer_messages(observed, {api: costs.estimate_api(api) for api in allowed}, budget, tuple(allowed))
    return message_tokens(messages)


__all__ = [
    "API_NAMES",
    "CHARS_PER_TOKEN",
    "Estimate",
    "Estimator",
    "History",
    "Line",
    "acquired_tokens",
    "optimizer_plan",
    "optimizer_prompt_tokens",
    "tokens",
]
