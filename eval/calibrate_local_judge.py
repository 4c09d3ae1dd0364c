"""Calibrate the local answerer's judge (rag.answer.local_judge) on a QA split: the weights of its
confidence and the threshold below which it refuses the extractive answer's quotes.

Every question of the split gets the extractive answer (a follow-up its first turn as history, as in
`rag eval --qa`); for each one the extractive answerer did not refuse, the local model is asked whether
the quotes answer the question. A logistic model of "the answer is correct" on the logits of the model's
"yes" and of the extractive answer's probability is fitted on those answers. The table gives, per
threshold on its confidence, the share refused of the unanswerable questions that got through, of the
correct answers and of the wrong ones, and what the local answerer's rejection and false refusals would
then be. The chosen threshold is the highest that keeps false refusals at or below 3% (as for the
extractive answerer's own threshold, eval/fit_answerhood.py); "yes" alone under the same rule is shown
for comparison.

    .venv/bin/python eval/calibrate_local_judge.py [--split dev] [--index index/bbc] [--write-model]

Writes eval/results/local_judge.md and .json; --write-model also rag/answer/local_judge.json (dev only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fit_answerhood import fit_logistic  # noqa: E402

from rag.answer import answer_question, local  # noqa: E402
from rag.answer.local_judge import MODEL_FILE, JudgeModel, confidence, logit, quotes_of  # noqa: E402
from rag.evaluation.answers import ask_all  # noqa: E402
from rag.evaluation.harness import cpu_line, write_results  # noqa: E402
from rag.evaluation.qa import load_qa  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.settings import Settings  # noqa: E402

RESULTS = ROOT / "eval" / "results"
MAX_FALSE_REFUSALS = 0.03
L2 = 1.0  # two features and a few hundred answers: a light penalty


def fit(records: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Weights of logit(yes) and logit(extractive probability), and the bias, for "the answer is correct"
    over the answers the extractive answerer gave."""
    through = [r for r in records if not r["refused"]]
    x = np.array([[logit(r["p_yes"]), logit(r["support"])] for r in through])
    w, bias = fit_logistic(x, np.array([float(r["correct"]) for r in through]), l2=L2)
    return float(w[0]), float(w[1]), bias


def chosen(rows: list[dict[str, float]]) -> float:
    ok = [r["threshold"] for r in rows if r["false refusals"] <= MAX_FALSE_REFUSALS]
    return max(ok) if ok else rows[0]["threshold"]


def table(records: list[dict[str, Any]], key: str) -> list[dict[str, float]]:
    ans = [r for r in records if r["answerable"]]
    una = [r for r in records if not r["answerable"]]
    through = [r for r in una if not r["refused"]]
    correct = [r for r in ans if r["correct"]]
    wrong = [r for r in ans if not r["correct"] and not r["refused"]]
    rows = []
    for t in np.round(np.arange(0.10, 0.81, 0.02), 2):
        def cut(rs: list[dict[str, Any]], t: float = float(t)) -> int:
            return sum(r[key] < t for r in rs)
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
    ap.add_argument("--write-model", action="store_true", help=f"write the fitted judge to {MODEL_FILE}")
    args = ap.parse_args()
    if args.write_model and args.split != "dev":
        ap.error("--write-model fits the shipped judge: only on the dev split (test is for reporting)")
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
            support[question] = answer.answer_probability or 0.0
        return answer

    support: dict[str, float] = {}
    records = ask_all(items, retriever, settings, True, ask)
    for r in records:
        r["p_yes"] = round(p_yes.get(r["question"], 0.0), 4)
        r["support"] = round(support.get(r["question"], 0.0), 4)
    w_yes, w_support, bias = fit(records)
    fitted = JudgeModel(w_yes, w_support, bias, 0.0)
    for r in records:
        r["confidence"] = round(confidence(r["p_yes"], r["support"], fitted), 4)
    rows, alone = table(records, "confidence"), table(records, "p_yes")
    pick, pick_alone = chosen(rows), chosen(alone)
    model = {"w_yes": round(w_yes, 4), "w_support": round(w_support, 4), "bias": round(bias, 4),
             "threshold": pick, "fitted_on": f"{Path(args.qa).name} {args.split}, {len(records)} questions"}
    if args.write_model:
        MODEL_FILE.write_text(json.dumps(model, indent=2) + "\n")
    at = {r["threshold"]: r for r in rows}[pick]
    at_alone = {r["threshold"]: r for r in alone}[pick_alone]
    cols = list(rows[0])
    lines = [f"# The local answerer's judge: threshold on the {args.split} split", "", cpu_line(), "",
             f"`python eval/calibrate_local_judge.py --split {args.split}`: {len(records)} questions; the "
             f"extractive answerer refused {sum(r['refused'] for r in records)} of them, and the local model "
             "judged the quotes of each of the others. Shares refused below each threshold, and the local "
             "answerer's rejection (unanswerable questions) and false refusals (answerable ones) with the "
             "extractive refusals included.", "",
             f"Confidence = sigmoid({w_yes:.3f} logit(yes) + {w_support:.3f} logit(extractive probability) "
             f"{bias:+.3f}), fitted on the {sum(not r['refused'] for r in records)} answers given.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols),
             *("| " + " | ".join(f"{r[c]:.2f}{' **chosen**' if c == 'threshold' and r[c] == pick else ''}"
                                 if c == "threshold" else f"{r[c]:.3f}" for c in cols) + " |" for r in rows),
             "", f"Chosen: {pick:.2f}, the highest with false refusals <= {MAX_FALSE_REFUSALS:.0%}: "
             f"rejection {at['rejection']:.3f}, false refusals {at['false refusals']:.3f}. The model's "
             f"\"yes\" alone under the same rule ({pick_alone:.2f}): rejection {at_alone['rejection']:.3f}, "
             f"false refusals {at_alone['false refusals']:.3f}.", ""]
    write_results(Path(args.out), {"model": model, "table": rows, "yes_alone": alone,
                                   "records": [{k: r[k] for k in ("id", "kind", "reason", "answerable",
                                                                  "refused", "correct", "p_yes", "support",
                                                                  "confidence")}
                                               for r in records]}, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
