"""Loader for the sample corpus format: a `#`/`##` title line, author and date lines, body, contact footer.

## NATO orders four additional battalions to Russian border
Thomas Gaist 14 June 2016            (or "Clara Weiss" and "15 November 2021" on two lines)
body paragraphs ...
To contact the WSWS and the Socialist Equality Party visit:
**[wsws.org/contact](https://www.wsws.org/contact)**
"""

from __future__ import annotations

import re

from rag import normalize as nz
from rag.loaders.base import LoadResult, make_article
from rag.types import Problem

# The footer marker, typos included (004_*.txt says "WSWWS"); everything from it on is dropped.
FOOTER = re.compile(r"^\W*to contact the (?P<source>[A-Z]{2,8})\b.*\bvisit\b", re.IGNORECASE)
_SOURCES = {"WSWS": "WSWS", "WSWWS": "WSWS"}


def matches(text: str) -> bool:
    """The first non-blank line is a markdown heading."""
    first = text.lstrip().split("\n", 1)[0]
    return bool(re.match(r"#{1,6}\s+\S", first))


def load(text: str, origin: str) -> LoadResult:
    blocks = [b for b in nz.split_paragraphs(text, unwrap=False)]
    if not blocks or not matches(blocks[0]):
        return LoadResult(problems=[Problem(origin, "no '#' title line; not the sample article format")])
    head = blocks[0].split("\n")
    title = nz.one_line(head[0])
    rest = head[1:] + blocks[1:]  # author/date may sit right under the title
    author, date, used = _byline(rest[:2])
    body, source = _cut_footer(rest[used:])
    text_out = nz.normalize_body("\n\n".join(body), markdown=True)
    if not text_out:
        return LoadResult(problems=[Problem(origin, "article has a title but no body text")])
    article = make_article(
        origin=origin, key=None, title=title, text=text_out, author=author, date=date, source=source
    )
    return LoadResult(articles=[article])


def _byline(lines: list[str]) -> tuple[str | None, str | None, int]:
    """Author and date from the (up to two) lines after the title; returns how many were used."""
    author = date = None
    used = 0
    for line in lines:
        a, d = nz.split_author_date(line)
        if d and not date:
            author, date, used = author or a, d, used + 1
        elif not author and not date and nz.looks_like_name(line):
            author, used = nz.clean_author(line), used + 1
        else:
            break
    return author, date, used


def _cut_footer(blocks: list[str]) -> tuple[list[str], str | None]:
    for i, block in enumerate(blocks):
        m = FOOTER.match(nz.one_line(block))
        if m:
            name = m.group("source").upper()
            return blocks[:i], _SOURCES.get(name, name)
    return blocks, None
