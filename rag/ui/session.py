"""UI stage, per-session state and control parsing. Pure: no Gradio, no I/O.

A `Session` lives in a `gr.State`, which Gradio copies for every browser tab (and every
gradio_client connection), so one person's answers can never show up in another's panel.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rag.types import Answer, Filters

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")  # store filters compare ISO prefixes


@dataclass
class Session:
    """Everything one chat remembers: its finished answers and which one the sources panel shows."""

    answers: list[Answer] = field(default_factory=list)
    selected: int | None = None  # index into answers
    cited: int | None = None  # the citation number picked in the panel
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def history(self) -> list[tuple[str, str]]:
        """(question, answer text) pairs, oldest first, for follow-up rewriting."""
        return [(a.question, a.text) for a in self.answers]

    def current(self) -> Answer | None:
        if self.selected is None or not 0 <= self.selected < len(self.answers):
            return None
        return self.answers[self.selected]


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


def make_filters(since: str | None, until: str | None, authors: Iterable[str] | None,
                 sources: Iterable[str] | None) -> Filters | None:
    """The sidebar's filter controls -> `Filters`, or None when nothing is set."""
    lo, hi = parse_date(since, "From"), parse_date(until, "To")
    if lo and hi and lo > hi[: len(lo)]:
        raise ValueError(f"The date range is empty: From {lo} is after To {hi}. Swap them.")
    filters = Filters(
        since=lo, until=hi,
        authors=tuple(a.strip() for a in authors or () if a and a.strip()),
        sources=tuple(s.strip() for s in sources or () if s and s.strip()),
    )
    return None if filters.is_empty() else filters


def turn_of_message(index: int | tuple[int, int] | list[int]) -> int:
    """Chat message index -> answer number. Each turn adds exactly two messages: question, answer."""
    i = index[0] if isinstance(index, tuple | list) else index
    return int(i) // 2
