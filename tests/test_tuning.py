"""Fine-tuning the embedder (`rag.tuning`, `rag tune`): pair mining, batching, the training loop on a
tiny randomly initialised model and on the real all-MiniLM-L6-v2, and indexes that notice when a model
folder's weights change under the same name."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.cli import main
from rag.errors import IndexMismatch, RagError
from rag.indexer import build_index
from rag.models import local_weights, resolve_model_path
from rag.settings import SAMPLE_CORPUS, Settings
from rag.store import Store
from rag.tuning import TUNE_FILE, Pair, TuneSettings, batches, fine_tune, judged_pairs


def _tiny_model(folder: Path, seed: int) -> Path:
    """A 2-layer, 32-wide BERT with mean pooling and normalisation, randomly initialised."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(seed)
    bert = folder / "bert"
    tokenizer = BertTokenizerFast(vocab_file=str(resolve_model_path("all-MiniLM-L6-v2") / "vocab.txt"))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(bert)
    tokenizer.save_pretrained(bert)
    word = models.Transformer(str(bert), max_seq_length=128)
    pool = models.Pooling(word.get_embedding_dimension(), "mean")
    out = folder / "model"
    SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu").save(str(out))
    shutil.rmtree(bert)
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_model(tmp_path_factory.mktemp("tiny-st"), seed=0)


PAIRS = [
    Pair("volcano eruption in Iceland", "Lava poured from the volcano near Reykjavik."),
    Pair("central bank raises rates", "The central bank lifted interest rates to fight inflation."),
    Pair("malaria vaccine approved", "Regulators approved the first malaria vaccine for children."),
    Pair("football league title", "The club won the league title after a late victory."),
    Pair("oil prices fall", "Crude oil prices fell for a third day on weak demand."),
    Pair("coffee exports rise", "Brazil's coffee exports rose sharply in March."),
]


@pytest.mark.parametrize("size", [1, 2, 3, 32])
def test_batches_keep_every_pair_once_and_never_repeat_a_text_in_a_batch(size: int) -> None:
    pairs = [*PAIRS, Pair(PAIRS[0].query, "another passage"), Pair("another query", PAIRS[1].positive)]
    out = batches(pairs, size, random.Random(1))
    def key(p: Pair) -> tuple[str, str]:
        return p.query, p.positive

    assert sorted(key(p) for b in out for p in b) == sorted(key(p) for p in pairs)
    for batch in out:
        assert 1 <= len(batch) <= size
        assert len({p.query for p in batch}) == len(batch)
        assert len({p.positive for p in batch}) == len(batch)


def test_judged_pairs_take_the_judged_articles_closest_passage(hash_index: Path) -> None:
    store = Store.open(hash_index)
    try:
        passages = store.passages(range(len(store)))
        article = passages[0].article_id
        queries = {"q1": "US troops sent to Poland", "q2": "a query about nothing judged"}
        qrels = {"q1": {article: 1, "not-in-corpus": 1}, "q2": {"missing": 1}, "q3": {article: 1}}
        pairs = judged_pairs(store, store.embedder, queries, qrels)
        rows = [i for i, p in enumerate(passages) if p.article_id == article]
        qvec = store.embedder.embed([queries["q1"]])[0]
        best = rows[int(np.argmax(store.vectors()[rows] @ qvec))]
    finally:
        store.close()
    assert len(pairs) == 1  # q2's article is unknown, q3 has no query text
    assert pairs[0].query == queries["q1"]
    assert passages[best].text in pairs[0].positive  # the embedded text: header + passage


def test_fine_tune_trains_and_saves_atomically(tiny_model: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "tuned"
    steps: list[float] = []
    fine_tune(tiny_model, PAIRS, out, TuneSettings(epochs=5, batch_size=3, lr=1e-3), source="unit",
              progress=lambda s, n, loss: steps.append(loss))
    record = json.loads((out / TUNE_FILE).read_text())
    assert record["pairs"] == 6 and record["steps"] == len(steps) == 10 and record["source"] == "unit"
    assert all(np.isfinite(steps))
    assert local_weights(str(out)) != local_weights(str(tiny_model))  # the weights moved
    assert [p.name for p in tmp_path.iterdir()] == ["tuned"]  # no temporary folder left behind
    vecs = SentenceTransformer(str(out), device="cpu").encode(["a query"], normalize_embeddings=True)
    assert vecs.shape == (1, 32)
    fine_tune(tiny_model, PAIRS[:2], out, TuneSettings(epochs=1, batch_size=2))  # replaces the old one
    assert json.loads((out / TUNE_FILE).read_text())["pairs"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["tuned"]


def test_fine_tune_refuses_too_few_pairs(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(RagError, match="at least 2"):
        fine_tune(tiny_model, PAIRS[:1], tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_real_model_fine_tune_pulls_pairs_together(tmp_path: Path) -> None:
    """all-MiniLM-L6-v2 itself, a few steps: the matched pairs' similarity rises against the rest."""
    from sentence_transformers import SentenceTransformer

    base = resolve_model_path("all-MiniLM-L6-v2")
    out = fine_tune(base, PAIRS, tmp_path / "minilm", TuneSettings(epochs=3, batch_size=6, lr=5e-5))

    def margin(path: Path) -> float:
        m = SentenceTransformer(str(path), device="cpu")
        s = m.encode([p.query for p in PAIRS]) @ m.encode([p.positive for p in PAIRS]).T
        return float(np.diag(s).mean() - s[~np.eye(len(PAIRS), dtype=bool)].mean())

    assert margin(out) > margin(base) + 0.02


def test_index_notices_changed_weights_in_the_same_folder(tiny_model: Path, tmp_path: Path,
                                                          model_cache: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    settings = Settings.from_env({}, embedding={"model": str(model), "backend": "torch",
                                                "cache_dir": str(model_cache)})
    index = tmp_path / "index"
    build_index([SAMPLE_CORPUS], index, settings)
    assert build_index([SAMPLE_CORPUS], index, settings).embedded == 0  # same weights: nothing to do
    fine_tune(tiny_model, PAIRS, model, TuneSettings(epochs=1, batch_size=3, lr=1e-3))
    store = Store.open(index, settings)
    try:
        with pytest.raises(IndexMismatch, match="weights of the model .* changed"):
            _ = store.embedder
    finally:
        store.close()
    report = build_index([SAMPLE_CORPUS], index, settings)
    assert report.full_reason and "weights" in report.full_reason
    assert report.embedded > 0


def test_cli_tune_refuses_the_test_split(tiny_beir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune", "--beir", str(tiny_beir), "--split", "test", "--out", "x"]) == 1
    assert "test split" in capsys.readouterr().err


def test_cli_tune_trains_on_a_beir_split(tiny_beir: Path, tiny_model: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    beir = tmp_path / "beir"
    shutil.copytree(tiny_beir, beir)
    (beir / "qrels" / "dev.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td4\t1\nq4\td3\t1\n")
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", "hash")
    out = tmp_path / "tuned"
    code = main(["tune", "--beir", str(beir), "--split", "dev", "--out", str(out), "--base",
                 str(tiny_model), "--index-root", str(tmp_path / "indexes"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "4 pairs from 4 queries (beir/dev)" in captured.err
    assert f"--set embedding.model={out}" in captured.out
    record = json.loads((out / TUNE_FILE).read_text())
    assert record["pairs"] == 4 and record["source"] == "beir/dev"


def test_cli_tune_trains_on_a_qa_file_over_an_index(hash_index: Path, tiny_model: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    store = Store.open(hash_index)
    articles = sorted({p.article_id for p in store.passages(range(len(store)))})
    store.close()
    qa = tmp_path / "tune_qa.jsonl"
    qa.write_text("\n".join(json.dumps(
        {"id": f"q{i}", "question": q, "gold_article_ids": [a], "answers": ["x"]}) for i, (q, a) in
        enumerate([("NATO troops in Poland", articles[0]), ("Ukraine and Russia", articles[1])])) + "\n")
    out = tmp_path / "tuned"
    code = main(["tune", "--qa", str(qa), "--index", str(hash_index), "--out", str(out), "--base",
                 str(tiny_model), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "2 pairs from 2 queries" in captured.err and "rag eval --beir" not in captured.out
    assert json.loads((out / TUNE_FILE).read_text())["pairs"] == 2
