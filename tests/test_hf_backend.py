"""The transformers backend: the embedded weights converted once, and LoRA adapters on top."""

import pytest

from ads_bench.errors import UserError
from ads_bench.models import ChatRequest

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def random_adapter(tmp_path_factory):
    """A LoRA adapter with non-zero weights, so it visibly changes the base model's answers."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from ads_bench.models.convert import embedded_hf_dir

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(embedded_hf_dir())
    config = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(base, config)
    for name, parameter in model.named_parameters():
        if "lora_" in name:
            parameter.data.normal_(0, 0.5)
    folder = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(folder)
    return folder


async def test_greedy_output_matches_the_gguf_engine(fresh_runtime):
    request = ChatRequest.user("What is 2 + 3?", max_tokens=10)
    [hf] = await fresh_runtime.model("hf:embedded").generate([request])
    [llama] = await fresh_runtime.model("embedded").generate([request])
    assert hf.text == llama.text


async def test_batched_requests_with_samples_stops_and_logprobs(fresh_runtime):
    model = fresh_runtime.model("hf:embedded")
    greedy = [ChatRequest.user(f"List {i} colors.", max_tokens=12, stop=[","]) for i in (2, 3)]
    sampled = ChatRequest.user("Say hi", max_tokens=5, temperature=0.9, seed=1, n=2, top_logprobs=3)
    *stopped, many = await model.generate([*greedy, sampled])
    assert all("," not in r.text for r in stopped)
    assert len(many.completions) == 2
    first_token = many.completions[0].logprobs[0]
    assert len(first_token.top) == 3 and first_token.logprob <= 0
    assert many.completions[1].usage.prompt_tokens == 0  # the shared prompt is billed once


async def test_an_adapter_changes_answers_and_the_cache_key(fresh_runtime, random_adapter):
    request = ChatRequest.user("What is the capital of France?", max_tokens=8)
    base = fresh_runtime.model("hf:embedded")
    tuned = fresh_runtime.model(f"hf:embedded?adapter={random_adapter}")
    [a] = await base.generate([request])
    [b] = await tuned.generate([request])
    assert a.text != b.text
    assert base.backend.identity != tuned.backend.identity


def test_a_folder_without_an_adapter_config_is_a_user_error(fresh_runtime, tmp_path):
    with pytest.raises(UserError, match="adapter_config.json"):
        fresh_runtime.model(f"hf:embedded?adapter={tmp_path}")
