"""Loader for plain text with the title on the first line and body paragraphs after it (the BBC set)."""

from __future__ import annotations

from rag import normalize as nz
from rag.loaders.base import LoadResult, make_article
from rag.types import Problem

# Source names for corpora recognised by a folder name in the path; plain text carries no source.
KNOWN_SOURCES = {"bbc": "BBC News", "bbc-news": "BBC News", "bbc_news": "BBC News"}


def load(text: str, origin: str, source: str | None = None, category: str | None = None) -> LoadResult:
    stripped = text.strip()
    title_line, _, body = stripped.partition("\n")
    title = nz.one_line(title_line)
    text_out = nz.normalize_body(body)
    if not text_out:
        reason = "article has a title line but no body text" if title else "no text"
        return LoadResult(problems=[Problem(origin, reason)])
    metadata = {"category": category} if category else {}
    article = make_article(
        origin=origin, key=None, title=title, text=text_out, source=source, metadata=metadata
    )
    return LoadResult(articles=[article])
