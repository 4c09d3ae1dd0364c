"""Record (JSON object / CSV row) -> Article, with the usual key spellings of news datasets."""

from __future__ import annotations

from typing import Any

from rag import normalize as nz
from rag.loaders.base import fallback_title, make_article
from rag.types import Article

TITLE_KEYS = ("title", "headline", "name")
TEXT_KEYS = ("body", "text", "content", "article", "full_text", "maintext", "description", "abstract")
AUTHOR_KEYS = ("author", "authors", "byline", "creator", "writer")
DATE_KEYS = (
    "date",
    "published_at",
    "publishedAt",
    "published",
    "pubDate",
    "pub_date",
    "datetime",
    "date_publish",
    "timestamp",
    "created_at",
    "time",
)
SOURCE_KEYS = ("source", "source_name", "publisher", "outlet", "site", "sitename")
URL_KEYS = ("url", "link", "href", "permalink")
ID_KEYS = ("id", "_id", "doc_id", "docid")


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    lowered = {str(k).lower(): k for k in record}
    for key in keys:
        real = key if key in record else lowered.get(key.lower())
        if real is not None and record[real] not in (None, "", [], {}):
            return real, record[real]
    return None, None


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_as_text(v) for v in value if v not in (None, ""))
    if isinstance(value, dict):  # {"name": "Reuters", "id": ...} as NewsAPI writes sources
        return _as_text(value.get("name") or value.get("title") or "")
    return "" if value is None else str(value)


def epoch_date(value: float) -> str | None:
    """Epoch seconds or milliseconds -> ISO date-time; None for what no calendar holds.

    >>> epoch_date(1465862400), epoch_date(1465862400000)
    ('2016-06-14T00:00:00', '2016-06-14T00:00:00')
    >>> epoch_date(1e15), epoch_date(float("inf")), epoch_date(1e20), epoch_date(float("nan")), epoch_date(7)
    (None, None, None, None, None)
    """
    from datetime import UTC, datetime

    if not value > 10**8:  # also NaN; small numbers are not timestamps (a year, a count)
        return None
    seconds = value / 1000 if value > 10**11 else value  # epoch milliseconds or seconds
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat()
    except (ValueError, OverflowError, OSError):  # 1e15 ms is year 33658; inf; beyond the C time_t
        return None


def record_to_article(
    record: dict[str, Any], origin: str, key: str | int
) -> tuple[Article | None, str | None]:
    """An Article, or None and the reason (no body). An "id"/"_id" value becomes the article id as-is,
    so ids from an outside collection (BEIR doc ids) survive ingestion."""
    used: set[str] = set()

    def take(keys: tuple[str, ...]) -> Any:
        real, value = _first(record, keys)
        if real is not None:
            used.add(real)
        return value

    text = nz.normalize_body(_as_text(take(TEXT_KEYS)))
    title = nz.one_line(_as_text(take(TITLE_KEYS)))
    raw_id = take(ID_KEYS)
    author = nz.clean_author(_as_text(take(AUTHOR_KEYS)))
    raw_date = take(DATE_KEYS)
    source = nz.one_line(_as_text(take(SOURCE_KEYS))) or None
    url = _as_text(take(URL_KEYS)).strip() or None
    if not text:
        return None, "record has no body text (looked for: " + ", ".join(TEXT_KEYS[:4]) + ")"
    date = None
    if isinstance(raw_date, int | float) and not isinstance(raw_date, bool):
        date = epoch_date(raw_date)
    elif raw_date is not None:
        date = nz.parse_date(_as_text(raw_date))
    metadata = {str(k): v for k, v in record.items() if k not in used and v not in (None, "")}
    if raw_date is not None and date is None:
        metadata["raw_date"] = raw_date  # kept so nothing is lost; not a usable date
    explicit = _as_text(raw_id).strip() or None
    article = make_article(
        origin=origin,
        key=key,
        title=title or fallback_title(text),
        text=text,
        explicit_id=explicit,
        author=author,
        date=date,
        source=source,
        url=url,
        metadata=metadata,
    )
    return article, None
