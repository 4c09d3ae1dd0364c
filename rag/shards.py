"""Index stage, shards: an archive indexed in parts, then merged into one index without re-embedding.

Each shard is an ordinary index folder, built by its own `rag index` (on its own machine, say):
`--shard I/N` keeps the articles whose id hashes to I of N, so N builds over the same paths hold
disjoint sets that together are the whole; indexes of any disjoint article sets merge as well.
`rag merge SHARD... --index OUT` copies the shards' articles, passages and exact vectors in shard
order (rows renumbered), builds the vector index of the merged size from those vectors (flat and
HNSW: the vectors as they are; IVF-PQ: trained once on a sample of all shards, then every vector
encoded), and rebuilds BM25 over every passage, so its IDF is the whole archive's, as one build
gives. OUT is written beside itself and swapped in, as the indexer does.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.build_report import BuildReport
from rag.chunking import embedding_text
from rag.errors import IndexMismatch, RagError
from rag.indexer import build_index, build_lock, corpus_fingerprint
from rag.manifest import (
    Manifest,
    real_index_path,
    record_files,
    recover,
    remove_stale_temps,
    stale_reason,
    swap_in,
    temp_path,
)
from rag.models import DEFAULT_MODEL
from rag.retrieval.bm25 import build_bm25
from rag.settings import Settings
from rag.store import Store
from rag.store_write import choose_kind, write_store
from rag.types import Article, Passage

MERGE_HELP = "Build every shard with the same model, backend and chunking settings (rag index --shard I/N)."


def shard_of(article_id: str, n: int) -> int:
    """The shard (0..n-1) of an article: a hash of its id, the same on every machine and run."""
    return int.from_bytes(hashlib.sha256(article_id.encode("utf-8")).digest()[:8], "big") % n


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' -> (I, N), with 0 <= I < N."""
    example = "Write e.g. --shard 0/4 (shards 0 to 3 of 4)."
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise RagError(f"--shard {text!r} is not I/N.", help=example) from None
    if not 0 <= i < n:
        raise RagError(f"--shard {text}: I must be 0 to N-1.", help=example)
    return i, n


def build_shard(paths: Sequence[str | Path], index_dir: str | Path, settings: Settings,
                shard: tuple[int, int], **options: Any) -> BuildReport:
    """`build_index` over the articles of one shard of `paths` (ids hashed by `shard_of`); `options`
    are build_index's. Each of the N builds reads and hashes every file, and chunks and embeds only
    its own articles."""
    i, n = shard
    return build_index(paths, index_dir, settings, keep=lambda a: shard_of(a.id, n) == i, **options)


@dataclass(frozen=True)
class MergeReport:
    index_dir: Path
    shards: int
    articles: int
    passages: int
    kind: str
    seconds: float

    def summary(self) -> str:
        return (f"merged {self.shards} shards into {self.index_dir}: {self.articles} articles, "
                f"{self.passages} passages, {self.kind} index, nothing re-embedded ({self.seconds:.1f} s)")


def merge_indexes(shards: Sequence[str | Path], index_dir: str | Path, settings: Settings) -> MergeReport:
    """Merge the index folders `shards` (disjoint articles, same model, backend and chunking) into
    `index_dir`, replacing whatever index was there; the index kind is chosen for the merged size
    by `index.kind` as a build would choose it."""
    t0 = time.perf_counter()
    if len(shards) < 2:
        raise RagError("Merging needs at least two shard folders.",
                       help="rag merge SHARD SHARD... --index OUT")
    out = real_index_path(Path(index_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(out):  # the indexer's lock: a merge and a build into the same OUT exclude each other
        remove_stale_temps(out)
        recover(out)
        stores = [Store.open(real_index_path(Path(s))) for s in shards]
        try:
            articles, passages, vectors, texts = _gather(stores)
            first = stores[0].manifest
            origins = [{"dir": str(s.dir), "articles": s.manifest.articles, "passages": s.manifest.passages,
                        "built_at": s.manifest.built_at} for s in stores]
        finally:
            for s in stores:
                s.close()
        kind = choose_kind(settings.index.kind, len(passages), settings.index.hnsw_threshold,
                           settings.index.ivfpq_threshold)
        tmp = temp_path(out)
        try:
            vector_info = write_store(tmp, articles, passages, vectors, kind)
            build_bm25(texts, tmp / "bm25")
            keep = ("backend_requested", "tokenizer_model", "model_weights")
            extra = {**{k: first.extra[k] for k in keep if k in first.extra}, **vector_info,
                     "merged_from": origins}
            Manifest.new(model=first.model, dim=first.dim, backend=first.backend,
                         export_recipe=first.export_recipe, chunking=first.chunking,
                         corpus_fingerprint=corpus_fingerprint({a.id: h for a, h in articles}),
                         articles=len(articles), passages=len(passages), index_kind=kind,
                         files=record_files(tmp), extra=extra).write(tmp)
            swap_in(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # after a failure: no half-written folder left behind
    return MergeReport(out, len(stores), len(articles), len(passages), kind, time.perf_counter() - t0)


def _gather(
    stores: list[Store],
) -> tuple[list[tuple[Article, str]], list[tuple[Passage, str]], np.ndarray, list[str]]:
    """Articles with content hashes, passages with embed hashes, vectors and BM25 texts of every shard,
    in shard order; refuses shards that would not make one consistent index."""
    first = stores[0].manifest
    articles: list[tuple[Article, str]] = []
    passages: list[tuple[Passage, str]] = []
    texts: list[str] = []
    seen: dict[str, Path] = {}
    for store in stores:
        m = store.manifest
        reason = stale_reason(m, first.model, first.extra.get("model_weights"),
                              first.extra.get("backend_requested", first.backend), first.chunking)
        if not reason and (m.backend, m.export_recipe, m.dim) != (first.backend, first.export_recipe,
                                                                  first.dim):
            reason = f"it holds {m.backend} vectors (recipe {m.export_recipe}, {m.dim} dimensions)"
        if not reason and m.extra.get("tokenizer_model") != first.extra.get("tokenizer_model"):
            reason = "its passages were counted with another tokenizer"
        if reason:
            raise IndexMismatch(f"The index at {store.dir} cannot be merged with the one at {stores[0].dir}: "
                                f"{reason}.", help=MERGE_HELP)
        for a, h in store.articles():
            if a.id in seen:
                raise IndexMismatch(f"The article {a.id!r} is in both {seen[a.id]} and {store.dir}: shards "
                                    "must hold disjoint articles.", help=MERGE_HELP)
            seen[a.id] = store.dir
            articles.append((a, h))
        rows = range(len(store))
        tokenizer = str(m.extra.get("tokenizer_model") or (DEFAULT_MODEL if m.backend in ("hash", "custom")
                                                           else m.model))
        header = m.chunking.get("header_tokens")  # every build records it; None: the chunker's default
        for p, key in zip(store.passages(rows), store.embed_hashes(), strict=True):
            passages.append((p, key))
            texts.append(embedding_text(p, header, tokenizer))  # what the indexer gives BM25
    vectors = np.concatenate([s.vectors() for s in stores])
    return articles, passages, vectors, texts
