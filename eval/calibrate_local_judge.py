"""Calibrate the local answerer's judge (rag.answer.local_judge) on a QA split: the threshold on the
model's "yes" probability below which it refuses the extractive answer's quotes.

Every question of the split gets the extractive answer (a follow-up its first turn as history, as in
`rag eval --qa`); for each one the extractive answerer did not refuse, the local model is asked whether
the quotes answer the question. The table gives, per threshold, the share refused of the unanswerable
questions that got through, of the correct answers and of the wrong ones, and what the local answerer's
rejection and false refusals would then be. The chosen threshold is the highest that keeps false
refusals at or below 3% (as for the extractive answerer's own threshold, eval/fit_answerhood.py).

    .venv/bin/python eval/calibrate_local_judge.py [--split dev] [--index index/bbc]

Writes eval/results/local_judge.md and .json.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.answer import answer_question, local  # noqa: E402
from rag.answer.local_judge import quotes_of  # noqa: E402
from rag.evaluation.answers import ask_all  # noqa: E402
from rag.evaluation.harness import cpu_line, write_results  # noqa: E402
from rag.evaluation.qa import load_qa  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.settings import Settings  # noqa: E402

RESULTS = ROOT / "eval" / "results"
MAX_FALSE_REFUSALS = 0.03


def table(records: list[dict[str, Any]]) -> list[dict[str, float]]:
    ans = [r for r in records if r["answerable"]]
    una = [r for r in records if not r["answerable"]]
    through = [r for r in una if not r["refused"]]
    correct = [r for r in ans if r["correct"]]
    wrong = [r for r in ans if not r["correct"] and not r["refused"]]
    rows = []
    for t in np.round(np.arange(0.30, 0.81, 0.02), 2):
        def cut(rs: list[dict[str, Any]], t: float = float(t)) -> int:
            return sum(r["p_yes"] < t for r in rs)
        rows.append({
            "threshold": float(t),
            "unanswerable let through: refused": round(cut(through) / max(len(through), 1), 4),
            "correct: refused": round(cut(correct) / max(len(correct), 1), 4),
            "wrong: refused": round(cut(wrong) / max(len(wrong), 1), 4),
            "rejection": round((sum(r["refused"] for r in una) + cut(through)) / max(len(una), 1), 4),
            "false refusals": round((sum(r["refused"] for r in ans) + cut(correct) + cut(wrong))
                                    / max(len(ans), 1), 4),
        })
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qa", default=str(ROOT / "eval" / "bbc_qa.jsonl"))
    ap.add_argument("--split", default="dev")
    ap.add_argument("--index", default=str(ROOT / "index" / "bbc"))
    ap.add_argument("--out", default=str(RESULTS / "local_judge"))
    args = ap.parse_args()
    settings = Settings.from_env()
    if reason := local.local_unavailable(settings.local):
        print(f"local answerer unavailable: {reason}", file=sys.stderr)
        return 1
    retriever = Retriever.open(args.index, settings)
    items = [it for it in load_qa(args.qa) if it.split == args.split]
    p_yes: dict[str, float] = {}

    def ask(question: str, retriever: Any, settings: Settings, history: Any = ()) -> Any:
        answer = answer_question(question, retriever, settings, history=history, answerer="extractive")
        if answer.grounded:
            quoted = quotes_of(answer.text, answer.citations)
            p_yes[question] = local.judged_answerable(answer.query, quoted, settings.local)
        return answer

    records = ask_all(items, retriever, settings, True, ask)
    for r in records:
        r["p_yes"] = round(p_yes.get(r["question"], 0.0), 4)
    rows = table(records)
    ok = [r["threshold"] for r in rows if r["false refusals"] <= MAX_FALSE_REFUSALS]
    chosen = max(ok) if ok else rows[0]["threshold"]
    cols = list(rows[0])
    lines = [f"# The local answerer's judge: threshold on the {args.split} split", "", cpu_line(), "",
             f"`python eval/calibrate_local_judge.py --split {args.split}`: {len(records)} questions; the "
             f"extractive answerer refused {sum(r['refused'] for r in records)} of them, and the local model "
             "judged the quotes of each of the others. Shares refused below each threshold, and the local "
             "answerer's rejection (unanswerable questions) and false refusals (answerable ones) with the "
             "extractive refusals included.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols),
             *("| " + " | ".join(f"{r[c]:.2f}{' **chosen**' if c == 'threshold' and r[c] == chosen else ''}"
                                 if c == "threshold" else f"{r[c]:.3f}" for c in cols) + " |" for r in rows),
             "", f"Chosen: {chosen:.2f}, the highest with false refusals <= {MAX_FALSE_REFUSALS:.0%}.", ""]
    write_results(Path(args.out), {"chosen": chosen, "table": rows,
                                   "records": [{k: r[k] for k in ("id", "kind", "reason", "answerable",
                                                                  "refused", "correct", "p_yes")}
                                               for r in records]}, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
