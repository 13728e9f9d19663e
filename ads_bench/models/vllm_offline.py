"""The offline vLLM engine (``vllm:/path/to/model``), for GPU machines: the ``gpu`` extra.

One engine per base weights per process takes the whole batch at once (vLLM schedules it with
continuous batching and prefix caching). Every spec on the same weights shares that engine:
LoRA adapters (``?adapter=DIR``) are LoRA requests on it, each with a stable id, so the policy
and every optimizer checkpoint trained on its weights run on one engine. Engines are built with
LoRA enabled for that reason (``?enable_lora=0`` turns it off for a weights path that never takes
an adapter). One lock per engine: vLLM's ``LLM.chat`` is not safe from two threads at once,
however many specs share the engine.

Engines on different weights divide the GPU explicitly: each takes its
``gpu_memory_utilization`` (default 0.85 for the first, and a second one must be given its
share), and a process whose engines would ask for more than :data:`GPU_MEMORY_CEILING` of the
GPU is refused with one line before the second engine loads, instead of running out of memory.
Options: ``tensor_parallel_size``, ``gpu_memory_utilization``, ``max_model_len``, ``max_lora_rank``,
``enable_lora``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.errors import MissingExtra, UserError
from ads_bench.models.backend import BackendResult, option
from ads_bench.models.fingerprint import tree_sha256
from ads_bench.models.spec import ModelSpec
from ads_bench.models.types import ChatRequest, Completion, TokenLogprob, Usage

#: the share of one GPU that all engines of a process may ask for together (vLLM's own default
#: for one engine is 0.9)
GPU_MEMORY_CEILING = 0.9
DEFAULT_GPU_MEMORY_UTILIZATION = 0.85


@dataclass
class _Engine:
    llm: Any
    memory: float
    lock: threading.Lock = field(default_factory=threading.Lock)  # LLM.chat from one thread at a time
    lora_ids: dict[str, int] = field(default_factory=dict)  # adapter content hash -> LoRA request id

    def lora_id(self, adapter_sha256: str) -> int:
        """A LoRA request id that is unique on this engine and stable for the adapter's content
        (vLLM caches adapters by id: two adapters must never share one, and one adapter served
        under two specs should not load twice)."""
        with self.lock:
            return self.lora_ids.setdefault(adapter_sha256, len(self.lora_ids) + 1)


_ENGINES: dict[tuple, _Engine] = {}
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
        self._engine: _Engine | None = None

    @property
    def _llm(self) -> Any:
        return self._engine.llm if self._engine else None

    def _engine_key(self) -> tuple:
        """What makes two specs need different engines: the weights and how they are laid out.
        An adapter is not part of it (it is a request on the engine of its base weights)."""
        o = self.spec.options
        return (str(Path(self.path).resolve()) if Path(self.path).exists() else self.path,
                int(o.get("tensor_parallel_size", 1)), o.get("max_model_len"))

    async def start(self) -> None:
        if self._engine is None:
            self._engine = await asyncio.to_thread(self._load)
            if self.context_window is None:
                self.context_window = self._llm.llm_engine.model_config.max_model_len

    def _load(self) -> _Engine:
        key = self._engine_key()
        with _LOCK:
            if key in _ENGINES:
                return _ENGINES[key]
            memory = float(self.spec.options.get("gpu_memory_utilization", DEFAULT_GPU_MEMORY_UTILIZATION))
            taken = sum(engine.memory for engine in _ENGINES.values())
            if taken + memory > GPU_MEMORY_CEILING + 1e-9:
                raise UserError(
                    f"vLLM engine for {self.path} would take gpu_memory_utilization={memory:g} on top of "
                    f"{taken:g} already taken by {len(_ENGINES)} other engine(s) in this process: give each "
                    f"spec ?gpu_memory_utilization= so that they sum to at most {GPU_MEMORY_CEILING:g}, or "
                    "serve the checkpoints as adapters on one base (?adapter=DIR)"
                )
            from vllm import LLM

            path, tp, max_len = key
            kwargs: dict[str, Any] = {
                "model": self.path,
                "tensor_parallel_size": tp,
                "gpu_memory_utilization": memory,
                "enable_prefix_caching": True,
            }
            if max_len:
                kwargs["max_model_len"] = max_len
            if str(self.spec.options.get("enable_lora", "1")).lower() not in ("0", "false", "no"):
                kwargs.update(enable_lora=True, max_lora_rank=option(self.spec, "max_lora_rank", 64))
            elif self.adapter:
                raise UserError(f"{self.spec.label}: an adapter needs LoRA on its engine: drop enable_lora=0")
            _ENGINES[key] = _Engine(LLM(**kwargs), memory)
            return _ENGINES[key]

    async def generate(self, requests: Sequence[ChatRequest]) -> list[BackendResult]:
        try:
            return await asyncio.to_thread(self._generate_sync, list(requests))
        except Exception as exc:
            return [exc for _ in requests]

    def _generate_sync(self, requests: list[ChatRequest]) -> list[BackendResult]:
        from vllm import SamplingParams

        lora = None
        engine = self._engine
        if self.adapter:
            from vllm.lora.request import LoRARequest

            sha = self.identity["adapter_sha256"]
            lora = LoRARequest(f"{Path(self.adapter).name}-{sha[:12]}", engine.lora_id(sha), str(self.adapter))  # type: ignore[arg-type, index, union-attr]
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
        with engine.lock:  # type: ignore[union-attr]
            outputs = engine.llm.chat(  # type: ignore[union-attr]
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
