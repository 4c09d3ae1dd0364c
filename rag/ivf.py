"""Store stage, large archives: IVF + PQ codes with inverted lists read memory-mapped, re-ranked exactly.

The FAISS file holds the coarse centroids, the PQ codebooks and the inverted lists (PQ codes and
ids, ~66 bytes per passage at 384 dimensions); opened with IO_FLAG_MMAP its lists stay on disk and
only the probed ones are paged in. The exact vectors live beside it as one fp16 array
(`vectors.f16.npy`, memory-mapped), which replaces the fp32 `vectors.npy` of the other kinds: the
best `RERANK` PQ candidates are re-scored with them, which brings recall@10 back to exact's level.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

VECTORS_F16 = "vectors.f16.npy"
# Candidates re-scored exactly per query: at 1M passages 200 gave recall@10 0.9994 of exact search
# (eval/results/bench_scale.md); each costs one 768-byte fp16 row read from the memory map.
RERANK = 200
# Lists probed: at least 32, and 1/16 of them as the index grows (at 20k passages, 32 of 512 lists gave
# recall@10 0.95 after re-ranking; a fixed 32 of 4,000 lists at 1M would probe 8x less of the data)
NPROBE = 32
TRAIN_SAMPLE = 100_000  # k-means and PQ codebooks are trained on this many rows at most
RECALL_QUERIES = 200  # rows of the index itself used as queries when measuring recall at build time


def params(n: int, dim: int) -> dict[str, int]:
    """Lists, PQ sub-quantizers and bits for `n` vectors: ~4 sqrt(n) lists (k-means wants >= 39
    training points each, so at most TRAIN_SAMPLE / 39), 8 dimensions per sub-quantizer, 8-bit
    codes unless there are too few rows to train 256 centroids."""
    nlist = max(1, min(int(4 * math.sqrt(max(n, 1))), min(n, TRAIN_SAMPLE) // 39 or 1))
    m = next(m for m in range(max(1, dim // 8), 0, -1) if dim % m == 0)
    nbits = max(1, min(8, int(math.log2(max(n, 2)))))
    nprobe = min(nlist, max(NPROBE, nlist // 16))
    return {"nlist": nlist, "m": m, "nbits": nbits, "nprobe": nprobe, "rerank": RERANK}


def build(vectors: np.ndarray, faiss_path: Path, f16_path: Path, seed: int = 0) -> dict[str, float | int]:
    """Train on a sample, add every row, write the FAISS file and the fp16 vectors; returns the
    parameters and the recall@10 of re-ranked search against exact search (for the manifest)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    p = params(n, dim)
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.choice(n, min(n, TRAIN_SAMPLE), replace=False))] if n else vectors
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFPQ(quantizer, dim, p["nlist"], p["m"], p["nbits"], faiss.METRIC_INNER_PRODUCT)
    if n:
        index.train(sample)
        index.add(vectors)
    faiss.write_index(index, str(faiss_path))
    np.save(f16_path, vectors.astype(np.float16), allow_pickle=False)
    return {**p, **recall(vectors, index, p["nprobe"], p["rerank"], rng)}


def recall(vectors: np.ndarray, index: faiss.Index, nprobe: int, rerank: int,
           rng: np.random.Generator, k: int = 10) -> dict[str, float | int]:
    """recall@k of `search` against exact inner product, on up to RECALL_QUERIES rows as queries."""
    n = len(vectors)
    if n == 0:
        return {"recall_at_10": 1.0, "recall_queries": 0}
    queries = vectors[rng.choice(n, min(n, RECALL_QUERIES), replace=False)]
    k = min(k, n)
    exact = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k] if n <= 200_000 else (
        _exact_blocks(queries, vectors, k))
    f16 = vectors.astype(np.float16)
    found = 0
    for q, truth in zip(queries, exact, strict=True):
        got = [r for r, _ in search(index, f16, q, k, nprobe, rerank)]
        found += len(set(got) & set(truth.tolist()))
    return {"recall_at_10": round(found / (len(queries) * k), 4), "recall_queries": len(queries)}


def _exact_blocks(queries: np.ndarray, vectors: np.ndarray, k: int) -> np.ndarray:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return flat.search(queries, k)[1]


def open_index(path: Path) -> faiss.Index:
    """The FAISS file with its inverted lists left on disk (read-only OnDiskInvertedLists)."""
    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP)


def search(index: faiss.Index, f16: np.ndarray, q: np.ndarray, k: int, nprobe: int, rerank: int,
           selector: faiss.IDSelector | None = None) -> list[tuple[int, float]]:
    """Top-k rows: the best `rerank` by PQ distance, re-scored with the exact (fp16) vectors."""
    q = np.ascontiguousarray(np.asarray(q, dtype=np.float32).reshape(1, -1))
    ivf = faiss.extract_index_ivf(index)
    sp = faiss.SearchParametersIVF()
    sp.nprobe = nprobe
    if selector is not None:
        sp.sel = selector
    _, ids = ivf.search(q, max(k, rerank), params=sp)
    rows = ids[0][ids[0] >= 0]
    if not len(rows):
        return []
    rows = np.sort(rows)  # sequential reads from the memory map
    scores = np.asarray(f16[rows], dtype=np.float32) @ q[0]
    order = np.lexsort((rows, -scores))[:k]  # ties by row, like the flat search
    return [(int(rows[i]), float(scores[i])) for i in order]


def exact_subset(f16: np.ndarray, q: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Exact top-k over just `rows` (a selective filter): a scan of their fp16 vectors."""
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    scores = np.asarray(f16[rows], dtype=np.float32) @ np.asarray(q, dtype=np.float32).reshape(-1)
    order = np.lexsort((rows, -scores))[:k]
    return [(int(rows[i]), float(scores[i])) for i in order]
