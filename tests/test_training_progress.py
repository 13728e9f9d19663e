"""Training stages say how far they are, with the loss, in at most 20 lines a stage (issue 14,
item 3): a stage of minutes never looks hung, and a log file never gets a line a step."""

import types

from ads_bench.learning.trl_compat import PROGRESS_LINES, step_lines


def _train(capsys, max_steps: int) -> list[str]:
    callback = step_lines("DPO")
    state = types.SimpleNamespace(max_steps=max_steps, global_step=0)
    callback.on_train_begin(None, state, None)
    for step in range(1, max_steps + 1):
        state.global_step = step
        callback.on_log(None, state, None, logs={"loss": 1.0 / step, "learning_rate": 1e-4})
        callback.on_log(None, state, None, logs={"train_runtime": 1.0})  # the end-of-training summary
    return capsys.readouterr().err.splitlines()


def test_a_short_stage_prints_every_step_with_its_loss(capsys):
    lines = _train(capsys, 3)
    assert [line.split(" · ")[:2] for line in lines] == [
        ["DPO step 1/3", "loss 1.0000"], ["DPO step 2/3", "loss 0.5000"], ["DPO step 3/3", "loss 0.3333"]]


def test_a_long_stage_prints_at_most_twenty_lines_and_always_its_last_step(capsys):
    lines = _train(capsys, 1000)
    assert len(lines) <= PROGRESS_LINES + 1
    assert lines[-1].startswith("DPO step 1000/1000 · loss 0.0010")
