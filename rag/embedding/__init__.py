"""Embed stage: passages (and queries) -> float32 L2-normalised vectors.

An embedder is anything with `name`, `dim` and `embed(texts) -> np.ndarray`. The registry is
the `backend` setting: "torch" (plain sentence-transformers), "onnx" (fp32 export),
"onnx-int8" (dynamic int8), "auto" (the fastest one that keeps retrieval quality, see
AUTO_BACKEND), and the model name "hash" / "hash-N" for the deterministic test fake.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from rag.embedding.hashing import HashEmbedder
from rag.embedding.onnx_export import EXPORT_VERSION
from rag.errors import ModelNotAvailable
from rag.models import DEFAULT_MODEL, resolve_model_path
from rag.settings import EmbeddingSettings

__all__ = ["AUTO_BACKEND", "Embedder", "HashEmbedder", "backend_of", "export_recipe", "load_embedder",
           "resolve_backend"]

log = logging.getLogger(__name__)

# Chosen from eval/results/quant_quality.md: on SciFact, int8 (per-channel, one text per run) stays
# within 0.005 nDCG@10 of torch fp32 for all-MiniLM-L6-v2 (+0.0007) and is the fastest CPU path
# (3.5x torch on the whole BBC set, eval/results/bench_index.md; OpenVINO bf16 was slower).
AUTO_BACKEND = "onnx-int8"


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def backend_of(embedder: Embedder) -> str:
    """The backend an embedder reports ("custom" for anything outside this package)."""
    return str(getattr(embedder, "backend", "custom"))


def export_recipe(backend: str) -> int | None:
    """The ONNX export recipe this code gives `backend`'s vectors; None where nothing is exported.

    Vectors are a function of model + backend + recipe: a recipe change moved them (cosine ~0.996
    between recipes 1 and 2) with every setting unchanged, so indexes and caches record all three.
    """
    return EXPORT_VERSION if backend in ("onnx", "onnx-int8") else None


def _hash_dim(model: str) -> int | None:
    if model == "hash":
        return 64
    if model.startswith("hash-") and model[5:].isdigit():
        return int(model[5:])
    return None


def resolve_backend(settings: EmbeddingSettings) -> str:
    """What `auto` means for this model, without loading anything.

    Only the default model has a measured int8 quality; other models get fp32 ONNX (same
    vectors as torch), and fall back to torch at load time if their export fails.
    """
    if _hash_dim(settings.model) is not None:
        return "hash"
    if settings.backend != "auto":
        return settings.backend
    default = settings.model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")
    return AUTO_BACKEND if default else "onnx"


_loaded: dict[tuple[str, str, int, str], Embedder] = {}
_lock = threading.Lock()


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder for these settings; loaded once per process (models take seconds to load)."""
    dim = _hash_dim(settings.model)
    if dim is not None:
        return HashEmbedder(dim)
    backend = resolve_backend(settings)
    key = (settings.model, backend, settings.batch_size, settings.cache_dir)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(settings, backend)
        return _loaded[key]


def _load(settings: EmbeddingSettings, backend: str) -> Embedder:
    from rag.embedding.backends import OnnxEmbedder, TorchEmbedder

    path = resolve_model_path(settings.model)
    if backend == "torch":
        return TorchEmbedder(settings.model, path, settings.batch_size)
    from rag.embedding.onnx_export import exported_model

    try:
        onnx_path = exported_model(settings.cache_dir, settings.model, path, backend)
    except Exception as exc:
        if settings.backend != "auto":
            raise ModelNotAvailable(
                f"Could not export {settings.model!r} to ONNX ({exc}).",
                help="Use --backend torch (or RAG_EMBEDDING__BACKEND=torch) for this model.",
            ) from exc
        log.warning("ONNX export of %s failed (%s); using torch", settings.model, exc)
        return TorchEmbedder(settings.model, path, settings.batch_size)
    return OnnxEmbedder(settings.model, path, onnx_path, backend, settings.batch_size)
