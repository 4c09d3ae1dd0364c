"""Loader for CSV (or TSV) with a header row: one article per row, columns named as in records.py."""

from __future__ import annotations

import csv
import io

from rag.loaders.base import LoadResult
from rag.loaders.records import record_to_article
from rag.types import Article, Problem

csv.field_size_limit(16 * 1024 * 1024)  # news bodies exceed csv's 128 KB default field limit


def load(text: str, origin: str) -> LoadResult:
    # The delimiter is the commonest candidate in the header line. csv.Sniffer looks at whole
    # rows and misreads quoted fields that hold commas and line breaks (common in bodies).
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t|", key=header.count) if any(c in header for c in ",;\t|") else ","
    dialect = csv.excel
    reader = csv.DictReader(
        io.StringIO(text.lstrip("\ufeff"), newline=""), dialect=dialect, delimiter=delimiter
    )
    if not reader.fieldnames:
        return LoadResult(problems=[Problem(origin, "CSV has no header row")])
    articles: list[Article] = []
    problems: list[Problem] = []
    row = 0
    row_start, next_start, kept = 0, reader.line_num + 1, False  # where the last row began; kept?
    try:
        for row, record in enumerate(reader, start=1):
            line = reader.line_num
            row_start, next_start = next_start, line + 1
            extra = record.pop(None, None)  # type: ignore[call-overload,unused-ignore]
            article: Article | None = None
            if extra:
                # its fields are shifted against the header (a stray delimiter in a body, say):
                # indexing it would put text in the title or a date in the author
                problems.append(Problem(origin, f"row {row} has {len(extra)} more fields than the header; "
                                        "the row was skipped", line))
            else:
                try:
                    article, reason = record_to_article(dict(record), origin, f"row{row}")
                except Exception as exc:  # one odd row never costs the file
                    reason = f"unusable row ({type(exc).__name__}: {exc})"
                if article is None:
                    problems.append(Problem(origin, f"row {row}: {reason}", line))
                else:
                    articles.append(article)
            kept = article is not None
    except csv.Error as exc:
        problems.append(Problem(origin, f"malformed CSV after row {row}: {exc}", reader.line_num))
    else:
        if row and _unclosed_at_end(text.lstrip("\ufeff"), delimiter):
            # The lenient reader read everything after the stray quote into the last row's field:
            # that "article" holds other rows' raw CSV, so it is dropped and reported instead.
            if kept:
                articles.pop()
            problems.append(Problem(origin, f"row {row}: a quoted field is never closed, so the rest of "
                                    "the file was read into it; the row was skipped", row_start))
    return LoadResult(articles, problems)


def _unclosed_at_end(text: str, delimiter: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False
