"""Learners by name: built-ins, Python registrations, entry points; configs from mappings."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ads_bench.errors import UserError
from ads_bench.learning import (
    Learner,
    Policy,
    get_learner,
    learner_names,
    learner_table,
    register_learner,
    registry,
    unregister_learner,
)
from ads_bench.learning.registry import config_from_mapping


def test_the_built_in_learners_are_listed_with_a_description_and_their_options():
    rows = {row["name"]: row for row in learner_table()}
    assert {"icl", "finetune"} <= set(rows)
    assert "token budget" in rows["icl"]["description"]
    assert "reserve_tokens=1024" in rows["icl"]["options"]
    assert "LoRA" in rows["finetune"]["description"] and "r=8" in rows["finetune"]["options"]


def test_an_unknown_learner_is_a_user_error_naming_the_known_ones():
    with pytest.raises(UserError, match="no learner named 'sft'.*icl, finetune"):
        get_learner("sft")


async def test_a_python_learner_is_called_with_its_config_built_from_a_mapping():
    @dataclass(frozen=True)
    class EchoConfig:
        suffix: str = "!"

    async def echo(policy, items, *, runtime, task_id, config):
        return Policy(policy.model, f"{len(items)} items{config.suffix}", details={"task": task_id})

    register_learner(Learner("echo", "echoes", echo, EchoConfig))
    try:
        assert "echo" in learner_names()
        policy = await get_learner("echo")(
            Policy(model=None), ["a", "b"], runtime=None, task_id="t9", config={"suffix": "?"}
        )
        assert (policy.context, policy.details) == ("2 items?", {"task": "t9"})
    finally:
        unregister_learner("echo")
    assert "echo" not in learner_names()


def test_entry_points_add_learners_and_a_broken_one_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(
        registry,
        "_entry_points",
        lambda: {"plain": "ads_bench.learning.icl:update", "broken": "no_such_module:update"},
    )
    plain = get_learner("plain")
    assert plain.name == "plain" and plain.description.startswith("Pack the acquired items")
    with pytest.raises(UserError, match="failed to import"):
        get_learner("broken")
    rows = {row["name"]: row["description"] for row in learner_table()}
    assert rows["broken"].startswith("(unavailable")


def test_mapping_values_are_converted_to_the_declared_types():
    @dataclass(frozen=True)
    class Options:
        steps: int = 1
        rate: float = 0.1
        on: bool = False
        cap: int | None = None
        names: tuple[str, ...] = ()

    built = config_from_mapping(
        Options, {"steps": "3", "rate": "2e-4", "on": "yes", "cap": None, "names": "a, b"}, what="x"
    )
    assert built == Options(3, 2e-4, True, None, ("a", "b"))
    with pytest.raises(UserError, match="steps=2.5 of x must be of type int"):
        config_from_mapping(Options, {"steps": 2.5}, what="x")
    with pytest.raises(UserError, match="on='maybe'"):
        config_from_mapping(Options, {"on": "maybe"}, what="x")
    with pytest.raises(UserError, match="mapping"):
        config_from_mapping(Options, ["steps"], what="x")
