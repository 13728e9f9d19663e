"""The APIs an optimizer can call: their arguments, and the names models use for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ads_bench.errors import UserError


@dataclass(frozen=True)
class ArgSpec:
    """One argument of an API. ``text`` arguments are non-empty strings; ``count`` ones are
    positive integers."""

    name: str
    kind: str  # "text" | "count"
    required: bool
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiSpec:
    """What a call to one API must look like. Arguments are listed in canonical order: the
    required one first, so a bare string or a first positional argument fills it."""

    name: str
    args: tuple[ArgSpec, ...]
    aliases: tuple[str, ...] = ()

    @property
    def primary_arg(self) -> str:
        return self.args[0].name


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


API_SPECS: dict[str, ApiSpec] = {
    spec.name: spec
    for spec in (
        ApiSpec(
            "information_retrieval",
            (
                ArgSpec("query", "text", True, _words("q search search_query keywords topic")),
                ArgSpec("k", "count", False, _words("top_k num_docs num_documents n count")),
            ),
            aliases=_words(
                "ir retrieval retrieve retriever search web_search wiki_search wikipedia "
                "wikipedia_search search_wikipedia info_retrieval document_retrieval "
                "knowledge_retrieval information"
            ),
        ),
        ApiSpec(
            "demonstration_generation",
            (
                ArgSpec(
                    "scenario", "text", True, _words("description task topic prompt instruction")
                ),
                ArgSpec("n", "count", False, _words("num count num_pairs number num_examples k")),
            ),
            aliases=_words(
                "demo demos demonstration demonstrations demo_generation demonstration_generator "
                "generate_demonstration generate_demonstrations generate_demos generate_examples "
                "example_generation dg"
            ),
        ),
        ApiSpec(
            "question_answering",
            (ArgSpec("question", "text", True, _words("q query prompt text")),),
            aliases=_words(
                "qa q_a question questions ask ask_expert expert expert_qa ask_question "
                "answer_question question_answer expert_question_answering"
            ),
        ),
    )
}

API_NAMES: tuple[str, ...] = tuple(API_SPECS)


def squash_name(name: str) -> str:
    """The form keys and names are compared in: camelCase split, lower case, punctuation and
    spaces dropped ("Question Answering" -> "questionanswering", "topK" -> "topk")."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "", spaced.lower())


def _squash_api(name: str) -> str:
    """:func:`squash_name`, also ignoring an "api" prefix or suffix ("QA_API", "api_search")."""
    squashed = squash_name(name)
    if squashed.endswith("api") and len(squashed) > 3:
        squashed = squashed[:-3]
    if squashed.startswith("api") and len(squashed) > 3:
        squashed = squashed[3:]
    return squashed


_API_BY_SQUASHED: dict[str, str] = {
    _squash_api(alias): spec.name
    for spec in API_SPECS.values()
    for alias in (spec.name, *spec.aliases)
}


def resolve_api_name(name: object) -> str | None:
    """The canonical API a model meant by ``name`` ("QA", "Question Answering", "search" ...),
    or None when it names no API."""
    if not isinstance(name, str):
        return None
    return _API_BY_SQUASHED.get(_squash_api(name))


def canonical_api_or_user_error(name: str, what: str) -> str:
    """The canonical API a user's config means by ``name``; ``what`` names the config field."""
    api = resolve_api_name(name)
    if api is None:
        raise UserError(f"unknown API {name!r} in {what}: use one of {', '.join(API_NAMES)}")
    return api
