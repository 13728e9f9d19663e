"""How often an untrained optimizer's samples parse as trajectories, free vs schema-constrained,
and how often they copy one of the prompt's demonstrations instead of planning for their task.

    python benchmarks/optimizer_format.py [--optimizer embedded] [--tasks 3] [--samples 4]
        [--formats free,schema] [--template FILE]

Samples K trajectories per in-house training task (iteration 0's prompt, temperature 0.8) with
``--optimizer-format free`` and ``schema`` and prints, for each, the parse rate, calls per sample,
wall time, the samples that copy a demonstration (identical, the same calls, or its analysis
word for word: ``copied_demonstration`` in ``acquisition/trajectory/prompt.py``), and the samples
with calls whose query, scenario or question shares no word with the task's own instructions
(off topic), in one run on a fresh (temporary) response cache. ``--template`` measures another
prompt file (e.g. the one-shot prompt of an earlier commit, ``git show REV:PATH > old.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
import tempfile
import time
from pathlib import Path

from ads_bench.acquisition.trajectory import API_NAMES, optimizer_messages
from ads_bench.acquisition.trajectory.prompt import copied_demonstration, demonstrations
from ads_bench.models import Runtime
from ads_bench.optimizer.trainer import TrainConfig, task_view
from ads_bench.strategies.acquisition_setup import acquisition_context
from ads_bench.strategies.optimizer_driven import optimizer_request, parse_for
from ads_bench.suites import load_suite

# words too common to say that a call is about its task
_STOP = {"about", "after", "answer", "answered", "based", "between", "could", "describe", "different",
         "example", "examples", "explain", "following", "give", "given", "input", "instruction", "instructions",
         "other", "question", "should", "their", "there", "these", "this", "those", "what", "when", "where",
         "which", "while", "with", "would", "write", "your", "task", "that", "from", "have", "make", "list"}


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _STOP}


def on_topic(trajectory, instructions) -> bool:
    """Some call's text shares a content word with the task's instructions."""
    task_words = content_words(" ".join(instructions))
    return any(content_words(" ".join(str(v) for v in call.args.values())) & task_words
               for call in trajectory.calls)


async def measure(optimizer: str, n_tasks: int, samples: int, formats: list[str], template: str | None,
                  cache: Path) -> None:
    runtime = Runtime.create(cache_path=cache)
    tasks = load_suite("inhouse-train", limit=n_tasks).tasks
    shown = demonstrations(template=template)
    print(f"optimizer {optimizer}: {n_tasks} tasks x {samples} samples, temperature 0.8, "
          f"{len(shown)} demonstration(s) in the prompt{' (' + template + ')' if template else ''}")
    try:
        for fmt in formats:
            config = TrainConfig(optimizer=optimizer, optimizer_format=fmt)
            context = acquisition_context(config, runtime, optimizer=runtime.model(optimizer, role="optimizer"),
                                          optimizer_temperature=config.sample_temperature)
            parsed = calls = total = with_calls = off_topic = prompt_tokens = 0
            copies: dict[str, int] = {}
            started = time.perf_counter()
            for task in tasks:
                view = task_view(task, config, 0)
                request = optimizer_request(view, context, API_NAMES, sample_seed=1, n=samples)
                if template:
                    messages = optimizer_messages(view.observed, {a: context.costs.estimate_api(a) for a in API_NAMES},
                                                  context.budget, API_NAMES, template=template)
                    request = dataclasses.replace(request, messages=tuple(messages))
                [response] = await context.optimizer.generate([request])
                prompt_tokens = max([prompt_tokens] + [c.usage.prompt_tokens for c in response.completions])
                for completion in response.completions:
                    trajectory = parse_for(completion.text, context, API_NAMES)
                    total += 1
                    parsed += trajectory.error is None
                    calls += len(trajectory.calls)
                    if trajectory.error is None:
                        how = copied_demonstration(trajectory, shown)
                        if how:
                            copies[how] = copies.get(how, 0) + 1
                        if trajectory.calls:
                            with_calls += 1
                            off_topic += not on_topic(trajectory, view.observed)
            seconds = time.perf_counter() - started
            copied = ", ".join(f"{how} {n}" for how, n in sorted(copies.items())) or "none"
            print(f"  {fmt:6s}  parsed {parsed:2d}/{total}  calls/sample {calls / total:.2f}  {seconds:6.1f} s  "
                  f"copies a demonstration {sum(copies.values())}/{parsed} ({copied})  "
                  f"off topic {off_topic}/{with_calls} with calls  (prompt up to {prompt_tokens} tokens)")
    finally:
        await runtime.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--optimizer", default="embedded")
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--formats", default="free,schema")
    parser.add_argument("--template", default=None, help="another prompt template file (default: the shipped one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(args.optimizer, args.tasks, args.samples, args.formats.split(","), args.template,
                            Path(folder) / "cache.sqlite3"))


if __name__ == "__main__":
    main()
