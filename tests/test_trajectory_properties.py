"""Properties of the trajectory format and its parser, for generated trajectories and text."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ads_bench.acquisition.trajectory import (
    API_NAMES,
    API_SPECS,
    ApiCall,
    Trajectory,
    parse_trajectory,
)

FAST = settings(max_examples=200, deadline=None)

# Text the parser keeps as is: it strips surrounding whitespace, so generate it stripped.
texts = st.text(max_size=60).map(str.strip)
required_texts = texts.filter(bool)
counts = st.integers(min_value=1, max_value=10_000)


@st.composite
def api_calls(draw: st.DrawFn) -> ApiCall:
    api = draw(st.sampled_from(API_NAMES))
    args = {}
    for arg in API_SPECS[api].args:
        if arg.required:
            args[arg.name] = draw(required_texts)
        elif draw(st.booleans()):
            args[arg.name] = draw(counts)
    return ApiCall(api, args, position=0)


@st.composite
def trajectories(draw: st.DrawFn) -> Trajectory:
    """A valid trajectory as the parser would return it: no duplicates, positions 0..n-1."""
    calls = draw(st.lists(api_calls(), max_size=6, unique_by=lambda call: call.key()))
    return Trajectory(
        analysis=draw(texts),
        self_reflection=draw(texts),
        calls=[ApiCall(c.api, c.args, i) for i, c in enumerate(calls)],
    )


@FAST
@given(trajectories())
def test_parse_of_render_is_the_trajectory(trajectory):
    assert parse_trajectory(trajectory.render()) == trajectory


def loose_dumps(value, *, quote: str, trailing_commas: bool) -> str:
    """Serialise like a careless model: single or double quotes, trailing commas."""
    comma = "," if trailing_commas else ""
    if isinstance(value, dict):
        items = [
            f"{loose_dumps(k, quote=quote, trailing_commas=trailing_commas)}: "
            f"{loose_dumps(v, quote=quote, trailing_commas=trailing_commas)}"
            for k, v in value.items()
        ]
        return "{" + ", ".join(items) + (comma if items else "") + "}"
    if isinstance(value, list):
        items = [loose_dumps(v, quote=quote, trailing_commas=trailing_commas) for v in value]
        return "[\n" + ",\n".join(items) + (comma if items else "") + "\n]"
    if isinstance(value, str) and quote == "'":
        return "'" + json.dumps(value)[1:-1].replace('\\"', '"').replace("'", "\\'") + "'"
    return json.dumps(value, ensure_ascii=False)


def api_name_variants(api: str) -> list[str]:
    words = api.split("_")
    return [
        api.upper(),
        " ".join(w.capitalize() for w in words),
        "-".join(words),
        words[0] + "".join(w.capitalize() for w in words[1:]),
        f"{api}_API",
        *API_SPECS[api].aliases,
    ]


prose = st.text(
    alphabet=st.characters(blacklist_characters="{[", blacklist_categories=("Cs",)), max_size=80
)


@FAST
@given(
    trajectories(),
    st.booleans(),  # code fence
    prose,
    prose,
    st.sampled_from(['"', "'"]),
    st.booleans(),  # trailing commas
    st.data(),
)
def test_fences_prose_quotes_commas_and_api_name_case_never_change_the_calls(
    trajectory, fenced, before, after, quote, trailing_commas, data
):
    calls = []
    for call in trajectory.calls:
        written = data.draw(st.sampled_from(api_name_variants(call.api)))
        calls.append({"api": written, "args": call.args})
    body = {
        "analysis": trajectory.analysis,
        "self_reflection": trajectory.self_reflection,
        "calls": calls,
    }
    text = loose_dumps(body, quote=quote, trailing_commas=trailing_commas)
    if fenced:
        text = f"```json\n{text}\n```"
    text = f"{before}\n{text}\n{after}"

    parsed = parse_trajectory(text)

    assert parsed.error is None
    assert parsed.calls == trajectory.calls
    assert (parsed.analysis, parsed.self_reflection) == (
        trajectory.analysis,
        trajectory.self_reflection,
    )


@FAST
@given(st.text(max_size=300))
def test_any_text_gives_a_well_formed_trajectory_and_never_raises(text):
    parsed = parse_trajectory(text)
    assert isinstance(parsed, Trajectory)
    if parsed.error is not None:
        assert parsed.calls == []
    for call in parsed.calls:
        spec = API_SPECS[call.api]
        assert set(call.args) <= {arg.name for arg in spec.args}
        assert isinstance(call.args[spec.primary_arg], str) and call.args[spec.primary_arg]
    positions = [c.position for c in parsed.calls] + [d.position for d in parsed.dropped]
    assert len(positions) == len(set(positions))


# Without brackets, colons, parentheses, "=" or dashes text holds neither JSON nor a call line.
structureless = st.text(
    alphabet=st.characters(blacklist_characters="{[:(=-\u2013\u2014", blacklist_categories=("Cs",)),
    max_size=300,
)


@FAST
@given(structureless)
def test_text_without_any_structure_gives_no_calls_and_an_error(text):
    parsed = parse_trajectory(text)
    assert parsed.calls == [] and parsed.dropped == []
    assert parsed.error is not None


json_without_trajectory = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="abcxyz 0123", max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet="bcxyz", max_size=5), children, max_size=4)
    ),
    max_leaves=20,
).filter(lambda value: isinstance(value, (list, dict)))


@FAST
@given(json_without_trajectory, prose)
def test_json_that_names_no_api_is_an_error(value, before):
    # keys and strings drawn from "bcxyz"/"abcxyz 0123" cannot spell an API name or a field name
    parsed = parse_trajectory(before.replace("\n", " ") + " " + json.dumps(value))
    assert parsed.calls == []
    assert parsed.error is not None


@FAST
@given(trajectories(), st.integers(min_value=1, max_value=400))
def test_a_cut_off_rendering_keeps_a_prefix_of_the_calls(trajectory, cut):
    text = trajectory.render()
    parsed = parse_trajectory(text[: max(1, len(text) - cut)])
    kept = [(c.api, c.args) for c in parsed.calls]
    written = [(c.api, c.args) for c in trajectory.calls]
    assert kept == written[: len(kept)]  # a call cut anywhere is dropped, never kept shortened
    assert not re.search(r"over budget|duplicate", " ".join(d.reason for d in parsed.dropped))
