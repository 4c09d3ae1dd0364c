"""Score runs with ir-measures (pytrec_eval underneath): no hand-written IR metrics here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ir_measures
import numpy as np
from ir_measures import RR, R, Success, nDCG

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]

# Report names -> ir-measures objects. Hits@k is ir-measures' Success@k (1 if a relevant doc is in the top k).
CURVE_KS = (1, 2, 3, 5, 10, 20, 50, 100)


def measures_for(k: int = 10) -> dict[str, ir_measures.Measure]:
    """The reported metrics; `k` moves the cut-off of nDCG, Recall, MRR and the last Hits."""
    named = {
        f"nDCG@{k}": nDCG @ k,
        f"Recall@{k}": R @ k,
        "Recall@100": R @ 100,
        f"MRR@{k}": RR @ k,
        "Hits@1": Success @ 1,
        "Hits@5": Success @ 5,
        f"Hits@{k}": Success @ k,
    }
    return named


METRIC_NAMES = tuple(measures_for(10))


def per_query(
    qrels: Qrels, run: Run, measures: Mapping[str, ir_measures.Measure]
) -> dict[str, dict[str, float]]:
    """{metric name: {query id: value}} over every judged query.

    pytrec_eval silently skips judged queries that retrieved nothing, which would inflate the mean;
    they are filled in with 0 here so an empty result counts as a miss.
    """
    by_measure = {m: name for name, m in measures.items()}
    judged = [q for q, docs in qrels.items() if any(rel > 0 for rel in docs.values())]
    out: dict[str, dict[str, float]] = {name: dict.fromkeys(judged, 0.0) for name in measures}
    qrels_in = {q: dict(qrels[q]) for q in judged}
    run_in = {q: dict(docs) for q, docs in run.items() if q in qrels_in and docs}
    if run_in:
        for metric in ir_measures.iter_calc(list(measures.values()), qrels_in, run_in):
            out[by_measure[metric.measure]][metric.query_id] = float(metric.value)
    return out


def evaluate_run(qrels: Qrels, run: Run, k: int = 10) -> dict[str, float]:
    """Mean of each reported metric over the judged queries (queries with no relevant doc are left out)."""
    scores = per_query(qrels, run, measures_for(k))
    return {name: float(np.mean(list(vals.values()))) if vals else 0.0 for name, vals in scores.items()}


def recall_curve(qrels: Qrels, run: Run, ks: Sequence[int] = CURVE_KS) -> dict[int, float]:
    scores = per_query(qrels, run, {str(k): R @ k for k in ks})
    return {int(k): float(np.mean(list(v.values()))) if v else 0.0 for k, v in scores.items()}


def ranked_run(ranked: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """Turn ranked id lists into scores that keep the order (pytrec_eval sorts by score, ties by id)."""
    return {q: {doc: float(len(ids) - i) for i, doc in enumerate(ids)} for q, ids in ranked.items()}


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    if not seconds:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0}
    ms = np.asarray(seconds, dtype=float) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "mean_ms": round(float(ms.mean()), 2),
    }
