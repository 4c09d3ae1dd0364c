"""Fusion stage: combine ranked lists from BM25 and dense search into one ranking. Pure functions.

A ranking is a list of (row, score), best first. Both fusions return `Fused` records that keep every
retriever's raw score, so a hit can show why it ranked where it did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Ranking = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class Fused:
    row: int
    score: float
    scores: dict[str, float] = field(default_factory=dict)  # raw score per retriever that found it


def _components(rankings: Mapping[str, Ranking]) -> dict[int, dict[str, float]]:
    found: dict[int, dict[str, float]] = {}
    for name, ranking in rankings.items():
        for row, score in ranking:
            found.setdefault(row, {}).setdefault(name, float(score))
    return found


def _sorted(fused: dict[int, float], components: dict[int, dict[str, float]]) -> list[Fused]:
    # Ties go to the lower row so results are deterministic across runs.
    order = sorted(fused, key=lambda row: (-fused[row], row))
    return [Fused(row, fused[row], components[row]) for row in order]


def rrf(
    rankings: Mapping[str, Ranking], k: int = 60, weights: Mapping[str, float] | None = None
) -> list[Fused]:
    """Reciprocal rank fusion: sum over retrievers of weight / (k + rank), ranks from 1.

    >>> [f.row for f in rrf({"bm25": [(1, 9.0), (2, 5.0)], "dense": [(2, 0.8), (3, 0.7)]})]
    [2, 1, 3]
    """
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, (row, _) in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    return _sorted(fused, _components(rankings))


def normalise(ranking: Ranking) -> dict[int, float]:
    """Min-max scale one retriever's candidate scores to [0, 1] (a single candidate gets 1).

    >>> normalise([(4, 10.0), (5, 6.0), (6, 2.0)])
    {4: 1.0, 5: 0.5, 6: 0.0}
    """
    if not ranking:
        return {}
    values = [float(s) for _, s in ranking]
    low, high = min(values), max(values)
    span = high - low
    return {row: (float(s) - low) / span if span > 0 else 1.0 for row, s in ranking}


def weighted(rankings: Mapping[str, Ranking], weights: Mapping[str, float]) -> list[Fused]:
    """Convex combination of min-max normalised scores; a row a retriever did not return gets 0 there.

    >>> [(f.row, round(f.score, 2)) for f in weighted(
    ...     {"bm25": [(1, 9.0), (2, 1.0)], "dense": [(2, 0.9), (1, 0.5)]}, {"bm25": 0.3, "dense": 0.7})]
    [(2, 0.7), (1, 0.3)]
    """
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 0.0)
        for row, value in normalise(ranking).items():
            fused[row] = fused.get(row, 0.0) + weight * value
    return _sorted(fused, _components(rankings))


def fuse(
    rankings: Mapping[str, Ranking], method: str = "rrf", dense_weight: float = 0.5, rrf_k: int = 60
) -> list[Fused]:
    """Fuse by `method` ("rrf" or "weighted"); `dense_weight` in [0, 1] splits the weight with BM25."""
    weights = {"dense": dense_weight, "bm25": 1.0 - dense_weight}
    if method == "rrf":
        # Scaled by 2 so that equal weights reproduce plain RRF's scores exactly.
        return rrf(rankings, k=rrf_k, weights={n: 2 * w for n, w in weights.items()})
    if method == "weighted":
        return weighted(rankings, weights)
    raise ValueError(f"Unknown fusion {method!r}: use 'rrf' or 'weighted'.")


def article_boost(fused: Sequence[Fused], article_of: Callable[[int], str], gamma: float) -> list[Fused]:
    """Credit a passage with `gamma` x the fused scores of the other candidates from its article:
    a story that matches in several places is more likely about the query than one lucky sentence.

    >>> [f.row for f in article_boost([Fused(1, 1.0), Fused(2, 0.9), Fused(3, 0.5)],
    ...                               {1: "a", 2: "b", 3: "b"}.__getitem__, 0.5)]
    [2, 1, 3]
    """
    if gamma <= 0:
        return list(fused)
    totals: dict[str, float] = {}
    for f in fused:
        totals[article_of(f.row)] = totals.get(article_of(f.row), 0.0) + f.score
    scores = {f.row: f.score + gamma * (totals[article_of(f.row)] - f.score) for f in fused}
    return _sorted(scores, {f.row: f.scores for f in fused})
