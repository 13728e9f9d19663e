"""GGUF -> transformers checkpoint, once per weights file, for training and the ``hf:`` backend.

transformers dequantises a GGUF to plain fp32 but keeps a quantizer marker that blocks
``save_pretrained`` and the trainers; the weights are already plain, so the marker is cleared,
the model saved once as safetensors in the cache folder, and every later load is a normal one.
Greedy output of the converted model matches the GGUF-loaded one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from ads_bench.models.fingerprint import file_sha256
from ads_bench.paths import cache_dir

_lock = threading.Lock()


def quiet_hf_progress() -> None:
    """transformers and datasets draw progress bars for every load; ours already show the work.
    And peft/trl call transformers' renamed ``is_gradient_checkpointing``, which warns on every
    adapter load: nothing a user can act on, so that one message (only) is filtered."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass


def converted_dir(gguf_path: str | Path) -> Path:
    """The transformers folder for this GGUF, converting it on first use (atomic, ~30 s)."""
    gguf_path = Path(gguf_path).resolve()
    target = cache_dir() / "converted" / file_sha256(gguf_path)[:20]
    with _lock:
        if (target / "config.json").is_file():
            return target
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        quiet_hf_progress()
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
        try:
            model.save_pretrained(staging, safe_serialization=True)
            tokenizer.save_pretrained(staging)
            (staging / "SOURCE").write_text(f"converted from {gguf_path}\n")
            try:
                os.replace(staging, target)
            except OSError:  # another process finished first: keep theirs
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target


def embedded_hf_dir() -> Path:
    """The embedded SmolLM2 as a transformers folder (the fine-tune and trainer starting point)."""
    from ads_bench.models.embedded import embedded_gguf_path

    return converted_dir(embedded_gguf_path())


def local_weights_dir(spec: str) -> Path:
    """The transformers folder behind a local model spec, for training on it.

    ``embedded``/``hf:embedded`` -> the converted SmolLM2; ``gguf:/x.gguf``/``hf:/x.gguf`` -> its
    conversion; ``hf:/folder`` -> the folder. An adapter option is not part of the weights.
    """
    from ads_bench.errors import UserError
    from ads_bench.models.spec import parse_spec

    parsed = parse_spec(spec)
    if parsed.backend == "embedded":
        return converted_dir(parsed.target) if parsed.target else embedded_hf_dir()
    if parsed.backend in ("hf", "vllm"):
        if parsed.target == "embedded":
            return embedded_hf_dir()
        path = Path(parsed.target).expanduser()
        if path.is_file() and path.suffix == ".gguf":
            return converted_dir(path)
        if (path / "config.json").is_file():
            return path
    raise UserError(
        f"training needs local weights, and '{parsed.label}' has none here: use embedded, gguf:/path, "
        "hf:/path or vllm:/path"
    )
