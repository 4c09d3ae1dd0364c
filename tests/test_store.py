"""Store: round trip of the saved format, search with filters before the cut, HNSW, mismatch errors."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from rag.cli import main
from rag.embedding import HashEmbedder
from rag.errors import IndexMismatch, IndexNotFound
from rag.manifest import old_path, swap_in
from rag.settings import Settings
from rag.store import Store
from rag.store_write import write_store
from rag.types import Article, Filters, Passage


def _articles() -> list[Article]:
    specs = [("a1", "Thomas Gaist", "2016-06-14", "WSWS", "NATO troops deploy to the Baltic states."),
             ("a2", "Clara Weiss", "2016-07-01", "wsws", "Markets fell after the Brexit vote in Britain."),
             ("a3", None, None, "Reuters", "NATO ministers met in Brussels to discuss troops."),
             ("a4", "thomas gaist", "2016-06-14T18:30:00", None, "A summit on NATO troops in Warsaw.")]
    return [Article(id=i, title=f"Title {i}", text=t + " " + t, author=au, date=d, source=s, url=f"http://x/{i}",
                    origin=f"{i}.txt", metadata={"k": [1, 2]}) for i, au, d, s, t in specs]


def test_round_trip(make_hash_index: Callable[..., Path], hash_settings: Settings) -> None:
    articles = _articles()
    store = Store.open(make_hash_index(articles), hash_settings)
    for a in articles:
        assert store.article(a.id) == a
    assert store.article("missing") is None
    passages = store.passages(range(len(store)))
    assert [p.article_id for p in passages] == sorted({p.article_id for p in passages})  # row order
    for p in passages:
        art = store.article(p.article_id)
        assert art is not None and art.text[p.start : p.end] == p.text
        assert store.passage(p.id) == p and store.row_of(p.id) == passages.index(p)
    assert store.passages([2, 0]) == [passages[2], passages[0]]  # the order asked for
    from rag.chunking import embedding_text

    expected = HashEmbedder(64).embed([embedding_text(passages[1]), embedding_text(passages[0])])
    np.testing.assert_allclose(store.vectors([1, 0]), expected, atol=1e-6)
    np.testing.assert_allclose(store.index.reconstruct(1), expected[0], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(store.vectors(), axis=1), 1.0, rtol=1e-5)
    assert store.stats()["articles"] == 4 and store.stats()["index_kind"] == "flat"
    with pytest.raises(KeyError):
        store.passage("nope")
    files = {p.name for p in store.dir.iterdir()}
    assert {"manifest.json", "passages.sqlite", "vectors.faiss", "vectors.npy", "bm25"} <= files


@pytest.mark.parametrize(
    ("filters", "expected"),
    [(Filters(), None),
     (Filters(authors=("GAIST",)), {"a1", "a4"}),
     (Filters(sources=("wsws",)), {"a1", "a2"}),
     (Filters(since="2016-06-15"), {"a2"}),
     (Filters(until="2016-06-14"), {"a1", "a4"}),  # a timestamp on the last day still counts
     (Filters(since="2016-06-14", until="2016-06-14", authors=("weiss",)), set()),
     (Filters(article_ids=("a3", "zz")), {"a3"})],
)
def test_rows_for(make_hash_index: Callable[..., Path], filters: Filters, expected: set[str] | None) -> None:
    store = Store.open(make_hash_index(_articles()))
    rows = store.rows_for(filters)
    if expected is None:
        assert rows is None
    else:
        assert rows is not None and {p.article_id for p in store.passages(rows)} == expected


def test_filters_apply_before_the_top_k_cut(make_hash_index: Callable[..., Path]) -> None:
    store = Store.open(make_hash_index(_articles()))
    q = store.embedder.embed(["NATO troops"])[0]
    unfiltered = store.search(q, 1)
    assert store.passages([unfiltered[0][0]])[0].article_id != "a2"
    rows = store.rows_for(Filters(article_ids=("a2",)))
    hits = store.search(q, 1, rows)  # a2 is not in the global top 1, yet k=1 must still return it
    assert len(hits) == 1 and store.passages([hits[0][0]])[0].article_id == "a2"
    assert store.search(q, 5, np.array([], dtype=np.int64)) == []
    scores = [s for _, s in store.search(q, 10)]
    assert scores == sorted(scores, reverse=True)


def _random_store(folder: Path, rng: np.random.Generator, n: int, dim: int, kind: str) -> np.ndarray:
    """A store of `n` random unit vectors (one article, one passage per row); returns the vectors."""
    from rag.manifest import Manifest

    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    art = Article(id="a", title="t", text="x" * n)
    passages = [(Passage(f"a:{i}", "a", "x", i, i + 1, "t", None, None, None, 1), str(i)) for i in range(n)]
    write_store(folder, [(art, "h")], passages, vecs, kind)
    Manifest.new(model=f"hash-{dim}", dim=dim, backend="hash", chunking={}, corpus_fingerprint="f",
                 articles=1, passages=n, index_kind=kind).write(folder)
    return vecs


def test_hnsw_on_random_vectors(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n, dim = 3000, 32
    vecs = _random_store(tmp_path, rng, n, dim, "hnsw")
    store = Store.open(tmp_path)
    assert isinstance(store.index, faiss.IndexHNSWFlat)
    queries = vecs[:50] + 0.1 * rng.standard_normal((50, dim)).astype(np.float32)
    exact = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
    recall = np.mean([len({r for r, _ in store.search(q, 10)} & set(e)) / 10 for q, e in zip(queries, exact,
                                                                                         strict=True)])
    assert recall >= 0.95
    allowed = np.arange(0, n, 2)  # big enough to go through faiss' IDSelector, not the exact path
    import rag.store as store_module

    store_module.EXACT_SUBSET, saved = 100, store_module.EXACT_SUBSET
    try:
        hits = store.search(queries[0], 10, allowed)
    finally:
        store_module.EXACT_SUBSET = saved
    assert len(hits) == 10 and all(r % 2 == 0 for r, _ in hits)


def test_open_refuses_mismatches(hash_index: Path, tmp_path: Path, hash_settings: Settings) -> None:
    with pytest.raises(IndexNotFound, match="rag index"):
        Store.open(tmp_path / "nothing")
    other = hash_settings.model_copy(update={"embedding": hash_settings.embedding.model_copy(
        update={"model": "all-MiniLM-L6-v2"})})
    with pytest.raises(IndexMismatch, match="built with the model 'hash'.*--rebuild"):
        Store.open(hash_index, other)
    copy = tmp_path / "copy"
    shutil.copytree(hash_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "dim": 128}))
    with pytest.raises(IndexMismatch, match="inconsistent"):
        Store.open(copy)
    (copy / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexMismatch, match="newer"):
        Store.open(copy)


def test_cli_mismatch_is_one_sentence(
    hash_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(hash_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    assert main(["index", "--index", str(copy), "--model", "hash", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "newer" in err and "--rebuild" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_swap_recovers_from_a_kill_between_renames(hash_index: Path, tmp_path: Path) -> None:
    final = tmp_path / "idx"
    shutil.copytree(hash_index, old_path(final))  # killed after final -> .old, before tmp -> final
    assert Store.open(final).stats()["passages"] == Store.open(hash_index).stats()["passages"]
    assert not old_path(final).exists()
    tmp = tmp_path / "new"
    shutil.copytree(hash_index, tmp)
    swap_in(tmp, final)
    assert Store.open(final) and not tmp.exists() and not old_path(final).exists()


def test_filtered_search_matches_brute_force(tmp_path: Path) -> None:
    """Small subsets are scanned exactly (bitmap selector on the flat storage), on HNSW and flat alike."""
    n, dim = 2000, 16
    allowed = np.array(sorted(set(np.random.default_rng(2).integers(0, n, 300).tolist())), dtype=np.int64)
    before = faiss.omp_get_max_threads()
    for kind in ("hnsw", "flat"):
        folder = tmp_path / kind
        vecs = _random_store(folder, np.random.default_rng(1), n, dim, kind)  # same vectors both times
        store = Store.open(folder)
        q = vecs[7]
        scores = vecs[allowed] @ q
        expected = allowed[np.argsort(-scores)[:10]].tolist()
        hits = store.search(q, 10, np.concatenate([allowed, allowed[:5], [-1, n + 3]]))  # dupes, out of range
        assert [r for r, _ in hits] == expected
        np.testing.assert_allclose([s for _, s in hits], np.sort(scores)[::-1][:10], rtol=1e-5)
        assert store.search(q, 500, allowed[:3]) and len(store.search(q, 500, allowed[:3])) == 3
    assert faiss.omp_get_max_threads() == before  # the one-thread setting does not leak


def test_a_refused_index_does_not_leave_its_database_open(
    hash_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(hash_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "passages": manifest["passages"] + 1}))
    connections: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect

    def tracking_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        con = real_connect(*args, **kwargs)
        connections.append(con)
        return con

    monkeypatch.setattr(sqlite3, "connect", tracking_connect)
    with pytest.raises(IndexMismatch, match="inconsistent"):
        Store.open(copy)
    assert connections
    for con in connections:
        with pytest.raises(sqlite3.ProgrammingError):
            con.execute("SELECT 1")


@pytest.mark.parametrize("same_counts", [False, True])
def test_open_retries_when_an_update_swaps_the_folder_midway(
    hash_index: Path, make_hash_index: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    same_counts: bool,
) -> None:
    from rag.manifest import MANIFEST, Manifest

    final, new = tmp_path / "idx", tmp_path / "new"
    shutil.copytree(hash_index, final)
    shutil.copytree(hash_index if same_counts else make_hash_index(_articles()), new)
    if same_counts:  # a rebuild of the same corpus: only the manifest tells the builds apart
        data = json.loads((new / MANIFEST).read_text())
        (new / MANIFEST).write_text(json.dumps({**data, "built_at": "2099-01-01T00:00:00+00:00"}))
    real_read = Manifest.read.__func__  # type: ignore[attr-defined]
    calls = []

    def read_then_swap(cls: type[Manifest], folder: Path) -> Manifest:
        manifest = real_read(cls, folder)
        calls.append(manifest)
        if len(calls) == 1:  # an update lands right after the manifest was read
            swap_in(new, final)
        return manifest

    monkeypatch.setattr(Manifest, "read", classmethod(read_then_swap))
    store = Store.open(final)
    assert store.manifest == real_read(Manifest, final) != calls[0]
    assert len(store) == store.manifest.passages == len(store.passages(range(len(store))))
    store.close()


def test_retriever_open_pairs_store_and_bm25_of_one_build(
    hash_index: Path, make_hash_index: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An update landing after Store.open but before the BM25 files are read: open again."""
    from rag.manifest import Manifest
    from rag.retrieval import retriever as retriever_module

    final, new = tmp_path / "idx", tmp_path / "new"
    shutil.copytree(hash_index, final)
    shutil.copytree(make_hash_index(_articles()), new)
    real_load = retriever_module.load_bm25
    calls = []

    def swap_then_load(folder: Path):  # type: ignore[no-untyped-def]
        calls.append(folder)
        if len(calls) == 1:
            swap_in(new, final)
        return real_load(folder)

    monkeypatch.setattr(retriever_module, "load_bm25", swap_then_load)
    retriever = retriever_module.Retriever.open(final, Settings.from_env({}, embedding={"model": "hash"}))
    try:
        assert len(calls) == 2
        assert retriever.store.manifest == Manifest.read(final)
        assert len(retriever.bm25) == len(retriever.store) == retriever.store.manifest.passages
    finally:
        retriever.store.close()
