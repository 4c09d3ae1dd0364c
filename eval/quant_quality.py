"""Which embedding backend may `auto` pick? Dense-only nDCG@10 on BEIR SciFact per backend.

Embeds the SciFact corpus (title + text) and the 300 test queries with torch fp32, ONNX fp32
and ONNX int8, scores nDCG@10 with ir_measures, and writes eval/results/quant_quality.{md,json}.
A backend qualifies for `auto` when it is within 0.005 nDCG@10 of torch fp32 (or above it). The
ONNX backends run with the layout calibrated for this machine (rag.embedding.calibrate); the table
names the CPU, its load and the library versions.

    .venv/bin/python eval/quant_quality.py [--data ../shared/data/beir-scifact] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ir_measures  # noqa: E402
import numpy as np  # noqa: E402
from ir_measures import nDCG  # noqa: E402

from rag.embedding import load_embedder  # noqa: E402
from rag.evaluation.harness import SHARED_DATA, machine_stamp, stamp_lines, write_results  # noqa: E402
from rag.settings import PROJECT_ROOT, EmbeddingSettings, Settings  # noqa: E402

BACKENDS = ("torch", "onnx", "onnx-int8")
MAX_LOSS = 0.005  # nDCG@10 a backend may lose against torch fp32 and still qualify


Qrels = dict[str, dict[str, int]]


def load(data: Path, limit: int | None) -> tuple[list[str], list[str], dict[str, str], Qrels]:
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open()]
    qrels: Qrels = {}
    for line in list((data / "qrels" / "test.tsv").open())[1:]:
        qid, did, score = line.split()
        qrels.setdefault(qid, {})[did] = int(score)
    all_queries = map(json.loads, (data / "queries.jsonl").open())
    queries = {q["_id"]: q["text"] for q in all_queries if q["_id"] in qrels}
    if limit:  # keep every judged document so that nDCG stays meaningful on a subset
        judged = {d for rel in qrels.values() for d in rel}
        docs = [d for d in docs if d["_id"] in judged] + [d for d in docs if d["_id"] not in judged]
        docs = docs[:limit]
    ids = [d["_id"] for d in docs]
    texts = [f"{d['title']}\n{d['text']}".strip() for d in docs]
    return ids, texts, queries, qrels


def run(backend: str, texts: list[str], queries: dict[str, str], ids: list[str], cache: str) -> dict:
    update = {"backend": backend, "cache_dir": cache}
    settings: EmbeddingSettings = Settings().embedding.model_copy(update=update)
    emb = load_embedder(settings)
    emb.embed(["warm up"])
    t = time.perf_counter()
    doc_vecs = emb.embed(texts)
    seconds = time.perf_counter() - t
    qids = list(queries)
    q_vecs = emb.embed([queries[q] for q in qids])
    scores = q_vecs @ doc_vecs.T
    run_ = {}
    for i, qid in enumerate(qids):
        top = np.argsort(-scores[i])[:100]
        run_[qid] = {ids[j]: float(scores[i, j]) for j in top}
    return {"run": run_, "seconds": seconds, "docs_per_s": len(texts) / seconds, "doc_vecs": doc_vecs,
            "runtime": getattr(emb, "runtime", None)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "beir-scifact")
    ap.add_argument("--limit", type=int, default=None, help="embed only this many documents (judged first)")
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "quant_quality")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "rag-quant-cache"))
    args = ap.parse_args()
    ids, texts, queries, qrels = load(args.data, args.limit)
    print(f"{len(texts)} documents, {len(queries)} queries", file=sys.stderr)
    before = machine_stamp()
    rows, ref = [], None
    for backend in BACKENDS:
        r = run(backend, texts, queries, ids, args.cache)
        ndcg = ir_measures.calc_aggregate([nDCG @ 10], qrels, r["run"])[nDCG @ 10]
        if ref is None:
            ref = r["doc_vecs"]
        cos = (r["doc_vecs"] * ref).sum(1)
        rows.append({"backend": backend, "ndcg@10": round(float(ndcg), 4),
                     "docs_per_s": round(r["docs_per_s"], 1), "seconds": round(r["seconds"], 1),
                     "cos_to_torch_min": round(float(cos.min()), 4),
                     "cos_to_torch_mean": round(float(cos.mean()), 5), "runtime": r["runtime"]})
        print(rows[-1], file=sys.stderr)
    base = rows[0]["ndcg@10"]
    for row in rows:
        row["delta_vs_torch"] = round(row["ndcg@10"] - base, 4)
        row["qualifies"] = row["delta_vs_torch"] >= -MAX_LOSS
    ok = [r for r in rows if r["qualifies"]]
    pick = max(ok, key=lambda r: r["docs_per_s"])["backend"]
    meta = {"documents": len(texts), "queries": len(queries), "auto_pick": pick,
            "machine_before": before, "machine_after": machine_stamp(),
            "command": "python eval/quant_quality.py" + (f" --limit {args.limit}" if args.limit else "")}
    lines = [
        "# Embedding backends on BEIR SciFact (dense only, all-MiniLM-L6-v2)", "",
        *stamp_lines(meta["machine_before"], meta["machine_after"]), "",
        f"{len(texts)} documents (title + text), {len(queries)} test queries; the CPU may be shared with "
        "other work (throughput figures are indicative; compare ratios within the table).",
        *([f"A subset of {args.limit:,} documents: every judged document first, then corpus order (nDCG is "
           "higher than on the full corpus, fewer distractors); it ranks the backends the same way.", ""]
          if args.limit else [""]),
        "| backend | nDCG@10 | delta vs torch | docs/s | min cosine to torch | mean cosine | qualifies |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['ndcg@10']:.4f} | {r['delta_vs_torch']:+.4f} | "
                     f"{r['docs_per_s']} | {r['cos_to_torch_min']} | {r['cos_to_torch_mean']} | "
                     f"{'yes' if r['qualifies'] else 'no'} |")
    layouts = {r["backend"]: r["runtime"] for r in rows if r["runtime"]}
    lines += ["", f"`auto` = **{pick}** (fastest backend within {MAX_LOSS} nDCG@10 of torch fp32).",
              *(f"{b} ran with the calibrated layout {rt['workers']} runs x {rt['threads']} threads, "
                f"max_tokens {rt['max_tokens']} (0: one text per run)." for b, rt in layouts.items()),
              f"Command: `{meta['command']}`", ""]
    write_results(args.out.with_suffix(""), {"meta": meta, "rows": rows}, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
