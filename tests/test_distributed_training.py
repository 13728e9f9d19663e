"""SFT and DPO over 2 processes (issue 15, item 3): under torchrun each rank trains on its shard
with DDP over gloo on a CPU, and one optimizer step still sees `batch_size` examples, so 2
processes give the losses 1 process gives. A tiny random Llama (with the embedded model's
tokenizer) keeps it to seconds; the maths is the model's size's business, not the test's."""

import dataclasses

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from ads_bench.models.convert import converted_dir
    from ads_bench.models.embedded import embedded_gguf_path

    tokenizer = AutoTokenizer.from_pretrained(converted_dir(embedded_gguf_path()))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


PROMPT = [{"role": "user", "content": "Plan data for: write a haiku about rain."}]
GOOD = '{"analysis": "forms", "self_reflection": "meter", "calls": []}'
BAD = '{"analysis": "", "self_reflection": "", "calls": []}'


def _config(processes: int):
    from ads_bench.optimizer.training import TrainingConfig

    return TrainingConfig(max_steps=2, batch_size=2, micro_batch_size=1, max_length=128, r=4, alpha=8,
                          sft_learning_rate=1e-2, dpo_learning_rate=1e-2, processes=processes)


@pytest.mark.parametrize("stage", ["sft", "dpo"])
def test_two_processes_train_as_one_does(tiny_model, tmp_path, stage):
    from ads_bench.optimizer import training
    from ads_bench.optimizer.distributed import run_distributed

    data = [(PROMPT, GOOD)] * 4 if stage == "sft" else [(PROMPT, GOOD, BAD)] * 4
    one = getattr(training, stage)(tiny_model, data, tmp_path / "one", _config(1))
    two = run_distributed(stage, (tiny_model, data, tmp_path / "two", dataclasses.replace(_config(2))), 2)
    assert one["steps"] == two["steps"] == 2
    assert two["losses"] == pytest.approx(one["losses"], rel=1e-3, abs=1e-4)
    assert (tmp_path / "two" / "adapter_config.json").is_file()  # rank 0 saved it, once
