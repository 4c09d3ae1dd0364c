"""Time-aware queries: read a date range or a "latest" request out of the query text. Pure functions.

"in 2016" -> 2016-01-01..2016-12-31; "June 2016" -> that month; "March 20, 1987" -> that day;
"since 2015" / "before 1990" -> an open range; "between 2015 and 2017" -> both years;
"latest" / "most recent" / "newest" -> newest first. Explicit filters always win (`merge`).
The query text itself is left as it is: the year also helps dense search, whose passages carry
the date in their header.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace

from rag.types import Filters

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_YEAR = r"(?:19[0-9]{2}|20[0-9]{2})"

_DAY_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+({_YEAR})\b", re.I)
_DAY_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?,?\s+({_YEAR})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?,?\s+(?:of\s+)?({_YEAR})\b", re.I)
_YEAR_WORD = re.compile(
    rf"(?:\b(since|after|from|before|until|till|by)\s+)?(?<![\d.,-])\b({_YEAR})\b(?![\d.,]\d)", re.I)
# Not "current" or "today": "current account deficit" is an economics term, not a request for news.
_LATEST = re.compile(r"\b(latest|newest|most recent|recent(?:ly)?)\b", re.I)


@dataclass(frozen=True)
class TimeIntent:
    """What the query implies: a date range and/or newest-first ordering, and a sentence saying so."""

    since: str | None = None
    until: str | None = None
    newest_first: bool = False
    reason: str | None = None  # e.g. "Only articles from 1987 (the query names a year)"

    def is_empty(self) -> bool:
        return self.since is None and self.until is None and not self.newest_first


def _month_end(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


def _valid_day(year: int, month: int, day: int) -> bool:
    return 1 <= day <= calendar.monthrange(year, month)[1]


def infer_time(query: str) -> TimeIntent:
    """The date range / ordering the query text asks for (empty when it names none).

    >>> infer_time("How many soldiers in 2016?").since
    '2016-01-01'
    >>> infer_time("latest oil prices").newest_first
    True
    """
    newest = bool(_LATEST.search(query))
    why_newest = " (the query asks for the latest)" if newest else ""
    for pattern, order in ((_DAY_MDY, "mdy"), (_DAY_DMY, "dmy")):
        m = pattern.search(query)
        if m:
            a, b, y = m.groups()
            month, day = (_MONTHS[a.lower()], int(b)) if order == "mdy" else (_MONTHS[b.lower()], int(a))
            year = int(y)
            if _valid_day(year, month, day):
                iso = f"{year:04d}-{month:02d}-{day:02d}"
                return TimeIntent(iso, iso, newest, f"Only articles from {iso} (the query names a day)")
    m = _MONTH_YEAR.search(query)
    if m:
        month, year = _MONTHS[m.group(1).lower()], int(m.group(2))
        label = f"{calendar.month_name[month]} {year}"
        return TimeIntent(f"{year:04d}-{month:02d}-01", _month_end(year, month), newest,
                          f"Only articles from {label} (the query names a month)")
    since: str | None = None
    until: str | None = None
    years: list[int] = []
    for word, y in _YEAR_WORD.findall(query):
        year, word = int(y), word.lower()
        if word in ("since", "after", "from"):
            since = f"{year + (word == 'after'):04d}-01-01"
        elif word in ("before", "until", "till", "by"):
            until = f"{year - (word == 'before'):04d}-12-31"
        else:
            years.append(year)
    if since or until:
        parts = [f"from {since}" if since else "", f"until {until}" if until else ""]
        return TimeIntent(since, until, newest,
                          f"Only articles {' '.join(p for p in parts if p)} (the query names a year)")
    if years:
        low, high = min(years), max(years)
        label = str(low) if low == high else f"{low} to {high}"
        return TimeIntent(f"{low:04d}-01-01", f"{high:04d}-12-31", newest,
                          f"Only articles from {label} (the query names a year)")
    if newest:
        return TimeIntent(newest_first=True, reason="Newest articles first" + why_newest)
    return TimeIntent()


def merge(explicit: Filters | None, intent: TimeIntent) -> tuple[Filters, str | None]:
    """The filters to apply and the sentence to show. Explicit dates win over inferred ones: when
    the caller gave since/until, the query's date range is ignored (and not reported)."""
    base = explicit or Filters()
    if intent.is_empty():
        return base, None
    if base.since or base.until:
        if intent.newest_first and not base.newest_first:
            return replace(base, newest_first=True), "Newest articles first (the query asks for the latest)"
        return base, None
    merged = replace(base, since=intent.since, until=intent.until,
                     newest_first=base.newest_first or intent.newest_first)
    reason = intent.reason
    if intent.newest_first and (intent.since or intent.until) and reason:
        reason += "; newest first"
    return merged, reason
