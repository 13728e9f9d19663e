"""The offline vLLM engine (``vllm:/path/to/model``), for GPU machines: the ``gpu`` extra.

One engine per process takes the whole batch at once (vLLM schedules it with continuous
batching and prefix caching). LoRA adapters (``?adapter=DIR``) are served as LoRA requests on
the shared base weights, which is how trained optimizer checkpoints run at full speed.
Options: ``tensor_parallel_size``, ``gpu_memory_utilization``, ``max_model_len``, ``max_lora_rank``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ads_bench.errors import MissingExtra, UserError
from ads_bench.models.backend import BackendResult, option
from ads_bench.models.fingerprint import tree_sha256
from ads_bench.models.spec import ModelSpec
from ads_bench.models.types import ChatRequest, Completion, TokenLogprob, Usage

_ENGINES: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _structured(json_schema: str | None) -> dict[str, Any]:
    """vLLM's keyword for JSON-schema decoding: ``structured_outputs`` since 0.11, before that
    ``guided_decoding``."""
    if json_schema is None:
        return {}
    schema = json.loads(json_schema)
    try:
        from vllm.sampling_params import StructuredOutputsParams

        return {"structured_outputs": StructuredOutputsParams(json=schema)}
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(json=schema)}


class VLLMBackend:
    price_name = None

    def __init__(self, spec: ModelSpec):
        try:
            import vllm  # noqa: F401
        except ImportError as exc:
            raise MissingExtra("vllm", "gpu", f"the vLLM backend ('{spec.label}')") from exc
        self.spec = spec
        self.path = spec.target
        self.adapter = spec.options.get("adapter")
        if self.adapter and not (Path(self.adapter) / "adapter_config.json").is_file():
            raise UserError(f"adapter {self.adapter} has no adapter_config.json: pass a folder saved by peft")
        self.batch_size = option(spec, "batch_size", 4096)
        self.name = Path(self.path).name + (f"+{Path(self.adapter).name}" if self.adapter else "")
        local = Path(self.path)
        self.identity = {
            "engine": "vllm",
            "weights": tree_sha256(local) if local.is_dir() else self.path,
            "adapter_sha256": tree_sha256(self.adapter) if self.adapter else None,
        }
        self.context_window = option(spec, "max_model_len", None)
        self._llm = None
        self._lock = threading.Lock()

    def _engine_key(self) -> tuple:
        o = self.spec.options
        return (
            self.path,
            o.get("tensor_parallel_size", 1),
            o.get("gpu_memory_utilization", 0.85),
            o.get("max_model_len"),
            bool(self.adapter) or bool(o.get("enable_lora")),
        )

    async def start(self) -> None:
        if self._llm is None:
            self._llm = await asyncio.to_thread(self._load)
            if self.context_window is None:
                self.context_window = self._llm.llm_engine.model_config.max_model_len

    def _load(self) -> Any:
        from vllm import LLM

        key = self._engine_key()
        with _LOCK:
            if key not in _ENGINES:
                path, tp, memory, max_len, lora = key
                kwargs: dict[str, Any] = {
                    "model": path,
                    "tensor_parallel_size": tp,
                    "gpu_memory_utilization": memory,
                    "enable_prefix_caching": True,
                }
                if max_len:
                    kwargs["max_model_len"] = max_len
                if lora:
                    kwargs.update(enable_lora=True, max_lora_rank=option(self.spec, "max_lora_rank", 64))
                _ENGINES[key] = LLM(**kwargs)
            return _ENGINES[key]

    async def generate(self, requests: Sequence[ChatRequest]) -> list[BackendResult]:
        try:
            return await asyncio.to_thread(self._generate_sync, list(requests))
        except Exception as exc:
            return [exc for _ in requests]

    def _generate_sync(self, requests: list[ChatRequest]) -> list[BackendResult]:
        from vllm import SamplingParams

        lora = None
        if self.adapter:
            from vllm.lora.request import LoRARequest

            # a stable integer id per adapter path, as vLLM requires
            lora = LoRARequest(Path(self.adapter).name, abs(hash(self.adapter)) % (1 << 31) + 1, self.adapter)
        sampling = [
            SamplingParams(
                n=r.params.n,
                temperature=r.params.temperature,
                top_p=r.params.top_p,
                max_tokens=r.params.max_tokens,
                seed=r.params.seed,
                stop=list(r.params.stop) or None,
                logprobs=(r.params.top_logprobs or 1) if r.params.logprobs else None,
                **_structured(r.params.json_schema),
            )
            for r in requests
        ]
        started = time.perf_counter()
        with self._lock:
            outputs = self._llm.chat(
                [list(r.messages) for r in requests], sampling, lora_request=lora, use_tqdm=False
            )
        latency = (time.perf_counter() - started) / max(1, len(requests))
        results: list[BackendResult] = []
        for output in outputs:
            prompt_tokens = len(output.prompt_token_ids or [])
            completions = []
            for i, choice in enumerate(output.outputs):
                completions.append(
                    Completion(
                        text=choice.text,
                        finish_reason=choice.finish_reason,
                        usage=Usage(prompt_tokens if i == 0 else 0, len(choice.token_ids)),
                        logprobs=_logprobs(choice) if choice.logprobs else None,
                        latency_s=latency,
                        sample_index=i,
                    )
                )
            results.append(completions)
        return results

    async def count_tokens(self, text: str) -> int:
        await self.start()
        return len(self._llm.get_tokenizer().encode(text, add_special_tokens=False))

    async def aclose(self) -> None:
        """The engine holds the GPU for the process; other specs on the same weights reuse it."""


def _logprobs(choice: Any) -> tuple[TokenLogprob, ...]:
    out = []
    for token_id, step in zip(choice.token_ids, choice.logprobs, strict=False):
        chosen = step[token_id]
        ranked = sorted(step.values(), key=lambda lp: lp.rank or 0)
        out.append(
            TokenLogprob(
                chosen.decoded_token or "",
                float(chosen.logprob),
                tuple((lp.decoded_token or "", float(lp.logprob)) for lp in ranked),
            )
        )
    return tuple(out)
