"""Loader for HTML news pages: trafilatura finds the main text and metadata (title, author, date, site)."""

from __future__ import annotations

from typing import Any

from rag import normalize as nz
from rag.loaders.base import LoadResult, make_article
from rag.types import Problem


def load(text: str, origin: str) -> LoadResult:
    import trafilatura  # imported here: it takes about a second and only HTML needs it

    found = trafilatura.bare_extraction(
        text, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    # trafilatura 2 returns a Document, 1.x a dict; read both the same way
    doc: dict[str, Any] = found if isinstance(found, dict) else (found.as_dict() if found is not None else {})
    if not doc.get("text"):
        return LoadResult(problems=[Problem(origin, "no article text found in the HTML page")])
    # trafilatura puts one paragraph per line, and often repeats the <h1> title as the first one
    lines = str(doc["text"]).split("\n")
    if len(lines) > 1 and doc.get("title") and nz.one_line(lines[0]) == nz.one_line(doc.get("title")):
        lines = lines[1:]
    body = nz.normalize_body("\n\n".join(lines))
    if not body:
        return LoadResult(problems=[Problem(origin, "no article text found in the HTML page")])
    title = nz.one_line(doc.get("title")) or nz.one_line(body.split("\n", 1)[0])[:120]
    metadata = {k: doc[k] for k in ("sitename", "description", "categories", "tags") if doc.get(k)}
    article = make_article(
        origin=origin,
        key=None,
        title=title,
        text=body,
        author=nz.clean_author(doc.get("author")),
        date=nz.parse_date(doc.get("date")),
        source=nz.one_line(doc.get("sitename")) or None,
        url=doc.get("url") or None,
        metadata=metadata,
    )
    return LoadResult(articles=[article])
