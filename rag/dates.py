"""Date filter bounds as people type them (YYYY, YYYY-MM or YYYY-MM-DD), read the same way by the
CLI's --since/--until and the UI's From/To boxes. A bound stays as typed: the store compares ISO
prefixes, so "2016-06" keeps all of June."""

from __future__ import annotations

import re
from datetime import date

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
# A year a news text names, 1950-2049; not a price ("£2004"), a decimal or part of a longer number.
YEAR = re.compile(r"(?<![\d.,£$€])\b(19[5-9]\d|20[0-4]\d)\b(?![\d.,]\d)")


def parse_date(value: str | None, name: str) -> str | None:
    """'' -> None; '2016-06' stays '2016-06'; anything not ISO raises ValueError naming the fix."""
    text = (value or "").strip()
    if not text:
        return None
    if not _DATE.match(text) or not _real_date(text):
        raise ValueError(f"{name} date {text!r} is not a date: write it as YYYY-MM-DD (or YYYY-MM, YYYY).")
    return text


def _real_date(text: str) -> bool:
    """'2016-02-29' yes, '2016-13-45' no: a well-formed but impossible date would silently filter
    on string order (2016-13 sorts after every 2016 date) instead of being rejected."""
    year, month, day = (int(x) for x in (text.split("-") + ["1", "1"])[:3])
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def date_range(since: str | None, until: str | None, since_name: str,
               until_name: str) -> tuple[str | None, str | None]:
    """Both bounds checked; an empty range raises ValueError (not a silent "nothing found"). Bounds
    are compared at the shorter one's precision: May 2016 lies within "up to 2016".

    >>> date_range("2016-05", "2016", "From", "To")
    ('2016-05', '2016')
    """
    lo, hi = parse_date(since, since_name), parse_date(until, until_name)
    if lo and hi and lo[: len(hi)] > hi[: len(lo)]:
        raise ValueError(f"The date range is empty: {since_name} {lo} is after {until_name} {hi}. Swap them.")
    return lo, hi
