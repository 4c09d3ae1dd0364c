"""Export a sentence-transformers model to ONNX (fp32, then dynamic int8), cached on disk.

The cache key is model name + a hash of the weight files, so a changed model is exported
again and an unchanged one never is. Every file is written under a temporary name and
renamed into place, so a killed export leaves no half-written model behind.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from rag.models import weights_hash

EXPORT_VERSION = 2  # bump when the export recipe changes, so cached exports are redone


def cache_folder(cache_dir: str | Path, model_name: str, model_path: Path) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name.strip("/"))[-60:]
    return Path(cache_dir) / f"{safe}-{weights_hash(model_path)}-x{EXPORT_VERSION}"


def atomic_target(final: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=final.name + ".", suffix=".part", dir=final.parent)
    os.close(fd)
    return Path(tmp)


def export_fp32(model_path: Path, out: Path) -> Path:
    """Trace the transformer + mean pooling + L2 normalisation into one ONNX graph."""
    if out.is_file():
        return out
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_path), device="cpu")
    bert: Any = st[0].auto_model
    bert.eval()
    # Eager attention adds a (batch, 1, 1, seq) mask; the SDPA path of transformers 5 traces
    # into Where/IsNaN over (batch, heads, seq, seq), which was 27% of int8 run time.
    if hasattr(bert, "set_attn_implementation"):
        bert.set_attn_implementation("eager")
    else:
        bert.config._attn_implementation = "eager"

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            # keyword arguments: transformers 5 reordered BertModel's positional parameters
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "seq"}
    tmp = atomic_target(out)
    try:
        with torch.no_grad():
            torch.onnx.export(
                Pooled().eval(),
                (dummy, dummy, torch.zeros_like(dummy)),
                str(tmp),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["sentence_embedding"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                              "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def quantize_int8(fp32: Path, out: Path) -> Path:
    """Dynamic int8 quantisation of the MatMul weights (activations quantised at run time).

    per_channel=True keeps one scale per output column instead of one per matrix; it is what
    keeps the int8 vectors close to fp32 (see eval/results/quant_quality.md).
    """
    if out.is_file():
        return out
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = atomic_target(out)
    try:
        quantize_dynamic(
            str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def exported_model(cache_dir: str | Path, model_name: str, model_path: Path, backend: str) -> Path:
    """Path of the cached ONNX file for `backend` ("onnx" or "onnx-int8"), exporting it if missing."""
    folder = cache_folder(cache_dir, model_name, model_path)
    fp32 = export_fp32(model_path, folder / "model-fp32.onnx")
    if backend == "onnx":
        return fp32
    return quantize_int8(fp32, folder / "model-int8.onnx")
