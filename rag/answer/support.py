"""Support stage: how well a passage sentence supports a question or a claim (lexical + embedding).

One score, used twice: the extractive answerer ranks candidate sentences against the question, and
the citation checker ranks a cited passage's sentences against an LLM sentence. The score is a blend
of cosine similarity (paraphrase) and the share of the query's content terms the sentence contains
(names and numbers, which small embedders blur). Both parts lie in [0, 1] for related text, so the
refusal threshold calibrated in eval/calibrate_refusal.py is a plain number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.markers import strip_markers
from rag.chunking import sentence_spans
from rag.embedding import Embedder
from rag.retrieval.bm25 import spelled_out, tokenize
from rag.types import Hit, Passage

# Weight of the embedding cosine in the blend; the rest is lexical coverage. Equal weights kept
# after eval/calibrate_refusal.py showed 0.4-0.6 separate answerable from unanswerable equally well.
EMBED_WEIGHT = 0.5

# Words that carry no topic in a question ("How many ... will ... each"): bm25s' stop list is short.
_QUESTION_WORDS = frozenset(str.split(
    """how many much what which who whom whose when where why did does do done is are was were be been
    can could would should shall may might must has have had about tell me please also any some each
    there their them they its this those these he she his her him we our you your"""
))
SHORTLIST = 20  # sentences embedded per answer (see shortlist)
def stems(text: str) -> list[str]:
    """The text's stems (`rag.retrieval.bm25.tokenize`), wire abbreviations read as their words
    (`spelled_out`): "What per-share profit ... fourth quarter?" is answered by "4TH QTR NET ... Shr 45 cts".

    >>> stems("Shr 45 cts vs 58 cts; 4th qtr revs 12 mln dlrs")
    ['share', '45', 'cent', 'vs', '58', 'cent', 'fourth', 'quarter', 'revenu', '12', 'million', 'dollar']
    >>> stems("the Rev Smith")
    ['rev', 'smith']
    """
    return tokenize(spelled_out(text))


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage, located in its article (`article.text[start:end] == text`)."""

    hit_index: int  # position in the hit list (0-based)
    passage: Passage
    start: int
    end: int
    text: str


def content_terms(text: str) -> list[str]:
    """Example:

    >>> content_terms("How many soldiers will the US each contribute?")
    ['soldier', 'us', 'contribut']
    """
    return list(dict.fromkeys(stems(" ".join(w for w in re.findall(r"\w+", text.lower())
                                              if w not in _QUESTION_WORDS))))


def passage_sentences(passage: Passage, hit_index: int = 0) -> list[Sentence]:
    """The passage's sentences with article offsets (passage.start + offset inside the passage)."""
    return [
        Sentence(hit_index, passage, passage.start + s, passage.start + e, passage.text[s:e])
        for s, e in sentence_spans(passage.text)
    ]


def hit_sentences(hits: Sequence[Hit], min_chars: int = 20) -> list[Sentence]:
    """Candidate sentences of all hits, each article span once (overlapping passages repeat
    sentences), skipping fragments too short to answer anything (bylines, dates)."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Sentence] = []
    for i, hit in enumerate(hits):
        for sent in passage_sentences(hit.passage, i):
            key = (sent.passage.article_id, sent.start, sent.end)
            if key in seen or len(sent.text) < min_chars:
                continue
            seen.add(key)
            out.append(sent)
    return out


def shortlist(query: str, sentences: Sequence[Sentence], n: int = SHORTLIST) -> list[Sentence]:
    """The `n` candidates worth embedding: most query terms first, then better-ranked passages.

    Embedding every sentence of eight passages (~50) costs ~0.6 s on two shared cores; the answer
    sentence nearly always shares a content term with the question, so the lexical cut keeps it
    and halves time to first token (eval/results/bench_answer.md)."""
    if len(sentences) <= n:
        return list(sentences)
    terms = content_terms(query)
    keyed = sorted(range(len(sentences)),
                   key=lambda i: (-lexical_coverage(terms, sentences[i].text), sentences[i].hit_index, i))
    return [sentences[i] for i in sorted(keyed[:n])]


def lexical_coverage(query_terms: Sequence[str], text: str) -> float:
    """Share of the query's content terms found in `text` (0 when the query has none)."""
    if not query_terms:
        return 0.0
    have = set(stems(text))
    return sum(t in have for t in query_terms) / len(query_terms)


def support_scores(
    query: str, texts: Sequence[str], embedder: Embedder, text_vecs: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Blended support of each text for `query`, and the texts' unit vectors (for redundancy checks).

    `text_vecs`, when given, are the texts' vectors already embedded; only the query is embedded.
    """
    if not texts:
        return np.zeros(0, dtype=np.float32), np.zeros((0, 0), dtype=np.float32)
    if text_vecs is None:
        vecs = np.asarray(embedder.embed([query, *texts]), dtype=np.float32)
        qvec, text_vecs = vecs[0], vecs[1:]
    else:
        qvec = np.asarray(embedder.embed([query]), dtype=np.float32)[0]
    cos = np.clip(text_vecs @ qvec, 0.0, 1.0)
    terms = content_terms(query)
    lex = np.array([lexical_coverage(terms, t) for t in texts], dtype=np.float32)
    return EMBED_WEIGHT * cos + (1.0 - EMBED_WEIGHT) * lex, text_vecs


@dataclass(frozen=True)
class Span:
    """The best supporting span of a passage for a claim, in article offsets."""

    start: int
    end: int
    score: float


def best_span(
    claim: str, passage: Passage, embedder: Embedder, cache: dict[str, np.ndarray] | None = None
) -> Span | None:
    """The passage sentence (or two adjacent sentences, when the claim draws on both) that best
    supports `claim`; None for an empty passage.

    `cache` (passage id -> its sentence and pair vectors) lets one verification, which checks many
    claims against the same few passages, embed each passage's sentences once.
    """
    sents = passage_sentences(passage)
    if not sents:
        return None
    texts = [s.text for s in sents]
    pairs = [(i, i + 1) for i in range(len(sents) - 1)]
    # the text of a pair is the article slice covering both sentences, so the quote stays exact
    base = passage.start
    pair_texts = [passage.text[sents[i].start - base : sents[j].end - base] for i, j in pairs]
    vecs = None
    if cache is not None:
        if passage.id not in cache:
            cache[passage.id] = np.asarray(embedder.embed(texts + pair_texts), dtype=np.float32)
        vecs = cache[passage.id]
    scores, _ = support_scores(strip_markers(claim), texts + pair_texts, embedder, vecs)
    best = int(np.argmax(scores[: len(sents)]))
    span = Span(sents[best].start, sents[best].end, float(scores[best]))
    if pairs:
        p = int(np.argmax(scores[len(sents) :]))
        # a pair must beat the single sentence clearly, else every quote would grow to two sentences
        if float(scores[len(sents) + p]) > span.score + 0.05:
            i, j = pairs[p]
            span = Span(sents[i].start, sents[j].end, float(scores[len(sents) + p]))
    return span
