"""Duplicate collapse and diversity: one hit per story, copies listed as "also in". Pure functions.

Two kinds of repeats reach the ranking:
- Overlapping passages of ONE article (the chunker repeats whole sentences between neighbours).
  We keep the best-ranked one and drop its overlapping siblings. We do not build a merged
  span: the kept passage is already an exact article slice a citation can quote, and a merged one
  could exceed the prompt budget the chunker sized passages for.
- Near-identical passages of DIFFERENT articles (syndicated copies, revised versions of a story).
  The best-ranked copy stays; the others go into its `also_in`. Two passages are copies when their
  vectors' cosine >= `cosine` (0.95: re-chunked revisions of one BBC story score 0.96-1.0, while
  different stories on one topic stay below 0.9) or when most word 3-shingles of the shorter are in
  the longer (containment >= 0.7, robust to the two copies being cut at different sentences).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.types import Passage

COSINE = 0.95
CONTAINMENT = 0.7
PREFILTER = 0.75
_WORD = re.compile(r"\w+")


@dataclass
class Group:
    """A kept candidate (index into the input lists) and the passage ids it absorbed."""

    index: int
    also_in: list[str] = field(default_factory=list)


def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    """Word n-grams of the lower-cased text (one shorter tuple when the text has fewer words).

    >>> sorted(shingles("A b c d"))
    [('a', 'b', 'c'), ('b', 'c', 'd')]
    """
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def containment(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    """Share of the smaller shingle set found in the other (1.0 when one text holds the other)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def spans_touch(a: Passage, b: Passage) -> bool:
    """Same article and overlapping character spans. Mere neighbours are distinct text and both stay."""
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end


def collapse(
    passages: Sequence[Passage],
    vectors: np.ndarray | None,
    limit: int,
    cosine: float = COSINE,
    min_containment: float = CONTAINMENT,
    article_text: Callable[[str], str | None] | None = None,
    scan: int | None = None,
) -> list[Group]:
    """Walk candidates best first, keeping at most `limit` groups.

    Same-article overlaps are dropped silently; cross-article copies are recorded in `also_in`.
    Two revisions of a story are often cut at different sentences, so once one passage pair marks
    article X as a copy of kept article A, X's later passages are also checked against A's whole
    text (`article_text(A)`): those found there join A's hit instead of showing the story twice.
    """
    kept: list[Group] = []
    by_article: dict[str, list[int]] = {}  # article id -> kept groups from it
    copies: dict[str, int] = {}  # copy article id -> group of the article it copies
    full: dict[int, frozenset[tuple[str, ...]]] = {}  # group -> shingles of its whole article
    cache: dict[int, frozenset[tuple[str, ...]]] = {}

    def sh(i: int) -> frozenset[tuple[str, ...]]:  # shingling is the costly part: only on demand
        if i not in cache:
            cache[i] = shingles(passages[i].text)
        return cache[i]

    kept_vecs = np.zeros((limit, vectors.shape[1]), dtype=np.float32) if vectors is not None else None
    if scan is None:
        scan = 3 * limit + 10  # candidates below the cut only matter as copies of kept hits
    for i, passage in enumerate(passages[:scan]):
        if any(spans_touch(passage, passages[kept[g].index]) for g in by_article.get(passage.article_id, ())):
            continue
        target = -1
        others = [g for g in range(len(kept)) if passages[kept[g].index].article_id != passage.article_id]
        if others and kept_vecs is not None and vectors is not None:
            sims = kept_vecs[others] @ vectors[i]
            target = next((g for g, c in zip(others, sims, strict=True) if c >= cosine), -1)
            # Text is compared only where the vectors are close: copies cut at other sentences still
            # score well above PREFILTER, unrelated passages almost never do.
            others = [g for g, c in zip(others, sims, strict=True) if c >= PREFILTER]
        if target < 0:
            target = next((g for g in others if containment(sh(i), sh(kept[g].index)) >= min_containment), -1)
        if target < 0 and article_text is not None and copies.get(passage.article_id, -1) >= 0:
            g = copies[passage.article_id]
            if g not in full:
                full[g] = shingles(article_text(passages[kept[g].index].article_id) or "")
            if containment(sh(i), full[g]) >= min_containment:
                target = g
        if target >= 0:
            kept[target].also_in.append(passage.id)
            copies.setdefault(passage.article_id, target)
            continue
        if len(kept) == limit:
            continue
        by_article.setdefault(passage.article_id, []).append(len(kept))
        if kept_vecs is not None and vectors is not None:
            kept_vecs[len(kept)] = vectors[i]
        kept.append(Group(i))
    return kept


def mmr(
    relevance: np.ndarray,
    vectors: np.ndarray,
    k: int,
    lam: float = 0.7,
    redundant: float | None = None,
    floor: float | None = None,
    must_cover: Sequence[set[int]] = (),
) -> list[int]:
    """Maximal marginal relevance: greedily pick lam * relevance - (1 - lam) * max similarity to the
    already picked. `relevance` is min-max scaled first so lam weighs comparable quantities (with
    lam = 1 it is not scaled: only its order counts). The answerer's quote choice is this same walk:
    `redundant` drops a candidate whose similarity to a pick reaches it, `floor` leaves out candidates
    with lower (raw) relevance, and with `must_cover` (sets of candidates, e.g. the sentences naming
    each thing compared) one covering a set not yet covered goes before a likelier one.

    >>> mmr(np.array([1.0, 0.99, 0.5]), np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 2, 0.5)
    [0, 2]
    >>> mmr(np.array([0.9, 0.89, 0.2]), np.array([[1.0, 0], [1.0, 0], [0, 1.0]]), 3, 1.0, 0.85, 0.3)
    [0]
    """
    n = len(relevance)
    if n == 0 or k <= 0:
        return []
    raw = np.asarray(relevance, dtype=np.float64)
    rel = raw
    if lam < 1:
        span = raw.max() - raw.min()
        rel = (raw - raw.min()) / span if span > 0 else np.ones(n)
    left = np.ones(n, dtype=bool) if floor is None else raw >= floor
    sims = vectors @ vectors.T
    best_sim = np.zeros(n)  # max similarity to the picked; unread until the first pick sets it
    picked: list[int] = []
    uncovered = [set(c) for c in must_cover if c]
    while left.any() and len(picked) < k:
        score = rel if not picked else lam * rel - (1 - lam) * best_sim
        pool = left.copy()
        covering = [i for c in uncovered for i in c if left[i]]
        if covering:
            pool[:] = False
            pool[covering] = True
        nxt = int(np.argmax(np.where(pool, score, -np.inf)))
        left[nxt] = False
        if redundant is not None and picked and best_sim[nxt] >= redundant:
            continue
        best_sim = np.maximum(best_sim, sims[nxt]) if picked else sims[nxt].astype(np.float64)
        picked.append(nxt)
        uncovered = [c for c in uncovered if nxt not in c]
    return picked
