"""The fine-tune learner: LoRA SFT on acquired items, an adapter cached by its inputs and reused."""

from __future__ import annotations

import math

import pytest

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.errors import UserError
from ads_bench.learning import Policy, get_learner
from ads_bench.learning import finetune as finetune_module
from ads_bench.learning.finetune import (
    BaseWeights,
    FinetuneConfig,
    adapted_spec,
    adapter_key,
    as_example,
    base_weights,
    update,
)
from ads_bench.models import ChatRequest, SamplingParams, parse_spec

FACTS = [
    AcquiredItem(
        "question_answering",
        "answer",
        "What is the capital of Zorbania?",
        "The capital of Zorbania is Quillport.",
        call_position=0,
    ),
    AcquiredItem(
        "question_answering",
        "answer",
        "Which river flows through Quillport?",
        "The Velka river flows through Quillport.",
        call_position=1,
    ),
    AcquiredItem(
        "demonstration_generation",
        "demonstration",
        "Name the national bird of Zorbania.",
        "The national bird of Zorbania is the silver heron.",
        call_position=2,
    ),
    AcquiredItem(
        "information_retrieval",
        "document",
        "Zorbania",
        "Zorbania is a small island nation whose capital is Quillport.",
        call_position=3,
    ),
]
# a few large steps, so that 4 examples visibly move the loss (the defaults are for real data);
# one thread, because on a busy machine two OpenMP threads can be ten times slower than one
QUICK = FinetuneConfig(max_steps=6, learning_rate=1e-3, max_length=128, threads=1)


@pytest.fixture
def adapters_here(tmp_path, monkeypatch):
    """Adapters go to a fresh folder (converted base weights stay in the shared cache)."""
    monkeypatch.setattr(finetune_module, "cache_dir", lambda: tmp_path)
    return tmp_path / "adapters"


def test_local_policies_map_to_transformers_weights_and_api_models_are_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    folder = base_weights(parse_spec(f"hf:{tmp_path}?batch_size=4"))
    assert (folder.folder, folder.backend, folder.options) == (tmp_path, "hf", {"batch_size": 4})
    served = base_weights(parse_spec(f"vllm:{tmp_path}"))
    assert (served.folder, served.backend) == (tmp_path, "vllm")
    with pytest.raises(UserError, match="needs local weights"):
        base_weights(parse_spec("openai:gpt-4o-mini"))
    with pytest.raises(UserError, match="needs local weights"):
        base_weights(parse_spec("http://127.0.0.1:8000/v1::Qwen2-7B"))
    with pytest.raises(UserError, match="already has an adapter"):
        base_weights(parse_spec(f"hf:embedded?adapter={tmp_path}"))


def test_the_adapted_spec_names_the_base_and_the_adapter_and_keeps_options(tmp_path):
    spec = parse_spec(
        adapted_spec(BaseWeights(tmp_path, "hf", "embedded", {"batch_size": 4}), tmp_path / "a")
    )
    assert (spec.backend, spec.target) == ("hf", "embedded")
    assert spec.options == {"batch_size": 4, "adapter": str(tmp_path / "a")}


def test_the_adapter_key_follows_weights_data_and_hyper_parameters_only():
    examples = [as_example(item, None) for item in FACTS]
    key = adapter_key("sha", None, examples, FinetuneConfig())
    assert key == adapter_key("sha", None, examples, FinetuneConfig(measure_loss=False, threads=1))
    assert key != adapter_key("other", None, examples, FinetuneConfig())
    assert key != adapter_key("sha", "Be brief.", examples, FinetuneConfig())
    assert key != adapter_key("sha", None, examples[:3], FinetuneConfig())
    assert key != adapter_key("sha", None, examples, FinetuneConfig(r=16))


def test_examples_use_the_policy_context_as_their_system_message():
    example = as_example(FACTS[3], "Be brief.")
    assert example["prompt"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Tell me about Zorbania."},
    ]
    assert example["completion"][0]["content"].startswith("Zorbania is a small island")


def test_config_comes_from_a_preset_plus_overrides_and_rejects_bad_values():
    learner = get_learner("finetune")
    gpu = learner.make_config({"preset": "gpu", "epochs": "1"})
    assert (gpu.r, gpu.max_length, gpu.epochs, gpu.bf16) == (16, 2048, 1.0, True)
    assert learner.make_config({"target_modules": "q_proj, v_proj"}).target_modules == (
        "q_proj",
        "v_proj",
    )
    with pytest.raises(UserError, match="no finetune preset"):
        learner.make_config({"preset": "tpu"})
    with pytest.raises(UserError, match="must be of type int"):
        learner.make_config({"r": "eight"})
    with pytest.raises(UserError, match="device"):
        learner.make_config({"device": "tpu"})


async def test_without_items_the_policy_is_returned_as_it_was(fresh_runtime):
    policy = Policy(fresh_runtime.model("http://127.0.0.1:9/v1::remote"))  # no weights needed
    same = await update(policy, [], runtime=fresh_runtime, task_id="t")
    assert same.model is policy.model and same.context is None and same.details["n_items"] == 0
    with pytest.raises(UserError, match="needs local weights"):
        await update(policy, FACTS, runtime=fresh_runtime, task_id="t")


@pytest.mark.model
async def test_fine_tuning_lowers_the_loss_answers_and_reuses_its_adapter(
    fresh_runtime, monkeypatch, adapters_here
):
    base = Policy(fresh_runtime.model("embedded"))
    tuned = await update(base, FACTS, runtime=fresh_runtime, task_id="t", config=QUICK)
    details, training = tuned.details, tuned.details["training"]
    assert (details["n_used"], details["reused"], training["steps"]) == (4, False, 6)
    assert all(math.isfinite(point["loss"]) for point in training["loss_curve"])
    assert training["probe_loss_after"] < training["probe_loss_before"]
    assert 0 < training["trainable_params"] < training["total_params"] / 100
    assert (
        tuned.model.spec.backend == "hf"
        and tuned.model.spec.options["adapter"] == details["adapter"]
    )
    assert details["adapter"].startswith(str(adapters_here))
    assert tuned.context is None

    question = tuned.messages(["What is the capital of Zorbania?"])
    request = ChatRequest(tuple(question), SamplingParams(max_tokens=24))
    [answer] = await tuned.model.generate([request])
    assert answer.ok and answer.text.strip()

    def no_training(*args, **kwargs):
        raise AssertionError("the adapter should have been reused, not retrained")

    monkeypatch.setattr(finetune_module, "train_lora", no_training)
    again = await update(base, FACTS, runtime=fresh_runtime, task_id="t", config=QUICK)
    assert again.details["reused"] is True
    assert again.details["adapter"] == details["adapter"]
    assert again.details["training"]["loss_curve"] == training["loss_curve"]


@pytest.mark.model
async def test_items_whose_prompt_fills_max_length_are_dropped_before_training(
    fresh_runtime, adapters_here
):
    long_question = AcquiredItem(
        "question_answering", "answer", "Why? " * 200, "Because.", call_position=0
    )
    repeat = FACTS[0]
    policy = await update(
        Policy(fresh_runtime.model("embedded")),
        [long_question, repeat, repeat],
        runtime=fresh_runtime,
        task_id="t",
        config=FinetuneConfig(max_length=64, max_steps=1, threads=1),
    )
    reasons = {row["index"]: row["reason"] for row in policy.details["items"] if not row["used"]}
    assert reasons[0].startswith("prompt too long") and reasons[2] == "duplicate of item 1"
    assert policy.details["n_used"] == 1


@pytest.mark.model
async def test_target_modules_the_architecture_lacks_are_a_user_error(fresh_runtime, adapters_here):
    config = FinetuneConfig(target_modules=("c_attn",), max_steps=1)
    with pytest.raises(UserError, match="target_modules"):
        await update(
            Policy(fresh_runtime.model("embedded")),
            FACTS[:1],
            runtime=fresh_runtime,
            task_id="t",
            config=config,
        )
    assert list(adapters_here.iterdir()) == []  # the half-made adapter was cleaned up
