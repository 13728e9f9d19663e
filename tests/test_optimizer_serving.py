"""How a freshly trained optimizer is served: on the engine the training started from."""

from ads_bench.models.spec import with_options
from ads_bench.optimizer.trainer import serving_spec


def test_options_are_set_and_replaced_without_mangling_paths():
    assert with_options("embedded", lora="/a/adapter.gguf,/b/adapter.gguf") == "embedded?lora=/a/adapter.gguf,/b/adapter.gguf"
    assert with_options("gguf:/m.gguf?lora=/old.gguf&ctx=2048", lora="/new.gguf") == "gguf:/m.gguf?ctx=2048&lora=/new.gguf"


def test_a_transformers_optimizer_keeps_sampling_through_transformers():
    assert serving_spec("hf:embedded", "hf:/converted?adapter=/run/adapters/iteration-0") == (
        "hf:/converted?adapter=/run/adapters/iteration-0"
    )


def test_a_vllm_optimizer_serves_the_adapter_on_the_weights_it_was_trained_on():
    spec = serving_spec("vllm:/models/qwen?gpu_memory_utilization=0.5&adapter=/run/adapters/iteration-0",
                        "hf:/run/merged/iteration-1?adapter=/run/adapters/iteration-1")
    assert spec == "vllm:/run/merged/iteration-1?gpu_memory_utilization=0.5&adapter=/run/adapters/iteration-1"


def test_an_untrained_iteration_changes_nothing():
    assert serving_spec("embedded", "hf:/converted") == "embedded"
