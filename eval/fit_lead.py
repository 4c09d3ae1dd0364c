"""Fit the model that decides whether a factoid answer shows its short answer (rag/answer/lead.py).

Every dev question of the BBC QA set is asked as `rag eval --qa` asks it (a follow-up with its first
turn), with every short answer shown; each answer that leads with one gives a row of the lead features
and a label: the short answer holds an accepted answer string (never, for an unanswerable question the
answerer did not refuse). A logistic regression (L2, numpy) is fitted on the rows and written to
rag/answer/lead.json; the report gives, out of fold (5 folds by question), how many short answers
would be shown at SHOW_AT and how many of those are right, against showing them all. The test split is
not read.

    .venv/bin/python eval/fit_lead.py [--index index/bbc]   # about 2 minutes on 2 cores

Writes rag/answer/lead.json and eval/results/lead_fit.md (+ .json); --model and --results write them
elsewhere (the tests fit on the sample corpus without touching the committed model).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from fit_answerhood import fit_logistic, standardise  # noqa: E402

from rag.answer import answer_question  # noqa: E402
from rag.answer import lead as leads  # noqa: E402
from rag.answer.answerhood import Linear, sigmoid  # noqa: E402
from rag.evaluation.answers import ask_all  # noqa: E402
from rag.evaluation.qa import load_qa  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.settings import Settings  # noqa: E402

RESULTS = ROOT / "eval" / "results"
FOLDS = 5
L2 = 5.0


def collect(index: Path, qa: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Lead features, labels and a record per answer of `split` that leads with a short answer, asked
    as `rag eval --qa` asks (`ask_all`: its "short" and "short_correct" are the label)."""
    settings = Settings.from_env()
    retriever = Retriever.open(index, settings)
    items = [it for it in load_qa(qa) if it.split == split]
    seen: list[np.ndarray] = []

    def record(x: np.ndarray) -> bool:  # show every short answer, and record its features
        seen.append(x)
        return True

    leads.keep = record
    asked: list[np.ndarray | None] = []  # per question, the features of the short answer it led with

    def answer(*args: Any, **kwargs: Any) -> Any:
        seen.clear()
        out = answer_question(*args, **kwargs)
        asked.append(seen[-1] if seen else None)
        return out

    answers = ask_all(items, retriever, settings, False, answer)
    rows = [(x, r) for x, r in zip(asked, answers, strict=True) if x is not None and r["short"] is not None]
    records = [{"id": r["id"], "short": r["short"], "right": r["short_correct"]} for _, r in rows]
    return (np.array([x for x, _ in rows]), np.array([float(r["short_correct"]) for _, r in rows]),
            records)


# Directions known before fitting: how likely the answer and its sentence are, how many likely sentences
# name it and the question's names in its sentence can only count for the short answer; many
# candidates in its sentence only against it. 212 rows otherwise let correlated features take the wrong
# sign (with the passage-wide recurrence of the answer as a feature, it counted against, since common
# names like "US" recur, and hid "Jamie Foxx" for the best actor Oscar at 0.06).
SIGNS = {**dict.fromkeys(("p_answer", "ranker_share", "answer_share", "answer_margin", "names_sentence"),
                        (0.0, None)),
         "candidate_count": (None, 0.0)}


def fit(x: np.ndarray, y: np.ndarray) -> Linear:
    mean, scale = standardise(x)
    bounds = [SIGNS.get(n, (None, None)) for n in leads.LEAD_FEATURES]
    coef, bias = fit_logistic((x - mean) / scale, y, l2=L2, bounds=bounds)
    return Linear(mean.astype(np.float32), scale.astype(np.float32), coef.astype(np.float32), bias)


def out_of_fold(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    fold = np.arange(len(y)) % FOLDS
    probs = np.zeros(len(y))
    for f in range(FOLDS):
        model = fit(x[fold != f], y[fold != f])
        probs[fold == f] = [sigmoid(float(s)) for s in model.score(x[fold == f])]
    return probs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=ROOT / "index" / "bbc")
    ap.add_argument("--qa", type=Path, default=ROOT / "eval" / "bbc_qa.jsonl")
    ap.add_argument("--split", default="dev", help="the questions to fit on (never test)")
    ap.add_argument("--model", type=Path, default=leads.MODEL_FILE, help="where to write the model")
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder for lead_fit.md and .json")
    args = ap.parse_args()
    if args.split == "test":
        ap.error("the test split is for reporting, not fitting")
    x, y, records = collect(args.index, args.qa, args.split)
    if len(y) == 0:
        print(f"no {args.split} answer leads with a short answer: nothing to fit", file=sys.stderr)
        return 1
    probs = out_of_fold(x, y)
    table = []
    for t in (0.0, 0.5, 0.6, leads.SHOW_AT, 0.7, 0.8):
        shown = probs >= t
        table.append({"show at": round(t, 3), "shown": int(shown.sum()), "right": int(y[shown].sum()),
                      "precision": round(float(y[shown].mean()), 3) if shown.any() else None,
                      "right hidden": int(y[~shown].sum())})
    model = fit(x, y)
    fitted_on = f"{args.qa.name} {args.split}, {len(y)} short answers"
    args.model.write_text(json.dumps({"features": list(leads.LEAD_FEATURES), **model.to_json(),
                                      "fitted_on": fitted_on}, indent=1) + "\n", encoding="utf-8")
    lines = [f"# Short-answer model: fitted on {args.qa.name}, {args.split} split", "",
             f"`eval/fit_lead.py`: {len(y)} {args.split} answers led by a short answer, "
             f"{int(y.sum())} of them right. "
             f"A short answer is shown when the model gives it at least {leads.SHOW_AT:.3f}.", "",
             "## Out of fold (5 folds), by threshold", "",
             "| show at | shown | right | precision | right but hidden |", "|---|---|---|---|---|",
             *(f"| {r['show at']} | {r['shown']} | {r['right']} | {r['precision']} | {r['right hidden']} |"
               for r in table), "",
             "## Coefficients per standard deviation", "", "| feature | coefficient |", "|---|---|",
             *(f"| {n} | {c:+.3f} |" for n, c in zip(leads.LEAD_FEATURES, model.coef, strict=True)),
             f"| (bias) | {model.bias:+.3f} |", ""]
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "lead_fit.md").write_text("\n".join(lines), encoding="utf-8")
    (args.results / "lead_fit.json").write_text(
        json.dumps({"table": table, "records": records}, indent=1) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
