"""Ray engine against the single-process build on the whole BBC set, real embedder, in one run.

Builds the same corpus into fresh folders, each in its own subprocess (so each pays its own
start-up: the model load, and for Ray `ray.init` and one model load per actor):
  single     rag.indexer.build_index with default settings (ONNX int8 all-MiniLM-L6-v2, the calibrated
             thread layout over the machine's cores);
  ray        the same build_index with rag.ray_engine.RayEmbedder (a local Ray, --workers actors of one
             CPU each) and its read_and_chunk (files read and chunked on Ray tasks), as
             `rag index --engine ray --workers N` runs it;
  ray-embed  the same without read_and_chunk: reading and chunking in the driver, embedding on Ray.
Then compares each Ray folder with the single one: articles, passages and offsets, embed keys, vectors
(max abs difference, min cosine), BM25 results, manifest fields, and the bad-file reports. Machine
CPU use (all processes, from /proc/stat) is recorded per build: the box is shared, so other work
shows there.

    .venv/bin/python eval/bench_ray.py [--corpus DIR] [--workers 2] [--out eval/results/bench_ray]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from rag.evaluation.harness import machine_stamp, peak_rss_mb, stamp_lines, write_results  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "bbc-news"
# written at build time or describing how this machine ran the embedder, not what was built
VOLATILE = {"built_at", "files"}
ENGINES = {"single": "build_index in one process (the calibrated thread layout over all cores)",
           "ray": "reading and chunking on Ray tasks, embedding on the Ray actors (one CPU each)",
           "ray-embed": "reading and chunking in the driver, embedding on the Ray actors"}


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat's first line."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def build(engine: str, paths: list[Path], out: Path, workers: int) -> dict[str, Any]:
    """One build in this process; returns its timings and report (run by the child process)."""
    from rag.embedding import load_embedder
    from rag.indexer import build_index
    from rag.settings import Settings

    settings = Settings()
    load0, ticks0, t0 = os.getloadavg()[0], cpu_ticks(), time.perf_counter()
    embedder, read_and_chunk = None, None
    if engine != "single":
        import ray

        from rag.ray_engine import RayEmbedder

        embedder = RayEmbedder(settings.embedding, workers=workers)  # ray.init, actors loaded and ready
        read_and_chunk = embedder.read_and_chunk if engine == "ray" else None
    else:
        load_embedder(settings.embedding)  # cached per process: build_index reuses this one
    start_s = time.perf_counter() - t0
    report = build_index(paths, out, settings, embedder=embedder, read_and_chunk=read_and_chunk)
    build_s = time.perf_counter() - t0 - start_s
    if embedder is not None:
        embedder.close()
        ray.shutdown()
    wall_s = time.perf_counter() - t0
    busy, total = (b - a for a, b in zip(ticks0, cpu_ticks(), strict=True))
    return {"engine": engine, "wall_s": round(wall_s, 1), "start_s": round(start_s, 1),
            "build_s": round(build_s, 1), "articles": report.added, "passages": report.passages,
            "embedded": report.embedded, "failed": report.failed, "failed_paths": report.failed_paths,
            "problems": [str(p) for p in report.problems],
            "machine_cpu_busy": round(busy / max(total, 1), 3),
            "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
            "driver_peak_rss_mb": round(peak_rss_mb(), 1)}


def run_child(engine: str, paths: list[Path], out: Path, workers: int) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, __file__, "--child", engine, "--workers", str(workers), "--index", str(out),
           "--paths", *map(str, paths)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(row, flush=True)
    return row


def _rows(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(folder / "passages.sqlite")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def compare(single: Path, distributed: Path) -> dict[str, Any]:
    """What differs between the two index folders (empty lists and True flags: nothing)."""
    out: dict[str, Any] = {}
    for name, sql in (("articles", "SELECT id, title, text, content_hash FROM articles ORDER BY row"),
                      ("passages", "SELECT id, article_id, start, end, text, embed_hash FROM passages "
                                   "ORDER BY row")):
        a, b = _rows(single, sql), _rows(distributed, sql)
        out[f"{name}_equal"] = a == b
        out[f"{name}_count"] = [len(a), len(b)]
    va, vb = (np.load(f / "vectors.npy") for f in (single, distributed))
    out["vectors_shape"] = [list(va.shape), list(vb.shape)]
    if va.shape == vb.shape:
        out["vectors_max_abs_diff"] = float(np.abs(va - vb).max())
        out["vectors_min_cosine"] = float(np.min(np.sum(va * vb, axis=1)))
        out["vectors_identical_rows"] = int(np.sum(np.all(va == vb, axis=1)))
    ma, mb = (json.loads((f / "manifest.json").read_text()) for f in (single, distributed))
    out["manifest_same_keys"] = set(ma) == set(mb)
    diff = sorted(k for k in set(ma) | set(mb) if k not in VOLATILE and ma.get(k) != mb.get(k))
    out["manifest_differing"] = diff
    # extra.embedding_runtime says how the embedder ran (per actor on Ray); everything else must match
    ea, eb = ma.get("extra", {}), mb.get("extra", {})
    out["manifest_extra_differing"] = sorted(k for k in set(ea) | set(eb) if ea.get(k) != eb.get(k))
    out["runtime_single"], out["runtime_ray"] = ma.get("embedding_runtime"), mb.get("embedding_runtime")
    files_a, files_b = ma.get("files", {}), mb.get("files", {})
    # bm25/ files differ between any two builds, Ray or not (bm25s orders its vocabulary by Python's
    # per-process string hash), so BM25 is compared by what it returns
    out["files_differing"] = sorted(k for k in set(files_a) | set(files_b)
                                    if files_a.get(k) != files_b.get(k))
    out["bm25_queries"], out["bm25_same_results"] = bm25_agreement(single, distributed)
    return out


def bm25_agreement(single: Path, distributed: Path, n: int = 200) -> tuple[int, int]:
    """(queries, how many of them give the same top-10 rows and scores from both BM25 indexes); the
    queries are the first eight words of n passages spread over the index."""
    from rag.retrieval.bm25 import load_bm25

    texts = [t for (t,) in _rows(single, "SELECT text FROM passages ORDER BY row")]
    queries = [" ".join(texts[i].split()[:8]) for i in np.linspace(0, len(texts) - 1, n).astype(int)]
    a, b = load_bm25(single / "bm25"), load_bm25(distributed / "bm25")
    same = sum(1 for q in queries if np.allclose(np.array(a.search(q, 10)), np.array(b.search(q, 10))))
    return len(queries), same


def markdown(rows: list[dict[str, Any]], same: dict[str, dict[str, Any]], before: dict[str, Any],
             after: dict[str, Any], corpus: Path, workers: int, rounds: int) -> str:
    lines = [f"# Ray engine vs single process, {corpus.name} ({rows[0]['articles']:,} articles, "
             f"{rows[0]['passages']:,} passages)", "",
             *stamp_lines(before, after), "",
             "Each build runs in its own fresh process into an empty folder, with the real embedder "
             "(all-MiniLM-L6-v2, ONNX int8, one text per run). `start s` is the model load (single) or "
             f"`ray.init` plus {workers} actors each loading the model (ray); `build s` is build_index "
             "(read, chunk, embed, write SQLite/FAISS/BM25). Machine CPU busy counts every process on the "
             "box (other sessions included) during the build. Engines: " + "; ".join(
                 f"`{r['engine']}` {ENGINES[r['engine']]}" for r in rows) + ".",
             f"Command: `.venv/bin/python eval/bench_ray.py --workers {workers} --rounds {rounds}` (rounds "
             "interleave the engines; each row is the engine's fastest build, all walls in the last column).",
             "", "| engine | wall s | start s | build s | passages/s (wall) | machine CPU busy "
             "| load before/after | driver peak RSS MB | every build's wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['engine']} | {r['wall_s']} | {r['start_s']} | {r['build_s']} | "
                     f"{r['passages'] / r['wall_s']:.1f} | {r['machine_cpu_busy']:.0%} | "
                     f"{r['load_before']} / {r['load_after']} | {r['driver_peak_rss_mb']} | "
                     f"{', '.join(map(str, r['all_wall_s']))} |")
    single = rows[0]
    for r in rows[1:]:
        d = same[r["engine"]]
        lines += ["", f"`{r['engine']}` against `single`:", "",
                  f"- articles equal: {d['articles_equal']} ({d['articles_count'][0]:,}); passages (ids, "
                  f"offsets, text, embed keys) equal: {d['passages_equal']} ({d['passages_count'][0]:,})",
                  f"- vectors: shapes {d['vectors_shape'][0]} / {d['vectors_shape'][1]}, max abs "
                  f"difference {d.get('vectors_max_abs_diff')}, min cosine {d.get('vectors_min_cosine')}, "
                  f"identical rows {d.get('vectors_identical_rows')}",
                  f"- manifest: same keys {d['manifest_same_keys']}; differing besides built_at/files: "
                  f"{d['manifest_differing'] or 'none'} (in extra: "
                  f"{d['manifest_extra_differing'] or 'none'})",
                  f"- embedding_runtime: single {d['runtime_single']}; {r['engine']} {d['runtime_ray']}",
                  f"- files whose size/sha256 differ: {d['files_differing'] or 'none'} (bm25/ differs "
                  "between any two builds: bm25s orders its vocabulary by Python's per-process string "
                  f"hash); BM25 top-10 rows and scores equal on {d['bm25_same_results']} of "
                  f"{d['bm25_queries']} queries",
                  f"- problems reported (the corpus plus a broken PDF given as a second PATH): equal "
                  f"{single['problems'] == r['problems']}, failed paths equal "
                  f"{single['failed_paths'] == r['failed_paths']}: {single['problems']}"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=BBC)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engines", nargs="+", choices=list(ENGINES)[1:], default=list(ENGINES)[1:],
                    help="the Ray variants to run after the single-process build")
    ap.add_argument("--rounds", type=int, default=1,
                    help="builds per engine, interleaved; the fastest is kept")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_ray"))
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "bench_ray")
    ap.add_argument("--child", choices=list(ENGINES), help=argparse.SUPPRESS)
    ap.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--paths", type=Path, nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(build(args.child, args.paths, args.index, args.workers)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    bad = args.work / "broken.pdf"  # a second PATH that fails: both engines must report it the same way
    bad.write_bytes(b"%PDF-1.4 not really a pdf")
    paths = [args.corpus, bad]
    before = machine_stamp()
    engines = ["single", *args.engines]
    # Rounds interleave the engines and each keeps its fastest build: other sessions' work on this
    # shared box lands on whichever build happens to run beside it, and the fastest is the least hit.
    runs = [[run_child(e, paths, args.work / e, args.workers) for e in engines] for _ in range(args.rounds)]
    rows = [min((r[i] for r in runs), key=lambda row: row["wall_s"]) for i in range(len(engines))]
    for i, row in enumerate(rows):
        row["all_wall_s"] = [r[i]["wall_s"] for r in runs]
    after = machine_stamp()
    same = {e: compare(args.work / "single", args.work / e) for e in args.engines}
    md = markdown(rows, same, before, after, args.corpus, args.workers, args.rounds)
    write_results(args.out, {"machine_before": before, "machine_after": after, "workers": args.workers,
                             "rounds": args.rounds, "corpus": str(args.corpus), "rows": rows,
                             "all_runs": runs, "same": same}, md)
    print(md)


if __name__ == "__main__":
    main()
