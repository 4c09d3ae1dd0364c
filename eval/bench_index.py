"""Index build benchmark: plain sentence-transformers defaults vs the project's default path.

Indexes a corpus (default: the BBC set, 2,225 articles) twice in one run, each in its own
subprocess so that peak memory (RSS) is per method:
  plain    ingest + chunk (shared code), SentenceTransformer.encode(batch_size=32), torch fp32,
           FAISS IndexFlatIP: what a straightforward implementation does;
  project  rag.indexer.build_index with default settings (backend auto, length-sorted batches,
           journal, SQLite, BM25) into a fresh folder; the ONNX export is made beforehand (it is
           cached once per model, never per run) and its one-off cost is reported separately.
Then query latency (embed + FAISS search) p50/p95 at the corpus size and at 100k passages
(the corpus' real vectors plus noisy copies), flat vs HNSW, with HNSW recall@10 against flat.

    .venv/bin/python eval/bench_index.py [--corpus DIR] [--limit N] [--out eval/results/bench_index]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from rag.evaluation.harness import SHARED_DATA, machine_stamp, peak_rss_mb, stamp_lines, write_results  # noqa: E402
from rag.settings import Settings  # noqa: E402


def _articles(corpus: Path, limit: int | None) -> list:
    from rag.ingest import ingest

    articles = ingest([corpus]).articles
    return articles[:limit] if limit else articles


def worker_plain(corpus: Path, limit: int | None, out: Path) -> dict:
    import faiss
    from sentence_transformers import SentenceTransformer

    from rag.chunking import chunk_articles, embedding_text
    from rag.models import resolve_model_path

    model = SentenceTransformer(str(resolve_model_path(Settings().embedding.model)), device="cpu")
    t0 = time.perf_counter()
    settings = Settings()
    passages = chunk_articles(_articles(corpus, limit), settings.chunking)
    texts = [embedding_text(p, settings.chunking.header_tokens) for p in passages]
    t_embed = time.perf_counter()
    vecs = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    embed_s = time.perf_counter() - t_embed
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    faiss.write_index(index, str(out / "plain.faiss"))
    return {"passages": len(texts), "wall_s": time.perf_counter() - t0, "embed_s": embed_s}


def worker_project(corpus: Path, limit: int | None, out: Path) -> dict:
    from rag.embedding import load_embedder
    from rag.indexer import build_index, index_articles

    settings = Settings()
    t = time.perf_counter()
    emb = load_embedder(settings.embedding)  # exports to ONNX on the very first use only
    load_s = time.perf_counter() - t
    t0 = time.perf_counter()
    if limit:
        report = index_articles(_articles(corpus, limit), out / "index", settings)
    else:
        report = build_index([corpus], out / "index", settings)
    return {"passages": report.passages, "wall_s": time.perf_counter() - t0, "embedded": report.embedded,
            "backend": getattr(emb, "backend", "?"), "model_load_s": load_s,
            "runtime": getattr(emb, "runtime", None)}


def run_worker(kind: str, corpus: Path, limit: int | None, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--corpus", str(corpus), "--workdir", str(out)]
    if limit:
        cmd += ["--limit", str(limit)]
    load_before = os.getloadavg()[0]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{res.stderr[-3000:]}")
    data = json.loads(res.stdout.strip().splitlines()[-1])
    load_after = os.getloadavg()[0]
    data.update(method=kind, load_avg_before=round(load_before, 1), load_avg_after=round(load_after, 1))
    data["passages_per_s"] = data["passages"] / data["wall_s"]
    return data


def _percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def query_latency(index_dir: Path, n_queries: int = 200, big: int = 100_000) -> list[dict]:
    from rag.store import HNSW_EF_SEARCH, Store
    from rag.store_write import build_faiss

    store = Store.open(index_dir)
    emb = store.embedder
    titles = sorted({p.title for p in store.passages(range(0, len(store), max(1, len(store) // 400)))})
    queries = [t.lower() for t in titles][:n_queries]
    emb.embed(queries[:2])  # warm-up
    embed_ms, qvecs = [], []
    for q in queries:
        t = time.perf_counter()
        qvecs.append(emb.embed([q])[0])
        embed_ms.append((time.perf_counter() - t) * 1000)
    rows = []
    base = store.vectors()
    rng = np.random.default_rng(0)
    noisy = base[rng.integers(0, len(base), big - len(base))]
    # noise of norm ~1: cosine ~0.7 to the original, real topics but not exact copies
    noisy = noisy + rng.normal(0, 0.05, noisy.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    large = np.vstack([base, noisy]).astype(np.float32)
    for label, vecs in ((f"{len(base):,} (BBC)", base), (f"{len(large):,} (BBC + noisy copies)", large)):
        exact = None
        hnsw: Any = None  # a faiss.IndexHNSWFlat; build_faiss is typed as the base Index, which has no .hnsw
        for kind in ("flat", "hnsw", f"hnsw efSearch={4 * HNSW_EF_SEARCH}"):
            t = time.perf_counter()
            if kind == "flat":
                index = build_faiss(vecs, kind)
            else:  # one HNSW graph, searched with the default and with a wider beam
                hnsw = hnsw or build_faiss(vecs, "hnsw")
                hnsw.hnsw.efSearch = HNSW_EF_SEARCH if kind == "hnsw" else 4 * HNSW_EF_SEARCH
                index = hnsw
            build_s = time.perf_counter() - t
            search_ms, found = [], []
            for q in qvecs:
                t = time.perf_counter()
                _, ids = index.search(q.reshape(1, -1), 10)
                search_ms.append((time.perf_counter() - t) * 1000)
                found.append(ids[0])
            if exact is None:
                exact = found
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])
            total = [e + s for e, s in zip(embed_ms, search_ms, strict=True)]
            p50, p95 = _percentiles(total)
            s50, s95 = _percentiles(search_ms)
            rows.append({"passages": label, "kind": kind, "build_s": round(build_s, 1),
                         "search_p50_ms": round(s50, 2), "search_p95_ms": round(s95, 2),
                         "total_p50_ms": round(p50, 1), "total_p95_ms": round(p95, 1),
                         "recall@10_vs_flat": round(float(recall), 3)})
            print(rows[-1], file=sys.stderr)
    e50, e95 = _percentiles(embed_ms)
    rows.insert(0, {"passages": "query embedding only", "kind": getattr(emb, "backend", "?"),
                    "total_p50_ms": round(e50, 1), "total_p95_ms": round(e95, 1)})
    return rows


def report(build: list[dict], latency: list[dict], meta: dict, out: Path) -> str:
    plain, proj = build
    ratio = proj["passages_per_s"] / plain["passages_per_s"]
    meta["ratio"] = round(ratio, 2)
    lines = ["# Index build benchmark", "", *stamp_lines(meta["machine_before"], meta["machine_after"]), "",
             f"Corpus: {meta['corpus']} ({meta['articles']}); the CPU may be shared with other work (load "
             "average in the table): the ratio of two methods in one run is the comparable figure.", "",
             "| method | backend | passages | passages/s | wall s | peak RSS MB | load avg before/after |",
             "|---|---|---|---|---|---|---|"]
    for r in build:
        lines.append(f"| {r['method']} | {r.get('backend', 'torch fp32')} | {r['passages']} | "
                     f"{r['passages_per_s']:.1f} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['load_avg_before']}/{r['load_avg_after']} |")
    runtime = proj.get("runtime") or {}
    batch = "one text" if not runtime.get("max_tokens") else f"{runtime['max_tokens']} tokens"
    layout = (f"{runtime['workers']} runs x {runtime['threads']} threads, {batch} per run, "
              f"a query on {runtime.get('query_threads', 1)} thread(s)" if runtime else "n/a")
    lines += ["", f"**Speed-up: {ratio:.2f}x** passages/s (target >= 4x); project wall time "
              f"{proj['wall_s']:.1f} s (target <= 90 s for the whole BBC set). One-off model load (ONNX "
              "export and calibration when not cached) before the project run: "
              f"{proj['model_load_s']:.1f} s; "
              f"calibrated layout: {layout}.", "",
              "## Query latency (one query at a time: embed + FAISS top-10)", "",
              "| passages | index | build s | search p50 ms | search p95 ms | total p50 ms | total p95 ms "
              "| recall@10 vs flat |", "|---|---|---|---|---|---|---|---|"]
    for r in latency:
        lines.append(f"| {r['passages']} | {r['kind']} | {r.get('build_s', '')} | "
                     f"{r.get('search_p50_ms', '')} | {r.get('search_p95_ms', '')} | "
                     f"{r['total_p50_ms']} | {r['total_p95_ms']} | "
                     f"{r.get('recall@10_vs_flat', '')} |")
    lines += ["", f"Command: `{meta['command']}`", ""]
    text = "\n".join(lines)
    write_results(out.with_suffix(""), {"meta": meta, "build": build, "latency": latency}, text)
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description="index build benchmark")
    ap.add_argument("--data", "--corpus", dest="corpus", type=Path, default=SHARED_DATA / "bbc-news",
                    help="the corpus folder (default: the BBC news set)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N articles")
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "bench_index")
    ap.add_argument("--worker", choices=["plain", "project"], help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fn = worker_plain if args.worker == "plain" else worker_project
        data = fn(args.corpus, args.limit, args.workdir)
        data["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(data))
        return 0
    before = machine_stamp()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        work = Path(tmp)
        build = [run_worker(kind, args.corpus, args.limit, work) for kind in ("plain", "project")]
        for r in build:
            print(r, file=sys.stderr)
        latency = query_latency(work / "index")
    command = "python eval/bench_index.py" + (f" --limit {args.limit}" if args.limit else "")
    articles = f"first {args.limit} articles" if args.limit else "all articles"
    meta = {"corpus": str(args.corpus), "articles": articles, "command": command,
            "machine_before": before, "machine_after": machine_stamp()}
    print(report(build, latency, meta, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
