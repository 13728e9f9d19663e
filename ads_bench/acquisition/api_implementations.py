"""The three data-acquisition APIs. Each runs one call and returns items plus what it cost.

- Information Retrieval: sparse + dense (+ hybrid) search over a corpus (default: the shipped
  Wikipedia summaries) for the optimizer's query.
- Demonstration Generation: the *policy* writes instruction–response pairs for a scenario. A
  small model cannot be trusted to emit a JSON list of pairs, so each pair is two plain calls
  (write one instruction for the scenario; answer it): always parseable, and the instruction
  sample's seed keeps pairs distinct.
- Question Answering: the *expert* answers the optimizer's question.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
    AcquiredItem,
    CallOutcome,
)
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.models.client import ChatModel
from ads_bench.models.ledger import api_scope
from ads_bench.models.types import ChatRequest, ChatResponse
from ads_bench.registry import Registry


class AcquisitionApi(Protocol):
    name: str

    async def run(self, call: ApiCall) -> CallOutcome: ...


def _usage_cost(model: ChatModel, responses: list[ChatResponse]) -> tuple[int, int, float]:
    """Tokens and $ of a call, its cached completions included: what the call costs, not what this
    execution paid (the run-cost convention of ``models/ledger_replay.py``). Otherwise a trajectory that
    repeats a call another sample of the same task made first (or shares it in flight) would look
    cheaper to cost-tier selection than the same trajectory run alone."""
    prompt = sum(c.usage.prompt_tokens for r in responses for c in r.completions)
    completion = sum(c.usage.completion_tokens for r in responses for c in r.completions)
    return prompt, completion, model.price().cost(prompt, completion)


@dataclass
class RetrievalApi:
    retriever: object  # ads_bench.acquisition.retrieval.Retriever
    costs: CostModel
    k: int = 3
    mode: str = "hybrid"
    name: str = INFORMATION_RETRIEVAL

    async def run(self, call: ApiCall) -> CallOutcome:
        started = time.perf_counter()
        k = int(call.args.get("k") or self.k)
        [hits] = await asyncio.to_thread(self.retriever.search, [call.args["query"]], k, self.mode)
        items = [
            AcquiredItem(self.name, "document", hit.title, hit.text, call.position, hit.doc_id) for hit in hits
        ]
        fee = self.costs.fee(self.name)
        return CallOutcome(call, items, cost_usd=fee, seconds=time.perf_counter() - started)


INSTRUCTION_PROMPT = (
    "Write one new instruction that a user could give an AI assistant in this scenario:\n{scenario}\n\n"
    "Reply with the instruction only."
)


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        cleaned = line.strip().strip('"').strip()
        for prefix in ("Instruction:", "instruction:", "New instruction:"):
            cleaned = cleaned.removeprefix(prefix).strip()
        if cleaned:
            return cleaned
    return ""


@dataclass
class DemonstrationApi:
    policy: ChatModel
    costs: CostModel
    n: int = 2
    max_tokens: int = 256
    temperature: float = 0.8
    seed: int = 0
    name: str = DEMONSTRATION_GENERATION

    async def run(self, call: ApiCall) -> CallOutcome:
        started = time.perf_counter()
        n = max(1, int(call.args.get("n") or self.n))
        scenario = call.args["scenario"]
        with api_scope(self.name):
            asked = await self.policy.generate(
                [ChatRequest.user(INSTRUCTION_PROMPT.format(scenario=scenario), max_tokens=96,
                                  temperature=self.temperature, seed=self.seed + i) for i in range(n)]
            )
            instructions = [_first_line(r.text) for r in asked if r.ok]
            instructions = list(dict.fromkeys(i for i in instructions if i))
            answered = await self.policy.generate(
                [ChatRequest.user(i, max_tokens=self.max_tokens, temperature=0.0) for i in instructions]
            )
        items = [
            AcquiredItem(self.name, "demonstration", instruction, response.text.strip(), call.position)
            for instruction, response in zip(instructions, answered, strict=True)
            if response.ok and response.text.strip()
        ]
        prompt, completion, token_cost = _usage_cost(self.policy, asked + answered)
        errors = [r.error for r in asked + answered if not r.ok]
        return CallOutcome(call, items, self.costs.fee(self.name) + token_cost, prompt, completion,
                           time.perf_counter() - started, "; ".join(errors) or None)


@dataclass
class QuestionAnsweringApi:
    expert: ChatModel
    costs: CostModel
    max_tokens: int = 384
    name: str = QUESTION_ANSWERING

    async def run(self, call: ApiCall) -> CallOutcome:
        started = time.perf_counter()
        question = call.args["question"]
        with api_scope(self.name):
            [response] = await self.expert.generate([ChatRequest.user(question, max_tokens=self.max_tokens)])
        prompt, completion, token_cost = _usage_cost(self.expert, [response])
        items = [AcquiredItem(self.name, "answer", question, response.text.strip(), call.position)] if (
            response.ok and response.text.strip()
        ) else []
        return CallOutcome(call, items, self.costs.fee(self.name) + token_cost, prompt, completion,
                           time.perf_counter() - started, response.error)


#: the APIs by name, each a factory ``(settings, runtime, policy, costs) -> AcquisitionApi``
#: called once per run (``strategies/acquisition_setup.py`` registers the three built-ins); other packages add
#: theirs under the entry-point group ``ads_bench.apis``. A strategy calls one by its name.
APIS = Registry("apis", what="API")
register_api = APIS.register


def api_table() -> list[dict[str, object]]:
    from ads_bench.acquisition.costs import DEFAULT_FEES_USD

    return [
        {"api": entry.name, "does": entry.description,
         "fee per call ($, default)": DEFAULT_FEES_USD.get(entry.name, 0.0), "from": entry.source}
        for entry in APIS
    ]
