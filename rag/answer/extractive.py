"""Extractive answer stage (offline, the default): verbatim passage sentences, each with its citation.

Because every answer sentence is a quote, its span is exact by construction; the judgement is which
sentences to quote, and whether any of them answers at all. `rag.answer.answerhood` gives each
candidate sentence a probability of answering the question (fitted on the BBC QA dev split). Below the
calibrated threshold the answerer refuses and shows the closest passages instead. Otherwise:

- a factoid question (who / when / how many ...) gets the short answer first, an exact span of the
  best sentence with its own citation, when it is likely right (rag.answer.lead), then that sentence;
  a second sentence only when another article gives a different, nearly as likely answer;
- a list, comparison, "over time" or open question gets up to `max_sentences` quotes, not redundant,
  for a comparison covering each thing compared, for "over time" ordered by article date;
- every quote is led by its article's headline, so whose plan or which story it is stays clear, and
  a quote that opens with "he", "it", "but" ... carries the sentence before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cache

import numpy as np

from rag.answer import lead as leads  # leads.keep, read at call time (eval/fit_lead.py records it)
from rag.answer.answerhood import (
    _ANAPHORIC,
    FEATURES,
    Corpus,
    features,
    headed_sentence,
    load_model,
)
from rag.answer.candidates import answer_span, candidates
from rag.answer.citations import NO_HITS, REFUSAL_SOURCES, Draft, citation_at, refusal_text
from rag.answer.days import said_as_day
from rag.answer.names import name_share, named_anywhere
from rag.answer.outcome import UNSETTLED, asks_outcome, prospect_only
from rag.answer.periods import other_period, periods, section_of
from rag.answer.question import QuestionFrame, known_words
from rag.answer.support import Sentence, content_terms, hit_sentences
from rag.chunking import sentence_spans
from rag.dates import YEAR
from rag.embedding import Embedder
from rag.retrieval.dedupe import mmr
from rag.settings import AnswerSettings
from rag.types import Citation, Hit

# The first articles retrieved are read whole: the sentence that answers is often in a passage of
# the right article that retrieval ranked lower (dev: the answer is among the candidates for 184 of
# 197 factoid questions from the retrieved passages alone, 195 with the top two articles whole).
WHOLE_ARTICLES = 2
MAX_CANDIDATES = 96  # sentences embedded per answer (~0.25 s on two shared cores)
# Cosine above which two sentences say the same thing (wire copies, repeated leads).
REDUNDANT_COS = 0.85
# A further quote of a list / open answer must have at least this share of the best one's ranker weight.
RELATIVE_CUT = 0.3
# A factoid's second sentence (another answer, nearly as likely) must have this share of the best one's.
SECOND_OPINION = 0.35


def select(probs: np.ndarray, vecs: np.ndarray, limit: int, floor: float,
           must_cover: Sequence[set[int]] = ()) -> list[int]:
    """Indices to quote, best first: probability at least `floor`, none redundant with an earlier
    pick; when `must_cover` is given (for each name compared, the sentences naming it), a sentence
    covering a name not yet covered goes before a likelier one that covers nothing new.

    >>> select(np.array([0.9, 0.89, 0.2]), np.array([[1.0, 0], [1.0, 0], [0, 1.0]]), 3, 0.3)
    [0]
    """
    return mmr(probs, vecs, limit, lam=1.0, redundant=REDUNDANT_COS, floor=floor, must_cover=must_cover)


def short_answer(sentence: Sentence, frame: QuestionFrame, query: str) -> tuple[int, int] | None:
    """The article span of the expected answer inside `sentence` (the candidate nearest the question's
    words), or None when the question wants no short answer or the sentence holds no candidate."""
    if frame.shape != "factoid":
        return None
    terms = content_terms(query)
    spans = candidates(sentence.text, frame.expects, known_words(query, frame), sentence.passage.text,
                       frame.kind)
    span = answer_span(sentence.text, spans, terms, frame.kind)
    if span is None:
        return None
    a, b = span
    return sentence.start + a, sentence.start + b


def quote_span(sentence: Sentence) -> tuple[int, int]:
    """The sentence, or the sentence and the one before it when it opens with a word that points
    back ("He said...", "But the deal...") and that sentence is in the same paragraph of the passage."""
    p = sentence.passage
    if not _ANAPHORIC.match(sentence.text):
        return sentence.start, sentence.end
    before = [p.start + a for a, b in sentence_spans(p.text) if p.start + b <= sentence.start]
    if before and "\n" not in p.text[before[-1] - p.start : sentence.start - p.start]:
        return before[-1], sentence.end
    return sentence.start, sentence.end


def compose(sentences: Sequence[Sentence], chosen: Sequence[int], lead: tuple[int, int] | None = None,
            dated: bool = False) -> tuple[list[str], list[Citation]]:
    """Text pieces and their citations: the short answer (`lead`, an article span of the first chosen
    sentence) first, then one "Headline: quote [n]" per chosen sentence ("date, Headline: quote [n]"
    when `dated`, for a dated story)."""
    pieces: list[str] = []
    citations: list[Citation] = []
    if lead is not None and chosen:
        s = sentences[chosen[0]]
        citations.append(citation_at(1, s.passage, *lead))
        # "Wednesday" in a dated story: the day it means, counted from the story's date
        pieces.append(f"{citations[0].quote} [1]{said_as_day(citations[0].quote, s.passage.date, s.text)}")
    previous_article = None
    for i in chosen:
        s = sentences[i]
        start, end = quote_span(s)
        taken = [c for c in citations
                 if c.article_id == s.passage.article_id and c.end > start and c.start < end]
        if any(c.start <= s.start and s.end <= c.end for c in taken):
            continue  # already quoted as the context of another sentence
        if taken:
            start = s.start  # its context is quoted already: the sentence alone
        c = citation_at(len(citations) + 1, s.passage, start, end)
        citations.append(c)
        head = f"{s.passage.date[:10]}, " if dated and s.passage.date else ""
        same = s.passage.article_id == previous_article and not dated
        title = f"{head}{s.passage.title}: " if s.passage.title and not same else head
        previous_article = s.passage.article_id
        pieces.append(f"{title}{' '.join(c.quote.split())} [{c.number}]")
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
    citations = [citation_at(n, sentences[i].passage, sentences[i].start, sentences[i].end)
                 for n, i in enumerate(closest, start=1)]
    return refusal_text(citations), citations


def choose(query: str, frame: QuestionFrame, sentences: Sequence[Sentence], scores: np.ndarray,
           vecs: np.ndarray, limit: int) -> list[int]:
    """The sentences to quote, in the order to show them. `scores` are the ranker's; a sentence's
    share is its softmax weight among the candidates."""
    share = np.exp(scores - scores.max())
    share /= share.sum()
    best = int(np.argmax(share))
    if frame.shape == "factoid":
        picked = [best]
        first = short_answer(sentences[best], frame, query)
        others = select(share, vecs, 3, SECOND_OPINION * float(share[best]))
        # another story's answer before the same story's second one: an independent source
        others.sort(key=lambda i: sentences[i].passage.article_id == sentences[best].passage.article_id)
        for i in others:
            other = short_answer(sentences[i], frame, query)
            if i != best and not _same_answer(sentences[i], other, sentences[best], first):
                picked.append(i)  # nearly as likely, and another answer: show both, best first
                break
        return picked
    cover = []
    if frame.shape == "compare":
        cover = [{i for i, s in enumerate(sentences) if name_share((name,), s.text.lower(), s.text) > 0}
                 for name in frame.names]
    picked = select(share, vecs, limit, RELATIVE_CUT * float(share[best]), cover)
    if frame.shape == "over_time":
        return sorted(picked, key=lambda i: (sentences[i].passage.date or "", sentences[i].passage.article_id,
                                              sentences[i].start))
    rank_of_article: dict[str, int] = {}
    for i in picked:  # best first: articles by their best quote, inside one the story's own order
        rank_of_article.setdefault(sentences[i].passage.article_id, len(rank_of_article))
    return sorted(picked, key=lambda i: (rank_of_article[sentences[i].passage.article_id],
                                         sentences[i].start))


def answer_support(sentences: Sequence[Sentence], scores: np.ndarray, frame: QuestionFrame, query: str,
                   best: int, short: str) -> tuple[float, float]:
    """How much of the ranker's weight on its ten likeliest sentences goes to those that name the best
    sentence's short answer (a name by its last word: "Foxx triumphed" names Jamie Foxx), and that
    weight against the weight of the likeliest other answer those sentences give: an answer that several
    likely sentences give is likelier right than one sentence's guess."""
    top = [int(i) for i in np.argsort(-scores)[:10] if np.isfinite(scores[i])]
    weight = np.exp(scores[top] - scores[top].max())
    key = lambda text: (text.split()[-1] if text[:1].isupper() else text).lower()  # noqa: E731
    named = re.compile(rf"(?<!\w){re.escape(key(short))}(?!\w)", re.I)
    mass: dict[str, float] = {}
    for i, w in zip(top, weight, strict=True):
        if i == best or named.search(sentences[i].text):
            mass[""] = mass.get("", 0.0) + float(w)
        elif (span := short_answer(sentences[i], frame, query)) is not None:
            other = key(sentences[i].text[span[0] - sentences[i].start : span[1] - sentences[i].start])
            mass[other] = mass.get(other, 0.0) + float(w)
    rival = max((m for k, m in mass.items() if k), default=0.0)
    return mass[""] / float(weight.sum()), mass[""] / (mass[""] + rival)


def confirmed(sentences: Sequence[Sentence], rows: np.ndarray, scores: np.ndarray,
              answers: Sequence[tuple[int, int] | None]) -> np.ndarray:
    """The ranker's scores, where a forecast ranked above a sentence that reports the same answer as
    fact, nearly as likely (SECOND_OPINION of its weight) and in at least as many of the question's
    words, trades places with it: "Most experts predict ... Jamie Foxx will win best actor" found
    the answer, "Jamie Foxx picked up best actor" states it; a list of nominees that merely names it
    does not. `answers` are each sentence's short answer (None without one)."""
    forecast = rows[:, FEATURES.index("forecast")] > 0
    lex = rows[:, FEATURES.index("lex")]
    out = scores.copy()
    floor = np.log(SECOND_OPINION)
    for i in np.argsort(-scores):
        if not forecast[i] or answers[i] is None:
            continue
        facts = [j for j in range(len(sentences)) if not forecast[j] and out[i] + floor <= out[j] < out[i]
                 and lex[j] >= lex[i] and _same_answer(sentences[j], answers[j], sentences[i], answers[i])]
        if facts:
            j = max(facts, key=lambda j: out[j])
            out[i], out[j] = out[j], out[i]
    return out


def dated_elsewhere(sentence: Sentence, frame: QuestionFrame, corpus: Corpus) -> bool:
    """Whether the sentence's article is dated in another year than the question asks about (nor the
    year after, when that year's results and verdicts are reported) and never names the asked year: a
    2015 story does not answer a question about 2016, however alike the two are."""
    date = sentence.passage.date
    if not frame.years or not date or not date[:4].isdigit():
        return False
    year = int(date[:4])
    if any(int(y) in (year, year - 1) for y in frame.years):
        return False
    text = corpus.article_text(sentence.passage.article_id) or sentence.passage.text
    return not any(y in text or y in (sentence.passage.title or "") for y in frame.years)


def with_articles(hits: Sequence[Hit], corpus: Corpus, n: int = WHOLE_ARTICLES) -> list[Hit]:
    """The hits, then the first `n` articles' other passages (each with its article's best score and
    rank). After all the hits, so a list or comparison keeps every article retrieval found."""
    have = {h.passage.id for h in hits}
    top = list(dict.fromkeys(h.passage.article_id for h in hits))[:n]
    best = {a: next(h for h in hits if h.passage.article_id == a) for a in top}
    return list(hits) + [Hit(p, best[a].score, best[a].rank)
                         for a in top for p in corpus.passages(a) if p.id not in have]


# passages that must name the most named year before the archive's present is read from the counts
PRESENT_EVIDENCE = 25


def present_years(corpus: Corpus) -> tuple[int, int] | None:
    """The years an undated archive writes about as its present: from the earliest to the latest year
    named in at least half as many of its undated passages as the most named year (a 2004-05 archive
    names 2003, 2004 and 2005 often, 2001 and 2010 less). Dated stories in the same index do not count:
    a 1987 wire archive beside it would move the present back 18 years. None without undated passages,
    and None for a small archive: in a dozen stories the most named year is named a few times, and
    "2005" named 3 times against 2004's 7 says nothing about what the stories are about (small
    archives of same-topic stories refused 7 of 34 dev questions naming a year with their gold story
    indexed, eval/distractor_check.py)."""
    counts = corpus.undated_years()
    if not counts or max(counts.values()) < PRESENT_EVIDENCE:
        return None
    peak = max(counts.values())
    often = [y for y, n in counts.items() if 2 * n >= peak]
    return min(often), max(often)


def undated_elsewhere(sentence: Sentence, frame: QuestionFrame, corpus: Corpus,
                      present: tuple[int, int] | None) -> bool:
    """For an undated article that never names the asked year: whether it is about another time. An
    article is taken to be about the archive's present, which news stories rarely name, so it is
    when the asked year lies outside the present (a question about 2007, or 2002, over a 2004-05
    archive), or before a year the article names that is not in the future (a story naming 2004 but
    never 2003 does not give 2003's figures)."""
    if not frame.years or sentence.passage.date:
        return False
    text = corpus.article_text(sentence.passage.article_id)
    if text is None:
        return False
    if any(y in text or y in (sentence.passage.title or "") for y in frame.years):
        return False
    named = {int(y) for y in YEAR.findall(text)}
    for y in map(int, frame.years):
        if present is not None and not present[0] <= y <= present[1]:
            return True
        if any(y < z <= (present[1] if present is not None else z) for z in named):
            return True
    return False


def unnamed_articles(sentences: Sequence[Sentence], frame: QuestionFrame, corpus: Corpus) -> set[str]:
    """The candidates' articles that name none of the question's names, even leniently
    (`rag.answer.names.named_anywhere`): another company's results, another prize's winner."""
    if not frame.names:
        return set()
    passages = {s.passage.article_id: s.passage for s in sentences}
    return {aid for aid, p in passages.items()
            if not named_anywhere(frame.names, f"{p.title}\n{corpus.article_text(aid) or p.text}")}


def _same_answer(a: Sentence, span_a: tuple[int, int] | None,
                 b: Sentence, span_b: tuple[int, int] | None) -> bool:
    """Whether two short answers name the same thing ("Foxx" and "Jamie Foxx" do)."""
    if span_a is None or span_b is None:
        return span_a is span_b
    words_a = set(_span_text(a, span_a).lower().split())
    words_b = set(_span_text(b, span_b).lower().split())
    return words_a <= words_b or words_b <= words_a


def _span_text(sentence: Sentence, span: tuple[int, int]) -> str:
    return sentence.text[span[0] - sentence.start : span[1] - sentence.start]


def extractive_answer(
    query: str, hits: Sequence[Hit], embedder: Embedder, settings: AnswerSettings,
    corpus: Corpus | None = None,
) -> Iterator[str | Draft]:
    """Yield the answer piece by piece (as text deltas), then the finished `Draft`.

    `corpus` gives whole articles (so a year or name the question asks about is checked beyond the
    retrieved passage) and term weights; without it only the passages are checked, all terms equal.
    """
    # the year, period and name checks and the features all read the same few articles: read each once
    corpus = replace(corpus, article_text=cache(corpus.article_text)) if corpus else Corpus()
    hits = with_articles(hits, corpus)
    sentences = hit_sentences(hits)[:MAX_CANDIDATES]
    if not sentences:
        yield NO_HITS
        yield Draft(NO_HITS, [], grounded=False)
        return
    vecs = np.asarray(embedder.embed([query, *map(headed_sentence, sentences)]), dtype=np.float32)
    qvec, vecs = vecs[0], vecs[1:]
    frame, rows = features(query, sentences, vecs, qvec, hits, corpus)
    model = load_model()
    scores = model.rank(rows)
    if frame.shape == "factoid" and rows[:, FEATURES.index("forecast")].any():  # short answers cost ~8 ms
        scores = confirmed(sentences, rows, scores, [short_answer(s, frame, query) for s in sentences])
    present = present_years(corpus) if frame.years else None
    asked = periods(query)
    unnamed = unnamed_articles(sentences, frame, corpus)
    allowed = np.array([not (dated_elsewhere(s, frame, corpus) or undated_elsewhere(s, frame, corpus, present)
                             # (`asked and`: no article is read for table sections when no period is asked)
                             or (asked and other_period(asked, s.text, s.passage.title or "", section_of(
                                 (corpus.article_text(s.passage.article_id) or "")[:s.start])))
                             or s.passage.article_id in unnamed) for s in sentences])
    p_answer = model.answer_probability(rows[allowed], scores[allowed]) if allowed.any() else 0.0
    threshold = settings.min_support if settings.min_support is not None else model.threshold
    # the likeliest sentence tells of an offer or a plan where the question asks how it ended: what
    # the archive holds on the asked deal is its prospect (the next sentence would only be off topic)
    masked = np.where(allowed, scores, -np.inf)
    best = int(np.argmax(masked))
    unsettled = asks_outcome(query) and allowed.any() and prospect_only(sentences[best].text)
    if p_answer < threshold or not allowed.any() or unsettled:  # not allowed: all about another time
        text, citations = refusal(sentences, scores)
        why = [UNSETTLED] if unsettled and p_answer >= threshold else []  # the reader learns why
        yield text
        yield Draft(text, citations, grounded=False, warnings=why, support=p_answer)
        return
    scores = masked
    chosen = choose(query, frame, sentences, scores, vecs, settings.max_sentences)
    lead = short_answer(sentences[chosen[0]], frame, query)
    if lead is not None:  # shown only when likely right (rag.answer.lead)
        p = sentences[chosen[0]].passage
        short = p.text[lead[0] - p.start : lead[1] - p.start]
        agreeing = answer_support(sentences, scores, frame, query, chosen[0], short)
        x = leads.lead_features(rows[chosen[0]], p_answer, scores, chosen[0], frame, short, agreeing)
        if not leads.keep(x):
            lead = None
    dated = frame.shape == "over_time"
    # a "when" question may be answered by the date of the story that reports it ("said its board
    # elected Frank Wezniak"): its quotes show their stories' dates, as an "over time" answer's do
    pieces, citations = compose(sentences, chosen, lead, dated or frame.expects == "date")
    warnings = []
    if dated and not any(sentences[i].passage.date for i in chosen):
        warnings.append("the archive has no dates, so these quotes are in order of relevance, not of time")
    text = "\n\n".join(pieces)
    for k, piece in enumerate(pieces):
        yield piece if k == 0 else "\n\n" + piece
    yield Draft(text, citations, grounded=True, warnings=warnings, support=p_answer)
