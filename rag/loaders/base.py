"""Shared loader records: what a loader returns, stable article ids, and the Article builder."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.types import Article, Problem


@dataclass(frozen=True)
class LoadResult:
    """The articles one file yielded and what in it could not be used."""

    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def relative_origin(path: Path, root: Path) -> str:
    """The path as the user will recognise it: relative to the PATH argument it was found under.

    A file given directly is named by its file name, so the id does not depend on where the
    corpus folder sits on disk or on the working directory."""
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(path.name)
    except (OSError, RuntimeError):  # a symlink loop: name it as it was found, unresolved
        try:
            rel = path.relative_to(root)
        except ValueError:
            rel = Path(path.name)
    return rel.as_posix() if rel.parts else path.name


def article_id(origin: str, key: str | int | None = None) -> str:
    """16 hex chars from the origin (and record key), never from the content: an edited article
    keeps its id, and the indexer notices the edit through a content hash instead.

    >>> article_id("business/001.txt")
    '3d8be2fb2809c9e8'
    """
    name = origin if key is None else f"{origin}#{key}"
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def make_article(
    *,
    origin: str,
    key: str | int | None,
    title: str,
    text: str,
    explicit_id: str | None = None,
    author: str | None = None,
    date: str | None = None,
    source: str | None = None,
    url: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Article:
    where = origin if key is None else f"{origin}#{key}"
    return Article(
        id=explicit_id if explicit_id else article_id(origin, key),
        title=title,
        text=text,
        author=author or None,
        date=date or None,
        source=source or None,
        url=url or None,
        origin=where,
        metadata=dict(metadata or {}),
    )


def fallback_title(text: str, words: int = 12) -> str:
    """A title for records that lack one: the first words of the text."""
    first = text.split("\n", 1)[0].split()
    return " ".join(first[:words]) + (" ..." if len(first) > words else "")
