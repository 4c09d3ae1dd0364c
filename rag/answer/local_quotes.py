"""How the local answerer uses the extractive answer's quotes: which of them it writes around, and the
quote it shows beside a written answer that names another answer than the likeliest quote's."""

from __future__ import annotations

import re
from dataclasses import replace

from rag.answer.citations import Draft
from rag.answer.question import analyse
from rag.answer.rewrite import BEST_QUOTE_NAMES
from rag.types import Citation


def _plain(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", " ".join(text.split()).casefold())


def short_answer_of(quoted: Draft) -> Citation | None:
    """The extractive answer's short answer (a name, figure or date): its first citation when the
    second is the sentence around it, as `extractive.compose` lays a factoid out; else None."""
    if not quoted.grounded or len(quoted.citations) < 2:
        return None
    short, sentence = quoted.citations[:2]
    inside = (short.article_id == sentence.article_id and sentence.start <= short.start
              and short.end <= sentence.end)
    return short if inside and short.end - short.start < sentence.end - sentence.start else None


def focus_of(query: str, quoted: Draft) -> list[Citation]:
    """The quotes the local model writes around: all of them, but for a factoid only the likeliest
    answer's sentence (and its short answer). The second sentence a factoid may show is another
    story's rival answer, there for the reader to compare; put before the model beside the likeliest
    one, a 1.5B model wrote the rival ("Zach Braff won the award for best first feature" for the
    best actor Oscar, from the Spirit awards quote shown second)."""
    if analyse(query).shape != "factoid":
        return list(quoted.citations)
    return list(quoted.citations[: 2 if short_answer_of(quoted) is not None else 1])


def with_best_quote(draft: Draft, quoted: Draft) -> Draft:
    """The written answer, and when it does not name the extractive answer's short answer, the quote
    that does, after it and said to differ: a small model that names the wrong person in a sentence
    that passes the checks ("Prince Alwaleed's hotel investments include ...") is a disagreement the
    reader should see, not a choice the answerer makes for them.

    >>> from rag.types import Citation
    >>> def cite(n, start, end, quote):
    ...     return Citation(n, "a:0", "a", "Air Jamaica", None, None, None, start, end, quote)
    >>> quoted = Draft("", [cite(1, 40, 54, "Gordon Stewart"),
    ...                     cite(2, 0, 60, "The state sold a stake to Gordon Stewart.")], True)
    >>> written = Draft("Prince Alwaleed bought it [1].", [cite(1, 100, 120, "x")], True)
    >>> print(with_best_quote(written, quoted).text)
    Prince Alwaleed bought it [1].
    <BLANKLINE>
    The best-matching quote names Gordon Stewart: "The state sold a stake to Gordon Stewart." [2]
    >>> with_best_quote(Draft("Mr Stewart bought it [1].", [], True), quoted).text
    'Mr Stewart bought it [1].'
    """
    short = short_answer_of(quoted)
    if short is None or not draft.grounded:
        return draft
    written = _plain(draft.text)
    words = _plain(short.quote).split()
    if " ".join(words) in written or (len(words) > 1 and words[-1] in written.split()):
        return draft
    sentence = replace(quoted.citations[1], number=len(draft.citations) + 1)
    name = " ".join(short.quote.split())
    text = f'{draft.text}\n\n{BEST_QUOTE_NAMES} {name}: "{" ".join(sentence.quote.split())}" ' \
        f"[{sentence.number}]"
    warning = f"the written answer does not name {name}, which the best-matching quote gives"
    return replace(draft, text=text, citations=[*draft.citations, sentence],
                   warnings=[*draft.warnings, warning])
