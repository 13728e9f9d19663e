"""Peak memory of the optimizer's DPO stage on CPU, per micro-batch size; prints, asserts nothing.

    python benchmarks/optimizer_training_memory.py [--pairs 4] [--steps 2] [--micro 2 1]

DPO of a LoRA on SmolLM2-135M (the embedded model's transformers weights) with the trainer's
defaults (batch 2, max_length 768), on (optimizer prompt, chosen, rejected) pairs shaped like the
trainer's. Each micro-batch size runs in a process of its own, as the trainer runs its stages, and
reports that process's peak resident memory and the losses: gradient accumulation should change
the memory, not the maths. Batch 2 in one pass was the trainer's behaviour before micro-batches.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ads_bench.acquisition.trajectory import parse_trajectory
from ads_bench.acquisition.trajectory.prompt import optimizer_messages
from ads_bench.models.convert import local_weights_dir
from ads_bench.optimizer import training

INSTRUCTIONS = [
    "Classify the following sentence as a statement, a question or a command, and explain why in one "
    "sentence: \"I set the alarm to 5am so that I would not miss the first train to the coast.\"",
    "Brainstorm three possible uses of a time machine that a historian, a doctor and a farmer would "
    "each find valuable, and say what could go wrong with each.",
    "Assume the sentence is speaking about the past. Signify that by adding appropriate punctuation "
    "and tense: Gibbons have short powerful arms and long hind legs and they swing through the trees.",
]
CHOSEN = ('{"analysis": "The task mixes grammar, classification and creative writing; the policy needs '
          'worked examples of each and the rules of English punctuation.", "self_reflection": "Earlier '
          'plans asked too many questions; two demonstrations and one retrieval cover it.", "calls": ['
          '{"api": "demonstration_generation", "args": {"instruction": "Classify: Close the door.", '
          '"n": 2}}, {"api": "information_retrieval", "args": {"query": "English punctuation past tense '
          'rules"}}, {"api": "question_answering", "args": {"question": "How do historians use primary '
          'sources?"}}]}')
REJECTED = ('{"analysis": "Answer everything directly.", "self_reflection": "", "calls": [{"api": '
            '"question_answering", "args": {"question": "What is a time machine?"}}, {"api": '
            '"question_answering", "args": {"question": "What is a gibbon?"}}, {"api": '
            '"question_answering", "args": {"question": "What is a sentence?"}}]}')
PRICES = {"information_retrieval": 0.0, "demonstration_generation": 0.01, "question_answering": 0.05}


def pairs(count: int) -> list:
    chosen, rejected = parse_trajectory(CHOSEN).render(), parse_trajectory(REJECTED).render()
    return [(optimizer_messages(INSTRUCTIONS[i % 3:] + INSTRUCTIONS[: i % 3], PRICES, None, tuple(PRICES)),
             chosen, rejected) for i in range(count)]


def dpo_peak(base: Path, count: int, steps: int, micro: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        stats = training.dpo(base, pairs(count), Path(out) / "dpo",
                             training.TrainingConfig(max_steps=steps, micro_batch_size=micro))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"peak_gib": peak_kib / 2**20, "losses": stats["losses"], "seconds": stats["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--micro", type=int, nargs="+", default=[2, 1])
    args = parser.parse_args()
    base = local_weights_dir("embedded")
    results = {}
    for micro in args.micro:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            results[micro] = pool.submit(dpo_peak, base, args.pairs, args.steps, micro).result()
        r = results[micro]
        print(f"DPO batch 2, micro-batch {micro}: peak {r['peak_gib']:.2f} GiB, losses {r['losses']}, "
              f"{r['seconds']:.0f} s", flush=True)
    first, *rest = args.micro
    for micro in rest:
        print(f"peak memory, micro-batch {micro} vs {first}: {results[micro]['peak_gib'] / results[first]['peak_gib']:.2f}x")


if __name__ == "__main__":
    main()
