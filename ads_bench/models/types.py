"""The records every backend speaks: a chat request and the completions it gets back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["policy", "optimizer", "expert", "judge", "embedder"]
ROLES: tuple[str, ...] = ("policy", "optimizer", "expert", "judge", "embedder")

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}


@dataclass(frozen=True)
class SamplingParams:
    """How to sample. ``seed`` makes a sampled completion reproducible where the engine allows."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    seed: int | None = None
    n: int = 1
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    # JSON schema (as canonical JSON text, so params stay hashable) the output must follow;
    # engines that can constrain decoding do, the others sample freely (transformers: see hf.py)
    json_schema: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.stop, list):  # accept lists from callers and config files
            object.__setattr__(self, "stop", tuple(self.stop))
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.top_logprobs and not self.logprobs:
            object.__setattr__(self, "logprobs", True)

    def to_dict(self) -> dict[str, Any]:
        params = {**asdict(self), "stop": list(self.stop)}
        if self.json_schema is None:  # absent, not null: cache keys from before the field stay valid
            del params["json_schema"]
        return params


@dataclass(frozen=True)
class ChatRequest:
    """One conversation to continue. ``metadata`` travels with the request, never into the cache key."""

    messages: tuple[Message, ...]
    params: SamplingParams = field(default_factory=SamplingParams)
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.messages, tuple):
            object.__setattr__(self, "messages", tuple(self.messages))
        for message in self.messages:
            if not isinstance(message, dict) or "role" not in message or "content" not in message:
                raise ValueError(f"a message needs 'role' and 'content': {message!r}")

    @classmethod
    def user(cls, text: str, system: str | None = None, **params: Any) -> ChatRequest:
        """The common case: one user turn, optional system prompt, sampling params as keywords."""
        messages: list[Message] = []
        if system is not None:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": text})
        return cls(tuple(messages), SamplingParams(**params))


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()  # (token, logprob) alternatives, most likely first


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: prompt tokens the engine reused from its prefix cache (llama.cpp, vLLM, OpenAI report it)
    cached_prompt_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    """One sampled continuation.

    ``usage.prompt_tokens`` counts the prompt tokens *billed* for this completion: the prompt's
    length, except that when one engine call made several samples only sample 0 carries it
    (APIs bill a shared prompt once), so summing usage over completions gives the bill.
    """

    text: str
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    logprobs: tuple[TokenLogprob, ...] | None = None
    latency_s: float = 0.0
    sample_index: int = 0
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "usage": asdict(self.usage),
            "logprobs": None
            if self.logprobs is None
            else [
                {"token": t.token, "logprob": t.logprob, "top": [list(p) for p in t.top]}
                for t in self.logprobs
            ],
            "latency_s": self.latency_s,
            "sample_index": self.sample_index,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, cached: bool = False) -> Completion:
        logprobs = data.get("logprobs")
        return cls(
            text=data["text"],
            finish_reason=data.get("finish_reason"),
            usage=Usage(**data.get("usage", {})),
            logprobs=None
            if logprobs is None
            else tuple(
                TokenLogprob(t["token"], t["logprob"], tuple((a, b) for a, b in t.get("top", [])))
                for t in logprobs
            ),
            latency_s=data.get("latency_s", 0.0),
            sample_index=data.get("sample_index", 0),
            cached=cached,
        )


@dataclass
class ChatResponse:
    """What :meth:`ChatModel.generate` returns for one request: ``n`` completions, or an error."""

    request: ChatRequest
    completions: list[Completion] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def text(self) -> str:
        """The first completion's text (the usual n=1 case)."""
        if self.error is not None:
            raise RuntimeError(f"model call failed: {self.error}")
        return self.completions[0].text

    @property
    def cached(self) -> bool:
        return bool(self.completions) and all(c.cached for c in self.completions)


@dataclass(frozen=True)
class CallRecord:
    """What one engine call (or one cache hit) cost; the ledger sums these."""

    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cached: bool = False
    failed: bool = False
    engine_cached_prompt_tokens: int = 0
