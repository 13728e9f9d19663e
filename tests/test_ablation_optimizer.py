"""Ablations on the same footing (issue 17, item 3): one optimizer for every optimizer-driven
cell of a sweep, optimizers trained with a subset of the APIs, and rows that say which is which."""

from __future__ import annotations

import json

import pytest
from run_folders import write_run

from ads_bench.errors import UserError
from ads_bench.optimizer import checkpoints
from ads_bench.optimizer.sweep_choice import assign_optimizers, optimizer_plan
from ads_bench.optimizer.trainer import TrainConfig
from ads_bench.pipeline.run import RunConfig
from ads_bench.reporting.leaderboard import load_leaderboard
from ads_bench.strategies.optimizer_provenance import describe_optimizer, parse_apis
from ads_bench.strategies.optimizer_specs import record_latest

IR, DG, QA = "information_retrieval", "demonstration_generation", "question_answering"


def checkpoint(folder, apis=None):
    """An adapter folder as `ads-bench train` leaves it (apis=None: one made before --apis)."""
    folder.mkdir(parents=True)
    (folder / "adapter.gguf").write_bytes(b"GGUF" + str(folder).encode())
    stats = {"optimizer_out": f"embedded?lora={folder / 'adapter.gguf'}"}
    if apis is not None:
        stats["apis"] = apis
    (folder / "ads_stats.json").write_text(json.dumps(stats))
    return stats["optimizer_out"]


def test_apis_are_named_short_or_long_and_kept_in_canonical_order():
    assert parse_apis("qa,ir") == (IR, QA)
    assert parse_apis("IR") == (IR,)
    assert parse_apis([DG]) == (DG,)
    assert parse_apis("") == parse_apis(None) == (IR, DG, QA)
    with pytest.raises(UserError, match="unknown API 'web'.*ir, dg, qa"):
        parse_apis("ir,web")


def test_a_one_api_training_config_says_so_and_an_all_api_one_keeps_its_old_digest():
    assert TrainConfig(apis="ir").apis == (IR,)
    assert TrainConfig(apis="ir").to_dict()["apis"] == (IR,)
    assert "apis" not in TrainConfig().to_dict()  # train folders made before --apis still resume


def test_each_ablation_row_says_which_optimizer_and_which_kind_of_ablation(tmp_path):
    all_apis = checkpoint(tmp_path / "all" / "adapters" / "iteration-1")
    old = checkpoint(tmp_path / "old" / "adapters" / "iteration-0", apis=None)
    ir_only = checkpoint(tmp_path / "ir" / "adapters" / "iteration-1", apis=[IR])

    restricted = describe_optimizer(all_apis, (IR,))
    assert restricted["description"].startswith("all-API optimizer restricted to IR at inference · checkpoint ")
    assert restricted["trained"] and restricted["checkpoint_sha"] in restricted["description"]
    assert restricted["train_run"] == str((tmp_path / "all").resolve())
    assert describe_optimizer(old, (QA,))["description"].startswith("all-API optimizer restricted to QA")
    assert describe_optimizer(ir_only, (IR,))["description"].startswith("optimizer trained with IR only · ")
    assert "asked for QA at inference" in describe_optimizer(ir_only, (QA,))["description"]
    untrained = describe_optimizer("embedded", (DG,))
    assert untrained["description"] == "untrained optimizer restricted to DG at inference (embedded)"
    assert not untrained["trained"] and untrained["checkpoint_sha"] is None
    assert describe_optimizer(all_apis, (IR,))["checkpoint_sha"] != describe_optimizer(ir_only, (IR,))["checkpoint_sha"]


def test_the_leaderboard_shows_the_optimizer_beside_the_strategy(tmp_path):
    spec = checkpoint(tmp_path / "train" / "adapters" / "iteration-1")
    info = describe_optimizer(spec, (IR,))
    write_run(tmp_path / "runs" / "none", "none", [[0.5]] * 3)
    write_run(tmp_path / "runs" / "ir-only", "ir-only", [[0.6]] * 3, optimizer_info=info)
    board = load_leaderboard([tmp_path / "runs"])
    cells = {row["run"]: row["strategy"] for row in board.rows()}
    assert cells["ir-only"] == f"ir-only ({info['description']})" and cells["none"] == "none"
    assert "all-API optimizer restricted to IR" in board.to_csv()


CELLS = [(s, RunConfig(strategy=s)) for s in ("none", "prompting", "ads", "ir-only", "demo-only", "qa-only")]


async def test_a_sweep_trains_one_smoke_optimizer_first_and_every_ablation_uses_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ADS_BENCH_CACHE_DIR", str(tmp_path / "cache"))  # no trained optimizer yet
    trained = []

    async def smoke(config, runtime, console):
        trained.append(config.strategy)
        return "embedded?lora=/smoke/adapter.gguf"

    monkeypatch.setattr(checkpoints, "train_smoke", smoke)
    from ads_bench.optimizer import shipped  # an install without the shipped smoke optimizer

    monkeypatch.setattr(shipped, "shipped_optimizer", lambda *models: (None, "no shipped smoke optimizer in this install"))
    sweep = {"name": "s", "grid": {"strategy": [c.strategy for _, c in CELLS]}}
    cells = dict(await assign_optimizers(sweep, CELLS, runtime=None))
    assert trained == ["ads"]  # once, before any cell, as `run --strategy ads` would
    assert {cells[s].optimizer for s in ("ads", "ir-only", "demo-only", "qa-only")} == {
        "embedded?lora=/smoke/adapter.gguf"}
    assert cells["none"].optimizer is None and cells["prompting"].optimizer is None  # stays untrained


async def test_with_nothing_trained_every_ablation_of_a_sweep_uses_the_shipped_smoke_optimizer(tmp_path, monkeypatch):
    monkeypatch.setenv("ADS_BENCH_CACHE_DIR", str(tmp_path / "cache"))

    async def no_training(*args):
        raise AssertionError("trained a smoke optimizer although one is shipped")

    monkeypatch.setattr(checkpoints, "train_smoke", no_training)
    from ads_bench.optimizer import shipped

    monkeypatch.setattr(shipped, "shipped_optimizer", lambda *models: ("embedded?lora=/shipped.gguf", "shipped"))
    sweep = {"name": "s", "grid": {"strategy": [c.strategy for _, c in CELLS]}}
    cells = dict(await assign_optimizers(sweep, CELLS, runtime=None))
    assert {cells[s].optimizer for s in ("ads", "ir-only", "demo-only", "qa-only")} == {"embedded?lora=/shipped.gguf"}


async def test_a_sweep_can_give_each_ablation_the_optimizer_trained_with_its_api(tmp_path, monkeypatch):
    monkeypatch.setenv("ADS_BENCH_CACHE_DIR", str(tmp_path / "cache"))
    latest = checkpoint(tmp_path / "all" / "adapters" / "iteration-1")
    record_latest(latest, {})
    ir_folder = tmp_path / "ir" / "adapters" / "iteration-1"
    ir_spec = checkpoint(ir_folder, apis=[IR])
    sweep = {"name": "s", "grid": {"strategy": ["ads", "ir-only"]},
             "optimizer": {"default": "trained", "ir-only": str(ir_folder)}}
    cells = dict(await assign_optimizers(sweep, CELLS[2:4], runtime=None))
    assert cells["ads"].optimizer == latest and cells["ir-only"].optimizer == ir_spec


def test_a_bad_sweep_optimizer_names_the_fix():
    with pytest.raises(UserError, match="not driven by an optimizer"):
        optimizer_plan({"name": "s", "grid": {}, "optimizer": {"rule-qa": "trained"}})
    with pytest.raises(UserError, match="sets the optimizer twice"):
        optimizer_plan({"name": "s", "grid": {}, "base": {"optimizer": "embedded"}, "optimizer": "trained"})


@pytest.mark.model
@pytest.mark.slow
async def test_an_optimizer_trained_with_ir_alone_is_prompted_parsed_and_recorded_as_such(fresh_runtime, tmp_path):
    from ads_bench.optimizer.trainer import train_optimizer
    from ads_bench.strategies.optimizer_specs import latest_trained

    latest = latest_trained()
    config = TrainConfig(apis="ir", iterations=1, samples=2, limit=1, max_held_out=1, tau=0.0, max_calls=1,
                         max_tokens=16, retrieval_k=1, optimizer_max_tokens=160, max_steps=1, seed=3)
    folder, [row] = await train_optimizer(config, fresh_runtime, out=tmp_path / "train")
    [record] = folder.log("samples").records()
    prompt = " ".join(message["content"] for message in record["prompt"])
    assert IR in prompt and DG not in prompt and QA not in prompt  # told about IR alone
    assert all(set(sample["api_counts"]) <= {IR} for sample in record["samples"])
    assert row["apis"] == [IR] and row["training"].get("kind") == "sft", row["training"]
    stats = json.loads((folder.path / "adapters" / "iteration-0" / "ads_stats.json").read_text())
    assert stats["apis"] == [IR]
    info = describe_optimizer(row["optimizer_out"], (IR,))
    assert info["description"].startswith("optimizer trained with IR only · checkpoint ")
    assert latest_trained() == latest  # `run --strategy ads` never picks up a one-API optimizer
