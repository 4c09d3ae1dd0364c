"""UI stage, per-session state and control parsing. Pure: no Gradio, no I/O.

A `Session` lives in a `gr.State`, which Gradio copies for every browser tab (and every
gradio_client connection), so one person's answers can never show up in another's panel.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rag.dates import date_range
from rag.types import Answer, Filters

# Bounds on what a request may carry (the browser, or any client of the API, sends all of it).
# A 10 MB question kept a worker busy 63 s and took the server from 0.3 to 4.2 GB.
MAX_QUESTION_CHARS = 2000  # ten times the longest question in eval/; a question, not an article
MAX_TURNS = 50  # answers one chat keeps; then "Clear chat" starts a new one
HISTORY_TURNS = 6  # earlier turns handed to follow-up rewriting
MAX_FILTER_VALUES = 20  # authors or sources picked at once
MAX_FILTER_CHARS = 200  # one author or source name
MAX_K = 20  # the slider's maximum
MODES = ("hybrid", "bm25", "dense")


@dataclass
class Session:
    """Everything one chat remembers: its finished answers and which one the sources panel shows."""

    answers: list[Answer] = field(default_factory=list)
    selected: int | None = None  # index into answers
    cited: int | None = None  # the citation number picked in the panel
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    export: str | None = None  # the chat's current export file; replaced (deleted) by the next one
    sections: list[str] = field(default_factory=list)  # the sections filter, set as it is picked

    def history(self) -> list[tuple[str, str]]:
        """(question, answer text) pairs of the last HISTORY_TURNS turns, oldest first, for follow-up
        rewriting: the rewrite needs the recent context, and its cost must not grow with the chat."""
        return [(a.question, a.text) for a in self.answers[-HISTORY_TURNS:]]

    def current(self) -> Answer | None:
        if self.selected is None or not 0 <= self.selected < len(self.answers):
            return None
        return self.answers[self.selected]


def check_request(question: str, history: Sequence[object] | None, session: Session,
                  authors: Sequence[str] | None, sources: Sequence[str] | None, mode: str | None,
                  k: object) -> int:
    """Refuse a request outside the bounds above (ValueError says which and how to fix it);
    returns k as a whole number in 1..MAX_K.

    >>> check_request("Who won?", [], Session(), ["Gaist"], [], "hybrid", 8.0)
    8
    >>> check_request("x" * 5000, [], Session(), [], [], "hybrid", 8)
    Traceback (most recent call last):
    ...
    ValueError: The question is 5000 characters long; ask in at most 2000.
    """
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"The question is {len(question)} characters long; "
                         f"ask in at most {MAX_QUESTION_CHARS}.")
    if len(session.answers) >= MAX_TURNS or len(history or ()) > 2 * MAX_TURNS:
        raise ValueError(f"This chat has {MAX_TURNS} answers, the most one chat keeps; "
                         "press Clear chat to start a new one.")
    for name, values in (("authors", authors), ("sources", sources)):
        values = list(values or ())
        if len(values) > MAX_FILTER_VALUES or any(len(str(v)) > MAX_FILTER_CHARS for v in values):
            raise ValueError(f"Too many or too long {name}: pick at most {MAX_FILTER_VALUES}, "
                             f"each under {MAX_FILTER_CHARS} characters.")
    if mode not in (None, *MODES):
        raise ValueError(f"Unknown retrieval mode {str(mode)[:20]!r}: use one of {', '.join(MODES)}.")
    try:
        number = float(k)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = float("nan")
    if not 1 <= number <= MAX_K:  # also NaN
        raise ValueError(f"Passages to read must be between 1 and {MAX_K}.")
    return int(number)


def make_filters(since: str | None, until: str | None, authors: Iterable[str] | None,
                 sources: Iterable[str] | None, sections: Iterable[str] | None = None) -> Filters | None:
    """The sidebar's filter controls -> `Filters`, or None when nothing is set."""
    picked = [str(v) for v in sections or ()]
    if len(picked) > MAX_FILTER_VALUES or any(len(v) > MAX_FILTER_CHARS for v in picked):
        raise ValueError(f"Too many or too long sections: pick at most {MAX_FILTER_VALUES}.")
    lo, hi = date_range(since, until, "From", "To")
    filters = Filters(
        since=lo, until=hi,
        authors=tuple(a.strip() for a in authors or () if a and a.strip()),
        sources=tuple(s.strip() for s in sources or () if s and s.strip()),
        sections=tuple(s.strip() for s in picked if s.strip()),
    )
    return None if filters.is_empty() else filters


def turn_of_message(index: int | tuple[int, int] | list[int]) -> int:
    """Chat message index -> answer number. Each turn adds exactly two messages: question, answer."""
    i = index[0] if isinstance(index, tuple | list) else index
    return int(i) // 2
