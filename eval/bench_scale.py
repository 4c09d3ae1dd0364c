"""Scale benchmark: flat, HNSW and IVF-PQ (on disk) over up to 1M passages, in one run.

Passages are real sentences (BBC, Reuters, SciFact from ../shared/data, `--data`) recombined three at a time,
ten passages to an article, so SQLite and BM25 hold real text at full size. Vectors are SYNTHETIC:
mixed from pairs of real all-MiniLM-L6-v2 vectors (the BBC index and any --real files): their geometry,
not 1M real embeddings (embedding 1M passages on 2 CPU cores would take ~3 hours). Queries are 1,000
passage vectors with noise added. The query embedder is the hash fake (the real one adds ~1.1 ms,
eval/results/bench_index.md). Each kind is served by a fresh process, whose RSS is measured after
imports (baseline) and after opening the index and answering every query.

    .venv/bin/python eval/bench_scale.py --passages 1000000 --hnsw-passages 200000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rag.evaluation.harness import SHARED_DATA  # noqa: E402

DIM, QUERIES = 384, 1000


def sentences(data: Path = SHARED_DATA) -> list[str]:
    out: list[str] = []
    for f in sorted((data / "bbc-news").glob("*/*.txt")):
        out += re.split(r"(?<=[.!?])\s+", f.read_text(errors="replace"))
    with (data / "beir-scifact" / "corpus.jsonl").open() as fh:
        for line in fh:
            out += re.split(r"(?<=[.!?])\s+", json.loads(line)["text"])
    for f in sorted((data / "reuters21578").glob("*.sgm")):
        for body in re.findall(r"<BODY>(.*?)</BODY>", f.read_text(errors="replace"), re.S):
            out += re.split(r"(?<=[.!?])\s+", body)
    return [" ".join(s.split()) for s in out if 20 <= len(s) <= 400]


def synthetic_vectors(n: int, real: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors near the real ones: (1-w) v_i + w v_j + noise, w in [0, 0.5), so neighbourhoods
    keep the real embeddings' geometry (a pure random model made PQ look far worse than it is)."""
    out = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        i, j = rng.integers(0, len(real), m), rng.integers(0, len(real), m)
        w = rng.uniform(0, 0.5, (m, 1)).astype(np.float32)
        block = (1 - w) * real[i] + w * real[j] + 0.02 * rng.standard_normal((m, DIM)).astype(np.float32)
        out[s:s + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def real_vectors(paths: list[Path]) -> np.ndarray:
    found = [np.load(p, allow_pickle=False) for p in paths if p.is_file()]
    if not found:
        raise SystemExit(f"No real vectors at {[str(p) for p in paths]}: build one with rag index first.")
    return np.concatenate(found).astype(np.float32)


def write_text_parts(folder: Path, n: int, rng: np.random.Generator, data: Path = SHARED_DATA) -> list[str]:
    """passages.sqlite and bm25/ for n recombined passages; returns some passages' text as queries."""
    from rag.retrieval.bm25 import build_bm25
    from rag.store_write import write_store
    from rag.types import Article, Passage

    shutil.rmtree(folder, ignore_errors=True)
    pool = sentences(data)
    picks = rng.integers(0, len(pool), (n, 3))
    texts = [" ".join(pool[i] for i in row) for row in picks]
    articles, passages = [], []
    for a in range(0, n, 10):
        parts = texts[a:a + 10]
        body = "\n\n".join(parts)
        art = Article(id=f"a{a // 10}", title=parts[0][:60], text=body, date=f"20{(a // 10) % 20:02d}-01-01")
        articles.append((art, str(a)))
        start = 0
        for j, t in enumerate(parts):
            passages.append((Passage(f"{art.id}:{j}", art.id, t, start, start + len(t), art.title, None,
                                     art.date, "bench", len(t) // 4), str(a + j)))
            start += len(t) + 2
    write_store(folder, articles, passages, np.zeros((n, 1), dtype=np.float32), "flat")
    for name in ("vectors.npy", "vectors.faiss"):
        (folder / name).unlink()
    build_bm25(texts, folder / "bm25")
    return [texts[i][:80] for i in rng.integers(0, n, QUERIES)]


def build_kind(kind: str, text_dir: Path, folder: Path, vectors: np.ndarray) -> dict[str, object]:
    from rag.manifest import Manifest
    from rag.store_write import write_store

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    # write_store's vector half only: the text parts are shared (hard links), written once
    import faiss

    from rag import ivf
    from rag.store_write import build_faiss
    extra: dict[str, object] = {}
    if kind == "ivfpq":
        extra = {"ivfpq": ivf.build(vectors, folder / "vectors.faiss", folder / ivf.VECTORS_F16)}
    else:
        np.save(folder / "vectors.npy", vectors, allow_pickle=False)
        faiss.write_index(build_faiss(vectors, kind), str(folder / "vectors.faiss"))
    seconds = time.perf_counter() - t0
    del write_store
    os.link(text_dir / "passages.sqlite", folder / "passages.sqlite")
    shutil.copytree(text_dir / "bm25", folder / "bm25", copy_function=os.link)
    n = len(vectors)
    Manifest.new(model=f"hash-{DIM}", dim=DIM, backend="hash", chunking={}, corpus_fingerprint="bench",
                 articles=(n + 9) // 10, passages=n, index_kind=kind, extra=extra).write(folder)
    vec_bytes = sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("vectors"))
    all_bytes = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {"build_s": round(seconds, 1), "vector_bytes_per_passage": round(vec_bytes / n, 1),
            "disk_bytes_per_passage": round(all_bytes / n, 1), **{k: v for k, v in extra.items()}}


SERVE = r"""
import json, sys, time
import numpy as np
def rss():
    # total, anonymous (the process's own memory) and file-backed (memory-mapped index pages, which
    # the kernel can drop and re-read) resident bytes
    f = dict(ln.split(':', 1) for ln in open('/proc/self/status') if ln.startswith('Rss'))
    return {k: int(f[k].split()[0]) * 1024 for k in ('RssAnon', 'RssFile')}
from rag.retrieval.retriever import Retriever
from rag.settings import Settings
import faiss
folder, qfile = sys.argv[1], sys.argv[2]
q = np.load(qfile)
texts = json.load(open(qfile + '.json'))
settings = Settings.from_env({}, embedding={'model': 'hash-384'})
base = rss()
t0 = time.perf_counter()
r = Retriever.open(folder, settings)
open_s = time.perf_counter() - t0
after_open = rss()
ids = []
for v in q:
    ids.append([row for row, _ in r.store.search(v, 10)])
lat = []
for t in texts:
    t0 = time.perf_counter()
    r.search(t, mode='hybrid')
    lat.append(time.perf_counter() - t0)
p50, p95 = (float(np.percentile(lat, p) * 1e3) for p in (50, 95))
out = {'base_rss': base, 'rss': rss(), 'after_open': after_open, 'open_s': open_s, 'ids': ids,
       'p50_ms': p50, 'p95_ms': p95}
print(json.dumps(out))
"""


def serve(folder: Path, qfile: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", SERVE, str(folder), str(qfile)], check=True,
                         capture_output=True, text=True, cwd=ROOT, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passages", type=int, default=1_000_000)
    ap.add_argument("--hnsw-passages", type=int, default=200_000,
                    help="HNSW is built on the first this many passages (2 cores: 1M takes too long)")
    ap.add_argument("--real", type=Path, nargs="+", default=[ROOT / "index" / "bbc" / "vectors.npy"],
                    help="vectors.npy of real indexes (all-MiniLM-L6-v2) the synthetic ones are mixed from")
    ap.add_argument("--data", type=Path, default=SHARED_DATA,
                    help="folder holding bbc-news, beir-scifact and reuters21578")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_scale"))
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "bench_scale")
    ap.add_argument("--kinds", nargs="+", default=["flat", "ivfpq", "hnsw"])
    ap.add_argument("--reuse-text", action="store_true",
                    help="keep the text parts of an earlier run in --work (same seed, same vectors)")
    args = ap.parse_args()
    import faiss

    rng = np.random.default_rng(0)
    args.work.mkdir(parents=True, exist_ok=True)
    n = args.passages
    sizes = {"flat": n, "hnsw": min(n, args.hnsw_passages), "ivfpq": n}
    t0 = time.perf_counter()
    if args.reuse_text and (args.work / "text" / "bm25").is_dir():
        pool = sentences(args.data)  # replay the seeded draws write_text_parts makes, to get the same vectors
        picks = rng.integers(0, len(pool), (n, 3))
        texts = [" ".join(pool[j] for j in picks[i])[:80] for i in rng.integers(0, n, QUERIES)]
    else:
        texts = write_text_parts(args.work / "text", n, rng, args.data)
    text_s = time.perf_counter() - t0
    real = real_vectors(args.real)
    vectors = synthetic_vectors(n, real, rng)
    qv = vectors[rng.integers(0, n, QUERIES)] + 0.03 * rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    qv = (qv / np.linalg.norm(qv, axis=1, keepdims=True)).astype(np.float32)
    rows = []
    for kind in args.kinds:
        m = sizes[kind]
        text_dir = args.work / "text"
        if m != n:  # HNSW at a smaller size: its own text parts of that size
            text_dir = args.work / f"text{m}"
            if not (args.reuse_text and (text_dir / "bm25").is_dir()):
                write_text_parts(text_dir, m, np.random.default_rng(0))
        row: dict[str, object] = {"kind": kind, "passages": m}
        row.update(build_kind(kind, text_dir, args.work / kind, vectors[:m]))
        qfile = args.work / f"q{m}.npy"
        np.save(qfile, qv)
        qfile.with_name(qfile.name + ".json").write_text(json.dumps(texts))
        served = serve(args.work / kind, qfile)
        exact = faiss.IndexFlatIP(DIM)
        exact.add(vectors[:m])
        truth = exact.search(qv, 10)[1]
        got = served.pop("ids")
        assert isinstance(got, list)
        row["recall@10"] = round(float(np.mean([len(set(g) & set(t.tolist())) / 10
                                                 for g, t in zip(got, truth, strict=True)])), 4)
        now, base, opened = (served[k] for k in ("rss", "base_rss", "after_open"))
        anon = now["RssAnon"] - base["RssAnon"]  # type: ignore[index]
        file_backed = now["RssFile"] - base["RssFile"]  # type: ignore[index]
        row.update({"rss_mb_beyond_baseline": round((anon + file_backed) / 1e6, 1),
                    "rss_anon_bytes_per_passage": round(anon / m, 1),
                    "rss_file_bytes_per_passage": round(file_backed / m, 1),
                    "rss_anon_after_open_bytes_per_passage":
                        round((opened["RssAnon"] - base["RssAnon"]) / m, 1),  # type: ignore[index]
                    "open_s": round(float(served["open_s"]), 2),  # type: ignore[arg-type]
                    "hybrid_p50_ms": round(float(served["p50_ms"]), 1),  # type: ignore[arg-type]
                    "hybrid_p95_ms": round(float(served["p95_ms"]), 1)})  # type: ignore[arg-type]
        print(row, flush=True)
        rows.append(row)
        shutil.rmtree(args.work / kind, ignore_errors=True)
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meta = {"passages": n, "text_parts_s": round(text_s, 1), "load_avg": os.getloadavg(),
            "cpus": os.cpu_count(),
            "vectors": f"synthetic: pairs of {len(real):,} real all-MiniLM-L6-v2 vectors "
                       "((1-w) v_i + w v_j + noise, w < 0.5), unit length", "queries": QUERIES,
            "cpu": next((ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), "?")}
    if set(args.kinds) != {"flat", "ivfpq", "hnsw"} and args.out.with_suffix(".json").is_file():
        earlier = json.loads(args.out.with_suffix(".json").read_text())["rows"]  # rerun of some kinds
        rows = [r for r in earlier if r["kind"] not in args.kinds] + rows
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    load = ", ".join(f"{x:.1f}" for x in meta["load_avg"])
    lines = [f"# Scale benchmark, {n:,} passages ({meta['cpu']}, {meta['cpus']} cores, load {load})",
             "", f"Vectors: {meta['vectors']}; text: real BBC/Reuters/SciFact sentences recombined; "
             f"{QUERIES} queries. RSS is the serving process's growth after imports (no model loaded: "
             "hash query embedder), split into anonymous memory and file-backed pages of the memory-mapped "
             "index files (page cache the kernel can drop and re-read). "
             "Command: `.venv/bin/python eval/bench_scale.py`.", "",
             "| kind | passages | build s | disk B/passage | vector files B/passage | RSS anon B/passage | "
             "RSS file-backed B/passage | recall@10 | hybrid p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        # rows from a run before the anonymous/file split show their total RSS in the first column
        anon = r.get("rss_anon_bytes_per_passage", f"{r.get('rss_bytes_per_passage')} (total)")
        lines.append(f"| {r['kind']} | {r['passages']:,} | {r['build_s']} | {r['disk_bytes_per_passage']} | "
                     f"{r['vector_bytes_per_passage']} | {anon} | "
                     f"{r.get('rss_file_bytes_per_passage', '-')} | {r['recall@10']} | "
                     f"{r['hybrid_p50_ms']} | {r['hybrid_p95_ms']} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
