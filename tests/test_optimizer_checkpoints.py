"""The latest-trained-optimizer pointer works from any directory."""

from ads_bench.optimizer.checkpoints import absolute_paths


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
