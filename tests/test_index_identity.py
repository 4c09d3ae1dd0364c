"""What an index's vectors depend on: model, backend and ONNX export recipe are recorded and enforced,
and rebuilding an index keeps the files the app keeps in its folder (feedback.jsonl)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest

import rag.manifest as manifest_module
from rag.embedding import HashEmbedder
from rag.embedding.cache import EmbeddingJournal
from rag.embedding.onnx_export import EXPORT_VERSION
from rag.errors import IndexMismatch
from rag.indexer import index_articles
from rag.models import DEFAULT_MODEL
from rag.settings import Settings
from rag.store import Store
from rag.types import Article
from rag.ui.feedback import FEEDBACK_FILE, append_jsonl, read_feedback


class FakeOnnx(HashEmbedder):
    """Hash vectors that report an ONNX backend, so the recipe rules apply without the real model."""

    backend = "onnx-int8"


def _articles(n: int, version: str = "") -> list[Article]:
    return [Article(id=f"a{i}", title=f"Report {i}", date="2020-01-01",
                    text=f"Report {i}{version} says the council met on Tuesday. It voted on item {i}.")
            for i in range(n)]


def _with(settings: Settings, **embedding: str) -> Settings:
    return settings.model_copy(update={"embedding": settings.embedding.model_copy(update=embedding)})


@pytest.fixture
def onnx_settings(hash_settings: Settings) -> Settings:
    """Build settings for FakeOnnx: a real model name, because an ONNX backend chunks with its tokenizer."""
    return _with(hash_settings, model=DEFAULT_MODEL, backend="onnx-int8")


def test_manifest_records_backend_and_recipe(tmp_path: Path, hash_settings: Settings,
                                             onnx_settings: Settings) -> None:
    index_articles(_articles(3), tmp_path / "onnx", onnx_settings, embedder=FakeOnnx(64))
    data = json.loads((tmp_path / "onnx" / "manifest.json").read_text())
    assert (data["backend"], data["export_recipe"]) == ("onnx-int8", EXPORT_VERSION)
    index_articles(_articles(3), tmp_path / "hash", hash_settings)
    data = json.loads((tmp_path / "hash" / "manifest.json").read_text())
    assert (data["backend"], data["export_recipe"]) == ("hash", None)  # no export, no recipe


def test_recipe_change_reembeds_everything(
    tmp_path: Path, onnx_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    first = index_articles(_articles(4), index, onnx_settings, embedder=FakeOnnx(64))
    assert index_articles(_articles(4), index, onnx_settings, embedder=FakeOnnx(64)).nothing_to_do
    monkeypatch.setattr("rag.embedding.EXPORT_VERSION", EXPORT_VERSION + 1)
    report = index_articles(_articles(4), index, onnx_settings, embedder=FakeOnnx(64))
    expected = f"the ONNX export recipe changed (x{EXPORT_VERSION} -> x{EXPORT_VERSION + 1})"
    assert report.full_reason == expected
    assert report.embedded == report.passages == first.passages
    assert "Re-embedded everything" in report.summary()
    assert Store.open(index).manifest.export_recipe == EXPORT_VERSION + 1


def test_index_without_recorded_recipe_is_reembedded(tmp_path: Path, onnx_settings: Settings) -> None:
    index = tmp_path / "index"
    index_articles(_articles(2), index, onnx_settings, embedder=FakeOnnx(64))
    data = json.loads((index / "manifest.json").read_text())
    del data["export_recipe"]  # as written before recipes were recorded
    (index / "manifest.json").write_text(json.dumps(data))
    report = index_articles(_articles(2), index, onnx_settings, embedder=FakeOnnx(64))
    assert report.full_reason is not None and "does not record its ONNX export recipe" in report.full_reason
    assert report.embedded == report.passages


def test_store_queries_with_the_index_recipe_or_refuses(
    tmp_path: Path, onnx_settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "index"
    index_articles(_articles(2), index, onnx_settings, embedder=FakeOnnx(64))
    other_backend = _with(onnx_settings, model="hash-64", backend="torch")  # the index decides the backend
    store = Store.open(index, other_backend)
    assert store.stats()["backend"] == "onnx-int8" and store.embedder.dim == 64

    monkeypatch.setattr("rag.embedding.EXPORT_VERSION", EXPORT_VERSION + 1)
    stale = Store.open(index, other_backend)  # BM25-only use and the indexer may still open it
    refused = rf"export recipe changed \(x{EXPORT_VERSION} -> x{EXPORT_VERSION + 1}\)"
    with pytest.raises(IndexMismatch, match=refused) as err:
        _ = stale.embedder
    assert f"rag index PATH --index {index} --rebuild" in str(err.value)

    monkeypatch.setattr("rag.embedding.EXPORT_VERSION", EXPORT_VERSION)
    data = json.loads((index / "manifest.json").read_text())
    del data["export_recipe"]
    (index / "manifest.json").write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="rag.store"):
        assert Store.open(index).embedder.dim == 64  # unknown recipe: still served, with a warning
    assert "does not record its ONNX export recipe" in caplog.text


def test_journal_never_returns_another_recipes_vectors(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    vec = np.ones((1, 8), dtype=np.float32) / np.sqrt(8)
    journal = EmbeddingJournal(path, "m", "onnx-int8", 8, recipe=1)
    journal.put(["k"], vec)
    journal.close()
    for model, backend, recipe, found in [("m", "onnx-int8", 1, 1), ("m", "onnx-int8", 2, 0),
                                          ("m", "onnx", 1, 0), ("other", "onnx-int8", 1, 0)]:
        journal = EmbeddingJournal(path, model, backend, 8, recipe=recipe)
        assert len(journal.get(["k"])) == found, (model, backend, recipe)
        journal.close()
        journal = EmbeddingJournal(path, "m", "onnx-int8", 8, recipe=1)
        journal.put(["k"], vec)
        journal.close()


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_update_keeps_feedback_and_other_app_files(
    tmp_path: Path, hash_settings: Settings, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if exchange:
        calls: list[bool] = []
        real = manifest_module._exchange
        monkeypatch.setattr(manifest_module, "_exchange", lambda a, b: calls.append(real(a, b)) or calls[-1])
    else:
        monkeypatch.setattr(manifest_module, "_exchange", lambda a, b: False)
    index = tmp_path / "index"
    index_articles(_articles(3), index, hash_settings)
    for i in range(3):
        append_jsonl(index / FEEDBACK_FILE, {"rating": "up", "question": f"q{i} – ünïcode"})
    (index / "exports").mkdir()
    (index / "exports" / "chat.md").write_text("kept")
    before = (index / FEEDBACK_FILE).read_bytes()
    fd = os.open(index / FEEDBACK_FILE, os.O_WRONLY | os.O_APPEND)  # a writer holding the file open

    report = index_articles(_articles(5, " v2"), index, hash_settings)
    assert (report.added, report.changed) == (2, 3)
    assert (index / FEEDBACK_FILE).read_bytes() == before  # same content, nothing lost or doubled
    assert (index / "exports" / "chat.md").read_text() == "kept"
    os.write(fd, b'{"rating": "down", "question": "late"}\n')  # lands in the new index's file
    os.close(fd)
    assert [r["question"] for r in read_feedback(index)] == [f"q{i} – ünïcode" for i in range(3)] + ["late"]
    assert Store.open(index).stats()["articles"] == 5
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("index")) == ["index"]
    if exchange:
        assert calls == [True]  # Linux: the atomic exchange, not the fallback
