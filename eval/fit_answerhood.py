"""Fit the extractive answerer's answerhood model and its refusal threshold on the BBC QA dev split.

For every dev question the answerer's own candidates are built (`rag.answer.answerhood.features`, the
code path `rag ask` runs) twice: from the normal retrieval, and from the same retrieval with the gold
articles removed, which is what a question looks like when the archive covers its topic but not its
fact (a near miss). A sentence is positive when it contains an accepted answer. A logistic regression
(numpy, L2) is fitted on the rows; the refusal threshold is chosen on out-of-fold probabilities
(5 folds by question) as the highest one that keeps false refusals on answerable dev questions at or
below 3%. The test split is not read.

    .venv/bin/python eval/fit_answerhood.py [--index index/bbc] [--data ../shared/data/bbc-news]

Writes rag/answer/answerhood.json and eval/results/answerhood_fit.md (+ .json).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer.answerhood import FEATURES, MODEL_FILE, Model, features  # noqa: E402
from rag.answer.extractive import MAX_CANDIDATES  # noqa: E402
from rag.answer.rewrite import standalone_offline  # noqa: E402
from rag.answer.support import hit_sentences  # noqa: E402
from rag.evaluation.answers import answer_in  # noqa: E402
from rag.evaluation.qa import QAItem, load_qa  # noqa: E402
from rag.indexer import ensure_index  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.settings import Settings  # noqa: E402

RESULTS = ROOT / "eval" / "results"
MAX_FALSE_REFUSALS = 0.03
L2 = 1.0
FOLDS = 5


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, weights: np.ndarray | None = None,
                 iters: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on the L2-penalised log loss (the intercept not penalised)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    sw = np.ones(n) if weights is None else weights
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (sw * (p - y)) + penalty * w
        hess = (xb * (sw * p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def query_for(item: QAItem, by_id: dict[str, QAItem]) -> str:
    if item.follows and item.follows in by_id:
        return standalone_offline(item.question, [(by_id[item.follows].question, "")])
    return item.question


def without_gold(retriever: Retriever, query: str, item: QAItem, k: int) -> list:
    """The top-k hits once the gold articles (and passages copied from them) are taken out."""
    gold = set(item.gold_article_ids)
    hits = retriever.search(query, k=k + 12).hits
    kept = [h for h in hits if h.passage.article_id not in gold
            and not any(pid.split(":")[0] in gold for pid in h.also_in)]
    return [replace(h, rank=r) for r, h in enumerate(kept[:k], start=1)]


def build_rows(items: list[QAItem], retriever: Retriever, k: int) -> list[dict]:
    """One group per (question, condition): its feature rows and labels."""
    by_id = {it.id: it for it in items}
    embedder = retriever.store.embedder

    def article_text(article_id: str) -> str | None:
        article = retriever.store.article(article_id)
        return article.text if article else None

    groups = []
    for n, item in enumerate(items):
        query = query_for(item, by_id)
        conditions = [("full", retriever.search(query, k=k).hits)]
        if item.answerable and item.gold_article_ids:
            conditions.append(("no_gold", without_gold(retriever, query, item, k)))
        for name, hits in conditions:
            sentences = hit_sentences(hits)[:MAX_CANDIDATES]
            if not sentences:
                continue
            vecs = np.asarray(embedder.embed([query, *(s.text for s in sentences)]), dtype=np.float32)
            _, x = features(query, sentences, vecs[1:], vecs[0], hits, article_text)
            y = np.array([item.answerable and answer_in(s.text, item.answers) for s in sentences], dtype=float)
            groups.append({"id": item.id, "kind": item.kind, "condition": name, "x": x, "y": y,
                           "answerable": item.answerable})
        if (n + 1) % 25 == 0:
            print(f"  {n + 1}/{len(items)} questions", file=sys.stderr)
    return groups


def fit(groups: list[dict]) -> Model:
    x = np.vstack([g["x"] for g in groups]).astype(np.float64)
    y = np.concatenate([g["y"] for g in groups])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    coef, bias = fit_logistic((x - mean) / scale, y)
    return Model(mean.astype(np.float32), scale.astype(np.float32), coef.astype(np.float32), bias, 0.5)


def should_answer(g: dict) -> bool:
    """An answerable question in full retrieval; without its gold articles only if another article
    still states the answer."""
    return bool(g["y"].any())


def out_of_fold(groups: list[dict]) -> list[float]:
    """Each group's best probability from a model fitted without its question."""
    ids = sorted({g["id"] for g in groups})
    fold_of = {qid: i % FOLDS for i, qid in enumerate(ids)}
    best = [0.0] * len(groups)
    for f in range(FOLDS):
        model = fit([g for g in groups if fold_of[g["id"]] != f])
        for i, g in enumerate(groups):
            if fold_of[g["id"]] == f:
                best[i] = float(model.probability(g["x"].astype(np.float32)).max())
    return best


def calibrate(groups: list[dict], best: list[float]) -> tuple[float, list[dict]]:
    table = []
    for t in np.round(np.arange(0.02, 0.91, 0.02), 2):
        row: dict = {"threshold": float(t)}
        for label, keep in (("answerable", lambda g: g["condition"] == "full" and g["answerable"]),
                            ("unanswerable", lambda g: not g["answerable"]),
                            ("gold removed", lambda g: g["condition"] == "no_gold" and not should_answer(g))):
            chosen = [b for g, b in zip(groups, best, strict=True) if keep(g)]
            refused = sum(b < t for b in chosen) / len(chosen) if chosen else 0.0
            row[label] = round(refused, 4)
        table.append(row)
    ok = [r for r in table if r["answerable"] <= MAX_FALSE_REFUSALS]
    chosen_t = max(r["threshold"] for r in ok) if ok else table[0]["threshold"]
    return chosen_t, table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=ROOT / "index" / "bbc")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "bbc-news")
    ap.add_argument("--qa", type=Path, default=ROOT / "eval" / "bbc_qa.jsonl")
    args = ap.parse_args()
    settings = Settings.from_env()
    ensure_index([args.data], args.index, settings)
    retriever = Retriever.open(args.index, settings)
    items = [it for it in load_qa(args.qa) if it.split == "dev"]
    groups = build_rows(items, retriever, settings.retrieval.k)
    best = out_of_fold(groups)
    threshold, table = calibrate(groups, best)
    model = replace(fit(groups), threshold=threshold)
    MODEL_FILE.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    n_rows = sum(len(g["y"]) for g in groups)
    n_pos = int(sum(g["y"].sum() for g in groups))
    lines = [
        "# Answerhood model: fitted on the BBC QA dev split", "",
        f"`eval/fit_answerhood.py`: {len(items)} dev questions, {len(groups)} candidate sets "
        f"(normal retrieval, and retrieval without the gold articles), {n_rows} sentences, {n_pos} positive "
        "(contain an accepted answer). Logistic regression, L2 = 1, standardised features.", "",
        "## Coefficients (per standard deviation)", "", "| feature | coefficient |", "|---|---|",
        *(f"| {name} | {c:+.3f} |" for name, c in sorted(zip(FEATURES, model.coef, strict=True),
                                                          key=lambda t: -abs(t[1]))),
        f"| (intercept) | {model.bias:+.3f} |", "",
        "## Refusal threshold (out-of-fold best probability, 5 folds by question)", "",
        "Share refused: answerable questions (false refusals), unanswerable ones (rejection), and "
        "answerable ones whose gold articles were removed and no other retrieved sentence states the "
        "answer (rejection of a near miss made from a real question).", "",
        "| threshold | answerable (false refusals) | unanswerable | gold removed |", "|---|---|---|---|",
        *(f"| {r['threshold']:.2f}{' **chosen**' if r['threshold'] == threshold else ''} | "
          f"{r['answerable']:.3f} | {r['unanswerable']:.3f} | {r['gold removed']:.3f} |"
          for r in table if r["threshold"] <= 0.6),
        "", f"Chosen: {threshold:.2f}, the highest with false refusals <= {MAX_FALSE_REFUSALS:.0%} on dev.",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "answerhood_fit.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "answerhood_fit.json").write_text(json.dumps(
        {"model": model.to_json(), "calibration": table, "questions": len(items), "rows": n_rows,
         "positives": n_pos}, indent=1) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
