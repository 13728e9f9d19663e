"""The judge engine: pairwise preferences and single-answer grades, with retries on bad output.

Every item's prompts go to the judge in one batch; items whose output does not parse are
asked again (a new seed at a sampling temperature, so the retry is a new sample and a new
cache entry) up to ``retries`` times, then recorded as failures with every raw output kept.
A call that failed in transport (no reply, or a malformed one, after the backend's own retries)
is asked again with the very same request, also up to ``retries`` times: only a judge that
answered, badly, earns a resample, so a network fault can never change which sample is judged.
A failure is never a tie and never enters a metric.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ads_bench.judging.configs import JudgeConfig, load_judge_config
from ads_bench.judging.parsing import Parsed, parse_completion
from ads_bench.models.client import ChatModel
from ads_bench.models.types import ChatRequest, Completion, Message, SamplingParams

#: orders a pairwise item is judged in; "both" cancels position bias (the default)
ORDER_MODES = ("both", "random", "fixed")
RETRY_TEMPERATURE = 0.7


@dataclass
class JudgeCall:
    """One judgment prompt and what came of it over its attempts."""

    messages: list[Message]
    attempts: list[dict[str, Any]] = field(default_factory=list)
    parsed: Parsed | None = None
    resamples: int = 0  # parse failures so far: how far the sampling parameters have moved
    transport_failures: int = 0

    @property
    def ok(self) -> bool:
        return self.parsed is not None and self.parsed.ok


def _params(config: JudgeConfig, attempt: int, max_tokens: int | None) -> SamplingParams:
    sampling = dict(config.sampling)
    temperature = float(sampling.get("temperature", 0.0))
    top = int(sampling.get("top_logprobs", 0))
    return SamplingParams(
        temperature=temperature if attempt == 0 else max(temperature, RETRY_TEMPERATURE),
        max_tokens=min(int(sampling.get("max_tokens", 1024)), max_tokens or 1 << 30),
        seed=None if attempt == 0 else attempt,
        logprobs=bool(top),
        top_logprobs=top,
    )


async def run_calls(
    model: ChatModel,
    config: JudgeConfig,
    calls: Sequence[JudgeCall],
    *,
    retries: int = 2,
    max_tokens: int | None = None,
) -> None:
    """Ask the judge every call (in place): a transport failure asks again with the same
    parameters, a reply that does not parse resamples; each up to ``retries`` times."""
    todo = list(calls)
    while todo:
        requests = [
            ChatRequest(tuple(c.messages), _params(config, c.resamples, max_tokens)) for c in todo
        ]
        responses = await model.generate(requests)
        still = []
        for call, response in zip(todo, responses, strict=True):
            if not response.ok:
                call.attempts.append({"error": response.error})
                call.transport_failures += 1
                if call.transport_failures <= retries:
                    still.append(call)
                continue
            completion = response.completions[0]
            parsed = parse_completion(config.parser, completion)
            call.attempts.append(
                {
                    "raw": completion.text,
                    "top_logprobs": _top_logprobs(completion),
                    "label": parsed.label,
                    "value": parsed.value,
                    "source": parsed.source,
                    "reason": parsed.reason,
                }
            )
            call.parsed = parsed
            if not parsed.ok:
                call.resamples += 1
                if call.resamples <= retries:
                    still.append(call)
        todo = still


def _top_logprobs(completion: Completion) -> list[list[Any]] | None:
    """The verdict token's alternatives as stored: a non-finite logprob is kept as null, since
    no file we write may hold NaN or Infinity (and the parser has already refused it)."""
    if not completion.logprobs:
        return None
    return [[token, lp if math.isfinite(lp) else None] for token, lp in completion.logprobs[0].top]


# -- pairwise ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PairItem:
    """Compare ``model_output`` with ``reference_output`` on ``instruction``."""

    id: str
    instruction: str
    model_output: str
    reference_output: str
    cluster: str | None = None
    reference_answer: str | None = None  # shown to reference-guided pairwise judges
    reference_guided: bool = False


@dataclass
class PairJudgment:
    id: str
    preference: float | None  # P(model output is better), averaged over the judged orders
    orders: list[dict[str, Any]]
    agreement: bool | None  # both orders picked the same winner (None unless judged both ways)
    error: str | None = None
    cluster: str | None = None

    @property
    def failed(self) -> bool:
        return self.preference is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed": self.failed}


def _winner(p_model: float) -> int:
    return (p_model > 0.5) - (p_model < 0.5)


class PairwiseJudge:
    def __init__(
        self,
        model: ChatModel,
        config: JudgeConfig | str = "alpaca_eval_2",
        *,
        orders: str = "both",
        retries: int = 2,
        max_tokens: int | None = None,
        seed: int = 0,
    ):
        self.model = model
        self.config = load_judge_config(config) if isinstance(config, str) else config
        if self.config.mode != "pairwise":
            raise ValueError(f"judge '{self.config.name}' grades single answers, not pairs")
        if orders not in ORDER_MODES:
            raise ValueError(f"orders must be one of {ORDER_MODES}")
        self.orders = orders
        self.retries = retries
        self.max_tokens = max_tokens
        self.seed = seed

    def _orders_for(self, item: PairItem) -> list[bool]:
        """Per judged order: True when the model's output is shown first."""
        if self.orders == "both":
            return [False, True]
        if self.orders == "fixed":
            return [False]
        # one random order per item, reproducible from the item id (AlpacaEval seeds by instruction)
        return [random.Random(f"{self.seed}:{item.id}").random() < 0.5]

    def _messages(self, item: PairItem, model_first: bool) -> list[Message]:
        first, second = (
            (item.model_output, item.reference_output) if model_first else (item.reference_output, item.model_output)
        )
        values = {"instruction": item.instruction, "first": first, "second": second}
        if item.reference_answer is not None:
            values["reference"] = item.reference_answer
        return self.config.render(values, reference_guided=item.reference_guided)

    async def judge(self, items: Sequence[PairItem]) -> list[PairJudgment]:
        plan = [(item, model_first) for item in items for model_first in self._orders_for(item)]
        calls = [JudgeCall(self._messages(item, model_first)) for item, model_first in plan]
        await run_calls(self.model, self.config, calls, retries=self.retries, max_tokens=self.max_tokens)
        by_item: dict[str, list[tuple[bool, JudgeCall]]] = {}
        for (item, model_first), call in zip(plan, calls, strict=True):
            by_item.setdefault(item.id, []).append((model_first, call))
        return [self._combine(item, by_item[item.id]) for item in items]

    def _combine(self, item: PairItem, judged: list[tuple[bool, JudgeCall]]) -> PairJudgment:
        orders, p_model = [], []
        for model_first, call in judged:
            record: dict[str, Any] = {
                "model_position": "first" if model_first else "second",
                "messages": call.messages,
                "attempts": call.attempts,
            }
            if call.ok:
                p_second = call.parsed.value  # type: ignore[union-attr]
                record["p_model"] = 1.0 - p_second if model_first else p_second  # type: ignore[operator]
                record["verdict"] = call.parsed.label  # type: ignore[union-attr]
                p_model.append(record["p_model"])
            orders.append(record)
        if len(p_model) < len(judged):
            # strict: a pair judged in one order only keeps its position bias, so it is a failure
            reasons = [c.attempts[-1].get("reason") or c.attempts[-1].get("error") for _, c in judged if not c.ok]
            return PairJudgment(item.id, None, orders, None, error="; ".join(map(str, reasons)), cluster=item.cluster)
        agreement = len({_winner(p) for p in p_model}) == 1 if len(p_model) == 2 else None
        return PairJudgment(item.id, sum(p_model) / len(p_model), orders, agreement, cluster=item.cluster)


# -- single-answer grading -----------------------------------------------------------------

@dataclass(frozen=True)
class GradeItem:
    """Grade the answer to turn ``turn`` (1-based) of a conversation, FastChat-style."""

    id: str
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    turn: int = 1
    references: tuple[str, ...] = ()
    reference_guided: bool = False
    category: str | None = None


@dataclass
class Grade:
    id: str
    turn: int
    score: float | None
    category: str | None
    messages: list[Message]
    attempts: list[dict[str, Any]]
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.score is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed": self.failed}


class SingleGrader:
    def __init__(
        self,
        model: ChatModel,
        config: JudgeConfig | str = "mt_bench_single",
        *,
        retries: int = 2,
        max_tokens: int | None = None,
    ):
        self.model = model
        self.config = load_judge_config(config) if isinstance(config, str) else config
        if self.config.mode != "single":
            raise ValueError(f"judge '{self.config.name}' compares pairs; use PairwiseJudge")
        self.retries = retries
        self.max_tokens = max_tokens

    def _messages(self, item: GradeItem) -> list[Message]:
        guided = item.reference_guided and bool(item.references)
        if item.turn == 1:
            values = {"question": item.questions[0], "answer": item.answers[0]}
        else:
            values = {
                "question_1": item.questions[0], "answer_1": item.answers[0],
                "question_2": item.questions[1], "answer_2": item.answers[1],
            }
        for i, reference in enumerate(item.references, start=1):
            values[f"ref_answer_{i}"] = reference
        return self.config.render(values, reference_guided=guided, multi_turn=item.turn > 1)

    async def grade(self, items: Sequence[GradeItem]) -> list[Grade]:
        calls = [JudgeCall(self._messages(item)) for item in items]
        await run_calls(self.model, self.config, calls, retries=self.retries, max_tokens=self.max_tokens)
        grades = []
        for item, call in zip(items, calls, strict=True):
            error = None if call.ok else str(call.attempts[-1].get("reason") or call.attempts[-1].get("error"))
            grades.append(
                Grade(item.id, item.turn, call.parsed.value if call.ok else None, item.category,  # type: ignore[union-attr]
                      call.messages, call.attempts, error)
            )
        return grades
