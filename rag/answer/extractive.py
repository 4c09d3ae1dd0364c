"""Extractive answer stage (offline, the default): verbatim passage sentences, each with its citation.

Because every answer sentence is a quote, its span is exact by construction; the only judgement is
which sentences to quote. Candidates are scored by `support_scores` against the question, picked
MMR-style (high support, not redundant with what is already picked), and below the calibrated
`AnswerSettings.min_support` the answerer refuses instead of quoting something merely nearby.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from rag.answer.citations import Draft, citation_at
from rag.answer.support import Embedder, Sentence, hit_sentences, shortlist, support_scores
from rag.settings import AnswerSettings
from rag.types import Citation, Hit

REFUSAL = "The corpus does not appear to cover this question"
NO_HITS = "No passages matched the question and filters, so there is nothing to answer from."
# A picked sentence must score at least this share of the best one: a short answer of the strongest
# quotes beats padding it with weakly related ones.
RELATIVE_CUT = 0.75
# Cosine above which two sentences say the same thing (wire copies, repeated leads).
REDUNDANT_COS = 0.85
MMR_LAMBDA = 0.7
REFUSAL_SOURCES = 3


def select(scores: np.ndarray, vecs: np.ndarray, max_sentences: int, min_support: float) -> list[int]:
    """Indices of the sentences to quote, best first; empty when the best is below `min_support`.

    >>> select(np.array([0.9, 0.89, 0.2]), np.array([[1.0, 0], [1.0, 0], [0, 1.0]]), 3, 0.3)
    [0]
    """
    if len(scores) == 0 or float(scores.max()) < min_support:
        return []
    floor = max(min_support, RELATIVE_CUT * float(scores.max()))
    picked: list[int] = []
    candidates = [i for i in np.argsort(-scores) if scores[i] >= floor]
    while candidates and len(picked) < max_sentences:
        def mmr(i: int) -> float:
            overlap = max((float(vecs[i] @ vecs[j]) for j in picked), default=0.0)
            return MMR_LAMBDA * float(scores[i]) - (1 - MMR_LAMBDA) * overlap

        best = max(candidates, key=mmr)
        candidates.remove(best)
        if any(float(vecs[best] @ vecs[j]) >= REDUNDANT_COS for j in picked):
            continue
        picked.append(int(best))
    return picked


def order(sentences: Sequence[Sentence], picked: Sequence[int]) -> list[int]:
    """Articles by their best picked sentence; inside an article, the article's own order, so quotes
    from one story read the way the story does."""
    rank_of_article: dict[str, int] = {}
    for i in picked:  # picked is best-first
        rank_of_article.setdefault(sentences[i].passage.article_id, len(rank_of_article))
    return sorted(picked, key=lambda i: (rank_of_article[sentences[i].passage.article_id],
                                         sentences[i].start))


def compose(sentences: Sequence[Sentence], chosen: Sequence[int]) -> tuple[list[str], list[Citation]]:
    """One text piece per quoted sentence ("quote [n]") and its citation, numbered in reading order."""
    pieces: list[str] = []
    citations: list[Citation] = []
    for n, i in enumerate(chosen, start=1):
        s = sentences[i]
        citations.append(citation_at(n, s.passage, s.start, s.end))
        pieces.append(f"{s.text} [{n}]")
    return pieces, citations


def refusal(sentences: Sequence[Sentence], scores: np.ndarray) -> tuple[str, list[Citation]]:
    """The honest 'not covered' answer, pointing at the closest sentence of the nearest passages
    (one per passage) so the reader can judge for themselves."""
    closest: list[int] = []
    passages: set[str] = set()
    for i in np.argsort(-scores):
        if sentences[i].passage.id not in passages:
            passages.add(sentences[i].passage.id)
            closest.append(int(i))
        if len(closest) == REFUSAL_SOURCES:
            break
    if not closest:
        return NO_HITS, []
    _, citations = compose(sentences, closest)
    markers = [f"[{c.number}]" for c in citations]
    listed = markers[0] if len(markers) == 1 else ", ".join(markers[:-1]) + " and " + markers[-1]
    return f"{REFUSAL}; the closest passages are {listed}.", citations


def extractive_answer(
    query: str, hits: Sequence[Hit], embedder: Embedder, settings: AnswerSettings
) -> Iterator[str | Draft]:
    """Yield the answer sentence by sentence (as text deltas), then the finished `Draft`."""
    sentences = shortlist(query, hit_sentences(hits))
    scores, vecs = support_scores(query, [s.text for s in sentences], embedder)
    picked = select(scores, vecs, settings.max_sentences, settings.min_support)
    if not picked:
        text, citations = refusal(sentences, scores)
        yield text
        best = float(scores.max()) if len(scores) else 0.0
        yield Draft(text, citations, grounded=False, support=best)
        return
    pieces, citations = compose(sentences, order(sentences, picked))
    for k, piece in enumerate(pieces):
        yield piece if k == 0 else " " + piece
    yield Draft(" ".join(pieces), citations, grounded=True, support=float(scores[picked[0]]))
