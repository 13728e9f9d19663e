"""One chat-model interface, several backends, one response cache and one cost ledger."""

from ads_bench.models.client import ChatModel, Runtime, default_runtime, open_model
from ads_bench.models.ledger import Ledger, PriceTable, api_scope
from ads_bench.models.spec import ModelSpec, parse_spec
from ads_bench.models.types import (
    ROLES,
    ChatRequest,
    ChatResponse,
    Completion,
    SamplingParams,
    TokenLogprob,
    Usage,
)

__all__ = [
    "ROLES",
    "ChatModel",
    "ChatRequest",
    "ChatResponse",
    "Completion",
    "Ledger",
    "ModelSpec",
    "PriceTable",
    "Runtime",
    "SamplingParams",
    "TokenLogprob",
    "Usage",
    "api_scope",
    "default_runtime",
    "open_model",
    "parse_spec",
]
