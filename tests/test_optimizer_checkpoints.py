"""The latest-trained-optimizer pointer works from any directory."""

import json

import pytest

from ads_bench.errors import UserError
from ads_bench.strategies.optimizer_specs import (
    absolute_paths,
    latest_trained,
    record_latest,
    trained_optimizer,
)


def test_a_trained_optimizers_relative_folders_are_recorded_absolute(tmp_path, monkeypatch):
    (tmp_path / "merged").mkdir()
    (tmp_path / "adapters" / "iteration-1").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    recorded = absolute_paths("hf:merged?adapter=adapters/iteration-1&batch_size=4")
    assert recorded == f"hf:{tmp_path / 'merged'}?adapter={tmp_path / 'adapters' / 'iteration-1'}&batch_size=4"


def test_specs_without_local_folders_are_left_alone():
    assert absolute_paths("embedded") == "embedded"
    assert absolute_paths("openai:gpt-4o-mini") == "openai:gpt-4o-mini"
    assert absolute_paths("http://localhost:8000/v1::qwen") == "http://localhost:8000/v1::qwen"


def test_stacked_gguf_adapters_are_recorded_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recorded = absolute_paths("embedded?lora=a/adapter.gguf,b/adapter.gguf")
    assert recorded == f"embedded?lora={tmp_path / 'a' / 'adapter.gguf'},{tmp_path / 'b' / 'adapter.gguf'}"


def test_an_adapter_folder_as_optimizer_means_the_optimizer_its_iteration_produced(tmp_path):
    folder = tmp_path / "adapters" / "iteration-1"
    folder.mkdir(parents=True)
    (folder / "ads_stats.json").write_text(json.dumps({"optimizer_out": f"embedded?lora={folder}/adapter.gguf"}))
    assert trained_optimizer(str(folder)) == f"embedded?lora={folder}/adapter.gguf"
    assert trained_optimizer("hf:embedded") == "hf:embedded"


def test_a_folder_that_is_no_trained_adapter_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="ads_stats.json"):
        trained_optimizer(str(tmp_path))


def test_the_latest_pointer_is_ignored_once_its_adapters_are_deleted(tmp_path, monkeypatch):
    monkeypatch.setenv("ADS_BENCH_CACHE_DIR", str(tmp_path / "cache"))
    adapter = tmp_path / "adapter.gguf"
    adapter.write_bytes(b"GGUF")
    record_latest(f"embedded?lora={adapter}", {})
    assert latest_trained() == f"embedded?lora={adapter}"
    adapter.unlink()
    assert latest_trained() is None
