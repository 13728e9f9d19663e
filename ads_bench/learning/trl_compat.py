"""What both trainers (the policy's LoRA learner and the optimizer's SFT/DPO) need to stay
correct across the transformers/trl versions the project allows."""

from __future__ import annotations

import dataclasses


def checkpointing_args(config_type: type, enabled: bool) -> dict[str, bool | None]:
    """transformers 5.24 renamed ``gradient_checkpointing`` (now a deprecated alias that warns) to
    ``activation_checkpointing``; trl's configs still default the old name to True."""
    names = {field.name for field in dataclasses.fields(config_type)}
    if "activation_checkpointing" in names:
        return {"activation_checkpointing": enabled, "gradient_checkpointing": None}
    return {"gradient_checkpointing": enabled}


#: at most this many progress lines a training stage prints (one every N steps)
PROGRESS_LINES = 20


def step_lines(stage: str):
    """A transformers callback that prints ``stage step 3/10 · loss 1.2345 · 12 s`` to stderr as
    training goes, at most :data:`PROGRESS_LINES` lines a stage: transformers' own printer (a dict
    a step) and tqdm bars are off, and a stage of minutes must not look hung."""
    import sys
    import time

    from transformers import TrainerCallback

    class StepLines(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "loss" not in logs or not state.max_steps:
                return
            every = max(1, state.max_steps // PROGRESS_LINES)
            if state.global_step % every and state.global_step != state.max_steps:
                return
            seconds = time.perf_counter() - getattr(self, "started", time.perf_counter())
            print(f"{stage} step {state.global_step}/{state.max_steps} · loss {logs['loss']:.4f} · {seconds:.0f} s",
                  file=sys.stderr, flush=True)

    return StepLines()
