"""UI stage, pure part: answers, sources and articles -> HTML strings. No Gradio, no I/O.

Article text is data. Every string that came from an article (titles, authors, quotes, answer
text that quotes them) goes through `esc` (HTML) or `md_esc` (HTML + Markdown) before it reaches
the page; the only markup here is markup this module writes itself.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer import markers
from rag.answer.citations import is_refusal
from rag.answer.local_judge import JUDGED_OUT
from rag.types import Answer, Article, Citation, Filters, Hit

# Characters that Markdown (and the Chatbot's KaTeX) would turn into structure. Writing them as
# numeric entities shows the same character but gives the Markdown parser nothing to act on, so
# `[click](javascript:...)` in an article stays text instead of becoming a link.
_MD_ACTIVE = set("\\`*_{}[]()#+-.!|~$:<>&\"'=")


def esc(text: object) -> str:
    """HTML-escape any value: `esc("<b>")` -> `'&lt;b&gt;'`. None -> ''."""
    return "" if text is None else html.escape(str(text), quote=True)


def md_esc(text: str) -> str:
    """Escape for HTML *and* Markdown: `md_esc("[a](b)")` -> `'&#91;a&#93;&#40;b&#41;'`.

    Letters, digits and spaces pass through, so the result is still readable in page source.
    Newlines stay newlines (the Chatbot turns them into line breaks).
    """
    return "".join(f"&#{ord(ch)};" if ch in _MD_ACTIVE else ch for ch in text)


@dataclass(frozen=True)
class Context:
    """The passage around a citation: `text` starts at article offset `start`."""

    text: str
    start: int


def passage_context(citation: Citation, hits: Sequence[Hit]) -> Context | None:
    """The retrieved passage that holds the cited span (its own first, then any of the same article)."""
    def holds(p: Any) -> bool:
        return bool(p.start <= citation.start and citation.end <= p.end)

    for hit in hits:
        if hit.passage.id == citation.passage_id and holds(hit.passage):
            return Context(hit.passage.text, hit.passage.start)
    for hit in hits:
        if hit.passage.article_id == citation.article_id and holds(hit.passage):
            return Context(hit.passage.text, hit.passage.start)
    return None


def article_window(citation: Citation, article_text: str | None, window: int = 300) -> Context:
    """`window` characters either side of the span in the article; the bare quote without the article."""
    if article_text is not None and article_text[citation.start:citation.end] == citation.quote:
        lo = max(0, citation.start - window)
        hi = min(len(article_text), citation.end + window)
        return Context(article_text[lo:hi], lo)
    return Context(citation.quote, citation.start)


def highlight(text: str, text_start: int, start: int, end: int, mark_id: str | None = None) -> str:
    """Escape `text` and wrap the article span [start, end) in <mark>.

    `highlight("a <b> c", 10, 12, 15)` -> `'a <mark>&lt;b&gt;</mark> c'`. Offsets are article
    offsets; `text_start` is where `text` begins in the article. Out-of-range spans are clamped.
    """
    lo = min(max(start - text_start, 0), len(text))
    hi = min(max(end - text_start, lo), len(text))
    attr = f' id="{esc(mark_id)}"' if mark_id else ""
    return f"{esc(text[:lo])}<mark{attr}>{esc(text[lo:hi])}</mark>{esc(text[hi:])}"


def chip(turn: int, n: int) -> str:
    """A clickable citation marker. The href carries turn and number too, in case attributes are stripped."""
    return (f'<a class="cite-chip" href="#cite-{turn}-{n}" data-turn="{turn}" data-n="{n}" '
            f'title="Show source {n}">{n}</a>')


def quoted_spans(text: str, quotes: Sequence[str]) -> list[tuple[int, int]]:
    """Where the quotes stand in `text`, looked for in order: `quoted_spans("a [2] b [1]", ["a [2] b"])`
    -> `[(0, 7)]`. A quote not found (an LLM answer paraphrases) is skipped."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for quote in quotes:
        at = text.find(quote, pos) if quote else -1
        if at >= 0:
            spans.append((at, at + len(quote)))
            pos = at + len(quote)
    return spans


def answer_html(text: str, turn: int, numbers: Sequence[int] | None = None,
                quoted: Sequence[tuple[int, int]] = ()) -> str:
    """Answer text for the Chatbot: escaped, with [n] markers as chips.

    `numbers` limits chips to citations that exist (None: every marker while still streaming);
    other bracketed numbers stay plain text, as do markers inside the `quoted` spans (article text
    quoted in the answer, whose own "[2]" is no citation of this answer).
    """
    known = None if numbers is None else set(numbers)
    out: list[str] = []
    pos = 0
    for start, end, nums in markers.find(text):
        if known is not None and not all(n in known for n in nums):
            continue
        if any(lo <= start < hi for lo, hi in quoted):
            continue
        out.append(md_esc(text[pos:start]))
        out.append('<span class="cite-group">' + "".join(chip(turn, n) for n in nums) + "</span>")
        pos = end
    out.append(md_esc(text[pos:]))
    return "".join(out)


def filters_note(filters: Filters) -> str | None:
    """A short sentence about the applied date filter, or None when none applied."""
    if filters.since and filters.until:
        note = f"{filters.since} to {filters.until}"
    elif filters.since:
        note = f"from {filters.since}"
    elif filters.until:
        note = f"up to {filters.until}"
    else:
        note = ""
    if filters.newest_first:
        note = f"{note}, newest first" if note else "newest first"
    return f"Dates: {note}" if note else None


def question_html(question: str, answer: Answer | None = None) -> str:
    """The user's message, plus the rewritten search query and the date filter once known."""
    parts = [md_esc(question)]
    if answer is not None:
        notes = []
        if answer.query and answer.query.strip() != question.strip():
            notes.append(f'<span class="q-rewrite">Searched for: {md_esc(answer.query)}</span>')
        note = filters_note(answer.filters)
        if note:
            notes.append(f'<span class="q-filter">{md_esc(note)}</span>')
        if answer.filters.sections:
            picked = "Sections: " + ", ".join(answer.filters.sections)
            notes.append(f'<span class="q-filter">{md_esc(picked)}</span>')
        notes += [f'<span class="q-filter">{md_esc(n)}</span>' for n in answer.notes]
        if notes:
            parts.append('<div class="q-notes">' + "<br>".join(notes) + "</div>")
    return "".join(parts)


def final_answer_html(answer: Answer, turn: int) -> str:
    """The finished answer: chips for known citations, then warnings and how it was answered."""
    quoted = quoted_spans(answer.text, [c.quote for c in answer.citations])
    body = answer_html(answer.text, turn, [c.number for c in answer.citations], quoted)
    extra = [f'<div class="a-warning">{md_esc(w)}</div>' for w in answer.warnings]
    if not answer.grounded and not is_refusal(answer.text):  # a refusal says itself what it lacks
        extra.append('<div class="a-warning">Not grounded in the sources: treat with care.</div>')
    extra.append(f'<div class="a-by">{md_esc(answered_by(answer.answerer))}</div>')
    return body + "".join(extra)


def answered_by(answerer: str) -> str:
    """Which answerer wrote the answer, in words (an answer that fell back says so in its warnings).

    >>> answered_by("local")
    'Written by the local model; each sentence checked against the passage it cites.'
    >>> answered_by(JUDGED_OUT)
    'The local model judged that the quotes found do not answer the question.'
    """
    if answerer == "local":
        return "Written by the local model; each sentence checked against the passage it cites."
    if answerer == "llm":
        return "Written by the LLM endpoint; each sentence checked against the passage it cites."
    if answerer == JUDGED_OUT:
        return "The local model judged that the quotes found do not answer the question."
    return "Quoted from the sources (extractive answerer)."


def meta_line(c: Citation | Article) -> str:
    """`author · date · source`, escaped, skipping what is unknown."""
    bits = [b for b in (c.author, c.date, c.source) if b]
    return " · ".join(esc(b) for b in bits) or "no author, date or source"


def source_cards(answer: Answer | None, turn: int, contexts: Mapping[int, Context],
                 selected: int | None = None, plain: str | None = None) -> str:
    """The sources panel for one answer: a card per citation, the cited span marked.

    `plain` is the answer as plain text for the "Copy answer" button (kept in a hidden textarea,
    whose content the browser treats as text).
    """
    if answer is None:
        return '<div class="src-empty">Ask a question: its sources appear here.</div>'
    cards = [f'<div class="src-head">Sources for: <q>{esc(answer.question)}</q></div>']
    if plain is not None:
        cards.append('<div class="src-actions"><button class="copy-answer">Copy answer</button>'
                     f'<textarea class="answer-plain" hidden readonly>{esc(plain)}</textarea></div>')
    if not answer.citations:
        cards.append('<div class="src-empty">This answer cites no sources.</div>')
    for c in answer.citations:
        ctx = contexts.get(c.number, Context(c.quote, c.start))
        cls = "src-card selected" if c.number == selected else "src-card"
        cards.append(
            f'<div class="{cls}" id="src-{turn}-{c.number}" data-n="{c.number}">'
            f'<div class="src-title"><span class="src-n">{c.number}</span>{esc(c.title)}</div>'
            f'<div class="src-meta">{meta_line(c)}</div>'
            f'<div class="src-text">{highlight(ctx.text, ctx.start, c.start, c.end)}</div>'
            f'<button class="open-article" data-article="{esc(c.article_id)}" data-start="{c.start}" '
            f'data-end="{c.end}">Open article</button></div>'
        )
    return "".join(cards)


def article_html(article: Article, start: int | None = None, end: int | None = None) -> str:
    """The whole normalised article; the span (if given) marked with id `article-mark` for scrolling."""
    if start is not None and end is not None:
        body = highlight(article.text, 0, start, end, mark_id="article-mark")
    else:
        body = esc(article.text)
    link = f'<div class="art-url">{esc(article.url)}</div>' if article.url else ""
    return (f'<div class="article"><h3>{esc(article.title)}</h3>'
            f'<div class="src-meta">{meta_line(article)}</div>{link}'
            f'<div class="art-text">{body}</div></div>')


def index_info_html(stats: Mapping[str, Any]) -> str:
    """The index info box: articles, passages, model, built at."""
    rows = [("Articles", stats.get("articles")), ("Passages", stats.get("passages")),
            ("Model", stats.get("model")), ("Built at", stats.get("built_at"))]
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v if v is not None else '?')}</td></tr>" for k, v in rows)
    return f'<table class="index-info">{cells}</table>'


def facets_note_html(facets: Any) -> str:
    """What the archive's metadata allows, in words: why a filter is missing, the dates it covers."""
    notes = []
    if not facets.has_dates:
        notes.append("This archive's articles carry no dates, so there is no date filter and no "
                     "newest-first order.")
    elif facets.dated < facets.articles:
        notes.append(f"Dates run {facets.first_date[:10]} to {facets.last_date[:10]}; "
                     f"{facets.articles - facets.dated} of {facets.articles} articles have none and "
                     "fail any date filter.")
    else:
        notes.append(f"Dates run {facets.first_date[:10]} to {facets.last_date[:10]}.")
    if not facets.authors:
        notes.append("No author is recorded.")
    if len(facets.sources) == 1:
        notes.append(f"Every article is from {facets.sources[0]}.")
    return "".join(f'<p class="facet-note">{esc(n)}</p>' for n in notes)


def input_error_html(message: str) -> str:
    """A bad input, said beside it (the conversation stays as it is)."""
    return f'<p class="input-error" role="alert">{esc(message)}</p>'


def error_page_html(title: str, message: str) -> str:
    """The page shown instead of the chat when the index cannot be opened; `message` names the fix."""
    return (f'<div class="error-page"><h2>{esc(title)}</h2><p>{esc(message)}</p>'
            "<p>Then start the app again.</p></div>")
