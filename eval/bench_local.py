"""Extractive vs local answerer on a QA split, side by side, and the local answerer's latency path.

Part 1: every question of the split through `answer_question` with each answerer (a follow-up gets
its first turn as history; rag.evaluation.answers does the asking and the scoring): accuracy,
rejection, false refusals, the share of the answer sentences that passed verification (not marked
[unsupported]; refusals have none), and end-to-end latency p50/p95. The local model is loaded and its
fixed prompt read before timing (once per process, like the UI does at start).

Part 2 (--sweep N): the first N standalone questions again with shorter prompts and replies, reading the
model's own counters (prompt tokens read after the cached prefix, tokens written, and the time of
each), to show where the seconds go and what a <= 8 s answer costs in accuracy.

    .venv/bin/python eval/bench_local.py --qa eval/bbc_qa.jsonl --split test --index index/bbc \
        [--limit N] [--sweep 24] [--answerers extractive local]

Writes eval/results/bench_local.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.answer import answer_question, local  # noqa: E402
from rag.answer.citations import split_answer  # noqa: E402
from rag.answer.local_judge import JUDGED_OUT  # noqa: E402
from rag.evaluation.answers import ask_all, summarise  # noqa: E402
from rag.evaluation.harness import cpu_line  # noqa: E402
from rag.evaluation.metrics import latency_summary  # noqa: E402
from rag.evaluation.qa import QAItem, load_qa  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.settings import Settings  # noqa: E402

RESULTS = ROOT / "eval" / "results"
UNSUPPORTED = "[unsupported]"
# (passages, tokens per passage, max reply tokens): the default first, then shorter prompts
SWEEP = [(3, 120, 160), (2, 100, 120), (2, 60, 100), (1, 120, 100)]
ROWS = ["accuracy, all answerable", "accuracy, factoid", "cited accuracy, all answerable",
        "rejection, unanswerable", "false refusals, answerable", "sentences verified",
        "citations exact (quote == article slice)", "answer p50 ms", "answer p95 ms", "fell back",
        "refused by the judge"]


def with_firsts(chosen: Sequence[QAItem], items: Sequence[QAItem]) -> list[QAItem]:
    """`chosen` plus the first turns its follow-ups need (asked before them, but not scored)."""
    ids = {it.id for it in chosen}
    by_id = {it.id: it for it in items}
    firsts = [by_id[it.follows] for it in chosen if it.follows and it.follows not in ids]
    return list({it.id: it for it in firsts + list(chosen)}.values())


def verified_share(records: Sequence[dict[str, Any]]) -> float | str:
    sentences = [s for r in records if not r["refused"] for s in split_answer(r["answer"])]
    if not sentences:
        return "n/a"
    return round(sum(UNSUPPORTED not in s for s in sentences) / len(sentences), 4)


def run(answerer: str, items: Sequence[QAItem], scored: set[str], retriever: Any,
        settings: Settings) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    s = settings.model_copy(deep=True)
    s.answer.answerer = answerer  # type: ignore[assignment]
    perf: dict[str, dict[str, Any]] = {}
    answerers: dict[str, str] = {}

    def ask(question: str, retriever: Any, settings: Settings, history: Any = ()) -> Any:
        answer = answer_question(question, retriever, settings, history=history)
        answerers[question] = answer.answerer
        if answerer == "local":
            perf[question] = local.last_perf(settings.local)
        return answer

    records = ask_all(items, retriever, s, True, ask)
    for r in records:
        r["answerer"] = answerers.get(r["question"], "")
        r["perf"] = perf.get(r["question"], {})
    records = [r for r in records if r["id"] in scored]
    summary = summarise(records)
    summary["sentences verified"] = verified_share(records)
    summary["fell back"] = sum(not r["answerer"].startswith(answerer) for r in records)
    if answerer == "local":
        summary["refused by the judge"] = sum(r["answerer"] == JUDGED_OUT for r in records)
    return records, summary


def sweep(items: Sequence[QAItem], retriever: Any, settings: Settings) -> list[dict[str, Any]]:
    rows = []
    for passages, tokens, max_tokens in SWEEP:
        s = settings.model_copy(deep=True)
        s.answer.answerer = "local"
        s.local.passages, s.local.passage_tokens, s.local.max_tokens = passages, tokens, max_tokens
        local.load(s.local, warm=True)
        records, summary = run("local", items, {it.id for it in items}, retriever, s)
        perfs = [r["perf"] for r in records if r["perf"]]

        def mean(key: str, perfs: list[dict[str, Any]] = perfs) -> float:
            return round(statistics.fmean(p[key] for p in perfs), 1) if perfs else 0.0

        rows.append({
            "passages": passages, "tokens per passage": tokens, "max reply tokens": max_tokens,
            "questions": len(records), "accuracy, answerable": summary["accuracy, all answerable"],
            "rejection": summary["rejection, unanswerable"],
            "sentences verified": summary["sentences verified"],
            "prompt tokens read": mean("prompt_tokens"), "prompt ms": mean("prompt_ms"),
            "reply tokens": mean("generated_tokens"), "reply ms": mean("generate_ms"),
            "p50 ms": summary["answer p50 ms"], "p95 ms": summary["answer p95 ms"],
        })
        print(rows[-1], file=sys.stderr)
    return rows


def fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) and value <= 1 else str(value)


def markdown(args: argparse.Namespace, n_items: int, summaries: dict[str, dict[str, Any]],
             sweep_rows: list[dict[str, Any]], load_s: float | None, env: dict[str, Any]) -> str:
    names = list(summaries)
    lines = [f"# Extractive vs local answerer: {Path(args.qa).name}, split {args.split or 'all'}",
             "", f"`{' '.join(sys.argv)}`", "",
             f"{n_items} questions, index `{args.index}`; CPU: {cpu_line()}. "
             "Latency is end to end per question (retrieval, prompt, generation, verification); "
             + (f"the local model loaded and read its fixed prompt in {load_s:.1f} s before timing."
                if load_s is not None else ""), "",
             "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    keys = ROWS + [k for k in summaries[names[0]] if k.startswith(("kind ", "unanswerable "))]
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(fmt(summaries[n].get(key, "")) for n in names) + " |")
    if sweep_rows:
        cols = list(sweep_rows[0])
        lines += ["", f"## Local answerer latency by prompt size (first {sweep_rows[0]['questions']} "
                  "questions of the split)", "",
                  "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in sweep_rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qa", default=str(ROOT / "eval" / "bbc_qa.jsonl"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--index", default=str(ROOT / "index" / "bbc"))
    ap.add_argument("--answerers", nargs="+", default=["extractive", "local"])
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions of the split")
    ap.add_argument("--stride", type=int, default=1, help="only every K-th question (a quick look)")
    ap.add_argument("--sweep", type=int, default=0, help="latency sweep over the first N questions")
    ap.add_argument("--out", default=str(RESULTS / "bench_local"))
    args = ap.parse_args()

    settings = Settings.from_env()
    retriever = Retriever.open(args.index, settings)
    every = load_qa(args.qa)
    scored = [it for it in every if not args.split or it.split == args.split]
    scored = scored[:: args.stride]
    if args.limit:
        scored = scored[: args.limit]
    items = with_firsts(scored, every)
    scored_ids = {it.id for it in scored}
    load_s = None
    if "local" in args.answerers:
        reason = local.local_unavailable(settings.local)
        if reason:
            print(f"local answerer unavailable: {reason}", file=sys.stderr)
            return 1
        start = time.perf_counter()
        local.load(settings.local, warm=True)
        load_s = time.perf_counter() - start
    all_records, summaries = {}, {}
    for name in args.answerers:
        all_records[name], summaries[name] = run(name, items, scored_ids, retriever, settings)
        print(name, json.dumps(summaries[name]), file=sys.stderr)
    standalone = [it for it in scored if not it.follows]  # the sweep asks no follow-ups
    sweep_rows = sweep(standalone[: args.sweep], retriever, settings) if args.sweep else []
    env = {"cores": len(os.sched_getaffinity(0)), "machine": platform.processor() or platform.machine(),
           "python": platform.python_version()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(
        {"args": vars(args), "env": env, "load_s": load_s, "summaries": summaries, "sweep": sweep_rows,
         "local_settings": settings.local.model_dump(), "records": all_records,
         "latency": {n: latency_summary([r["seconds"] for r in rs]) for n, rs in all_records.items()}},
        indent=1, ensure_ascii=False))
    out.with_suffix(".md").write_text(markdown(args, len(scored), summaries, sweep_rows, load_s, env))
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
