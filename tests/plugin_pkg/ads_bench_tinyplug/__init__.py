"""ads-bench-tinyplug: one plugin of each kind, as a third-party package writes them (its entry
points are in ``../pyproject.toml``). Each is small but real: the run in
``tests/test_plugin_package.py`` acquires with the strategy through the API, teaches with the
learner, answers on the backend and judges with the judge, all on the embedded model."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ads_bench.acquisition.items import AcquiredItem, CallOutcome
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.learning import Policy
from ads_bench.models.embedded import EmbeddedBackend
from ads_bench.models.spec import ModelSpec
from ads_bench.strategies import run_calls
from ads_bench.suites import Suite, Task

API = "tinyplug_notes"
NOTES = {
    "france": "Paris is the capital of France.",
    "japan": "Tokyo is the capital of Japan.",
}

#: the judge: a YAML file of the same shape as ads_bench/judging/judges/*.yaml
JUDGE_FILE = Path(__file__).with_name("judge.yaml")


def capital_suite(*, seed: int | None, n_observed: int | None) -> Suite:
    """One task about capitals: two instructions seen, one held out."""
    task = Task(
        id="capitals-0", suite="tinyplug-suite", category="geography",
        observed=("What is the capital of France?", "What is the capital of Japan?"),
        held_out=("Name the capital of France in one word.",),
    )
    return Suite("tinyplug-suite", (task,), kind="plugin", source="ads-bench-tinyplug",
                 description="capitals, one task (a plugin's suite)")


@dataclass
class NotesApi:
    """An acquisition API: a note per country named in the query, from a fixed table."""

    fee: float
    name: str = API

    async def run(self, call: ApiCall) -> CallOutcome:
        started = time.perf_counter()
        query = str(call.args.get("query", "")).lower()
        items = [AcquiredItem(self.name, "document", country, note, call.position)
                 for country, note in NOTES.items() if country in query]
        return CallOutcome(call, items, cost_usd=self.fee, seconds=time.perf_counter() - started)


def notes_api(settings, runtime, policy, costs) -> NotesApi:
    """The API's factory, called once per run with the run's settings, runtime, policy and costs."""
    return NotesApi(costs.fee(API))


class EchoStrategy:
    """A strategy: one notes call per observed instruction."""

    name = "tinyplug-strategy"
    description = "one tinyplug_notes call per observed instruction (a plugin's strategy)"

    async def acquire(self, task, context):
        calls = [ApiCall(API, {"query": text}, i) for i, text in enumerate(task.observed)]
        return await run_calls(self.name, task, calls, context)


async def notes_learner(policy, items, *, runtime, task_id, config):
    """A learner: the acquired notes become the policy's system message."""
    notes = "\n".join(f"- {item.content}" for item in items)
    context = f"Facts you may use:\n{notes}" if notes else None
    return Policy(policy.model, context, details={"items_used": len(items), "learner": "tinyplug-learner"})


class TinyBackend(EmbeddedBackend):
    """A backend: the embedded engine under its own name (spec ``tinyplug:embedded``)."""

    def __init__(self, spec: ModelSpec):
        super().__init__(ModelSpec("embedded", "embedded", "", dict(spec.options)))
        self.spec = spec
        self.name = f"tinyplug-{self.name}"
        self.identity = {**self.identity, "plugin": "tinyplug"}


def decisive_share(judgments) -> dict:
    """A metric: the share of judged pairs with a decisive preference (not 0.5), with its n."""
    judged = [j for j in judgments if not j.failed]
    decisive = sum(1 for j in judged if j.preference != 0.5)
    return {"share": decisive / len(judged) if judged else None, "n": len(judged)}
