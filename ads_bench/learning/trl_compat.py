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
