"""Deterministic observed/held-out splits: the same (seed, task) always gives the same split,
on any machine and Python version (no reliance on ``hash()``, which is salted per process)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence


def stable_seed(*parts: object) -> int:
    """A 64-bit integer derived from ``parts`` with SHA-256."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def split_instructions(
    instructions: Sequence[str], *, n_observed: int, seed: int, key: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Choose ``n_observed`` instructions at random (seeded by ``seed`` and the task ``key``);
    the rest are held out. Both parts keep the instructions' original order."""
    if n_observed < 0 or n_observed > len(instructions):
        raise ValueError(f"cannot observe {n_observed} of {len(instructions)} instructions")
    order = list(range(len(instructions)))
    random.Random(stable_seed(seed, key)).shuffle(order)
    chosen = set(order[:n_observed])
    observed = tuple(text for i, text in enumerate(instructions) if i in chosen)
    held_out = tuple(text for i, text in enumerate(instructions) if i not in chosen)
    return observed, held_out
