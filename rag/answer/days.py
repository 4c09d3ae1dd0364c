"""A story's "Wednesday" as a calendar day.

Wire copy dates events by the weekday ("raised its rate ... on Wednesday", "will vote on Tuesday") or
by "today" and "yesterday", counted from the story's own date. A short answer "Wednesday" tells a
reader of the archive little; the day it means, counted from the date of the story that says it, is
what a "when" question asks. Back for a past event, forward for one to come.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHIFT = {"today": 0, "yesterday": -1, "tomorrow": 1}
# the sentence tells of something still to come (the weekday is then the next one)
_TO_COME = re.compile(r"\b(?:will|shall|(?:is|are) (?:due |scheduled |expected )?to|due to|next)\b", re.I)


def day_meant(word: str, story_date: str | None, sentence: str) -> date | None:
    """The calendar day `word` ("Wednesday", "today", "yesterday", "tomorrow") means in a story dated
    `story_date` (ISO, at least YYYY-MM-DD), read in `sentence`; None for any other word or no date.

    >>> day_meant("Wednesday", "1987-03-20T06:56:44", "The bank raised its rate on Wednesday.")
    datetime.date(1987, 3, 18)
    >>> day_meant("Tuesday", "1987-03-20", "Shareholders will vote on Tuesday.")
    datetime.date(1987, 3, 24)
    >>> day_meant("yesterday", "1987-03-20", "It said yesterday."), day_meant("May 8", "1987-03-20", "")
    (datetime.date(1987, 3, 19), None)
    """
    if not story_date or not re.match(r"\d{4}-\d{2}-\d{2}", story_date):
        return None
    told = date.fromisoformat(story_date[:10])
    key = word.strip().lower()
    if key in _SHIFT:
        return told + timedelta(days=_SHIFT[key])
    if key not in _WEEKDAYS:
        return None
    gap = (_WEEKDAYS.index(key) - told.weekday()) % 7
    if _TO_COME.search(sentence):
        return told + timedelta(days=gap)
    return told - timedelta(days=(7 - gap) % 7)


def said_as_day(word: str, story_date: str | None, sentence: str) -> str:
    """The note shown after a short answer that is a weekday, "today", "yesterday" or "tomorrow": the
    day it means and the story's date it is counted from; empty for any other word or an undated story.

    >>> said_as_day("Wednesday", "1987-03-20", "It rose on Wednesday.")
    ' (Wednesday 18 March 1987, counted from the story of Friday 20 March 1987)'
    """
    day = day_meant(word, story_date, sentence)
    if day is None or story_date is None:
        return ""
    told = date.fromisoformat(story_date[:10])
    return f" ({day:%A} {day.day} {day:%B %Y}, counted from the story of {told:%A} {told.day} {told:%B %Y})"
