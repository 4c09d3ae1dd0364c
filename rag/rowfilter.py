"""Store helper: the filterable metadata of every passage row, held in memory for vectorised filters.

A column is stored as one small code per row plus the list of distinct values, so a filter is
evaluated once per distinct value (a few thousand dates, a few hundred authors) and broadcast to
the rows with one gather. At 100k passages this replaces a ~50-100 ms SQL scan with ~1 ms of numpy.
What stays resident is the codes (1-4 bytes per row and column) and the distinct values; the rows are
read in chunks of `CHUNK`, never all at once (see `RowMeta.from_rows`).

    >>> rows = [("a1", "Ann Lee", "2016-06-14", "BBC", "sport"), ("a2", None, None, "Wire", None)]
    >>> meta = RowMeta.from_rows(rows)
    >>> meta.rows_for(Filters(authors=("ann",))).tolist()
    [0]
    >>> meta.rows_for(Filters(sections=("Sport",))).tolist()
    [0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from rag.types import Filters

# An article's section (or category) lives in its metadata, as each loader found it: the folder a
# plain-text file came from ("category"), a JSON/CSV record's own "section" or "category" field, or
# a Reuters story's first TOPICS label. Read with SQLite's JSON functions, so an index built before
# this column existed needs no rebuild. Only text values count (a list-valued field is no section).
SECTION_SQL = " ".join(
    f"WHEN json_type({{m}}, '{path}') = 'text' THEN json_extract({{m}}, '{path}')"
    for path in ("$.section", "$.category", "$.topics[0]")
).join(("CASE ", " END"))


def section_sql(metadata_column: str) -> str:
    """The SQL expression of the section of the article whose metadata JSON is `metadata_column`."""
    return SECTION_SQL.format(m=metadata_column)


# Rows read at once when building RowMeta from a database. On bench_scale's 1M-passage index
# (100k articles) the built columns left 48 bytes per row of anonymous memory with 5,000 rows a chunk
# (8 of them codes, the rest article ids and heap the allocator keeps), 81 with 50,000, 325 with
# all rows at once (fetchall).
CHUNK = 5_000
# the per-row columns RowMeta is built from, in row order
ROW_SQL = (f"SELECT p.article_id, p.author, p.date, p.source, {section_sql('a.metadata')} FROM passages p "
           "LEFT JOIN articles a ON a.id = p.article_id ORDER BY p.row")


@dataclass(frozen=True)
class Column:
    """codes[row] indexes `values`; `values` holds each distinct value once (None included)."""

    codes: np.ndarray
    values: list[str | None]

    @classmethod
    def build(cls, column: Iterable[str | None]) -> Column:
        codes = _Codes()
        codes.add(list(column))
        return codes.column()

    def mask(self, keep: Callable[[str | None], bool]) -> np.ndarray:
        ok = np.fromiter((keep(v) for v in self.values), dtype=bool, count=len(self.values))
        return ok[self.codes]


@dataclass
class _Codes:
    """A Column built a chunk at a time: each distinct value gets the next code."""

    index: dict[str | None, int] = field(default_factory=dict)
    parts: list[np.ndarray] = field(default_factory=list)

    def add(self, values: Sequence[str | None]) -> None:
        index = self.index
        self.parts.append(np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int32,
                                      count=len(values)))

    def column(self) -> Column:
        codes = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int32)
        # the smallest type that holds every code: one byte per row for a column of few values
        return Column(codes.astype(np.min_scalar_type(max(len(self.index) - 1, 0))), list(self.index))


def _contains_any(wanted: list[str]) -> Callable[[str | None], bool]:
    """Case-insensitive substring match of any wanted value ("gaist" finds "Thomas Gaist")."""
    return lambda x: x is not None and any(w in x.lower() for w in wanted)


@dataclass(frozen=True)
class RowMeta:
    """Article id, author, date, source and section of each row, in row order."""

    article_id: Column
    author: Column
    date: Column
    source: Column
    section: Column

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str | None, str | None, str | None, str | None]],
                  chunk: int = CHUNK) -> RowMeta:
        """From (article id, author, date, source, section) rows in row order: a list, or a database
        cursor read `chunk` rows at a time. Reading all rows at once left most of their tuples' heap
        resident after they were freed (the distinct values kept pin the allocator's arenas); a
        chunk's arenas are reused by the next chunk."""
        columns = [_Codes() for _ in range(5)]
        it = iter(rows)
        while batch := list(islice(it, chunk)):
            for codes, values in zip(columns, zip(*batch, strict=True), strict=True):
                codes.add(values)
        return cls(*(c.column() for c in columns))

    def __len__(self) -> int:
        return len(self.article_id.codes)

    def rows_for(self, filters: Filters | None) -> np.ndarray | None:
        """Rows passing `filters`, sorted; None when nothing filters. Same rules as `Store.rows_for`."""
        if filters is None:
            return None
        masks: list[np.ndarray] = []
        since, until = filters.since, filters.until
        if since:
            masks.append(self.date.mask(lambda d: d is not None and d >= since))
        if until:
            masks.append(self.date.mask(lambda d: d is not None and d[: len(until)] <= until))
        for column, values in ((self.author, filters.authors), (self.source, filters.sources)):
            if values:
                masks.append(column.mask(_contains_any([v.lower() for v in values])))
        if filters.sections:  # a section is a label, not a name: matched whole, ignoring case
            wanted = {v.strip().lower() for v in filters.sections}
            masks.append(self.section.mask(lambda x: x is not None and x.strip().lower() in wanted))
        if filters.article_ids:
            ids = set(filters.article_ids)
            masks.append(self.article_id.mask(lambda a: a in ids))
        if not masks:
            return None
        mask = masks[0]
        for m in masks[1:]:
            mask = mask & m
        return np.flatnonzero(mask).astype(np.int64)
