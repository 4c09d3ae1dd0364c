"""Writing an index folder's store files: passages.sqlite and the vector files of an index kind
(the manifest and the atomic swap are the indexer's). `rag.store.Store` reads them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag import ivf
from rag.store import DB, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, VECTORS_FAISS, VECTORS_NPY
from rag.types import Article, Passage

_SCHEMA = """
CREATE TABLE articles (row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, title TEXT, text TEXT,
    author TEXT, date TEXT, source TEXT, url TEXT, origin TEXT, metadata TEXT, content_hash TEXT);
CREATE TABLE passages (row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    text TEXT, start INTEGER, end INTEGER, title TEXT, author TEXT, date TEXT, source TEXT,
    n_tokens INTEGER, embed_hash TEXT);
CREATE INDEX passages_article ON passages(article_id);
CREATE INDEX passages_date ON passages(date);
"""


def choose_kind(kind: str, n: int, hnsw_threshold: int, ivfpq_threshold: int | None = None) -> str:
    """auto -> exact flat search while small, HNSW above the threshold, IVF-PQ on disk past the
    second one (where HNSW's fp32 vectors and graph no longer fit a serving node's RAM)."""
    if kind == "auto":
        if ivfpq_threshold is not None and n >= ivfpq_threshold:
            return "ivfpq"
        return "hnsw" if n >= hnsw_threshold else "flat"
    return kind


def build_faiss(vectors: np.ndarray, kind: str) -> faiss.Index:
    dim = vectors.shape[1]
    index: faiss.Index
    if kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index = hnsw
    elif kind == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        raise ValueError(f"Unknown index kind {kind!r}; use auto, flat or hnsw.")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def write_store(
    folder: Path,
    articles: Sequence[tuple[Article, str]],
    passages: Sequence[tuple[Passage, str]],
    vectors: np.ndarray,
    kind: str,
) -> dict[str, Any]:
    """Write passages.sqlite and the vector files of `kind` into `folder` (the manifest is the caller's);
    returns what the manifest should record about the vector index (IVF-PQ: parameters and recall).

    `articles` pairs each article with its content hash, `passages` each passage with the
    sha256 of its embedded text; passage order is row order.
    """
    if len(passages) != len(vectors):
        raise ValueError(f"{len(passages)} passages but {len(vectors)} vectors")
    folder.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(folder / DB)
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            ((i, a.id, a.title, a.text, a.author, a.date, a.source, a.url, a.origin,
              json.dumps(a.metadata, sort_keys=True, default=str), h) for i, (a, h) in enumerate(articles)),
        )
        con.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            ((i, p.id, p.article_id, p.text, p.start, p.end, p.title, p.author, p.date, p.source,
              p.n_tokens, h) for i, (p, h) in enumerate(passages)),
        )
        con.commit()
    finally:
        con.close()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if kind == "ivfpq":
        return {"ivfpq": ivf.build(vectors, folder / VECTORS_FAISS, folder / ivf.VECTORS_F16)}
    np.save(folder / VECTORS_NPY, vectors, allow_pickle=False)
    faiss.write_index(build_faiss(vectors, kind), str(folder / VECTORS_FAISS))
    return {}
