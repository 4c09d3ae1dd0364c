"""Small archives of same-topic stories: does the answerer find the answer among distractors, and refuse
when only the distractors are there?

For each answerable factoid question of the BBC QA set (follow-ups left out), the distractors are the
first N other articles that hybrid retrieval on the whole BBC index ranks for the question: stories on
the same topic that do not hold the gold article's fact. Two small indexes are built from them:
gold + distractors (the answer should be found) and distractors only (the answerer should refuse,
since the asked fact is not there). A small archive is where corpus-wide statistics (term rarity, the
years an undated archive names, rank gaps) differ most from the whole archive the answerer was fitted
on, so this checks that its refusals carry over.

    .venv/bin/python eval/distractor_check.py [--split dev] [--distractors 8] [--index index/bbc]

Writes eval/results/distractor_check-SPLIT.md and .json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fit_answerhood import asked_in_small_archives, small_archives, small_index  # noqa: E402

from rag.answer import answer_question  # noqa: E402
from rag.answer.markers import strip_markers  # noqa: E402
from rag.embedding import Embedder  # noqa: E402
from rag.evaluation.answers import answer_in  # noqa: E402
from rag.evaluation.harness import cpu_line, write_results  # noqa: E402
from rag.evaluation.qa import load_qa  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import Article  # noqa: E402

RESULTS = ROOT / "eval" / "results"


def ask_small(articles: Sequence[Article], question: str, settings: Settings,
              embedder: Embedder, answerer: str = "extractive") -> tuple[str, bool, float]:
    """Index `articles` into a fresh folder and answer the question there: (text, refused, seconds)."""
    with small_index(articles, settings, embedder) as small:
        start = time.perf_counter()
        answer = answer_question(question, small, settings, answerer=answerer)
        return strip_markers(answer.text), not answer.grounded, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev")
    ap.add_argument("--distractors", type=int, default=8)
    ap.add_argument("--index", default=str(ROOT / "index" / "bbc"))
    ap.add_argument("--qa", default=str(ROOT / "eval" / "bbc_qa.jsonl"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--answerer", default="extractive", choices=["extractive", "local"])
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    if args.distractors < 1:
        ap.error("--distractors must be at least 1")
    settings = Settings.from_env()
    big = Retriever.open(args.index, settings)
    embedder = big.store.embedder
    items = [it for it in load_qa(args.qa) if it.split == args.split and asked_in_small_archives(it)]
    if args.limit:
        items = items[:args.limit]
    rows: list[dict[str, Any]] = []
    for n, item in enumerate(items, start=1):
        (_, with_gold), (_, without) = small_archives(big, item, args.distractors)
        text, refused, sec = ask_small(with_gold, item.question, settings, embedder, args.answerer)
        text0, refused0, sec0 = ask_small(without, item.question, settings, embedder, args.answerer)
        rows.append({"id": item.id, "question": item.question, "type": item.type,
                     "correct": not refused and answer_in(text, item.answers), "refused_with_gold": refused,
                     "refused_without_gold": refused0,
                     # a distractor that reports the same fact ("a top US dictionary naming 'blog' word
                     # of 2004") may answer: such a question is left out of the rejection figure
                     "right_without_gold": not refused0 and answer_in(text0, item.answers),
                     "answer_without_gold": text0[:300],
                     "answer_with_gold": text[:300], "seconds": round(sec + sec0, 3)})
        print(f"{n}/{len(items)} {item.id}: correct={rows[-1]['correct']} refused without gold={refused0}",
              file=sys.stderr)
    count = len(rows)
    summary: dict[str, Any] = {
        "questions": count,
        "distractors per question": args.distractors,
        "accuracy, gold among distractors": round(sum(r["correct"] for r in rows) / count, 4),
        "false refusals, gold among distractors": round(sum(r["refused_with_gold"] for r in rows) / count, 4),
    }
    fact_absent = [r for r in rows if not r["right_without_gold"]]
    summary["distractors alone that answer it right (left out below)"] = count - len(fact_absent)
    summary["rejection, distractors only"] = round(
        sum(r["refused_without_gold"] for r in fact_absent) / max(len(fact_absent), 1), 4)
    lines = [f"# Small archives of same-topic stories ({args.split} split, {args.answerer} answerer)", "",
             cpu_line(), "",
             f"`python eval/distractor_check.py --split {args.split} --distractors {args.distractors}"
             f"{'' if args.answerer == 'extractive' else ' --answerer ' + args.answerer}`: "
             f"{count} answerable factoid questions of `{Path(args.qa).name}`; for each, two indexes: its "
             f"gold article with the {args.distractors} other articles retrieval ranks highest for the "
             "question, and those distractors alone.", "", "| check | value |", "|---|---|",
             *(f"| {k} | {v} |" for k, v in summary.items()), "",
             "## Answered without the gold article (should have refused)", ""]
    lines += [f"- `{r['id']}` {r['question']} -> {r['answer_without_gold'][:160]!r}"
              for r in fact_absent if not r["refused_without_gold"]]
    suffix = "" if args.answerer == "extractive" else f"-{args.answerer}"
    out = Path(args.out) if args.out else RESULTS / f"distractor_check-{args.split}{suffix}"
    write_results(out, {"summary": summary, "rows": rows}, "\n".join(lines) + "\n")
    print("\n".join(lines[:12 + len(summary)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
