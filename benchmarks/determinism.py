"""Does a request's result depend on the others? Exact (default) vs fast mode of the embedded engine.

    python benchmarks/determinism.py [--judges 8] [--samples 6] [--tokens 48]

For each mode, two workloads are sent in two patterns on one engine, and the outputs compared:
- judge-style requests: greedy, one token, top logprobs, all sharing a long preamble (as the
  pairwise judge's requests do); sent one by one in order, then all together in reverse order;
- seeded samples at temperature 0.9, sent one by one, then all together.
A request's output differs when its text or any logprob (exact float) differs between patterns.

Speed: both workloads sent all together (as the pipeline sends them), with new instructions each
round so that only the shared preamble can come from a prompt cache; rounds alternate between
the modes and the median is reported, with the exact/fast ratio. Tokens are prompt + completion
tokens. The machine may be shared: compare the ratio, not the figures across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from ads_bench.models.client import Runtime
from ads_bench.models.types import ChatRequest

PREAMBLE = (
    "You are a careful judge. Read the instruction and the two answers, then say which answer "
    "follows the instruction better. Consider helpfulness, accuracy, depth, and clarity; ignore "
    "the order of the answers and their length. " * 6
)
TOPICS = ["tea", "rivers", "chess", "bread", "comets", "bees", "glass", "maps", "rain", "salt"]


def judge_request(i: int, round_: int = 0) -> ChatRequest:
    topic = TOPICS[i % len(TOPICS)]
    prompt = (f"{PREAMBLE}\n\nInstruction ({round_}): explain {topic} to a child.\n"
              f"Answer A: {topic} is nice.\nAnswer B: {topic} is something people study and enjoy.\n"
              "Which is better? Reply with A or B.")
    return ChatRequest.user(prompt, temperature=0.0, max_tokens=1, logprobs=True, top_logprobs=5)


def sample_request(i: int, tokens: int, round_: int = 0) -> ChatRequest:
    return ChatRequest.user(f"Write a short story ({round_}) about {TOPICS[i % len(TOPICS)]}.",
                            temperature=0.9, max_tokens=tokens, seed=i)


def signature(response) -> tuple:
    completion = response.completions[0]
    logprobs = tuple((t.token, t.logprob, t.top) for t in completion.logprobs or ())
    return completion.text, logprobs


def tokens_of(responses) -> int:
    return sum(c.usage.prompt_tokens + c.usage.completion_tokens
               for r in responses for c in r.completions)


async def patterns(model, requests: list[ChatRequest], reverse_together: bool):
    """The responses sent one by one, and sent all together (optionally in reverse order)."""
    alone = [(await model.generate([r]))[0] for r in requests]
    order = list(reversed(range(len(requests)))) if reverse_together else list(range(len(requests)))
    together = [None] * len(requests)
    for i, [response] in zip(order, await asyncio.gather(*(model.generate([requests[i]]) for i in order)),
                             strict=True):
        together[i] = response
    for response in alone + together:
        if not response.ok:
            raise RuntimeError(response.error)
    return alone, together


def differing(alone, together) -> int:
    return sum(signature(a) != signature(b) for a, b in zip(alone, together, strict=True))


async def tokens_per_second(model, requests: list[ChatRequest]) -> float:
    started = time.perf_counter()
    responses = await model.generate(requests)
    return tokens_of(responses) / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judges", type=int, default=8)
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=48, help="completion tokens per seeded sample")
    parser.add_argument("--rounds", type=int, default=3, help="speed rounds per mode")
    args = parser.parse_args()
    runtime = Runtime.create(use_cache=False)  # every request computed, none served from a cache
    models = {"exact": runtime.model("embedded", role="judge"),
              "fast": runtime.model("embedded?determinism=fast", role="judge")}
    for model in models.values():
        await model.complete("Hello", max_tokens=4)  # load and warm each engine
    differ = {}
    for mode, model in models.items():
        judges = await patterns(model, [judge_request(i) for i in range(args.judges)], reverse_together=True)
        samples = await patterns(model, [sample_request(i, args.tokens) for i in range(args.samples)],
                                 reverse_together=False)
        differ[mode] = (differing(*judges), differing(*samples))
    speed: dict[str, dict[str, list[float]]] = {mode: {"judge": [], "sample": []} for mode in models}
    for round_ in range(1, args.rounds + 1):
        for mode, model in models.items():
            speed[mode]["judge"].append(await tokens_per_second(
                model, [judge_request(i, round_) for i in range(args.judges)]))
            speed[mode]["sample"].append(await tokens_per_second(
                model, [sample_request(i, args.tokens, round_) for i in range(args.samples)]))
    await runtime.aclose()
    median = {mode: {kind: statistics.median(v) for kind, v in kinds.items()} for mode, kinds in speed.items()}
    print(f"{'mode':<6} {'judge outputs differing':>24} {'samples differing':>18} "
          f"{'judge tok/s':>12} {'sample tok/s':>13}")
    for mode in models:
        print(f"{mode:<6} {differ[mode][0]:>21}/{args.judges:<2} {differ[mode][1]:>15}/{args.samples:<2} "
              f"{median[mode]['judge']:>12.0f} {median[mode]['sample']:>13.0f}")
    print(f"exact/fast speed: judge-style {median['exact']['judge'] / median['fast']['judge']:.2f}, "
          f"sampling {median['exact']['sample'] / median['fast']['sample']:.2f} "
          f"(median of {args.rounds} alternating rounds)")


if __name__ == "__main__":
    asyncio.run(main())
