"""A PEFT LoRA adapter as a llama.cpp GGUF adapter, so a trained optimizer runs on the embedded engine.

Why: transformers cannot constrain sampling to the trajectory schema, and the optimizer trained
on SmolLM2 samples 7x slower there than on llama.cpp. llama.cpp applies GGUF LoRA adapters to the
quantised base at run time (``embedded?lora=A.gguf,B.gguf``), with grammar-constrained decoding.

The format is the one llama.cpp's own ``convert_lora_to_gguf.py`` writes: ``general.type =
adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``, and per adapted weight ``W`` the
tensors ``W.lora_a`` (r x in) and ``W.lora_b`` (out x r), named as in the base GGUF. We write it
ourselves because that script ships only in llama.cpp's source tree, not in the ``gguf`` wheel.
The one subtlety is llama's rotary layout: the GGUF converter permutes the rows of q_proj and
k_proj (transformers un-permutes them when it loads a GGUF), so ``lora_b`` of those two gets the
same row permutation — ``(P B) A = P (B A)``.

Adapters stack: the DPO adapter of iteration t was trained on the base with every earlier adapter
merged in, so the base plus all of them, each at scale 1, is that iteration's optimizer.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ads_bench.errors import UserError

GGUF_ADAPTER_NAME = "adapter.gguf"
_PEFT_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<side>[AB])\.weight$")


def _field(reader, key: str):
    field = reader.fields.get(key)
    return None if field is None else field.contents()


def llama_rope_permute(rows: np.ndarray, n_head: int) -> np.ndarray:
    """The row order llama.cpp's converter gives q_proj/k_proj (``n_head`` = the kv heads for k)."""
    return rows.reshape(n_head, 2, rows.shape[0] // n_head // 2, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def export_lora_gguf(adapter_dir: str | Path, base_gguf: str | Path, out: str | Path | None = None) -> Path:
    """Write ``adapter_dir`` (a PEFT LoRA adapter of the model in ``base_gguf``) as a GGUF adapter."""
    import gguf
    from safetensors.numpy import load_file

    adapter_dir = Path(adapter_dir)
    out = Path(out) if out is not None else adapter_dir / GGUF_ADAPTER_NAME
    config_path = adapter_dir / "adapter_config.json"
    if not config_path.is_file():
        raise UserError(f"{adapter_dir} is not a LoRA adapter folder (no adapter_config.json)")
    config = json.loads(config_path.read_text())
    if config.get("peft_type") != "LORA" or config.get("rank_pattern") or config.get("alpha_pattern"):
        raise UserError(f"{adapter_dir}: only plain LoRA adapters (one rank and alpha) export to llama.cpp")
    # llama.cpp scales every LoRA by alpha/r and knows no magnitude vector: an rsLoRA adapter
    # (alpha/sqrt(r)) would run at the wrong strength and a DoRA one without its magnitudes
    for flag, name in (("use_rslora", "rsLoRA"), ("use_dora", "DoRA")):
        if config.get(flag):
            raise UserError(f"{adapter_dir}: {name} adapters ({flag}: true) do not export to llama.cpp, whose "
                            "LoRA scaling is alpha/r: train with plain LoRA, or serve it with hf: or vllm:")

    reader = gguf.GGUFReader(str(base_gguf))
    arch = _field(reader, "general.architecture")
    if arch != "llama":  # the rotary permutation below is llama's; others need their own
        raise UserError(f"exporting LoRA to GGUF supports llama-architecture bases, not {arch!r}")
    n_blocks = int(_field(reader, f"{arch}.block_count"))
    n_head = int(_field(reader, f"{arch}.attention.head_count"))
    n_head_kv = int(_field(reader, f"{arch}.attention.head_count_kv") or n_head)
    base_tensors = {t.name: t for t in reader.tensors}
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_blocks)

    handle, staging = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}-")
    os.close(handle)  # the writer opens the path itself
    writer_path = Path(staging)
    try:
        writer = gguf.GGUFWriter(str(writer_path), arch)
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
        for key, tensor in sorted(load_file(str(adapter_dir / "adapter_model.safetensors")).items()):
            match = _PEFT_KEY.match(key)
            if match is None:
                raise UserError(f"{adapter_dir}: unexpected tensor {key} (only LoRA A/B weights export)")
            module, side = match["module"], match["side"]
            target = names.get_name(f"{module}.weight", try_suffixes=(".weight",))
            if target is None or target not in base_tensors:
                raise UserError(f"{adapter_dir}: {module} has no counterpart in {Path(base_gguf).name}")
            data = tensor.astype(np.float32)
            if side == "B" and module.endswith(("q_proj", "k_proj")):
                data = llama_rope_permute(data, n_head if module.endswith("q_proj") else n_head_kv)
            writer.add_tensor(f"{target}.lora_{side.lower()}", np.ascontiguousarray(data))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(writer_path, out)
    finally:
        writer_path.unlink(missing_ok=True)
    return out
