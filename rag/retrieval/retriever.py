"""Retrieve stage: query -> ranked, de-duplicated hits, with the filters that were applied.

Order of work for one query: infer a date range / newest-first from the text, merge it under the
explicit filters, turn the filters into allowed rows (the store), search BM25 and/or FAISS among
those rows only (so the top-k cut never loses matching passages), fuse, collapse duplicates, then
optionally diversify (MMR), rerank (cross-encoder) and order by date.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.errors import IndexMismatch, IndexNotFound
from rag.manifest import Manifest, real_index_path, recover
from rag.retrieval.bm25 import BM25Index, load_bm25
from rag.retrieval.dedupe import Group, collapse, mmr
from rag.retrieval.fusion import Fused, fuse, fuse_articles
from rag.retrieval.rerank import load_reranker
from rag.retrieval.timequery import infer_time, merge
from rag.settings import Settings
from rag.store import Store, open_unchanged
from rag.types import Filters, Hit, Passage, SearchResult

MODES = ("bm25", "dense", "hybrid")
BM25_FOLDER = "bm25"


def index_identity(folder: Path) -> tuple[int, int, int]:
    """Device, inode and mtime of the index's manifest: every build writes a new manifest file."""
    st = (Path(folder) / "manifest.json").stat()
    return st.st_dev, st.st_ino, st.st_mtime_ns


class Retriever:
    """BM25 + dense retrieval over one index folder. Everything heavy is loaded once, here."""

    def __init__(self, store: Store, settings: Settings | None = None, bm25: BM25Index | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        self.bm25 = bm25 if bm25 is not None else load_bm25(Path(store.dir) / BM25_FOLDER)
        self._allowed: dict[Filters, np.ndarray | None] = {}
        self._lock = threading.Lock()  # the UI searches from several threads
        self.identity: tuple[int, int, int] | None = None  # of the manifest it was opened from
        if len(self.bm25) != len(store):
            raise IndexMismatch(
                f"The BM25 index in {store.dir} holds {len(self.bm25)} passages, the store {len(store)}.",
                help="Rebuild it with: rag index PATH --index DIR --rebuild.",
            )

    @classmethod
    def open(cls, index_dir: str | Path, settings: Settings | None = None) -> Retriever:
        folder = real_index_path(Path(index_dir))
        recover(folder)  # a swap killed half-way leaves NAME.old: put it back before looking
        if not (folder / "manifest.json").is_file():
            raise IndexNotFound(f"There is no index at {folder}.")

        def open_once(manifest: Manifest) -> tuple[tuple[int, int, int], Store, BM25Index]:
            identity = index_identity(folder)  # before the open: a swap after it shows as a change
            store = Store.open(folder, settings)
            try:
                # Store.open checks its own files against the manifest; the BM25 files are read after
                # it, so an update landing in between would pair one build's store with another's BM25.
                if store.manifest != manifest:
                    raise IndexMismatch(f"The index at {folder} changed while it was being opened.")
                store.manifest.verify_files(folder, (BM25_FOLDER + "/",))
                return identity, store, load_bm25(folder / BM25_FOLDER)
            except BaseException:
                store.close()
                raise

        identity, store, bm25 = open_unchanged(folder, open_once, lambda opened: opened[1].close())
        retriever = cls(store, settings, bm25)
        retriever.identity = identity
        if retriever.settings.retrieval.mode != "bm25":
            _ = retriever.store.embedder  # load the model now, not on the first query
        retriever.store.row_meta()  # and the filter columns (~0.3 s at 100k rows), not on the first filter
        return retriever

    def is_current(self) -> bool:
        """False once an update has swapped another index into this one's folder (one stat call).
        The server then opens the new one for the next question; this one keeps answering the
        questions already running on it (its files stay readable until it is dropped)."""
        try:
            return self.identity is None or index_identity(Path(self.store.dir)) == self.identity
        except OSError:  # the folder is mid-swap or gone: keep answering from this one
            return True

    def search(
        self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None
    ) -> SearchResult:
        return self.search_many([query], k=k, mode=mode, filters=filters)[0]

    def search_many(
        self, queries: Sequence[str], k: int | None = None, mode: str | None = None,
        filters: Filters | None = None,
    ) -> list[SearchResult]:
        """Like `search` for each query, embedding all queries in one batch (for evaluation)."""
        s = self.settings.retrieval
        k = k or s.k
        mode = mode or s.mode
        if mode not in MODES:
            raise ValueError(f"Unknown retrieval mode {mode!r}: use one of {', '.join(MODES)}.")
        vecs = None
        wanted = [q for q in queries if q.strip()]
        if mode != "bm25" and wanted:
            vecs = dict(zip(wanted, self.store.embedder.embed(wanted), strict=True))
        return [self._one(q, k, mode, filters, None if vecs is None else vecs.get(q)) for q in queries]

    def _one(
        self, query: str, k: int, mode: str, explicit: Filters | None, qvec: np.ndarray | None
    ) -> SearchResult:
        s = self.settings.retrieval
        base = explicit or Filters()
        applied, inferred = merge(base, infer_time(query)) if s.time_aware else (base, None)
        allowed = self._rows_for(applied)
        own_dates = (applied.since, applied.until) == (base.since, base.until)
        if allowed is not None and len(allowed) == 0 and not own_dates:
            # The date came from the query and matches nothing: say so, and search all dates.
            dated = self._rows_for(Filters(since="0001-01-01"))
            undated = dated is not None and len(dated) == 0
            inferred = ("The articles in this archive have no dates, so the date in the question "
                        f"({applied.since} to {applied.until}) could not filter them; "
                        "all articles were searched"
                        if undated else
                        f"The query names {applied.since} to {applied.until}, but no articles are from then, "
                        "so all dates were searched")
            applied = replace(applied, since=base.since, until=base.until)
            allowed = self._rows_for(applied)
        if not query.strip() or (allowed is not None and len(allowed) == 0):
            return SearchResult(query, [], applied, inferred)

        pool = max(k, s.rerank_top if s.reranker else 0)
        groups, fused, head = self._candidates(query, qvec, mode, allowed, pool, s.candidates, 3)
        if head and len(groups) < pool and len(fused) > len(head):
            # Duplicates ate the pool: look four times deeper, once.
            groups, fused, head = self._candidates(query, qvec, mode, allowed, pool, 4 * s.candidates, 12)
        rows = [fused[g.index].row for g in groups]
        passages = [head[g.index] for g in groups] if head else self.store.passages(rows)
        order = list(range(len(groups)))
        extra: dict[int, dict[str, float]] = {}
        final_scores = [fused[g.index].score for g in groups]
        if s.mmr and len(groups) > 1:
            order = mmr(np.array(final_scores), self.store.vectors(rows), k, s.mmr_lambda)
        if s.reranker:
            top, rest = order[: s.rerank_top], order[s.rerank_top :]
            ranked = load_reranker(s.reranker).order(query, [passages[i].text for i in top])
            for i, value in ranked:
                extra[top[i]] = {"rerank": value}
                final_scores[top[i]] = value
            order = [top[i] for i, _ in ranked] + rest
        order = order[:k]
        if applied.newest_first:
            # Relevance picks the k hits; the date orders them (undated last, stable otherwise).
            order.sort(key=lambda i: passages[i].date or "", reverse=True)
        hits = [
            Hit(passage=passages[i], score=float(final_scores[i]), rank=rank,
                also_in=tuple(groups[i].also_in),
                scores={**fused[groups[i].index].scores, "fused": fused[groups[i].index].score,
                        **extra.get(i, {})})
            for rank, i in enumerate(order, start=1)
        ]
        return SearchResult(query, hits, applied, inferred)

    def _candidates(
        self, query: str, qvec: np.ndarray | None, mode: str, allowed: np.ndarray | None,
        pool: int, depth: int, scan: int,
    ) -> tuple[list[Group], list[Fused], list[Passage]]:
        """Collapsed groups over the fused candidates (best first), and the passages read for them."""
        s = self.settings.retrieval
        depth = max(depth, 3 * pool)
        lists = {}
        if mode in ("bm25", "hybrid"):
            lists["bm25"] = self.bm25.search(query, depth, allowed)
        if mode in ("dense", "hybrid"):
            if qvec is None:
                qvec = self.store.embedder.embed([query])[0]
            if mode == "hybrid" and s.dense_prf > 0 and lists["bm25"]:
                qvec = self._feedback(qvec, [row for row, _ in lists["bm25"][: s.dense_prf_top]])
            lists["dense"] = self.store.search(qvec, depth, allowed)
        if mode == "hybrid" and s.fusion_level == "article":
            fused = fuse_articles(lists, self._article_of, s.fusion, s.dense_weight, s.rrf_k, s.candidates)
        elif mode == "hybrid":
            fused = fuse(lists, s.fusion, s.dense_weight, s.rrf_k, s.candidates)
        else:
            fused = [Fused(row, score, {mode: score}) for row, score in lists[mode]]
        limit = max(pool, 3 * pool if s.mmr else pool)
        if not s.collapse_duplicates:
            return [Group(i) for i in range(min(limit, len(fused)))], fused, []
        # Only rows that can still matter are read: the kept ones and their possible copies.
        head = fused[: scan * limit + 10]
        rows = [f.row for f in head]
        passages = self.store.passages(rows)
        vectors = self.store.vectors(rows) if rows else None
        groups = collapse(passages, vectors, limit, article_text=self._article_text, scan=len(head))
        return groups, fused, passages

    def _feedback(self, qvec: np.ndarray, rows: list[int]) -> np.ndarray:
        """Rocchio: move the query vector towards the top BM25 passages. A claim phrased unlike the
        passages that support it still shares rare terms with them, and those passages' vectors
        carry the phrasing the embedder needs (eval/results/tune_retrieval.md)."""
        vec = qvec + self.settings.retrieval.dense_prf * self.store.vectors(rows).mean(axis=0)
        norm = float(np.linalg.norm(vec))
        return (vec / norm).astype(np.float32) if norm > 0 else qvec

    def _article_of(self, row: int) -> str:
        column = self.store.row_meta().article_id  # read once per store, then kept
        return str(column.values[column.codes[row]])

    def _rows_for(self, filters: Filters) -> np.ndarray | None:
        """Allowed rows per filter, cached: the index is read-only while open, and a UI session or an
        inferred year repeats the same filter query after query (the mask costs ~1 ms at 100k)."""
        key = replace(filters, newest_first=False)
        with self._lock:
            if key in self._allowed:
                return self._allowed[key]
        rows = self.store.rows_for(key)
        with self._lock:
            if len(self._allowed) >= 64:
                self._allowed.pop(next(iter(self._allowed)))
            self._allowed[key] = rows
        return rows

    def _article_text(self, article_id: str) -> str | None:
        article = self.store.article(article_id)
        return article.text if article else None
