"""A LoRA adapter trained with peft runs on the llama.cpp engine: exported to GGUF, it changes the
embedded model's next-token distribution the way transformers with the same adapter does."""

import pytest

from ads_bench.errors import UserError
from ads_bench.models import ChatRequest
from ads_bench.models.embedded import embedded_gguf_path
from ads_bench.models.lora_gguf import export_lora_gguf, llama_rope_permute

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def strong_adapter(tmp_path_factory):
    """An adapter on all four attention projections, strong enough to move the distribution far
    more than llama.cpp's quantised arithmetic does (so a wrong tensor layout cannot hide)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from ads_bench.models.convert import embedded_hf_dir

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(embedded_hf_dir())
    model = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
    for name, parameter in model.named_parameters():
        if "lora_B" in name:
            parameter.data.normal_(0, 0.5)
    folder = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(folder)
    export_lora_gguf(folder, embedded_gguf_path())
    return folder


def first_token_distribution(response) -> dict[str, float]:
    return dict(response.completions[0].logprobs[0].top)


async def test_the_gguf_adapter_moves_llama_cpp_as_transformers_moves_with_the_peft_adapter(
    fresh_runtime, strong_adapter
):
    request = ChatRequest.user("Name one colour of the sea.", max_tokens=1, top_logprobs=10)
    [hf] = await fresh_runtime.model(f"hf:embedded?adapter={strong_adapter}").generate([request])
    [llama] = await fresh_runtime.model(f"embedded?lora={strong_adapter / 'adapter.gguf'}").generate([request])
    [plain] = await fresh_runtime.model("embedded").generate([request])
    expected, got, untuned = map(first_token_distribution, (hf, llama, plain))
    top3 = sorted(expected, key=expected.get, reverse=True)[:3]
    # llama.cpp quantises activations, which this strong adapter amplifies (logprobs differ by up
    # to ~0.9), so the check is on ranks: the same favourite, the same short list; a wrong tensor
    # layout (e.g. q/k rows not permuted) shares none of it
    assert max(got, key=got.get) == top3[0], (expected, got)
    assert set(top3) <= set(got), (expected, got)
    assert not set(top3) & set(untuned), "the adapter must matter"


async def test_an_adapter_folder_stands_for_its_gguf_and_changes_the_cache_key(fresh_runtime, strong_adapter):
    plain = fresh_runtime.model("embedded")
    tuned = fresh_runtime.model(f"embedded?lora={strong_adapter}")
    assert tuned.backend.identity["weights_sha256"] == plain.backend.identity["weights_sha256"]
    assert tuned.backend.identity != plain.backend.identity


def test_a_missing_adapter_file_is_one_clear_error(fresh_runtime, tmp_path):
    with pytest.raises(UserError, match="adapter.gguf"):
        fresh_runtime.model(f"embedded?lora={tmp_path / 'nothing.gguf'}")


def test_the_rotary_permutation_matches_llama_cpps_converter():
    import numpy as np

    # 2 heads of 4 rows: llama.cpp interleaves each head's two halves
    rows = np.arange(8).reshape(8, 1)
    assert llama_rope_permute(rows, 2)[:, 0].tolist() == [0, 2, 1, 3, 4, 6, 5, 7]
