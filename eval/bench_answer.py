"""Time to first answer token with the offline answerer (target: p50 <= 0.5 s), on the sample corpus
or, with --bbc, on an index of the whole BBC archive with the BBC QA set's questions.

Measured from calling `stream_answer` (query rewrite check, retrieval, sentence scoring) to the
first text delta, and to the finished Answer; retrieval alone is timed in the same run as the
baseline the answer stage adds to. The model is loaded and one question answered before timing.

    .venv/bin/python eval/bench_answer.py [--index DIR] [--rounds 3]
    .venv/bin/python eval/bench_answer.py --bbc [--data ../shared/data/bbc-news] [--index index/bbc]

Writes eval/results/bench_answer.md and .json (bench_answer_bbc.* with --bbc).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.answer import stream_answer  # noqa: E402
from rag.embedding import backend_of  # noqa: E402
from rag.evaluation.harness import SHARED_DATA, cpu_line, write_results  # noqa: E402
from rag.indexer import ensure_index  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.settings import SAMPLE_CORPUS, Settings  # noqa: E402
from rag.types import Answer  # noqa: E402

RESULTS = ROOT / "eval" / "results"
EXTRA = ["Who won the 2018 World Cup?", "What is the capital of Australia?",
         "How many soldiers will the US, Germany and Britain each contribute?"]
TARGET_P50 = 0.5


def questions(name: str = "sample_qa.jsonl") -> list[str]:
    path = ROOT / "eval" / name
    if name != "sample_qa.jsonl":  # the BBC set: its test split, follow-ups left out (they need history)
        rows = [json.loads(line) for line in path.open() if line.strip()]
        return [r["question"] for r in rows if r.get("split") == "test" and not r.get("follows")]
    qa = [json.loads(line)["question"] for line in path.open() if line.strip()] if path.exists() else []
    return qa + EXTRA


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", help="an index of corpus/sample (built into a temporary folder if omitted)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bbc", action="store_true", help="the whole BBC archive and the BBC QA questions")
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "bbc-news")
    args = ap.parse_args()
    settings = Settings.from_env()
    if args.bbc:
        index = Path(args.index) if args.index else ROOT / "index" / "bbc"
        ensure_index([args.data], index, settings)
        qs, corpus, out = questions("bbc_qa.jsonl"), "whole BBC archive", "bench_answer_bbc"
    else:
        index = Path(args.index) if args.index else Path(tempfile.mkdtemp()) / "sample"
        ensure_index([SAMPLE_CORPUS], index, settings)
        qs, corpus, out = questions(), "sample corpus", "bench_answer"
    retriever = Retriever.open(index, settings)
    for _item in stream_answer(qs[0], retriever, settings):  # warm-up: model sessions, tokenizers
        pass

    first, total, search, refused = [], [], [], 0
    for _ in range(args.rounds):
        for q in qs:
            t0 = time.perf_counter()
            retriever.search(q)
            search.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            t_first = None
            for item in stream_answer(q, retriever, settings):
                if t_first is None and isinstance(item, str):
                    t_first = time.perf_counter() - t0
                if isinstance(item, Answer):
                    total.append(time.perf_counter() - t0)
                    refused += not item.grounded
            assert t_first is not None
            first.append(t_first)

    def stats(xs: list[float]) -> dict[str, float]:
        a = np.array(xs)
        return {"p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)),
                "max": float(a.max()), "mean": float(a.mean())}

    emb = retriever.store.embedder
    result = {
        "n": len(first), "questions": len(qs), "rounds": args.rounds,
        "time_to_first_token_s": stats(first), "time_to_answer_s": stats(total),
        "retrieval_only_s": stats(search), "refusals_per_round": refused // args.rounds,
        "target_p50_s": TARGET_P50, "passes": stats(first)["p50"] <= TARGET_P50,
        "embedder": f"{getattr(emb, 'name', '?')} ({backend_of(emb)})",
        "retrieval": f"{settings.retrieval.mode}, k={settings.retrieval.k}",
        "machine": f"{cpu_line()} (shared), load average {os.getloadavg()[0]:.1f} at the end",
    }
    rows = [("time to first answer token", result["time_to_first_token_s"]),
            ("time to complete Answer", result["time_to_answer_s"]),
            ("retrieval alone (baseline)", result["retrieval_only_s"])]
    flag = "--bbc " if args.bbc else ""
    lines = [f"# Offline answerer latency ({corpus})", "",
             f"Command: `.venv/bin/python eval/bench_answer.py {flag}--rounds {args.rounds}`  ",
             f"{result['n']} timed answers ({len(qs)} questions x {args.rounds} rounds, "
             f"{result['refusals_per_round']} refusals per round); embedder {result['embedder']}; "
             f"retrieval {result['retrieval']}; {result['machine']}.", "",
             "| measure | p50 (s) | p90 (s) | max (s) | mean (s) |", "|---|---|---|---|---|"]
    for name, s in rows:
        lines.append(f"| {name} | {s['p50']:.3f} | {s['p90']:.3f} | {s['max']:.3f} | {s['mean']:.3f} |")
    verdict = "meets" if result["passes"] else "MISSES"
    lines += ["", f"p50 time to first token {result['time_to_first_token_s']['p50']:.3f} s {verdict} "
              f"the {TARGET_P50} s target."]
    write_results(RESULTS / out, result, "\n".join(lines))
    print("\n".join(lines))
    return 0 if result["passes"] else 1


if __name__ == "__main__":
    sys.exit(main())
