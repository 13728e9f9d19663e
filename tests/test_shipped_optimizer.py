"""The smoke optimizer shipped with the package (issue 14, items 1 and 2): used by `run --strategy
ads` when nothing was trained, only where it is what the smoke training would make, and it
writes plans of each task's own, not copies of the prompt's demonstrations."""

import asyncio
import json
import re

import pytest

from ads_bench.optimizer import checkpoints, shipped


def test_it_is_not_used_with_models_it_was_not_trained_with():
    spec, why = shipped.shipped_optimizer("openai:gpt-4o-mini", "embedded", "embedded")
    assert spec is None and "embedded policy, expert and judge" in why


def _fake_install(tmp_path, monkeypatch, **changes):
    adapter = tmp_path / "iteration-0.gguf"
    adapter.write_bytes(b"adapter bytes")
    from ads_bench.models.embedded import embedded_gguf_path
    from ads_bench.models.fingerprint import file_sha256

    manifest = {"adapters": [adapter.name], "sha256": {adapter.name: shipped._sha256(adapter)},
                "base_sha256": file_sha256(embedded_gguf_path()), "prompt_sha256": shipped.prompt_fingerprint()}
    (tmp_path / shipped.MANIFEST).write_text(json.dumps({**manifest, **changes}))
    monkeypatch.setattr(shipped, "SHIPPED_DIR", tmp_path)
    return adapter


def test_a_valid_install_gives_its_adapters_stacked_on_the_embedded_model(tmp_path, monkeypatch):
    adapter = _fake_install(tmp_path, monkeypatch)
    assert shipped.shipped_optimizer("embedded", "embedded", "embedded") == (f"embedded?lora={adapter}", "shipped")


@pytest.mark.parametrize(("change", "reason"), [
    ({"prompt_sha256": "0" * 64}, "optimizer prompt changed"),
    ({"base_sha256": "0" * 64}, "not the file"),
    ({"sha256": {"iteration-0.gguf": "0" * 64}}, "missing or altered"),
])
def test_a_stale_or_altered_install_is_not_used(tmp_path, monkeypatch, change, reason):
    _fake_install(tmp_path, monkeypatch, **change)
    spec, why = shipped.shipped_optimizer("embedded", "embedded", "embedded")
    assert spec is None and reason in why


def test_a_run_with_nothing_trained_takes_the_shipped_one_without_training(monkeypatch):
    from ads_bench.pipeline.run import RunConfig

    monkeypatch.setattr(checkpoints, "latest_trained", lambda: None)
    monkeypatch.setattr(shipped, "shipped_optimizer", lambda *models: ("embedded?lora=/x.gguf", "shipped"))

    async def no_training(*args):
        raise AssertionError("trained a smoke optimizer although one is shipped")

    monkeypatch.setattr(checkpoints, "train_smoke", no_training)
    config = asyncio.run(checkpoints.resolve_optimizer(RunConfig(strategy="ads"), None, None))
    assert config.optimizer == "embedded?lora=/x.gguf"


def test_a_row_driven_by_the_shipped_optimizer_names_it_and_what_it_was_trained_on():
    from ads_bench.acquisition.trajectory import API_NAMES
    from ads_bench.strategies.optimizer_provenance import describe_optimizer

    spec = "embedded?lora=" + ",".join(str(shipped.SHIPPED_DIR / f"iteration-{i}.gguf") for i in (0, 1))
    info = describe_optimizer(spec, API_NAMES)
    assert info["description"].startswith("shipped smoke optimizer (trained 2 iterations on inhouse-train")
    assert info["trained"] and info["trained_apis"] == list(API_NAMES)


def _content_words(text: str) -> set[str]:
    stop = {"about", "answer", "explain", "give", "instruction", "question", "should", "these", "this", "what",
            "which", "with", "write", "your", "task", "that", "from", "have", "make", "list", "some", "create"}
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in stop}


@pytest.fixture(scope="module")
def quickstart_plans(tmp_path_factory):
    """The shipped optimizer's greedy trajectories for the quickstart's tasks, generated once for
    the tests below (with an empty cache of their own)."""
    from ads_bench.models import Runtime

    return _quickstart_plans(Runtime.create(cache_path=tmp_path_factory.mktemp("plans") / "responses.sqlite3"))


def _quickstart_plans(runtime):
    """The shipped optimizer's greedy trajectories for the quickstart's tasks, as `run` samples them."""
    from ads_bench.acquisition.trajectory import API_NAMES
    from ads_bench.pipeline.run import RunConfig, held_out_slice
    from ads_bench.strategies.acquisition_setup import acquisition_context
    from ads_bench.strategies.optimizer_driven import optimizer_request, parse_for
    from ads_bench.suites import load_suite

    spec, why = shipped.shipped_optimizer("embedded", "embedded", "embedded")
    if spec is None:
        pytest.fail(f"the shipped smoke optimizer is unusable ({why}): rebuild it with "
                    "`python scripts/build_smoke_optimizer.py`")
    config = RunConfig(strategy="ads", optimizer=spec)
    tasks = held_out_slice(load_suite(config.suite, limit=config.limit, seed=config.seed).tasks, config.max_held_out)
    optimizer = runtime.model(spec, role="optimizer")
    context = acquisition_context(config, runtime, optimizer=optimizer, optimizer_temperature=0.0)

    async def plans():
        responses = await optimizer.generate([optimizer_request(t, context, API_NAMES) for t in tasks])
        return [parse_for(r.text, context, API_NAMES) for r in responses]

    return tasks, asyncio.run(plans())


@pytest.mark.model
@pytest.mark.xfail(strict=True, reason=(
    "measured: the shipped 135M smoke optimizer plans the healthy-diet task with 'how to make a cup of "
    "tea with sugar' (no word of the task); issue 14 item 2 is open until this passes"))
def test_the_shipped_optimizer_plans_each_quickstart_task_differently_and_in_its_own_words(quickstart_plans):
    """Every quickstart task gets its own plan, and every call's text shares a word with its task."""
    tasks, trajectories = quickstart_plans
    assert len({t.render() for t in trajectories}) == len(tasks)
    for task, trajectory in zip(tasks, trajectories, strict=True):
        words = _content_words(" ".join(task.observed))
        for call in trajectory.calls:
            assert _content_words(" ".join(map(str, call.args.values()))) & words, (task.observed, call)


@pytest.mark.model
@pytest.mark.xfail(strict=True, reason=(
    "measured: 2 of the 3 quickstart trajectories still copy a demonstration's call or analysis near "
    "word for word (the 135M optimizer, greedy, after smoke training that never chooses a copy); "
    "issue 14 item 2 is open until this passes"))
def test_no_quickstart_trajectory_copies_a_demonstration_of_the_prompt(quickstart_plans):
    from ads_bench.acquisition.trajectory.prompt import copied_demonstration, demonstrations

    tasks, trajectories = quickstart_plans
    shown = demonstrations()
    assert [copied_demonstration(t, shown) for t in trajectories] == [None] * len(tasks)
