"""UI stage, the edge to the pipeline: what the chat app needs of an index, behind one small interface.

The app talks to a `Backend` only, so the browser tests and the load script drive the real
retriever and answerer, while unit tests can hand it a fake with the same four methods.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rag.rowfilter import section_sql
from rag.settings import Settings
from rag.types import Answer, Article, Filters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Facets:
    """What the archive holds, for the filters and the example questions: distinct authors, sources
    and sections (most frequent first), the date range, how many articles carry a date, a few headlines."""

    authors: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    first_date: str | None = None
    last_date: str | None = None
    dated: int = 0
    articles: int = 0
    headlines: tuple[str, ...] = ()

    @property
    def has_dates(self) -> bool:
        return self.dated > 0


class Backend(Protocol):
    llm_available: bool

    def stream(self, question: str, history: Sequence[tuple[str, str]], filters: Filters | None,
               mode: str | None, k: int | None, use_llm: bool,
               answerer: str | None = None) -> Iterator[str | Answer]: ...

    def article(self, article_id: str) -> Article | None: ...

    def stats(self) -> dict[str, Any]: ...

    def facets(self) -> Facets: ...


def _distinct(con: sqlite3.Connection, expr: str, limit: int) -> tuple[str, ...]:
    rows = con.execute(
        f"SELECT v, COUNT(*) AS n FROM (SELECT {expr} AS v FROM articles) WHERE v IS NOT NULL AND v != '' "
        "GROUP BY v ORDER BY n DESC, v LIMIT ?", (limit,)
    ).fetchall()
    return tuple(str(r[0]) for r in rows)


def _headlines(con: sqlite3.Connection, sections: Sequence[str], n: int) -> tuple[str, ...]:
    """Up to `n` headlines of the newest articles, one per section where there are sections, so the
    examples show the archive's range. A headline of 4 to 14 words reads as a question's topic."""
    order = "date DESC, row"  # newest first; undated rows (NULL) last
    groups: list[str | None] = list(sections[:n]) or [None]
    out: list[str] = []
    for group in groups:
        where = "" if group is None else f"WHERE {section_sql('metadata')} = ?"
        args: tuple[Any, ...] = () if group is None else (group,)
        for (title,) in con.execute(f"SELECT title FROM articles {where} ORDER BY {order} LIMIT 50", args):
            words = str(title or "").split()
            if 4 <= len(words) <= 14 and title not in out:
                out.append(str(title))
                if group is not None or len(out) >= n:
                    break
        if len(out) >= n:
            break
    return tuple(out[:n])


def read_facets(db_path: Path, limit: int = 500) -> Facets:
    """The archive's facets, read-only from its article table.

    Capped at `limit` values each: a dropdown of thousands of names helps no one, and the author and
    source filters also match substrings typed by hand.
    """
    if not db_path.is_file():
        return Facets()
    con = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
    try:
        authors = _distinct(con, "author", limit)
        sources = _distinct(con, "source", limit)
        sections = _distinct(con, section_sql("metadata"), limit)
        first, last, dated, total = con.execute(
            "SELECT MIN(date), MAX(date), COUNT(date), COUNT(*) FROM articles").fetchone()
        headlines = _headlines(con, sections, 3)
    except sqlite3.Error:
        return Facets()  # an older layout without these columns: the filters still take typed text
    finally:
        con.close()
    return Facets(authors=authors, sources=sources, sections=sections, first_date=first, last_date=last,
                  dated=int(dated), articles=int(total), headlines=headlines)


class IndexBackend:
    """The real thing: a `Retriever` over an index folder and `rag.answer.stream_answer`."""

    def __init__(self, index_dir: str | Path, settings: Settings) -> None:
        # imported here so that `rag.ui.render` and friends stay importable without the ML stack
        from rag.answer.llm import llm_configured
        from rag.answer.local import local_unavailable, prepare
        from rag.retrieval import Retriever

        self.index_dir = Path(index_dir)
        self.settings = settings
        self.retriever = Retriever.open(self.index_dir, settings)  # raises IndexNotFound / IndexMismatch
        self.llm_available = llm_configured(settings.llm)
        # None when the local answerer can run, else why not (shown once, next to the answerer choice)
        self.local_unavailable = local_unavailable(settings.local)
        self._facets: Facets | None = None
        self._reopen = threading.Lock()
        if self.local_unavailable is None and settings.answer.answerer == "local":
            # load the model and read its fixed prompt now, so the first question does not wait for it
            threading.Thread(target=prepare, args=(settings.local,), daemon=True).start()

    def stream(self, question: str, history: Sequence[tuple[str, str]], filters: Filters | None,
               mode: str | None, k: int | None, use_llm: bool,
               answerer: str | None = None) -> Iterator[str | Answer]:
        from rag.answer import stream_answer

        return stream_answer(question, self.current(), self.settings, history=tuple(history),
                             filters=filters, mode=mode, k=k, use_llm=use_llm, answerer=answerer)

    def article(self, article_id: str) -> Article | None:
        return self.retriever.store.article(article_id)

    def stats(self) -> dict[str, Any]:
        return dict(self.retriever.store.stats())

    def facets(self) -> Facets:
        if self._facets is None:
            self._facets = read_facets(self.index_dir / "passages.sqlite")
        return self._facets

    def current(self) -> Any:
        """The retriever for the next question: the index folder's present contents. After `rag index`
        swaps the folder, the new index is opened here, between questions; answers already streaming
        keep the retriever they started with. A new index that does not open (damaged, or swapped
        again meanwhile) is logged and the previous one kept until the next question tries again."""
        from rag.errors import RagError
        from rag.retrieval import Retriever

        seen = self.retriever
        if seen.is_current():
            return seen
        with self._reopen:
            if self.retriever is seen:
                try:
                    self.retriever = Retriever.open(self.index_dir, self.settings)
                    self._facets = None
                    log.info("reopened %s after an update", self.index_dir)
                except RagError as exc:
                    log.warning("the index at %s changed but could not be reopened: %s", self.index_dir, exc)
        return self.retriever
