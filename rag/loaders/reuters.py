"""Loader for Reuters-21578 SGML: 1,000 <REUTERS> stories per file, parsed leniently, tag by tag.

Not XML: no root element, numeric references to control characters (&#3;) that XML parsers
reject, `&lt;` in tickers, malformed dates. Bodies are hard-wrapped at 65 columns with
paragraphs starting with 4 spaces, and end with "Reuter" and &#3;.
"""

from __future__ import annotations

import html
import re

from rag import normalize as nz
from rag.loaders.base import LoadResult, make_article
from rag.types import Article, Problem

SOURCE = "Reuters"
_STORY = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.DOTALL | re.IGNORECASE)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_CONTROL_REF = re.compile(r"&#(?:[0-8]|1[0-9]|2[0-9]|3[01]|127);")
# the sign-off, on its own line or right after the last sentence; never "... said Reuters" in prose
_TRAILER = re.compile(r"(?:\n|(?<=[.!?\"'])|^)\s*reuters?\s*$", re.IGNORECASE)
_PARAGRAPH = re.compile(r"\n(?=[ \t]{2,}\S)")  # a line starting with indentation opens a paragraph


def matches(text: str) -> bool:
    head = text.lstrip()[:200].upper()
    return head.startswith("<!DOCTYPE LEWIS") or head.startswith("<REUTERS")


def _tag(block: str, name: str) -> str | None:
    m = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", block, re.DOTALL | re.IGNORECASE)
    return m.group(1) if m else None


def _unescape(text: str) -> str:
    return html.unescape(_CONTROL_REF.sub("", text))


def _labels(block: str, name: str) -> list[str]:
    inner = _tag(block, name) or ""
    return [_unescape(d).strip() for d in re.findall(r"<D>(.*?)</D>", inner, re.DOTALL)]


def body_paragraphs(raw: str) -> str:
    """Hard-wrapped body -> canonical text: indented lines open paragraphs, the others are joined."""
    text = _TRAILER.sub("", _unescape(raw).replace("\r", ""))
    blocks = _PARAGRAPH.split(text.strip("\n"))
    return nz.normalize_body("\n\n".join(" ".join(b.split("\n")) for b in blocks))


def load(text: str, origin: str) -> LoadResult:
    articles: list[Article] = []
    problems: list[Problem] = []
    found, line, counted = 0, 1, 0
    for m in _STORY.finditer(text):
        found += 1
        line += text.count("\n", counted, m.start())  # incremental: the file is 1.3 MB, 1,000 stories
        counted = m.start()
        attrs = dict(_ATTR.findall(m.group(1)))
        block = m.group(2)
        key = attrs.get("NEWID") or f"story{found}"
        try:
            article, reason = _story(block, attrs, origin, key)
        except Exception as exc:  # one malformed story never costs the other 999
            article, reason = None, f"unreadable story ({type(exc).__name__}: {exc})"
        if article is None:
            problems.append(Problem(origin, f"NEWID {key}: {reason}", line))
        else:
            articles.append(article)
    if not found:
        problems.append(Problem(origin, "no <REUTERS> stories found; not a Reuters-21578 SGML file"))
    return LoadResult(articles, problems)


def _story(block: str, attrs: dict[str, str], origin: str, key: str) -> tuple[Article | None, str | None]:
    text_block = _tag(block, "TEXT") or ""
    text_type = (re.search(r'<TEXT\b[^>]*TYPE="(\w+)"', block) or [None, "NORM"])[1]
    title = nz.one_line(_unescape(_tag(text_block, "TITLE") or ""))
    raw_body = _tag(text_block, "BODY")
    if raw_body is None and text_type == "UNPROC":
        # unstructured story: no TITLE/BODY tags, the first line serves as the title
        raw_body = re.sub(r"<[^>]+>", "", text_block)
        first, _, rest = _unescape(raw_body).strip().partition("\n")
        title, raw_body = title or nz.one_line(first), rest
    body = body_paragraphs(raw_body or "")
    if not body:
        kind = "a title-only brief (TEXT TYPE=BRIEF)" if text_type == "BRIEF" else "a story with no body"
        return None, f"{kind}; skipped"
    raw_date = _unescape(_tag(block, "DATE") or "")
    metadata: dict[str, object] = {"newid": key}
    for name in ("TOPICS", "PLACES", "PEOPLE", "ORGS", "EXCHANGES"):
        labels = _labels(block, name)
        if labels:
            metadata[name.lower()] = labels
    dateline = nz.one_line(_unescape(_tag(text_block, "DATELINE") or "")).rstrip(" -")
    if dateline:
        metadata["dateline"] = dateline
    if attrs.get("LEWISSPLIT"):
        metadata["lewissplit"] = attrs["LEWISSPLIT"]
    date = nz.parse_date(raw_date)
    if date is None and raw_date.strip():
        metadata["raw_date"] = raw_date.strip()
    article = make_article(
        origin=origin,
        key=key,
        title=title or nz.one_line(body.split("\n", 1)[0])[:120],
        text=body,
        author=nz.clean_author(_unescape(_tag(text_block, "AUTHOR") or "")),
        date=date,
        source=SOURCE,
        metadata=metadata,
    )
    return article, None
