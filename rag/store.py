"""Store stage: an index folder = FAISS vectors + SQLite passages/articles + manifest.json, read.
The builder writes one with rag/store_write.py.

Row i of the `passages` table is FAISS id i and BM25 document i (contiguous 0..N-1), so
every retriever speaks in rows and the store turns rows back into `Passage` records.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np

from rag import ivf
from rag.dates import YEAR
from rag.embedding import Embedder, export_recipe, load_embedder
from rag.errors import IndexMismatch, IndexNotFound
from rag.manifest import REBUILD, UNRECORDED_RECIPE, Manifest, real_index_path, recover, stale_reason
from rag.models import local_weights
from rag.rowfilter import ROW_SQL, RowMeta
from rag.settings import Settings
from rag.types import Article, Filters, Passage

log = logging.getLogger(__name__)
T = TypeVar("T")
DB, VECTORS_NPY, VECTORS_FAISS = "passages.sqlite", "vectors.npy", "vectors.faiss"
# recall@10 0.998 vs exact at 100k passages, 0.24 ms/query (eval/results/bench_index.md)
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128  # built in rag/store_write.py
# Filtered searches over at most this many rows scan just those rows exactly (faiss' flat scan
# with a bitmap selector, ~2 ms per 20k rows); larger subsets walk the HNSW graph with the bitmap,
# where a selective filter needs a wider beam (efSearch grows with 1/fraction, up to 4x).
EXACT_SUBSET = 20_000

_PASSAGE_COLS = "id, article_id, text, start, end, title, author, date, source, n_tokens"


def vector_files(kind: str) -> tuple[str, str]:
    """The two vector files of an index kind: the FAISS index and the exact vectors."""
    return (VECTORS_FAISS, ivf.VECTORS_F16) if kind == "ivfpq" else (VECTORS_FAISS, VECTORS_NPY)


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run one query's search on the calling thread only.

    One query is too little work to split: on the shared 2-core CPU, OpenMP's hand-off made a
    flat scan of 100k rows 38 ms instead of 5.7 ms. The setting is per calling thread (an OpenMP
    ICV), so it is restored for whatever that thread runs next (an index build, say).
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


# Opens of an index folder tried while an update keeps swapping it (each swap is one rename).
OPEN_TRIES = 3
Opened = TypeVar("Opened")


def open_unchanged(folder: Path, open_once: Callable[[Manifest], Opened],
                   close: Callable[[Opened], None]) -> Opened:
    """`open_once(manifest)`, repeated while the folder's manifest changes under it.

    An index's files are opened by path one after another, so an update swapping the folder in
    between could pair one build's manifest with another's files: the manifest is read again after
    the open, and the open repeated when it moved. A refusal (IndexNotFound, IndexMismatch) is
    repeated too when the manifest moved, since it may be the two builds disagreeing.
    """
    for attempt in range(1, OPEN_TRIES + 1):
        manifest = Manifest.read(folder)
        try:
            opened = open_once(manifest)
        except (IndexNotFound, IndexMismatch):
            if attempt < OPEN_TRIES and Manifest.read(folder) != manifest:
                continue
            raise
        if Manifest.read(folder) == manifest:
            return opened
        close(opened)
    raise IndexMismatch(f"The index at {folder} kept changing while it was being opened.",
                        help="Open it again once the running index update has finished.")


def _read(folder: Path, name: str, load: Callable[[Path], T]) -> T:
    """`load(folder/name)`, with whatever a damaged or foreign file raises turned into IndexMismatch."""
    try:
        return load(folder / name)
    except IndexMismatch:
        raise
    except (RuntimeError, ValueError, OSError, EOFError, sqlite3.Error, TypeError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise IndexMismatch(f"The index at {folder} is damaged: {name} cannot be read ({reason}).",
                            help=REBUILD) from exc


def _article(r: Sequence[Any]) -> Article:
    return Article(id=r[0], title=r[1], text=r[2], author=r[3], date=r[4], source=r[5], url=r[6],
                   origin=r[7] or "", metadata=json.loads(r[8] or "{}"))


_ARTICLE_COLS = "id, title, text, author, date, source, url, origin, metadata"


def read_articles(db_path: Path) -> list[tuple[Article, str]]:
    """Every article of an index database with its content hash, in row order, reading nothing else:
    an update carries these over, and `--rebuild` can still read them when other files are damaged."""
    con = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        rows = con.execute(f"SELECT {_ARTICLE_COLS}, content_hash FROM articles ORDER BY row").fetchall()
    finally:
        con.close()
    return [(_article(r), r[9]) for r in rows]


def _passage(row: Sequence[Any]) -> Passage:
    return Passage(id=row[0], article_id=row[1], text=row[2], start=row[3], end=row[4], title=row[5],
                   author=row[6], date=row[7], source=row[8], n_tokens=row[9])


class Store:
    """A read-only view of an index folder. Thread-safe: the UI searches from worker threads."""

    def __init__(self, folder: Path, manifest: Manifest, settings: Settings | None) -> None:
        self.dir = folder
        self.manifest = manifest
        self._settings = settings
        self._lock = threading.Lock()
        uri = f"file:{(folder / DB).resolve()}?mode=ro"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._ivf = manifest.extra.get("ivfpq") if manifest.index_kind == "ivfpq" else None
        _, exact_file = vector_files(manifest.index_kind)
        try:
            read_faiss = ivf.open_index if self._ivf is not None else (lambda p: faiss.read_index(str(p)))
            self.index = _read(folder, VECTORS_FAISS, read_faiss)
            self._vectors = _read(folder, exact_file,
                                  lambda p: np.load(p, mmap_mode="r", allow_pickle=False))
            if self.index.d != manifest.dim or self.index.ntotal != manifest.passages:
                raise IndexMismatch(
                    f"The index at {folder} is inconsistent: manifest says {manifest.passages} x "
                    f"{manifest.dim}, FAISS holds {self.index.ntotal} x {self.index.d}."
                )
            if getattr(self._vectors, "shape", None) != (manifest.passages, manifest.dim):
                raise IndexMismatch(f"The index at {folder} is damaged: {exact_file} holds "
                                    f"{getattr(self._vectors, 'shape', '?')} vectors, the manifest "
                                    f"{manifest.passages} x {manifest.dim}.")
            counts = _read(folder, DB, lambda _: self._db.execute(
                "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM passages)").fetchone())
            if tuple(counts) != (manifest.articles, manifest.passages):
                raise IndexMismatch(f"The index at {folder} is damaged: {DB} holds {counts[0]} articles and "
                                    f"{counts[1]} passages, the manifest {manifest.articles} and "
                                    f"{manifest.passages}.")
        except BaseException:
            self._db.close()  # a refused index must not leave its database open
            raise
        if hasattr(self.index, "hnsw"):
            self.index.hnsw.efSearch = HNSW_EF_SEARCH
        # the exact scanner: the flat index itself, or the vectors an HNSW graph is built over
        hnsw_storage = getattr(self.index, "storage", None)
        self._flat = faiss.downcast_index(hnsw_storage) if hnsw_storage is not None else self.index
        if self._ivf is not None and not {"nprobe", "rerank"} <= set(self._ivf):
            raise IndexMismatch(f"The manifest of {folder} lacks the IVF-PQ search parameters.", help=REBUILD)
        self._meta: RowMeta | None = None
        self._years: dict[int, int] | None = None

    @classmethod
    def open(cls, index_dir: str | Path, settings: Settings | None = None) -> Store:
        """Open an index, refusing one built with another model than `settings` asks for, and one
        whose files are damaged (with the rebuild command, never a library's traceback)."""
        folder = real_index_path(Path(index_dir))
        recover(folder)

        def open_once(manifest: Manifest) -> Store:
            names = (DB, *vector_files(manifest.index_kind))
            for name in names:
                if not (folder / name).is_file():
                    raise IndexNotFound(f"The index at {folder} is incomplete: {name} is missing.",
                                        help="Rebuild it with: rag index PATH --index DIR --rebuild.")
            if settings is not None and settings.embedding.model != manifest.model:
                raise IndexMismatch(
                    f"The index at {folder} was built with the model {manifest.model!r}, "
                    f"but the settings ask for {settings.embedding.model!r}.",
                    help=f"Set RAG_EMBEDDING__MODEL={manifest.model}, or rebuild it with: "
                         f"rag index PATH --index {folder} --rebuild.",
                )
            manifest.verify_files(folder, names)
            return cls(folder, manifest, settings)

        return open_unchanged(folder, open_once, Store.close)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @cached_property
    def embedder(self) -> Embedder:
        """The query embedder: the manifest's model, backend and export recipe, so queries match documents.

        Any backend opens (settings may ask for another; the index decides), but an ONNX index whose
        export recipe this code no longer produces is refused: its vectors and the query's would differ.
        """
        m = self.manifest
        base = (self._settings or Settings()).embedding
        backend = m.backend if m.backend in ("torch", "onnx", "onnx-int8") else "auto"
        rebuild = f"Rebuild it with: rag index PATH --index {self.dir} --rebuild."
        recorded = m.extra.get("model_weights")  # hashed only when recorded; a folder that is gone
        current = local_weights(m.model) if recorded else None  # is load_embedder's to report
        reason = stale_reason(m, m.model, current or recorded)
        if reason == UNRECORDED_RECIPE:
            log.warning("The index at %s does not record its ONNX export recipe; queries use recipe x%s, "
                        "which may not match its vectors. %s", self.dir, export_recipe(m.backend), rebuild)
        elif reason:
            raise IndexMismatch(f"The index at {self.dir} ({m.model}, {m.backend}) no longer matches what "
                                f"this version of rag embeds: {reason}, so queries would not match the "
                                "stored passages.", help=rebuild)
        emb = load_embedder(base.model_copy(update={"model": m.model, "backend": backend}))
        if emb.dim != m.dim:
            raise IndexMismatch(f"The model {m.model!r} gives {emb.dim}-dimensional vectors, "
                                f"the index at {self.dir} holds {m.dim}-dimensional ones.")
        return emb

    def search(
        self, vec: np.ndarray, k: int, allowed_rows: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k rows by inner product; `allowed_rows` restricts the candidates before the cut."""
        q = np.ascontiguousarray(np.asarray(vec, dtype=np.float32).reshape(1, -1))
        if q.shape[1] != self.manifest.dim:
            raise IndexMismatch(
                f"A {q.shape[1]}-dimensional query cannot search a {self.manifest.dim}-dimensional index."
            )
        k = min(k, len(self))
        if k <= 0:
            return []
        if self._ivf is not None:
            return self._search_ivf(q, k, allowed_rows)
        if allowed_rows is None:
            with self._lock, _one_thread():
                scores, ids = self.index.search(q, k)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        allowed = np.asarray(allowed_rows, dtype=np.int64)
        mask = np.zeros(len(self), dtype=bool)
        mask[allowed[(allowed >= 0) & (allowed < len(self))]] = True
        count = int(np.count_nonzero(mask))
        if count == 0:
            return []
        k = min(k, count)
        bits = np.packbits(mask, bitorder="little")  # bit i of byte i//8 is row i, as faiss reads it
        selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))  # both live until return
        index: faiss.Index = self.index
        params: Any
        if count <= EXACT_SUBSET or not hasattr(self.index, "hnsw"):
            index, params = self._flat, faiss.SearchParameters()
        else:
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            widen = min(4.0, len(self) / count)
            params.efSearch = int(max(HNSW_EF_SEARCH, k) * widen)
        params.sel = selector
        with self._lock, _one_thread():
            scores, ids = index.search(q, k, params=params)
        hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        hits.sort(key=lambda h: (-h[1], h[0]))  # ties by row, like the unfiltered flat search
        return hits

    def _search_ivf(self, q: np.ndarray, k: int, allowed_rows: np.ndarray | None) -> list[tuple[int, float]]:
        assert self._ivf is not None
        nprobe, rerank = int(self._ivf["nprobe"]), int(self._ivf["rerank"])
        if allowed_rows is None:
            with self._lock, _one_thread():
                return ivf.search(self.index, self._vectors, q, k, nprobe, rerank)
        allowed = np.asarray(allowed_rows, dtype=np.int64)
        allowed = np.unique(allowed[(allowed >= 0) & (allowed < len(self))])
        if len(allowed) <= EXACT_SUBSET:
            return ivf.exact_subset(self._vectors, q, allowed, k)
        mask = np.zeros(len(self), dtype=bool)
        mask[allowed] = True
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
        with self._lock, _one_thread():
            return ivf.search(self.index, self._vectors, q, k, nprobe, rerank, selector)

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def passages(self, rows: Sequence[int] | np.ndarray) -> list[Passage]:
        """Passages for `rows`, in the given order."""
        wanted = [int(r) for r in rows]
        found: dict[int, Passage] = {}
        for start in range(0, len(wanted), 900):  # SQLite's default limit on bound parameters
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for r in self._query(f"SELECT row, {_PASSAGE_COLS} FROM passages WHERE row IN ({marks})", chunk):
                found[r[0]] = _passage(r[1:])
        missing = [r for r in wanted if r not in found]
        if missing:
            raise IndexError(f"Rows {missing[:5]} are not in the index at {self.dir} ({len(self)} passages).")
        return [found[r] for r in wanted]

    def passage(self, passage_id: str) -> Passage:
        rows = self._query(f"SELECT {_PASSAGE_COLS} FROM passages WHERE id = ?", (passage_id,))
        if not rows:
            raise KeyError(f"No passage {passage_id!r} in the index at {self.dir}.")
        return _passage(rows[0])

    def article_passages(self, article_id: str) -> list[Passage]:
        """An article's passages in text order (indexed by article id)."""
        rows = self._query(f"SELECT {_PASSAGE_COLS} FROM passages WHERE article_id = ? ORDER BY start",
                           (article_id,))
        return [_passage(r) for r in rows]

    def row_of(self, passage_id: str) -> int | None:
        rows = self._query("SELECT row FROM passages WHERE id = ?", (passage_id,))
        return int(rows[0][0]) if rows else None

    def article(self, article_id: str) -> Article | None:
        rows = self._query(f"SELECT {_ARTICLE_COLS} FROM articles WHERE id = ?", (article_id,))
        return _article(rows[0]) if rows else None

    def articles(self) -> list[tuple[Article, str]]:
        """Every article with its content hash, in row order (an update carries them over)."""
        rows = self._query(f"SELECT {_ARTICLE_COLS}, content_hash FROM articles ORDER BY row")
        return [(_article(r), r[9]) for r in rows]

    def rows_for(self, filters: Filters | None) -> np.ndarray | None:
        """Rows that pass the filters (sorted), or None when nothing filters.

        Dates compare as ISO prefixes, so until="2016-06-14" keeps "2016-06-14T10:00".
        Authors and sources match case-insensitively, as whole values or substrings
        ("gaist" finds "Thomas Gaist"). Passages without a date fail any date filter.
        """
        if filters is None:
            return None
        return self.row_meta().rows_for(filters)

    def row_meta(self) -> RowMeta:
        """Per-row article id, author, date, source and section, read once and kept."""
        with self._lock:  # the cursor is read in chunks, on this connection, under its lock
            if self._meta is None:
                self._meta = RowMeta.from_rows(self._db.execute(ROW_SQL))
            return self._meta

    def undated_year_counts(self, sample: int = 50_000) -> dict[int, int]:
        """How many undated passages name each year from 1950 to 2049 (every n-th passage past
        `sample` of them), read once and kept: an undated archive's present is the years it names
        most often, and dated stories beside it (a 1987 wire archive) must not move it."""
        with self._lock:
            if self._years is None:
                undated = "(date IS NULL OR date = '')"
                n = self._db.execute(f"SELECT COUNT(*) FROM passages WHERE {undated}").fetchone()[0]
                step = max(1, -(-n // sample))
                counts: dict[int, int] = {}
                for title, text in self._db.execute(
                        f"SELECT title, text FROM passages WHERE {undated} AND row % ? = 0", (step,)):
                    for year in {int(y) for y in YEAR.findall(f"{title or ''} {text}")}:
                        counts[year] = counts.get(year, 0) + 1
                self._years = counts
            return self._years

    def vectors(self, rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Stored vectors for `rows` (all when None), float32, in the given order."""
        if rows is None:
            return np.array(self._vectors, dtype=np.float32)
        return np.array(self._vectors[np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    def article_hashes(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._query("SELECT id, content_hash FROM articles")}

    def rows_by_article(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for article_id, row in self._query("SELECT article_id, row FROM passages ORDER BY row"):
            out.setdefault(article_id, []).append(int(row))
        return out

    def embed_hashes(self) -> list[str]:
        """sha256 of the embedded text of each row, in row order (the indexer reuses vectors by it)."""
        return [r[0] for r in self._query("SELECT embed_hash FROM passages ORDER BY row")]

    def stats(self) -> dict[str, Any]:
        m = self.manifest
        return {"articles": m.articles, "passages": m.passages, "model": m.model, "backend": m.backend,
                "export_recipe": m.export_recipe, "dim": m.dim, "built_at": m.built_at,
                "index_kind": m.index_kind, "dir": str(self.dir)}

    def close(self) -> None:
        with self._lock:
            self._db.close()
