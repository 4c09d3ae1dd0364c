"""Shards: a BBC subset indexed whole and as 2 shards merged gives the same index and the same search
results, with nothing re-embedded (real FAISS, real BM25, the hash embedder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.cli import main
from rag.errors import IndexMismatch, RagError
from rag.indexer import build_index
from rag.manifest import Manifest
from rag.retrieval.retriever import Retriever
from rag.settings import Settings
from rag.shards import build_shard, merge_indexes, parse_shard, shard_of
from rag.store import Store
from rag.types import Filters, Hit

BBC = Path("/work/shared/data/bbc-news")
QUERIES = ["broadband prices in Europe", "mobile phone games", "oil prices and the dollar",
           "bank interest rates", "music downloads"]


def _kind(settings: Settings, kind: str) -> Settings:
    return settings.model_copy(update={"index": settings.index.model_copy(update={"kind": kind})})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, hash_settings_session: Settings) -> dict[str, Path]:
    if not BBC.is_dir():
        pytest.skip("BBC data not present")
    root = tmp_path_factory.mktemp("shards")
    corpus = root / "corpus"
    for section in ("business", "tech"):  # a folder per section, as the BBC set comes
        (corpus / section).mkdir(parents=True)
        for f in sorted((BBC / section).glob("*.txt"))[:25]:
            shutil.copy(f, corpus / section / f.name)
    s = hash_settings_session
    out = {"whole": root / "whole", "s0": root / "s0", "s1": root / "s1", "merged": root / "merged"}
    build_index([corpus], out["whole"], s)
    for i in range(2):
        build_shard([corpus], out[f"s{i}"], s, (i, 2))
    merge_indexes([out["s0"], out["s1"]], out["merged"], s)
    out["corpus"] = corpus
    return out


def _ids(folder: Path) -> set[str]:
    store = Store.open(folder)
    try:
        return {a.id for a, _ in store.articles()}
    finally:
        store.close()


def _untied(hits: list[Hit]) -> list[str]:
    """The passages, in order, whose score no other hit shares (ties may swap places)."""
    return [h.passage.id for h in hits if sum(x.score == h.score for x in hits) == 1]


def test_shards_split_the_articles(built: dict[str, Path]) -> None:
    whole, s0, s1 = (_ids(built[k]) for k in ("whole", "s0", "s1"))
    assert s0 and s1 and not s0 & s1 and s0 | s1 == whole
    assert all(shard_of(a, 2) == 0 for a in s0) and all(shard_of(a, 2) == 1 for a in s1)
    assert shard_of("c0fb8057f00ebe3f", 7) == 0  # sha256, not Python's salted hash: the same everywhere
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "x", "1/0", "-1/2"):
        with pytest.raises(RagError):
            parse_shard(bad)


def test_merged_index_equals_the_whole_one(built: dict[str, Path], hash_settings_session: Settings) -> None:
    whole_m, merged_m = Manifest.read(built["whole"]), Manifest.read(built["merged"])
    assert (merged_m.articles, merged_m.passages) == (whole_m.articles, whole_m.passages)
    assert merged_m.corpus_fingerprint == whole_m.corpus_fingerprint
    assert merged_m.index_kind == whole_m.index_kind == "flat"
    assert [o["dir"] for o in merged_m.extra["merged_from"]] == [str(built["s0"]), str(built["s1"])]
    whole = Retriever.open(built["whole"], hash_settings_session)
    merged = Retriever.open(built["merged"], hash_settings_session)
    # the same passages with the same vectors, under new row numbers
    rows = {p.id: r for r, p in enumerate(merged.store.passages(range(len(merged.store))))}
    for r, p in enumerate(whole.store.passages(range(len(whole.store)))):
        assert merged.store.passages([rows[p.id]])[0] == p
        assert np.array_equal(merged.store.vectors([rows[p.id]]), whole.store.vectors([r]))
    for mode in ("bm25", "dense", "hybrid"):
        for q in QUERIES:
            a = whole.search(q, k=8, mode=mode)
            b = merged.search(q, k=8, mode=mode)
            got = {h.passage.id: h.score for h in b.hits}
            assert len(a.hits) == len(b.hits) > 0
            # equal scores may swap places (rows are numbered differently), so compare as a mapping
            assert {h.passage.id for h in a.hits} == set(got), (mode, q)
            assert all(abs(got[h.passage.id] - h.score) < 1e-5 for h in a.hits)
            assert _untied(a.hits) == _untied(b.hits)
    business = Filters(sections=("business",))
    a, b = whole.search("prices", k=5, filters=business), merged.search("prices", k=5, filters=business)
    assert [h.passage.id for h in a.hits] == [h.passage.id for h in b.hits]
    sections = {getattr(merged.store.article(h.passage.article_id), "metadata", {}).get("category")
                for h in b.hits}
    assert len(b.hits) == 5 and sections == {"business"}
    whole.store.close()
    merged.store.close()


def test_ivfpq_shards_merge_into_ivfpq(built: dict[str, Path], hash_settings_session: Settings,
                                       tmp_path: Path) -> None:
    """IVF-PQ shards (exact vectors kept as fp16) merge into one IVF-PQ index trained once over all."""
    s = _kind(hash_settings_session, "ivfpq")
    shards = [tmp_path / f"q{i}" for i in range(2)]
    for i, folder in enumerate(shards):
        build_shard([built["corpus"]], folder, s, (i, 2))
    out = tmp_path / "merged"
    report = merge_indexes(shards, out, s)
    assert report.kind == "ivfpq" and report.passages == Manifest.read(built["whole"]).passages
    info = Manifest.read(out).extra["ivfpq"]
    assert info["recall_at_10"] >= 0.9
    f16 = np.concatenate([np.load(f / "vectors.f16.npy") for f in shards])
    assert np.array_equal(np.load(out / "vectors.f16.npy"), f16)  # the exact copies, untouched
    flat, merged = Store.open(built["whole"]), Store.open(out)
    q = flat.embedder.embed(QUERIES)
    found = sum(len({p.id for p in flat.passages([r for r, _ in flat.search(v, 10)])}
                    & {p.id for p in merged.passages([r for r, _ in merged.search(v, 10)])}) for v in q)
    assert found / (10 * len(QUERIES)) >= 0.9
    flat.close()
    merged.close()


def test_merge_refuses_overlaps_and_mismatches(built: dict[str, Path], hash_settings_session: Settings,
                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(built["merged"], out)
    before = Manifest.read(out)
    with pytest.raises(IndexMismatch, match="in both"):
        merge_indexes([built["s0"], built["whole"]], out, hash_settings_session)
    other = hash_settings_session.model_copy(update={
        "chunking": hash_settings_session.chunking.model_copy(update={"max_tokens": 64})})
    odd = tmp_path / "odd"
    build_shard([built["corpus"]], odd, other, (1, 2))
    with pytest.raises(IndexMismatch, match="chunking"):
        merge_indexes([built["s0"], odd], out, hash_settings_session)
    with pytest.raises(RagError, match="two"):
        merge_indexes([built["s0"]], out, hash_settings_session)
    assert Manifest.read(out) == before  # a refused merge leaves the index there as it was
    assert not list(tmp_path.glob("out.tmp-*"))


def test_cli_shard_and_merge(built: dict[str, Path], hash_settings: Settings, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", "hash")
    monkeypatch.setenv("RAG_EMBEDDING__CACHE_DIR", hash_settings.embedding.cache_dir)
    for i in range(2):
        assert main(["index", str(built["corpus"]), "--index", str(tmp_path / f"c{i}"), "--shard", f"{i}/2",
                     "--quiet"]) == 0
    assert main(["index", str(built["corpus"]), "--index", str(tmp_path / "bad"), "--shard", "2/2"]) == 1

    def no_embedding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a merge must not embed")

    monkeypatch.setattr("rag.store.load_embedder", no_embedding)
    assert main(["merge", str(tmp_path / "c0"), str(tmp_path / "c1"), "--index", str(tmp_path / "m")]) == 0
    assert "merged 2 shards" in capsys.readouterr().out
    assert _ids(tmp_path / "m") == _ids(built["whole"])
    assert _ids(tmp_path / "c0") == _ids(built["s0"])
