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


def zscore(ranking: Ranking, head: int | None = None) -> dict[int, float]:
    """Standardise one retriever's candidate scores by the mean and standard deviation of its first
    `head` entries (all when None). Unlike min-max, one outlier at the top does not squash the rest
    of the list towards 0; a fixed `head` keeps a query's scores the same however deep the list is.

    >>> zscore([(4, 3.0), (5, 2.0), (6, 1.0)])
    {4: 1.224744871391589, 5: 0.0, 6: -1.224744871391589}
    """
    if not ranking:
        return {}
    values = [float(s) for _, s in ranking[:head]]
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return {row: (float(s) - mean) / sd if sd > 0 else 0.0 for row, s in ranking}


NORMS = ("weighted", "zscore")


def weighted(
    rankings: Mapping[str, Ranking], weights: Mapping[str, float], norm: str = "weighted",
    head: int | None = None,
) -> list[Fused]:
    """Weighted sum of per-list normalised scores (`norm`: "weighted" = min-max, or "zscore"); a row
    a retriever did not return gets that list's lowest normalised score there (0 for min-max).
    `head`: z-scores take their statistics from each list's first `head` entries.

    >>> [(f.row, round(f.score, 2)) for f in weighted(
    ...     {"bm25": [(1, 9.0), (2, 1.0)], "dense": [(2, 0.9), (1, 0.5)]}, {"bm25": 0.3, "dense": 0.7})]
    [(2, 0.7), (1, 0.3)]
    """
    fused: dict[int, float] = {}
    floors: dict[str, float] = {}
    values: dict[str, dict[int, float]] = {}
    for name, ranking in rankings.items():
        values[name] = zscore(ranking, head) if norm == "zscore" else normalise(ranking)
        floors[name] = min(values[name].values(), default=0.0)
    rows = set().union(*values.values())
    for name in rankings:
        weight = weights.get(name, 0.0)
        for row in rows:
            fused[row] = fused.get(row, 0.0) + weight * values[name].get(row, floors[name])
    return _sorted(fused, _components(rankings))


def fuse(
    rankings: Mapping[str, Ranking], method: str = "rrf", dense_weight: float = 0.5, rrf_k: int = 60,
    head: int | None = None,
) -> list[Fused]:
    """Fuse by `method` ("rrf", "weighted" or "zscore"); `dense_weight` in [0, 1] splits the weight
    with BM25; `head` as in `weighted`."""
    weights = {"dense": dense_weight, "bm25": 1.0 - dense_weight}
    if method == "rrf":
        # Scaled by 2 so that equal weights reproduce plain RRF's scores exactly.
        return rrf(rankings, k=rrf_k, weights={n: 2 * w for n, w in weights.items()})
    if method in NORMS:
        return weighted(rankings, weights, method, head)
    raise ValueError(f"Unknown fusion {method!r}: use 'rrf', 'weighted' or 'zscore'.")


def per_article(ranking: Ranking, article_of: Callable[[int], str]) -> list[tuple[str, float]]:
    """An article's entry in one retriever's list: its best passage's score, at that passage's place.

    >>> per_article([(1, 9.0), (2, 5.0), (3, 4.0)], {1: "a", 2: "b", 3: "a"}.__getitem__)
    [('a', 9.0), ('b', 5.0)]
    """
    seen: dict[str, float] = {}
    for row, score in ranking:
        seen.setdefault(article_of(row), float(score))
    return list(seen.items())


def fuse_articles(
    rankings: Mapping[str, Ranking], article_of: Callable[[int], str], method: str = "rrf",
    dense_weight: float = 0.5, rrf_k: int = 60, head: int | None = None,
) -> list[Fused]:
    """Article-aware fusion: each list is first reduced to articles (best passage each) and the article
    lists are fused. An article whose passage A tops BM25 and passage B tops dense search gets credit
    from both, where passage-level fusion sees two half-matches. Passages stay the output (a hit is
    a citable slice): an article's best passage by passage-level fusion scores the article's fused
    score, and each other passage of it scores that minus its passage-level gap to the best one, so
    articles rank exactly by their fused score and a weak sibling falls below other articles' hits.

    >>> [f.row for f in fuse_articles({"bm25": [(1, 9.0), (3, 8.0), (2, 1.0)],
    ...                                "dense": [(2, 0.9), (3, 0.8), (1, 0.1)]},
    ...                               {1: "a", 2: "a", 3: "b"}.__getitem__)]
    [1, 2, 3]
    """
    # Article ids are mapped to small ints so the passage-level functions can fuse them unchanged.
    ids: dict[str, int] = {}
    lists = {
        name: [(ids.setdefault(a, len(ids)), s) for a, s in per_article(ranking, article_of)]
        for name, ranking in rankings.items()
    }
    articles = {f.row: f.score for f in fuse(lists, method, dense_weight, rrf_k, head)}
    passages = fuse(rankings, method, dense_weight, rrf_k, head)
    best: dict[str, float] = {}
    for f in passages:  # best first: the first passage seen of an article is its best
        best.setdefault(article_of(f.row), f.score)
    scores = {f.row: articles[ids[article_of(f.row)]] + f.score - best[article_of(f.row)] for f in passages}
    return _sorted(scores, {f.row: f.scores for f in passages})


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
