"""Retrieval latency at scale: p50/p95 per query for bm25, dense, hybrid (and filtered hybrid).

The index is synthetic but built and searched by the real parts: 100k passages of real BBC sentences
recombined (so BM25 postings have natural word statistics), random unit vectors in FAISS (HNSW at
this size, as `rag index` would choose), the real SQLite store and bm25s index, and real
all-MiniLM-L6-v2 query embedding (the index's own backend). No LLM. Queries are BBC headlines.
The index is kept in cache/bench_retrieval/ and reused.

    .venv/bin/python eval/bench_retrieval.py [--passages 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.evaluation.harness import SHARED_DATA, cpu_line, write_results  # noqa: E402
from rag.manifest import Manifest  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.retrieval.bm25 import build_bm25  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.store_write import choose_kind, write_store  # noqa: E402
from rag.types import Article, Filters, Passage  # noqa: E402

RESULTS = ROOT / "eval" / "results"
PER_ARTICLE = 5
_SENT = re.compile(r"(?<=[.!?])\s+")


def bbc_text(data: Path) -> tuple[list[str], list[str]]:
    """All BBC sentences and headlines."""
    sentences, titles = [], []
    for path in sorted(data.glob("*/*.txt")):
        head, _, body = path.read_text(encoding="latin-1").partition("\n")
        titles.append(head.strip())
        sentences += [s.strip() for s in _SENT.split(body.replace("\n", " ")) if len(s.split()) >= 5]
    return sentences, titles


def build(folder: Path, n: int, dim: int, data: Path, seed: int = 0) -> None:
    rng = random.Random(seed)
    sentences, _ = bbc_text(data)
    authors = ["Ann Lee", "Bob Kay", "Cem Oz", "Dee Roy", None]
    articles: list[tuple[Article, str]] = []
    passages: list[tuple[Passage, str]] = []
    for a in range((n + PER_ARTICLE - 1) // PER_ARTICLE):
        parts = [" ".join(rng.choices(sentences, k=rng.randint(3, 5))) for _ in range(PER_ARTICLE)]
        text = "\n\n".join(parts)
        date = f"{rng.randint(2003, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        art = Article(
            id=f"syn{a}",
            title=parts[0][:60],
            text=text,
            author=rng.choice(authors),
            date=date,
            source=rng.choice(["BBC", "Wire"]),
        )
        articles.append((art, f"h{a}"))
        start = 0
        for j, part in enumerate(parts):
            if len(passages) == n:
                break
            passages.append(
                (
                    Passage(
                        f"syn{a}:{j}",
                        art.id,
                        part,
                        start,
                        start + len(part),
                        art.title,
                        art.author,
                        date,
                        art.source,
                        len(part.split()),
                    ),
                    f"e{len(passages)}",
                )
            )
            start += len(part) + 2
    vecs = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    kind = choose_kind("auto", n, Settings().index.hnsw_threshold)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    write_store(tmp, articles, passages, vecs, kind)
    build_bm25([f"{p.title}\n{p.text}" for p, _ in passages], tmp / "bm25")
    Manifest.new(
        model="all-MiniLM-L6-v2",
        dim=dim,
        backend="auto",
        chunking={},
        corpus_fingerprint=f"synthetic-{n}",
        articles=len(articles),
        passages=n,
        index_kind=kind,
    ).write(tmp)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    print(f"built {n} passages ({kind}) in {time.perf_counter() - t0:.0f}s", file=sys.stderr)


def timed(fn, queries: list[str]) -> dict[str, float]:
    for q in queries[:5]:
        fn(q)  # warm-up: first calls page in mmapped arrays and build ONNX sessions
    ms = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        ms.append((time.perf_counter() - t0) * 1000)
    arr = np.array(ms)
    return {
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
        "mean_ms": round(float(arr.mean()), 2),
        "queries": len(ms),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build the cached index and stop")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "bbc-news", help="the BBC news folder")
    args = parser.parse_args()
    folder = ROOT / "cache" / "bench_retrieval" / f"index-{args.passages}"
    if args.rebuild or not (folder / "manifest.json").is_file():
        build(folder, args.passages, 384, args.data)
    if args.build_only:
        return 0
    _, titles = bbc_text(args.data)
    queries = random.Random(1).sample(titles, args.queries)
    settings = Settings()
    retriever = Retriever.open(folder, settings)
    embed = retriever.store.embedder
    qvec = embed.embed([queries[0]])[0]
    rows = {
        "query embedding only (all-MiniLM-L6-v2)": timed(lambda q: embed.embed([q]), queries),
        "BM25 search only (bm25s postings, top 100)": timed(lambda q: retriever.bm25.search(q, 100), queries),
        "FAISS search only (top 100)": timed(lambda q: retriever.store.search(qvec, 100), queries),
        "bm25 mode, k=10": timed(lambda q: retriever.search(q, k=10, mode="bm25"), queries),
        "dense mode, k=10": timed(lambda q: retriever.search(q, k=10, mode="dense"), queries),
        "hybrid (default), k=10": timed(lambda q: retriever.search(q, k=10), queries),
        "hybrid, k=10, since 2005-01-01 (1/3 of rows)": timed(
            lambda q: retriever.search(q, k=10, filters=Filters(since="2005-01-01")), queries
        ),
        "hybrid, k=10, author filter (1/5 of rows)": timed(
            lambda q: retriever.search(q, k=10, filters=Filters(authors=("Ann Lee",))), queries
        ),
    }
    meta = {
        "passages": args.passages,
        "index_kind": retriever.store.manifest.index_kind,
        "embedder_backend": getattr(embed, "backend", "?"),
        "machine": cpu_line(),
        "settings": settings.retrieval.model_dump(),
        "target": "hybrid p50 <= 20 ms",
    }
    lines = [
        f"# Retrieval latency, {args.passages:,} passages ({meta['index_kind']}), {args.queries} queries",
        "",
        "Command: `.venv/bin/python eval/bench_retrieval.py`. One process, one query at a time, "
        "on a shared 2-core CPU. Synthetic passages (BBC sentences recombined), random unit vectors, "
        "real query embedding, no LLM.",
        "",
        "| what | p50 ms | p95 ms | mean ms |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['mean_ms']} |" for name, r in rows.items()]
    write_results(RESULTS / "bench_retrieval", {"meta": meta, "rows": rows}, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
