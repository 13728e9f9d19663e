"""Local transformers models: ``hf:/folder``, ``hf:/file.gguf``, ``hf:embedded``, ``?adapter=DIR``.

This is the path for fine-tuned policies and optimizers (LoRA adapters from the trainers).
Requests are grouped by sampling parameters and generated in padded batches, because a CPU
forward pass over 8 sequences costs little more than over one (measured on 2 CPU
cores: 15 tok/s at batch 1, 89 at batch 8). One seed per batch: a sampled answer is reproducible for the same
batch composition; the response cache makes every answer reproducible across reruns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.models.backend import BackendResult, option
from ads_bench.models.fingerprint import file_sha256, tree_sha256
from ads_bench.models.spec import ModelSpec
from ads_bench.models.types import ChatRequest, Completion, TokenLogprob, Usage
from ads_bench.utils.hashing import text_sha256

MAX_LOADED_ADAPTERS = 16

log = logging.getLogger(__name__)


class SharedModel:
    """One base model per weights folder, with any number of LoRA adapters attached by name.

    Every ``hf:`` spec on the same folder shares these weights — a run that fine-tunes one
    adapter per task holds one base model, not one per task; adapters beyond
    ``MAX_LOADED_ADAPTERS`` are unloaded, least recently used first. ``lock`` serialises
    generation because the active adapter is model-wide state.
    """

    def __init__(self, model_dir: Path):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from ads_bench.models.convert import quiet_hf_progress

        quiet_hf_progress()
        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
        if torch.cuda.is_available():
            model = model.to("cuda")
        model.eval()
        self.model = model
        self.adapters: list[str] = []  # loaded adapter names, least recently used first
        self.lock = threading.Lock()

    def activate(self, adapter: str | None) -> Any:
        """Make ``adapter`` (a folder, or None for the bare base) active; call under ``lock``."""
        if adapter is None:
            return contextlib.nullcontext() if not self.adapters else self.model.disable_adapter()
        from peft import PeftModel

        name = text_sha256(adapter, 16)
        if name not in self.adapters:
            if not self.adapters:
                self.model = PeftModel.from_pretrained(self.model, adapter, adapter_name=name)
            else:
                self.model.load_adapter(adapter, adapter_name=name)
            self.model.eval()
            self.adapters.append(name)
            if len(self.adapters) > MAX_LOADED_ADAPTERS:
                self.model.delete_adapter(self.adapters.pop(0))
        else:
            self.adapters.remove(name)
            self.adapters.append(name)
        self.model.set_adapter(name)
        return contextlib.nullcontext()


_SHARED: dict[str, SharedModel] = {}
_SHARED_LOCK = threading.Lock()


def shared_model(model_dir: Path) -> SharedModel:
    with _SHARED_LOCK:
        key = str(Path(model_dir).resolve())
        if key not in _SHARED:
            _SHARED[key] = SharedModel(Path(key))
        return _SHARED[key]


class HFBackend:
    price_name = None

    def __init__(self, spec: ModelSpec):
        from ads_bench.extras import require

        require("train", f"the hf: backend ('{spec.label}')")
        self.spec = spec
        self.adapter = spec.options.get("adapter")
        if self.adapter is not None:
            adapter_path = Path(str(self.adapter)).expanduser()
            if not (adapter_path / "adapter_config.json").is_file():
                raise UserError(
                    f"adapter {adapter_path} has no adapter_config.json: pass a folder saved by peft"
                )
            self.adapter = str(adapter_path.resolve())
        self.batch_size = option(spec, "batch_size", 8)
        self.name = Path(spec.target).name if spec.target != "embedded" else "SmolLM2-135M-Instruct (hf)"
        if self.adapter:
            self.name += f"+{Path(self.adapter).name}"
        self.context_window: int | None = None
        self._shared: SharedModel | None = None
        self._warned_schema = False
        target = spec.target
        if target == "embedded":
            from ads_bench.models.embedded import embedded_gguf_path

            weights = file_sha256(embedded_gguf_path())
        elif Path(target).is_file():
            weights = file_sha256(target)
        elif Path(target).is_dir():
            weights = tree_sha256(target)
        else:
            raise UserError(f"hf:{target}: no such file or folder; check the path")
        self.identity = {
            "engine": "transformers",
            "weights_sha256": weights,
            "adapter_sha256": tree_sha256(self.adapter) if self.adapter else None,
        }

    async def start(self) -> None:
        if self._shared is None:
            from ads_bench.models.convert import local_weights_dir

            model_dir = await asyncio.to_thread(local_weights_dir, f"hf:{self.spec.target}")
            self._shared = await asyncio.to_thread(shared_model, model_dir)
            self.context_window = getattr(self._shared.model.config, "max_position_embeddings", None)

    async def generate(self, requests: Sequence[ChatRequest]) -> list[BackendResult]:
        try:
            return await asyncio.to_thread(self._generate_sync, list(requests))
        except Exception as exc:  # one failing batch fails its requests, not the run
            return [exc for _ in requests]

    def _generate_sync(self, requests: list[ChatRequest]) -> list[BackendResult]:
        if not self._warned_schema and any(r.params.json_schema for r in requests):
            # transformers has no JSON-schema decoding of its own (xgrammar would add one, with
            # triton); after a short SFT most samples still did not parse here, which is why the
            # trainer samples a trained optimizer on llama.cpp or vLLM instead
            self._warned_schema = True
            log.info("%s: transformers cannot constrain output to a JSON schema; sampling freely", self.spec.label)
        groups: dict[Any, list[int]] = defaultdict(list)
        for i, request in enumerate(requests):
            groups[request.params].append(i)
        results: list[BackendResult] = [RuntimeError("not generated")] * len(requests)
        with self._shared.lock, self._shared.activate(self.adapter):  # type: ignore[union-attr]
            for params, indices in groups.items():
                outputs = self._batch([requests[i] for i in indices], params)
                for i, out in zip(indices, outputs, strict=True):
                    results[i] = out
        return results

    def _batch(self, requests: list[ChatRequest], params: Any) -> list[list[Completion]]:
        import torch

        model, tokenizer = self._shared.model, self._shared.tokenizer  # type: ignore[union-attr]
        prompts = [
            tokenizer.apply_chat_template(list(r.messages), tokenize=False, add_generation_prompt=True)
            for r in requests
        ]
        inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        if params.seed is not None:
            torch.manual_seed(params.seed)
        sample = params.temperature > 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "do_sample": sample,
            "num_return_sequences": params.n,
            "pad_token_id": tokenizer.pad_token_id,
            "return_dict_in_generate": True,
            "output_logits": params.logprobs,
        }
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=0)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=tokenizer)
        started = time.perf_counter()
        with torch.no_grad():
            output = model.generate(**inputs, **kwargs)
        # the batch's time, shared out so the ledger's seconds sum to engine time
        latency = (time.perf_counter() - started) / len(requests)
        prompt_len = inputs["input_ids"].shape[1]
        new_tokens = output.sequences[:, prompt_len:]
        eos_ids = _eos_ids(model, tokenizer)
        prompt_counts = inputs["attention_mask"].sum(dim=1).tolist()
        log_probs = (
            torch.stack(output.logits, dim=1).float().log_softmax(dim=-1) if params.logprobs else None
        )
        completions: list[list[Completion]] = [[] for _ in requests]
        for row in range(new_tokens.shape[0]):
            request_index, sample_index = divmod(row, params.n)
            ids = new_tokens[row].tolist()
            length = next((k for k, t in enumerate(ids) if t in eos_ids), len(ids))
            finished_by_eos = length < len(ids)
            text = tokenizer.decode(ids[:length], skip_special_tokens=True)
            text, stopped = _cut_at_stop(text, params.stop)
            completions[request_index].append(
                Completion(
                    text=text,
                    finish_reason="stop" if (finished_by_eos or stopped) else "length",
                    usage=Usage(prompt_counts[request_index] if sample_index == 0 else 0, length),
                    logprobs=_logprobs(log_probs[row, :length], ids[:length], tokenizer, params.top_logprobs)
                    if log_probs is not None
                    else None,
                    latency_s=latency,
                    sample_index=sample_index,
                )
            )
        return completions

    async def count_tokens(self, text: str) -> int:
        await self.start()
        return len(self._shared.tokenizer(text, add_special_tokens=False)["input_ids"])  # type: ignore[union-attr]

    async def aclose(self) -> None:
        """Weights stay loaded for the process (shared by every spec naming them)."""


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = model.generation_config.eos_token_id
    ids = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    cuts = [text.find(s) for s in stops if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def _logprobs(log_probs: Any, ids: list[int], tokenizer: Any, top: int) -> tuple[TokenLogprob, ...]:
    out = []
    for step, token_id in enumerate(ids):
        row = log_probs[step]
        alternatives: tuple[tuple[str, float], ...] = ()
        if top:
            values, indices = row.topk(top)
            alternatives = tuple(
                (tokenizer.decode([int(i)]), float(v)) for v, i in zip(values, indices, strict=True)
            )
        out.append(TokenLogprob(tokenizer.decode([token_id]), float(row[token_id]), alternatives))
    return tuple(out)
