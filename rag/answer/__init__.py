"""Answer stage: question (+ history) -> retrieval -> cited answer, streamed.

`stream_answer` yields text deltas as they are produced, then the finished `Answer`. The final Answer
is authoritative: an LLM's deltas are its checked sentences, one finished sentence at a time
(citations renumbered over exact spans, unsupported sentences marked), so its raw words never show;
the local model's deltas are its raw words (a preview), and a UI replaces the streamed text with
`Answer.text` when it arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Protocol

from rag.answer.answerhood import Corpus
from rag.answer.citations import Draft, answer_lines, verify
from rag.answer.extractive import extractive_answer
from rag.answer.llm import llm_configured, stream_chat
from rag.answer.local import (
    LocalResult,
    judged_answerable,
    local_answer,
    local_unavailable,
    not_covered,
    unanswered,
)
from rag.answer.local_judge import JUDGED_OUT, confidence, judge_model, quotes_of
from rag.answer.local_quotes import focus_of, with_best_quote
from rag.answer.prompt import build_messages
from rag.answer.rewrite import rewrite_query
from rag.errors import LLMUnavailable
from rag.local_model import LocalModelUnavailable
from rag.settings import LocalSettings, Settings
from rag.types import Answer, Filters, Hit, SearchResult

__all__ = ["answer_question", "stream_answer"]

BROKE_OFF = "\n\n(The LLM reply broke off; answering offline instead.)\n\n"


class RetrieverLike(Protocol):
    """What the answer stage needs of `rag.retrieval.Retriever`."""

    store: Any  # has .embedder with embed(texts) -> unit vectors

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> SearchResult: ...


def stream_answer(
    question: str,
    retriever: RetrieverLike,
    settings: Settings,
    history: Sequence[tuple[str, str]] = (),
    filters: Filters | None = None,
    mode: str | None = None,
    k: int | None = None,
    use_llm: bool | None = None,
    answerer: str | None = None,
) -> Iterator[str | Answer]:
    """Yield answer text deltas as they are produced, then the complete `Answer`.

    `answerer` ("extractive", "local", "llm") wins over `use_llm` (True: "llm", False: "extractive"),
    which wins over settings.answer.answerer."""
    warnings: list[str] = []
    choice = answerer or (settings.answer.answerer if use_llm is None else "llm" if use_llm else "extractive")
    want_llm, want_local = choice == "llm", choice == "local"
    local_fallback = "extractive (local model unavailable)"
    if want_local and (reason := local_unavailable(settings.local)):
        warnings.append(f"{reason}; answered with the extractive answerer")
        want_local = False
    if want_llm and not llm_configured(settings.llm):
        warnings.append(
            "no LLM endpoint is configured (set RAG_LLM__BASE_URL and RAG_LLM__MODEL); answered offline"
        )
        want_llm = False
    query, failure = rewrite_query(question, history, settings.llm, want_llm)
    answerer = "llm" if want_llm else "local" if want_local else "extractive"
    if choice == "local" and not want_local:
        answerer = local_fallback
    if failure is not None:
        # the endpoint just failed on the rewrite; asking it again would only double the wait
        warnings.append(f"LLM endpoint unreachable: {failure}; answered offline")
        want_llm, answerer = False, "extractive (LLM fallback)"
    result = retriever.search(query, k=k, mode=mode, filters=filters)
    embedder = retriever.store.embedder
    draft: Draft | None = None
    context: list[Hit] = list(result.hits)
    if want_llm and result.hits:
        messages, used = build_messages(query, result.hits, settings.answer.context_tokens)
        parts: list[str] = []
        cache: dict[str, Any] = {}
        try:
            shown = yield from checked_stream(stream_chat(messages, settings.llm), parts,
                                              lambda text: verify(text, used, embedder, cache=cache))
            draft, context = verify("".join(parts), used, embedder, cache=cache), used
            if draft.text.startswith(shown):
                yield draft.text[len(shown):]
        except LLMUnavailable as exc:
            warnings.append(f"LLM endpoint unreachable: {exc}; answered offline")
            answerer = "extractive (LLM fallback)"
            if parts:
                yield BROKE_OFF
    elif want_local and result.hits:
        # The extractive answer comes first (a fraction of a second). Its answerability model decides
        # whether there is anything to write about: a small model shown near misses still writes
        # (test split: it answered 2 of the 17 unanswerable questions the extractive answerer refused).
        # Its quotes pick and centre the few passages the model reads: the prompt is the latency, and
        # those sentences are the likeliest answers.
        quoted = answer_question(query, retriever, settings, filters=filters, mode=mode, k=k,
                                 answerer="extractive")
        if not quoted.grounded:
            draft = Draft(quoted.text, quoted.citations, False, quoted.warnings)
            answerer = "extractive (refused: nothing for the local model to write from)"
            yield quoted.text
        else:
            try:
                draft, context, answerer = yield from written(query, quoted, result.hits, embedder,
                                                              settings.local, warnings)
            except LocalModelUnavailable as exc:  # nothing was streamed: it fails while loading
                warnings.append(f"{str(exc.args[0]).rstrip('.')}; answered with the extractive answerer")
                answerer = local_fallback
    elif want_llm or want_local:
        answerer = "extractive"  # nothing retrieved: the refusal needs no model
    probability = None
    if draft is None:
        for item in extractive_answer(query, result.hits, embedder, settings.answer, corpus_of(retriever)):
            if isinstance(item, Draft):
                draft, probability = item, item.support
            else:
                yield item
    assert draft is not None  # extractive_answer always ends with its Draft
    yield Answer(
        text=draft.text, citations=draft.citations, grounded=draft.grounded, question=question,
        query=query, filters=result.filters, answerer=answerer, warnings=warnings + draft.warnings,
        hits=context, notes=read_as(result), answer_probability=probability,
    )


def written(query: str, quoted: Answer, hits: Sequence[Hit], embedder: Any, settings: LocalSettings,
            warnings: list[str]) -> Generator[str, None, tuple[Draft, list[Hit], str]]:
    """The local model's part once the extractive answer `quoted` was judged to answer: it reads the
    quotes and says whether they answer this question (a near miss on the asked year, person or event
    passes the extractive model more often than it passes this), then writes, streamed, and is checked.
    Returns the draft, the passages it cites from, and which answerer wrote it."""
    if settings.judge_threshold != 0:  # off: not asked at all (it costs 1-2 s)
        p_yes = judged_answerable(query, quotes_of(quoted.text, quoted.citations), settings)
        support, model = quoted.answer_probability or 0.0, judge_model()
        score, threshold = confidence(p_yes, support, model), settings.judge_threshold or model.threshold
        if score < threshold:
            refusal = not_covered(query, hits, embedder)
            yield refusal.text
            why = (f"the local model judged that the best quotes do not answer the question (yes "
                   f"{p_yes:.2f}, with the extractive answer's {support:.2f}: {score:.2f} < {threshold:.2f})")
            return replace(refusal, warnings=[why]), list(hits), JUDGED_OUT
    draft: Draft | None = None
    context, answerer = list(hits), "local"
    focus = focus_of(query, Draft(quoted.text, quoted.citations, quoted.grounded))
    for piece in local_answer(query, hits, embedder, settings, focus):
        if not isinstance(piece, LocalResult):
            yield piece
            continue
        draft, context = piece.draft, piece.hits
        # (a dropped draft is never grounded; the model's own refusal is not either)
        missing = (unanswered(query, draft.text, "\n".join(h.passage.text for h in context))
                   if draft.grounded else None)
        if piece.dropped or missing:
            # a written sentence did not hold up against its passage, or the written answer only
            # restates the question or (a factoid) names no answer, though the quotes were judged to
            # answer: show the quotes, and say why
            warnings.extend([f"the local model's answer was set aside: {missing}"] if missing
                            else piece.draft.warnings)
            draft = Draft(quoted.text, quoted.citations, True, quoted.warnings)
            context, answerer = quoted.hits, "extractive (local answer did not hold up)"
        else:
            draft = with_best_quote(draft, Draft(quoted.text, quoted.citations, True))
    assert draft is not None  # local_answer always ends with its LocalResult
    return draft, context, answerer


def checked_stream(deltas: Iterable[str], parts: list[str],
                   check: Callable[[str], Draft]) -> Generator[str, None, str]:
    """Collect `deltas` into `parts` and yield only checked text: each time a sentence is finished,
    the checked text of the finished sentences (citations renumbered, an unsupported sentence
    marked) beyond what was already yielded. Returns what was yielded. A reply's raw words (an
    unknown [99], an obeyed instruction) never reach the reader unchecked."""
    shown = ""
    for delta in deltas:
        parts.append(delta)
        lines = answer_lines("".join(parts))
        if len(lines) < 2:  # the last sentence may still be growing
            continue
        done = "".join(("\n" if new_line and i else " " if i else "") + sentence
                       for i, (sentence, new_line) in enumerate(lines[:-1]))
        checked = check(done).text
        if checked.startswith(shown) and len(checked) > len(shown):
            yield checked[len(shown):]
            shown = checked
    return shown


def read_as(result: SearchResult) -> list[str]:
    """How the question was read, when the applied filters do not already say it: a date the question
    names that could not filter (an undated archive, or no articles from then)."""
    if result.inferred and not (result.filters.since or result.filters.until):
        return [result.inferred]
    return []


def corpus_of(retriever: RetrieverLike) -> Corpus:
    """Whole articles and term weights from the retriever's index, where it has them."""
    article = getattr(retriever.store, "article", None)
    passages = getattr(retriever.store, "article_passages", None)
    bm25 = getattr(retriever, "bm25", None)
    years = getattr(retriever.store, "undated_year_counts", None)
    return Corpus(
        article_text=(lambda aid: getattr(article(aid), "text", None)) if article else (lambda _id: None),
        idf=bm25.idf if bm25 is not None and hasattr(bm25, "idf") else (lambda terms: [1.0] * len(terms)),
        passages=passages if passages is not None else (lambda _id: []),
        undated_years=years if years is not None else dict,
    )


def answer_question(
    question: str,
    retriever: RetrieverLike,
    settings: Settings,
    history: Sequence[tuple[str, str]] = (),
    filters: Filters | None = None,
    mode: str | None = None,
    k: int | None = None,
    use_llm: bool | None = None,
    answerer: str | None = None,
) -> Answer:
    """The complete answer (the stream, drained)."""
    for item in stream_answer(question, retriever, settings, history, filters, mode, k, use_llm, answerer):
        if isinstance(item, Answer):
            return item
    raise AssertionError("stream_answer ended without an Answer")
