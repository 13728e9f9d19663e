"""The vLLM backend's engine sharing, against a fake ``vllm`` module (the real one needs a GPU;
``benchmarks/gpu_vllm_check.py`` runs the real path where one is lent):

- every spec on the same base weights shares one engine, LoRA adapters being requests on it;
- LoRA request ids are unique per adapter and stable for its content, never ``hash()``;
- one lock per engine: two specs never call ``chat`` from two threads at once;
- engines on different weights divide the GPU explicitly or are refused before they load;
- bf16 only where the GPU supports it; rsLoRA/DoRA adapters never export to llama.cpp.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from ads_bench.errors import UserError
from ads_bench.models import vllm_offline
from ads_bench.models.spec import parse_spec
from ads_bench.models.types import ChatRequest, SamplingParams


class FakeLLM:
    built: list[dict] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.inside = 0
        self.overlaps = 0
        self.lora_requests: list = []
        self.llm_engine = types.SimpleNamespace(model_config=types.SimpleNamespace(max_model_len=2048))
        FakeLLM.built.append(kwargs)

    def chat(self, conversations, sampling, lora_request=None, use_tqdm=True):
        self.inside += 1
        self.overlaps += self.inside > 1
        time.sleep(0.02)  # long enough for a second thread to walk in if nothing stops it
        self.inside -= 1
        self.lora_requests.append(lora_request)
        suffix = f" via {lora_request.lora_name}" if lora_request else ""
        return [types.SimpleNamespace(
            prompt_token_ids=[1, 2, 3],
            outputs=[types.SimpleNamespace(text=f"answer{suffix}", finish_reason="stop", token_ids=[7], logprobs=None)],
        ) for _ in conversations]


@pytest.fixture
def fake_vllm(monkeypatch):
    vllm = types.ModuleType("vllm")
    vllm.LLM = FakeLLM
    vllm.SamplingParams = lambda **kwargs: kwargs
    lora = types.ModuleType("vllm.lora")
    request = types.ModuleType("vllm.lora.request")
    request.LoRARequest = lambda name, lora_id, path: types.SimpleNamespace(lora_name=name, lora_int_id=lora_id, lora_path=path)
    for name, module in {"vllm": vllm, "vllm.lora": lora, "vllm.lora.request": request}.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(vllm_offline, "_ENGINES", {})
    FakeLLM.built = []
    return vllm


def _adapter(folder: Path, rank: int) -> str:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": rank, "lora_alpha": 16}))
    return str(folder)


def _generate(backend, text="hi"):
    async def go():
        await backend.start()
        return await backend.generate([ChatRequest(({"role": "user", "content": text},), SamplingParams(max_tokens=4))])
    return asyncio.run(go())


def test_the_policy_and_every_adapter_on_its_weights_share_one_engine(fake_vllm, tmp_path):
    weights = tmp_path / "qwen"
    weights.mkdir()
    first, second = _adapter(tmp_path / "it-0", 8), _adapter(tmp_path / "it-1", 16)
    backends = [vllm_offline.VLLMBackend(parse_spec(s)) for s in
                (f"vllm:{weights}", f"vllm:{weights}?adapter={first}", f"vllm:{weights}?adapter={second}")]
    for backend in backends:
        _generate(backend)
    assert len(FakeLLM.built) == 1
    assert FakeLLM.built[0]["enable_lora"] is True


def test_lora_ids_are_unique_per_adapter_and_stable_for_its_content(fake_vllm, tmp_path):
    weights = tmp_path / "qwen"
    weights.mkdir()
    first, second = _adapter(tmp_path / "a", 8), _adapter(tmp_path / "b", 16)
    for path in (first, second, first):
        _generate(vllm_offline.VLLMBackend(parse_spec(f"vllm:{weights}?adapter={path}")))
    [engine] = vllm_offline._ENGINES.values()
    ids = [request.lora_int_id for request in engine.llm.lora_requests]
    assert ids == [1, 2, 1]
    # the same content under another path is the same adapter: one id, loaded once
    copy = _adapter(tmp_path / "copy-of-a", 8)
    _generate(vllm_offline.VLLMBackend(parse_spec(f"vllm:{weights}?adapter={copy}")))
    assert engine.llm.lora_requests[-1].lora_int_id == 1


def test_two_specs_on_one_engine_never_call_chat_at_once(fake_vllm, tmp_path):
    weights = tmp_path / "qwen"
    weights.mkdir()
    adapter = _adapter(tmp_path / "a", 8)
    backends = [vllm_offline.VLLMBackend(parse_spec(f"vllm:{weights}")),
                vllm_offline.VLLMBackend(parse_spec(f"vllm:{weights}?adapter={adapter}"))]
    threads = [threading.Thread(target=_generate, args=(b,)) for b in backends * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [engine] = vllm_offline._ENGINES.values()
    assert len(engine.llm.lora_requests) == 8
    assert engine.llm.overlaps == 0


def test_engines_on_different_weights_divide_the_gpu_or_are_refused_before_loading(fake_vllm, tmp_path):
    policy, other = tmp_path / "policy", tmp_path / "other"
    policy.mkdir()
    other.mkdir()
    _generate(vllm_offline.VLLMBackend(parse_spec(f"vllm:{policy}")))  # takes the default 0.85
    with pytest.raises(UserError, match="gpu_memory_utilization"):
        _generate(vllm_offline.VLLMBackend(parse_spec(f"vllm:{other}")))
    assert len(FakeLLM.built) == 1  # refused before it loaded

    vllm_offline._ENGINES.clear()
    FakeLLM.built.clear()
    for path in (policy, other):
        _generate(vllm_offline.VLLMBackend(parse_spec(f"vllm:{path}?gpu_memory_utilization=0.45")))
    assert [kwargs["gpu_memory_utilization"] for kwargs in FakeLLM.built] == [0.45, 0.45]


def test_bf16_is_used_only_where_the_gpu_supports_it(monkeypatch):
    torch = pytest.importorskip("torch")
    from ads_bench.optimizer import training

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # a T4 or V100
    assert training._device_args()["bf16"] is False
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert training._device_args()["bf16"] is True


@pytest.mark.parametrize("flag", ["use_rslora", "use_dora"])
def test_rslora_and_dora_adapters_are_refused_by_the_llama_cpp_export(tmp_path, flag):
    from ads_bench.models.lora_gguf import export_lora_gguf

    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 8, "lora_alpha": 16, flag: True}))
    with pytest.raises(UserError, match="alpha/r"):
        export_lora_gguf(tmp_path, tmp_path / "base.gguf")
