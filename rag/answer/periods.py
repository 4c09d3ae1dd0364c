"""Reporting periods: a figure for another quarter does not answer for the asked one.

Company results name their period ("fourth quarter net income", "4TH QTR NET", "first-half profit",
"the nine months to December"), and a story often gives several periods' figures side by side. A
question that names a period ("What was AIG's net income for the first quarter of 1987?") is not
answered by a sentence, or a results table under a headline, that names another period of the same
kind and not the asked one: like a story about another year (rag.answer.extractive.dated_elsewhere),
it is about another time. Periods of different kinds (a quarter and "nine months") are not compared.
"""

from __future__ import annotations

import re

_ORDINAL = {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3",
            "fourth": "4", "4th": "4"}
_KINDS = (
    ("quarter", re.compile(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+(?:quarter|qtr)\b"
                           r"|\bq([1-4])\b", re.I)),
    ("half", re.compile(r"\b(first|second|1st|2nd)[\s-]+half\b|\bh([12])\b", re.I)),
    ("months", re.compile(r"\b(three|six|nine|3|6|9)[\s-]+(?:months|mths)\b", re.I)),
)


def periods(text: str) -> dict[str, set[str]]:
    """The reporting periods `text` names, by kind.

    >>> found = periods("Fourth quarter net rose, against the 3RD QTR and the nine months; Q1 was weak")
    >>> sorted(found["quarter"]), found["months"]
    (['1', '3', '4'], {'nine'})
    """
    out: dict[str, set[str]] = {}
    for kind, rx in _KINDS:
        for m in rx.finditer(text):
            word = (m.group(1) or m.group(2)).lower()
            out.setdefault(kind, set()).add(_ORDINAL.get(word, word))
    return out


def other_period(asked: dict[str, set[str]], sentence: str, headline: str) -> bool:
    """Whether the sentence (read under its headline) names only other periods of a kind the question
    asks about.

    >>> q = periods("What was AIG's net income for the first quarter of 1987?")
    >>> other_period(q, "Zambian copper output rose in fourth quarter 1986", "")
    True
    >>> other_period(q, "Shr 31 cts vs 26 cts", "LUBY'S CAFETERIAS INC 2ND QTR NET")
    True
    >>> other_period(q, "First quarter net rose from the fourth quarter's", "")
    False
    >>> other_period(q, "Net rose", "")  # no period named: may be the asked one
    False
    """
    if not asked:
        return False
    named = periods(f"{headline}\n{sentence}")
    return any(kind in named and not (named[kind] & want) for kind, want in asked.items())
