"""The optimizer's training batch is an optimizer-step size; memory is set by the micro-batch."""

from pathlib import Path

import pytest

from ads_bench.optimizer.training import TrainingConfig, _common_args


@pytest.mark.parametrize(
    ("batch", "micro", "per_pass", "accumulation"),
    [(2, 1, 1, 2), (16, 4, 4, 4), (16, 32, 16, 1),
     (3, 2, 2, 2)],  # rounded up to whole micro-batches
)
def test_a_batch_is_split_into_micro_batches_by_gradient_accumulation(batch, micro, per_pass, accumulation):
    args = _common_args(TrainingConfig(batch_size=batch, micro_batch_size=micro), Path("out"), 1e-4)
    assert args["per_device_train_batch_size"] == per_pass
    assert args["gradient_accumulation_steps"] == accumulation


def test_by_default_each_pass_holds_one_example_so_cpu_dpo_holds_two_sequences_of_logits():
    args = _common_args(TrainingConfig(), Path("out"), 1e-4)
    assert args["per_device_train_batch_size"] == 1 and args["gradient_accumulation_steps"] == 2
