"""Model spec strings: one string names a model and how to reach it.

Forms (options after ``?`` apply to every form, e.g. ``?concurrency=8&price_in=0.15``)::

    embedded                                   SmolLM2-135M-Instruct in-process (llama.cpp engine)
    gguf:/path/model.gguf                      any local GGUF through the same engine
    embedded?lora=A.gguf,B.gguf                GGUF LoRA adapters stacked on it (a trained optimizer)
    openai:gpt-4o-mini                         OpenAI (key from OPENAI_API_KEY)
    http://127.0.0.1:8000/v1::Qwen2-7B         any OpenAI-compatible server (vLLM, llama.cpp, SGLang, Ollama)
    http://a:8000/v1,http://b:8000/v1::Qwen2-7B   replicas of one model, load-balanced
    hf:/path/to/model  hf:/path/model.gguf  hf:embedded   local transformers (``?adapter=DIR`` for LoRA)
    vllm:/models/qwen2-7b                      offline vLLM engine (GPU extra; ``?adapter=DIR``)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ads_bench.errors import UserError

SPEC_HELP = (
    "use one of: embedded, gguf:/path/model.gguf, openai:MODEL, http://HOST:PORT/v1::MODEL, "
    "hf:/path/to/model, vllm:/path/to/model"
)

# scheme -> backend name in the ``ads_bench.backends`` registry
_SCHEME_TO_BACKEND = {
    "embedded": "embedded",
    "gguf": "embedded",
    "openai": "openai",
    "http": "http",
    "https": "http",
    "hf": "hf",
    "vllm": "vllm",
}


def _typed(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    return value


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: which backend, what it points at (path, model name, URLs), and options."""

    raw: str
    backend: str
    target: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    base_urls: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """A short human name for tables and logs (never contains secrets)."""
        return self.raw.split("?", 1)[0]


def _plugin_backend(scheme: str) -> str | None:
    """A backend another package registered (``ads_bench.backends``) is its own scheme."""
    from ads_bench.models.backend import BACKENDS  # imported on use: backend imports this module

    return scheme if scheme and scheme in BACKENDS else None


def parse_spec(raw: str) -> ModelSpec:
    """Parse a spec string; anything malformed is a :class:`UserError` that shows the valid forms."""
    text = (raw or "").strip()
    if not text:
        raise UserError(f"empty model spec: {SPEC_HELP}")
    options: dict[str, Any] = {}
    if "?" in text:
        text, query = text.rsplit("?", 1)
        try:
            pairs = parse_qsl(query, strict_parsing=True)
            if any(not key for key, _ in pairs):
                raise ValueError("empty option name")
        except ValueError as exc:
            raise UserError(
                f"bad options '?{query}' in model spec '{raw}': write them as ?key=value&key2=value2"
            ) from exc
        options = {key: _typed(value) for key, value in pairs}

    if text.startswith(("http://", "https://")):
        if "::" not in text:
            raise UserError(
                f"model spec '{raw}' names a server but no model: write URL::MODEL, "
                "e.g. http://127.0.0.1:8000/v1::Qwen2-7B-Instruct"
            )
        urls, model = text.rsplit("::", 1)
        base_urls = tuple(u.strip().rstrip("/") for u in urls.split(",") if u.strip())
        if not model or not base_urls:
            raise UserError(f"model spec '{raw}' needs URL::MODEL with both parts: {SPEC_HELP}")
        return ModelSpec(raw, "http", model, options, base_urls)

    scheme, sep, target = text.partition(":")
    if not sep:
        scheme, target = text, ""
    backend = _SCHEME_TO_BACKEND.get(scheme) or _plugin_backend(scheme)
    if backend is None:
        raise UserError(f"unknown model spec '{raw}': {SPEC_HELP}")
    if scheme == "embedded" and target:
        raise UserError(f"'embedded' takes no path (got '{raw}'); for another GGUF use gguf:/path")
    if scheme != "embedded" and not target:
        raise UserError(f"model spec '{raw}' is missing what it points at: {SPEC_HELP}")
    if scheme == "openai":
        return ModelSpec(raw, "openai", target, options, ())
    return ModelSpec(raw, backend, target, options)


def with_options(spec: str, **options: str) -> str:
    """``spec`` with ``options`` set (replacing any of the same name), paths left readable."""
    head, _, query = spec.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k not in options]
    return f"{head}?{urlencode([*kept, *options.items()], safe='/,:')}"
