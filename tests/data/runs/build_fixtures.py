"""Regenerate the tiny run folders beside this file: ``python tests/data/runs/build_fixtures.py``.

Hand-made records in the formats ``ads-bench run``/``evaluate``/``train`` write, with metrics
computed by the pipeline's own ``score_run`` (so they are the real formulas, not typed numbers):

- ``none-inhouse``: strategy none, 6 tasks x 2 prompts, preferences near 0.5 (no gain);
- ``rule-qa-inhouse``: strategy rule-qa, clearly better (preferences near 0.85), one failed
  judgment, one dropped call, and an answer carrying a planted ``<script>`` (must be escaped);
- ``ads-partial``: a killed ADS run (acquisitions and answers, no judgments, no metrics.json);
- ``mt-bench-eval``: an ``evaluate`` run graded single-answer (1-10), two turns;
- ``train-smoke``: an optimizer training run (2 iterations and their samples; the report redraws
  the curve, so curve.svg is left out to keep the fixture small).
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from ads_bench.acquisition.items import Acquisition
from ads_bench.pipeline.prompts import Prompt
from ads_bench.pipeline.run import acquisition_summary
from ads_bench.pipeline.scoring import score_run

HERE = Path(__file__).parent
# model output that would run if the report pasted it as markup (it must show as text)
PLANTED = ('<script>document.title = "pwned"</script><img src=x onerror="document.title = \'pwned\'">'
           " & <b>not bold</b>")
CATEGORIES = ("diet & nutrition", "poetry", "tax law")
TASKS = [f"inhouse-{i:05d}" for i in range(6)]


def write(folder: Path, name: str, data) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if name.endswith(".jsonl"):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data)
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    (folder / name).write_text(text, encoding="utf-8")


def run_config(strategy: str, **extra) -> dict:
    return {"kind": "run", "strategy": strategy, "suite": "inhouse", "policy": "embedded", "optimizer": None,
            "expert": "embedded", "judge": "embedded", "learner": "icl", "limit": 6, "max_held_out": 2, "seed": 0,
            "max_calls": 4, "budget_usd": None, "budget_items": None, "judge_config": None, **extra,
            "config_digest": "fixture", "created": "2026-01-01T00:00:00"}


ENVIRONMENT = {"python": "3.11.7", "platform": "Linux", "cpus": 2, "gpu": None,
               "packages": {"ads-bench": "0.1.0"}, "git": {"commit": "0" * 40, "dirty": False},
               "argv": ["ads-bench", "run"]}


def ledger(entries: list[dict]) -> dict:
    keys = ("calls", "cache_hits", "failures", "prompt_tokens", "completion_tokens", "seconds", "cost_usd", "saved_usd")
    rows = [{"role": e["role"], "model": e.get("model", "embedded"), "api": e.get("api", "-"),
             **{k: e.get(k, 0) for k in keys}} for e in entries]
    total = {k: sum(r[k] for r in rows) for k in keys}
    total["tokens"] = total["prompt_tokens"] + total["completion_tokens"]
    return {"entries": rows, "total": total}


def prompts() -> list[Prompt]:
    return [Prompt(f"{task}#{k}", task, CATEGORIES[i % 3], (f"Instruction {k} of {task}.",), None, task,
                   "pairwise", False, "alpaca_eval_2") for i, task in enumerate(TASKS) for k in range(2)]


def pair_judgment(prompt: Prompt, preference: float | None, model_output: str, reference_output: str) -> dict:
    if preference is None:
        orders = [{"model_position": "second", "attempts": [{"raw": "I cannot decide.", "label": None, "value": None,
                                                             "source": None, "reason": "no verdict found"}]}]
        return {"id": prompt.id, "preference": None, "orders": orders, "agreement": None,
                "error": "no verdict found", "cluster": prompt.cluster, "failed": True, "task_id": prompt.task_id,
                "category": prompt.category, "judge": "alpaca_eval_2", "judge_model": "embedded",
                "model_output": model_output, "reference_output": reference_output}
    spread = min(preference, 1 - preference) / 2
    p_second, p_first = preference + spread, preference - spread
    orders = [
        {"model_position": "second", "attempts": [{"raw": "M", "label": "M", "value": p_second,
                                                   "source": "logprobs", "reason": None}],
         "p_model": p_second, "verdict": "M"},
        {"model_position": "first", "attempts": [{"raw": "m", "label": "m", "value": 1 - p_first,
                                                  "source": "logprobs", "reason": None}],
         "p_model": p_first, "verdict": "m"},
    ]
    return {"id": prompt.id, "preference": preference, "orders": orders,
            "agreement": (p_second > 0.5) == (p_first > 0.5), "error": None, "cluster": prompt.cluster,
            "failed": False, "task_id": prompt.task_id, "category": prompt.category, "judge": "alpaca_eval_2",
            "judge_model": "embedded", "model_output": model_output, "reference_output": reference_output}


def answer(prompt: Prompt, text: str, policy: str, strategy: str | None = None) -> dict:
    record = {"id": prompt.id, "task_id": prompt.task_id, "category": prompt.category, "turns": list(prompt.turns),
              "answers": [text], "finish_reasons": ["stop"], "prompt_tokens": 40, "completion_tokens": 30,
              "policy": policy, "context_sha": None, "error": None}
    if strategy:
        record["strategy"] = strategy
    return record


def qa_acquisition(task: str, index: int, strategy: str = "rule-qa") -> dict:
    calls = [{"api": "question_answering", "args": {"question": f"Question {k} about {task}?"}, "position": k}
             for k in range(2)]
    dropped = [{"position": 2, "raw_call": {"api": "web_search", "args": {}},
                "reason": "unknown api: web_search"}] if index == 0 else []
    outcomes = [{"call": call, "items": [{"api": "question_answering", "kind": "answer",
                                          "prompt": call["args"]["question"],
                                          "content": f"Expert answer {k} for {task}.", "call_position": k,
                                          "source_id": None}],
                 "cost_usd": 0.05, "prompt_tokens": 30, "completion_tokens": 40, "seconds": 1.0, "error": None,
                 "dropped_items": 0} for k, call in enumerate(calls)]
    trajectory = {"analysis": "", "self_reflection": "", "calls": calls, "dropped": dropped, "error": None, "raw": ""}
    return {"id": task, "strategy": strategy, "trajectory": trajectory, "outcomes": outcomes, "error": None,
            "cost_usd": 0.1, "api_counts": {"question_answering": 2}, "n_items": 2}


def run_folder(name: str, strategy: str, preferences: list[float | None], *, planted: bool = False) -> None:
    folder = HERE / name
    shutil.rmtree(folder, ignore_errors=True)
    items = prompts()
    answers = [answer(p, (PLANTED if planted and i == 0 else f"Taught answer to {p.id}."), "embedded+icl", strategy)
               for i, p in enumerate(items)]
    references = [answer(p, f"Un-updated answer to {p.id}.", "embedded") for p in items]
    judgments = [pair_judgment(p, pref, a["answers"][0], r["answers"][0])
                 for p, pref, a, r in zip(items, preferences, answers, references, strict=True)]
    acquisitions = [qa_acquisition(t, i) for i, t in enumerate(TASKS)] if strategy != "none" else [
        {"id": t, "strategy": "none", "trajectory": None, "outcomes": [], "error": None, "cost_usd": 0.0,
         "api_counts": {}, "n_items": 0} for t in TASKS]
    metrics = score_run(items, {j["id"]: j for j in judgments}, model_name=f"{strategy}/icl",
                        reference_name="un-updated policy")
    tasks = [type("T", (), {"id": t})() for t in TASKS]
    metrics.update(suite="inhouse", strategy=strategy, learner="icl", policy="embedded",
                   reference="un-updated policy",
                   acquisition=acquisition_summary({a["id"]: Acquisition.from_dict(a) for a in acquisitions}, tasks))
    n_qa = sum(len(a["outcomes"]) for a in acquisitions)
    book = ledger([{"role": "acquisition", "model": "-", "api": "question_answering", "calls": n_qa,
                    "cost_usd": 0.05 * n_qa}] * bool(n_qa)
                  + [{"role": "policy", "calls": 24, "prompt_tokens": 960, "completion_tokens": 720, "seconds": 30.0},
                     {"role": "judge", "calls": 24, "prompt_tokens": 4800, "completion_tokens": 24,
                      "seconds": 60.0}])
    metrics["cost"] = {"total_usd": book["total"]["cost_usd"]}
    write(folder, "config.json", run_config(strategy))
    write(folder, "environment.json", ENVIRONMENT)
    write(folder, "acquisitions.jsonl", acquisitions)
    write(folder, "policies.jsonl", [{"id": t, "learner": "icl", "policy": "embedded+icl", "context_sha": None,
                                      "context": "Question: ...\nExpert answer: ...",
                                      "details": {"n_items": 2, "n_used": 2}} for t in TASKS])
    write(folder, "answers.jsonl", answers)
    write(folder, "reference_answers.jsonl", references)
    write(folder, "judgments.jsonl", judgments)
    write(folder, "metrics.json", metrics)
    write(folder, "ledger.json", book)


def partial_run() -> None:
    folder = HERE / "ads-partial"
    shutil.rmtree(folder, ignore_errors=True)
    acquisition = qa_acquisition(TASKS[0], 1, "ads")
    acquisition["trajectory"].update(
        analysis="The task asks for short factual answers.",
        self_reflection="The policy tends to ramble; it needs concise expert examples.",
        raw='{"calls": [...]}',
        dropped=[{"position": 2, "raw_call": "QA(question=...)", "reason": "over budget: max_calls 2"}],
    )
    write(folder, "config.json", run_config("ads", optimizer="embedded"))
    write(folder, "environment.json", ENVIRONMENT)
    write(folder, "acquisitions.jsonl", [acquisition])
    write(folder, "answers.jsonl", [answer(prompts()[0], "Partial answer.", "embedded+icl", "ads")])


def mt_bench_eval() -> None:
    folder = HERE / "mt-bench-eval"
    shutil.rmtree(folder, ignore_errors=True)
    questions = [("81", "writing"), ("101", "reasoning"), ("121", "coding")]
    items = [Prompt(f"{q}#0", q, c, (f"Turn 1 of {q}.", f"Turn 2 of {q}."), None, q, "single", False,
                    "mt_bench_single") for q, c in questions]
    scores = {("81", 1): 8.0, ("81", 2): 7.0, ("101", 1): 4.0, ("101", 2): None, ("121", 1): 6.0, ("121", 2): 5.0}
    judgments = []
    for p in items:
        for turn in (1, 2):
            score = scores[(p.task_id, turn)]
            raw = f"The answer is fine. Rating: [[{score:g}]]" if score is not None else "No rating given."
            judgments.append({"id": f"{p.id}/turn{turn}", "turn": turn, "score": score, "category": p.category,
                              "messages": [], "attempts": [{"raw": raw, "label": None, "value": score,
                                                            "source": "text", "reason": None if score else "no rating"}],
                              "error": None if score is not None else "no rating", "failed": score is None,
                              "prompt_id": p.id, "judge": "mt_bench_single", "judge_model": "embedded"})
    metrics = score_run(items, {j["id"]: j for j in judgments}, model_name="embedded")
    metrics["suite"] = "mt-bench"
    write(folder, "config.json", {"kind": "evaluate", "suite": "mt-bench", "model": "embedded", "judge": "embedded",
                                  "judge_config": None, "limit": 3, "seed": 0, "config_digest": "fixture"})
    write(folder, "environment.json", ENVIRONMENT)
    write(folder, "answers.jsonl", [{**answer(p, "First answer.", "embedded"), "turns": list(p.turns),
                                     "answers": ["First answer.", "Second answer."]} for p in items])
    write(folder, "judgments.jsonl", judgments)
    write(folder, "metrics.json", metrics)
    write(folder, "ledger.json", ledger([{"role": "policy", "calls": 6, "prompt_tokens": 300, "completion_tokens": 200},
                                         {"role": "judge", "calls": 6, "prompt_tokens": 2400, "completion_tokens": 60}]))


def train_run() -> None:
    folder = HERE / "train-smoke"
    shutil.rmtree(folder, ignore_errors=True)
    samples, rows = [], []
    for iteration in range(2):
        records = []
        for index, task in enumerate(TASKS[:2]):
            drafts = []
            for k in range(2):
                acquisition = qa_acquisition(task, k, "ads-train")
                reward = 0.4 + 0.1 * iteration + 0.05 * k + 0.02 * index
                drafts.append({"k": k, "text": "1. QA(question=...)", "trajectory": acquisition["trajectory"],
                               "parse_error": None, "n_calls": 2, "api_counts": {"question_answering": 2},
                               "n_items": 2, "cost_usd": 0.1, "reward": reward, "held_out_rewards": [reward, reward],
                               "evaluations": 2, "acquisition": acquisition})
            records.append({"id": f"{iteration}/{task}", "iteration": iteration, "task_id": task,
                            "observed": ["Observed 1.", "Observed 2."], "held_out": ["Held out 1.", "Held out 2."],
                            "prompt": [], "samples": drafts, "optimizer_error": None, "chosen": 1, "rejected": 0,
                            "selection_note": "tau 0.2: chosen the cheapest top-tier sample", "evaluations": 4,
                            "evaluations_exhaustive": 4})
        samples.extend(records)
        rewards = [s["reward"] for r in records for s in r["samples"]]
        rows.append({"iteration": iteration, "optimizer_in": "embedded", "optimizer_out": "embedded",
                     "stats": {"tasks": 2, "samples": 4, "mean_reward": sum(rewards) / 4, "mean_cost_usd": 0.1,
                               "chosen_mean_reward": max(rewards), "chosen_mean_cost_usd": 0.1,
                               "api_call_share": {"question_answering": 0.75, "information_retrieval": 0.25},
                               "calls_per_sample": 2.0, "parse_failure_rate": 0.25 - 0.25 * iteration,
                               "empty_trajectory_rate": 0.0, "tasks_with_chosen": 2, "pairs": 2, "evaluations": 8,
                               "evaluations_exhaustive": 8},
                     "training": {"skipped": "fixture"}})
    write(folder, "config.json", {"kind": "train", "suite": "inhouse-train", "iterations": 2, "samples": 2,
                                  "tau": 0.2, "optimizer": "embedded", "config_digest": "fixture"})
    write(folder, "environment.json", ENVIRONMENT)
    write(folder, "samples.jsonl", samples)
    write(folder, "iterations.jsonl", rows)
    write(folder, "ledger.json", ledger([{"role": "optimizer", "calls": 4, "prompt_tokens": 800,
                                          "completion_tokens": 400}]))


def main() -> None:
    rng = random.Random(0)
    run_folder("none-inhouse", "none", [round(0.5 + rng.uniform(-0.08, 0.08), 3) for _ in range(12)])
    better = [round(0.85 + rng.uniform(-0.05, 0.05), 3) for _ in range(12)]
    better[5] = None  # a failed judgment: left out of the score and of the pairing
    run_folder("rule-qa-inhouse", "rule-qa", better, planted=True)
    partial_run()
    mt_bench_eval()
    train_run()


if __name__ == "__main__":
    main()
