"""Embedders: the hash fake's contract, backend resolution, and the real model's fast paths vs torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.embedding import AUTO_BACKEND, Embedder, HashEmbedder, load_embedder, resolve_backend
from rag.settings import Settings

CASES = ["", "a", "NATO troops", "NATO troops arrive in Poland", "£ unicode – dashes ü", "word " * 2000]


@pytest.mark.parametrize("dim", [8, 64, 384])
def test_hash_embedder_rows_are_unit_float32(dim: int) -> None:
    vecs = HashEmbedder(dim).embed(CASES)
    assert vecs.shape == (len(CASES), dim) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)


def test_hash_embedder_is_deterministic_and_lexical() -> None:
    a, b = HashEmbedder(64), HashEmbedder(64)
    np.testing.assert_array_equal(a.embed(CASES), b.embed(CASES))
    v = a.embed(["NATO troops in the Baltic", "the Baltic NATO troops", "banana bread recipe"])
    assert v[0] @ v[1] > 0.5 > abs(float(v[0] @ v[2]))
    assert a.embed([]).shape == (0, 64)
    assert isinstance(a, Embedder)


def test_hash_embedder_rejects_tiny_dim() -> None:
    with pytest.raises(ValueError, match="dim"):
        HashEmbedder(4)


@pytest.mark.parametrize(
    ("model", "backend", "expected"),
    [("all-MiniLM-L6-v2", "auto", AUTO_BACKEND), ("all-MiniLM-L6-v2", "torch", "torch"),
     ("/some/other/model", "auto", "onnx"), ("hash", "torch", "hash"), ("hash-128", "auto", "hash")],
)
def test_resolve_backend(model: str, backend: str, expected: str) -> None:
    settings = Settings.from_env({}, embedding={"model": model, "backend": backend})
    assert resolve_backend(settings.embedding) == expected


def test_load_embedder_hash_settings(hash_settings: Settings) -> None:
    emb = load_embedder(hash_settings.embedding)
    assert (emb.name, emb.dim) == ("hash-64", 64)


@pytest.mark.slow
def test_real_backends_agree_with_torch(sample_settings: Settings, sample_index: Path) -> None:
    """int8 must stay close to fp32 torch on real passages; the export is cached, not redone."""
    from rag.store import Store

    store = Store.open(sample_index, sample_settings)
    texts = [p.text for p in store.passages(range(len(store)))]
    int8 = load_embedder(sample_settings.embedding.model_copy(update={"backend": "onnx-int8"}))
    torch = load_embedder(sample_settings.embedding.model_copy(update={"backend": "torch"}))
    a, b = int8.embed(texts), torch.embed(texts)
    assert a.shape == b.shape == (len(texts), 384)
    cos = (a * b).sum(1)
    assert cos.min() > 0.97, f"int8 drifted from fp32: min cosine {cos.min():.4f}"
    cache = Path(sample_settings.embedding.cache_dir)
    assert {p.name for p in cache.rglob("*.onnx")} >= {"model-fp32.onnx", "model-int8.onnx"}
    assert not list(cache.rglob("*.part"))  # no half-written export left behind


@pytest.mark.slow
def test_real_model_finds_the_relevant_passage(sample_settings: Settings, sample_index: Path) -> None:
    from rag.store import Store

    store = Store.open(sample_index, sample_settings)
    assert store.manifest.backend == AUTO_BACKEND and store.manifest.dim == 384
    q = store.embedder.embed(["How many soldiers will the US, Germany and Britain each contribute?"])[0]
    (row, score), *_ = store.search(q, 3)
    best = store.passages([row])[0]
    assert "1,000 soldiers" in best.text and score > 0.4
    assert best.title.startswith("NATO orders four additional battalions")
