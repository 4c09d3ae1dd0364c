"""The IVF-PQ index kind on real articles: memory-mapped lists, fp16 exact vectors, recall in the manifest."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from rag.errors import IndexMismatch
from rag.indexer import build_index
from rag.manifest import Manifest
from rag.settings import Settings
from rag.store import VECTORS_NPY, Store
from rag.store_write import choose_kind
from rag.types import Filters

BBC_TECH = Path("/work/shared/data/bbc-news/tech")


def _settings(hash_settings: Settings, kind: str) -> Settings:
    return hash_settings.model_copy(update={"index": hash_settings.index.model_copy(update={"kind": kind})})


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, hash_settings_session: Settings) -> tuple[Path, Path]:
    if not BBC_TECH.is_dir():
        pytest.skip("BBC data not present")
    files = sorted(BBC_TECH.glob("*.txt"))[:120]
    root = tmp_path_factory.mktemp("ivf")
    flat, ivfpq = root / "flat", root / "ivfpq"
    build_index(files, flat, _settings(hash_settings_session, "flat"))
    build_index(files, ivfpq, _settings(hash_settings_session, "ivfpq"))
    return flat, ivfpq


def test_ivfpq_index_files_and_manifest(pair: tuple[Path, Path]) -> None:
    _, folder = pair
    m = Manifest.read(folder)
    assert m.index_kind == "ivfpq"
    info = m.extra["ivfpq"]
    assert info["recall_at_10"] >= 0.9 and info["recall_queries"] > 0
    assert not (folder / VECTORS_NPY).exists()  # the fp16 copy replaces the fp32 one
    assert (folder / "vectors.f16.npy").is_file() and "vectors.f16.npy" in (m.files or {})
    store = Store.open(folder)
    inv = faiss.extract_index_ivf(store.index).invlists
    assert isinstance(faiss.downcast_InvertedLists(inv), faiss.OnDiskInvertedLists)  # lists left on disk
    assert store.vectors([0]).dtype == np.float32


def test_ivfpq_search_matches_exact(pair: tuple[Path, Path]) -> None:
    flat, ivfpq = (Store.open(p) for p in pair)
    ids = [p.id for p in flat.passages(range(len(flat)))]
    assert ids == [p.id for p in ivfpq.passages(range(len(ivfpq)))]
    queries = flat.embedder.embed(["broadband prices", "mobile games", "apple ipod sales", "spam email"])
    found = 0
    for q in queries:
        exact = [r for r, _ in flat.search(q, 10)]
        got = ivfpq.search(q, 10)
        scores = [s for _, s in got]
        assert scores == sorted(scores, reverse=True)
        found += len(set(exact) & {r for r, _ in got})
        # re-ranked scores are the exact scores up to fp16 rounding
        exact_scores = dict(flat.search(q, len(flat)))
        assert all(abs(exact_scores[r] - s) < 2e-3 for r, s in got)
    assert found / (10 * len(queries)) >= 0.9
    rows = ivfpq.rows_for(Filters(article_ids=(ivfpq.passages([5])[0].article_id,)))
    assert rows is not None
    hits = ivfpq.search(queries[0], 3, rows)
    assert hits and {r for r, _ in hits} <= set(rows.tolist())


def test_ivfpq_damaged_fp16_file_is_refused(pair: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(pair[1], copy)
    with (copy / "vectors.f16.npy").open("r+b") as fh:
        fh.truncate(1000)
    with pytest.raises(IndexMismatch, match="vectors.f16.npy"):
        Store.open(copy)


def test_auto_picks_ivfpq_past_its_threshold() -> None:
    assert choose_kind("auto", 10, 50_000, 1_000_000) == "flat"
    assert choose_kind("auto", 60_000, 50_000, 1_000_000) == "hnsw"
    assert choose_kind("auto", 1_000_000, 50_000, 1_000_000) == "ivfpq"
    assert choose_kind("hnsw", 2_000_000, 50_000, 1_000_000) == "hnsw"


def test_filter_columns_read_in_chunks_match_sql(pair: tuple[Path, Path]) -> None:
    """The filter columns are read from SQLite a chunk at a time (to keep the query process small
    at 1M passages); any chunk size gives the same rows as asking SQLite directly."""
    import sqlite3

    from rag.rowfilter import ROW_SQL, RowMeta

    folder = pair[1]
    store = Store.open(folder)
    con = sqlite3.connect(folder / "passages.sqlite")
    ids = [store.passages([r])[0].article_id for r in (0, 7, len(store) // 2, len(store) - 1)]
    marks = ",".join("?" * len(ids))
    sql = f"SELECT row FROM passages WHERE article_id IN ({marks}) ORDER BY row"
    by_ids = [r for (r,) in con.execute(sql, ids)]
    cases = {Filters(article_ids=tuple(ids)): by_ids,
             Filters(sources=("bbc",), article_ids=tuple(ids)): by_ids,
             Filters(sources=("wire",)): []}
    for chunk in (1, 7, 5_000):
        meta = RowMeta.from_rows(con.execute(ROW_SQL), chunk=chunk)
        assert len(meta) == len(store)
        for f, expected in cases.items():
            rows = meta.rows_for(f)
            assert rows is not None and rows.tolist() == expected
            assert rows.tolist() == store.rows_for(f).tolist()  # type: ignore[union-attr]
    assert 4 < len(by_ids) < len(store)
    assert store.row_meta().source.codes.dtype == np.uint8  # one byte a row for a column of few values
    assert store.row_meta().article_id.codes.dtype.itemsize <= 2
    con.close()
    store.close()
    # dates (the BBC set has none): the same rows whatever the chunk size
    rows = [(f"a{i // 3}", None, f"20{i % 20:02d}-01-0{i % 9 + 1}", "Wire", None) for i in range(50)]
    for f in (Filters(since="2010"), Filters(until="2004-01-03"), Filters(since="2005", until="2012")):
        expected = [i for i, r in enumerate(rows) if (not f.since or r[2] >= f.since)
                    and (not f.until or r[2][: len(f.until)] <= f.until)]
        assert expected and all(RowMeta.from_rows(rows, chunk=c).rows_for(f).tolist() == expected  # type: ignore[union-attr]
                                for c in (1, 4, 100))
