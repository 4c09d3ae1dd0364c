"""Cross-encoder reranking: the real loading and scoring code, run on a tiny randomly initialised
BERT cross-encoder that the test builds and saves (no cross-encoder ships offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelNotAvailable
from rag.models import resolve_model_path
from rag.retrieval import Retriever
from rag.retrieval.rerank import Reranker, load_reranker
from rag.settings import Settings
from rag.types import Article


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-ce")
    tokenizer = BertTokenizerFast(vocab_file=str(resolve_model_path("all-MiniLM-L6-v2") / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_reranker_loads_and_scores_deterministically(tiny_cross_encoder: Path) -> None:
    reranker = Reranker(str(tiny_cross_encoder))
    texts = ["Troops arrive in Poland.", "Oil prices fell.", "Cocoa exports rose in Bahia."]
    scores = reranker.score("NATO troops", texts)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    np.testing.assert_allclose(scores, reranker.score("NATO troops", texts), rtol=1e-5)
    order = reranker.order("NATO troops", texts)
    assert sorted(i for i, _ in order) == [0, 1, 2]
    assert [s for _, s in order] == sorted((s for _, s in order), reverse=True)
    assert reranker.score("q", []).shape == (0,)
    assert load_reranker(str(tiny_cross_encoder)) is load_reranker(str(tiny_cross_encoder))


def test_missing_reranker_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailable, match="RAG_RETRIEVAL__RERANKER"):
        Reranker(str(tmp_path))  # an empty folder is not a cross-encoder


def test_retriever_reorders_top_hits_by_the_cross_encoder(
    tiny_cross_encoder: Path, make_hash_index, hash_settings: Settings
) -> None:
    articles = [
        Article(id=f"a{i}", title=f"Story {i}", text=text, date=f"2016-06-{i + 1:02d}")
        for i, text in enumerate(
            [
                "NATO troops arrive in Poland.",
                "Troops and tanks in the Baltics.",
                "Oil prices fell in London.",
                "Cocoa exports rose in Bahia.",
            ]
        )
    ]
    folder = make_hash_index(articles)
    settings = hash_settings.model_copy(deep=True)
    settings.retrieval.reranker = str(tiny_cross_encoder)
    settings.retrieval.rerank_top = 3
    hits = Retriever.open(folder, settings).search("troops", k=4).hits
    reranked = [h for h in hits if "rerank" in h.scores]
    assert len(reranked) == min(3, len(hits)) and reranked == hits[: len(reranked)]
    assert [h.score for h in reranked] == sorted((h.score for h in reranked), reverse=True)
    expected = Reranker(str(tiny_cross_encoder)).score("troops", [h.passage.text for h in reranked])
    np.testing.assert_allclose(sorted(expected, reverse=True), [h.score for h in reranked], rtol=1e-5)
