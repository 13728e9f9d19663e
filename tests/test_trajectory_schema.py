"""Constrained decoding: the optimizer's output is held to the trajectory's JSON schema where the
engine can do it, so a small optimizer writes plans instead of prose."""

import json

import pytest

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.trajectory import API_NAMES, Budget, parse_trajectory
from ads_bench.acquisition.trajectory.schema import trajectory_schema, trajectory_schema_text
from ads_bench.strategies import AcquisitionContext
from ads_bench.strategies.optimizer_driven import optimizer_request
from ads_bench.suites import Task

TASK = Task("t1", "toy", "poems", ("Write a haiku about rain.", "Write a limerick about a cat."), ("Write an ode.",))


def conforms(value, schema):
    """Just enough of JSON Schema for the keywords trajectory_schema uses."""
    if "anyOf" in schema:
        return any(conforms(value, option) for option in schema["anyOf"])
    if "const" in schema:
        return value == schema["const"]
    kind = schema.get("type")
    if kind == "string":
        return isinstance(value, str) and schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 1e9)
    if kind == "integer":
        return isinstance(value, int) and schema.get("minimum", -1e9) <= value <= schema.get("maximum", 1e9)
    if kind == "array":
        return len(value) <= schema.get("maxItems", 1e9) and all(conforms(v, schema["items"]) for v in value)
    if kind == "object":
        properties = schema["properties"]
        return (set(schema.get("required", ())) <= set(value)
                and (schema.get("additionalProperties", True) or set(value) <= set(properties))
                and all(conforms(v, properties[k]) for k, v in value.items() if k in properties))
    raise AssertionError(f"unexpected schema {schema}")


def test_the_canonical_rendering_of_a_trajectory_conforms_to_its_schema():
    text = ('{"analysis": "needs forms", "self_reflection": "forgets meter", "calls": ['
            '{"api": "QA", "args": {"question": "What is a haiku?"}}, {"api": "search", "args": {"query": "rain", "k": 3}},'
            '{"api": "demo", "args": {"scenario": "odes", "n": 2}}]}')
    rendered = json.loads(parse_trajectory(text).render())
    assert conforms(rendered, trajectory_schema(API_NAMES, max_calls=3))
    assert not conforms(rendered, trajectory_schema(API_NAMES, max_calls=2))
    assert not conforms(rendered, trajectory_schema(("question_answering",)))


def test_each_api_accepts_only_its_own_arguments():
    schema = trajectory_schema(API_NAMES)
    assert conforms({"analysis": "", "self_reflection": "", "calls": [{"api": "question_answering", "args": {"question": "why?"}}]}, schema)
    assert not conforms({"analysis": "", "self_reflection": "", "calls": [{"api": "question_answering", "args": {"query": "why?"}}]}, schema)


def test_optimizer_requests_carry_the_schema_unless_the_format_is_free():
    ctx = AcquisitionContext(runtime=None, policy=None, expert=None, apis={}, costs=CostModel(),
                             budget=Budget(max_calls=2))
    request = optimizer_request(TASK, ctx, ("question_answering",))
    assert request.params.json_schema == trajectory_schema_text(("question_answering",), max_calls=2)
    ctx.optimizer_format = "free"
    assert optimizer_request(TASK, ctx, API_NAMES).params.json_schema is None


@pytest.mark.model
async def test_the_embedded_optimizer_writes_trajectories_that_parse_under_the_schema(fresh_runtime):
    from ads_bench.optimizer.trainer import TrainConfig
    from ads_bench.strategies.acquisition_setup import acquisition_context

    config = TrainConfig(optimizer_max_tokens=200, max_calls=2)
    ctx = acquisition_context(config, fresh_runtime, optimizer=fresh_runtime.model("embedded", role="optimizer"),
                              optimizer_temperature=0.8)
    [response] = await ctx.optimizer.generate([optimizer_request(TASK, ctx, API_NAMES, sample_seed=1, n=3)])
    trajectories = [parse_trajectory(c.text) for c in response.completions]
    assert [t.error for t in trajectories] == [None] * 3
    # the prompt demonstrates a plan without calls too (ADS.md), so a sample may rightly have none
    assert any(t.calls for t in trajectories)
