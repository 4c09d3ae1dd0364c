"""Reporting periods: a figure for another quarter does not answer for the asked one.

Company results name their period ("fourth quarter net income", "4TH QTR NET", "first-half profit",
"the nine months to December"), and a story often gives several periods' figures side by side. A
question that names a period ("What was AIG's net income for the first quarter of 1987?") is not
answered by a sentence, or a results table under a headline, that names another period of the same
kind and not the asked one: like a story about another year (rag.answer.extractive.dated_elsewhere),
it is about another time. Periods of different kinds (a quarter and "nine months") are not compared.

Wire results tables give the headline's period first and then the longer one under a heading line of
its own ("4TH QTR NET: Shr 45 cts ... Year / Shr 1.22 dlrs ..."): a line under such a heading is
about the heading's period, not the headline's, so "Shr 1.22 dlrs" is no quarter's figure.
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

# "the previous fourth quarter", "year-ago first quarter", "the fourth quarter a year earlier": the same
# period of an earlier year, which a results story gives beside the reported one; not the asked period
# (unless the question asks for it so). "Last year's" is left out: in a story of early 1987 it is 1986's.
_BEFORE = re.compile(r"\b(?:previous|prior(?:[\s-]year)?|year[\s-](?:earlier|ago))[\s-]+$", re.I)
_AFTER = re.compile(r"(?:'s)?,?\s+(?:a year (?:earlier|ago|before)|of the (?:previous|prior) year)\b", re.I)


def periods(text: str) -> dict[str, set[str]]:
    """The reporting periods `text` names, by kind.

    >>> found = periods("Fourth quarter net rose, against the 3RD QTR and the nine months; Q1 was weak")
    >>> sorted(found["quarter"]), found["months"]
    (['1', '3', '4'], {'nine'})
    >>> sorted(periods("Net fell from the previous fourth quarter and the 1st qtr a year ago")["quarter"])
    ["1'", "4'"]
    """
    out: dict[str, set[str]] = {}
    for kind, rx in _KINDS:
        for m in rx.finditer(text):
            word = (m.group(1) or m.group(2)).lower()
            earlier = _BEFORE.search(text[max(0, m.start() - 30):m.start()]) or _AFTER.match(text, m.end())
            out.setdefault(kind, set()).add(_ORDINAL.get(word, word) + ("'" if earlier else ""))
    return out


# a line that heads a section of a results table: "Year", "Nine mths", "12 mths", "1st half", "4th qtr";
# or, for a heading that opens with a figure, the end of the line before, to which the loader joined it
# as a broken line ("Sales 55.2 mln vs 50.6 mln 1st half")
_HEADING = (r"year|(?:three|six|nine|twelve|3|6|9|12)[ \t]+(?:mths|months)|"
            r"(?:1st|2nd|first|second)[ \t]+half|"
            r"(?:1st|2nd|3rd|4th|first|second|third|fourth)[ \t]+(?:qtr|quarter)")
_JOINED = r"(?:3|6|9|12)[ \t]+(?:mths|months)|(?:1st|2nd)[ \t]+half|(?:1st|2nd|3rd|4th)[ \t]+(?:qtr|quarter)"
_SECTION = re.compile(rf"^[ \t]*({_HEADING})[ \t]*$|[ \t]({_JOINED})[ \t]*$", re.I | re.M)


def section_of(text_before: str) -> str | None:
    """The heading of the results-table section that a line stands in, from the article's text before
    it; None outside one.

    >>> section_of("Shr 45 cts vs 58 cts\\n    Net 1.1 mln\\n    Year\\n    "), section_of("Shr 45 cts")
    ('Year', None)
    >>> section_of("Sales 55.2 mln vs 50.6 mln 1st half\\n\\n"), section_of("It rose 5% on the year\\n")
    ('1st half', None)
    """
    heads = list(_SECTION.finditer(text_before))
    return (heads[-1].group(1) or heads[-1].group(2)) if heads else None


def other_period(asked: dict[str, set[str]], sentence: str, headline: str,
                 section: str | None = None) -> bool:
    """Whether the sentence (read under its headline) names only other periods of a kind the question
    asks about; or, inside a results table's section (`section`, its heading), whether that section is
    not the asked period.

    >>> q = periods("What was AIG's net income for the first quarter of 1987?")
    >>> other_period(q, "Zambian copper output rose in fourth quarter 1986", "")
    True
    >>> other_period(q, "Shr 31 cts vs 26 cts", "LUBY'S CAFETERIAS INC 2ND QTR NET")
    True
    >>> other_period(q, "First quarter net rose from the fourth quarter's", "")
    False
    >>> other_period(q, "Net rose", "")  # no period named: may be the asked one
    False
    >>> other_period(q, "It lost 3 mln vs a profit in the year-ago first quarter", "")
    True
    >>> other_period(q, "Third quarter sales rose", "AIG 1ST QTR NET")  # the sentence names its own
    True
    >>> other_period(q, "Shr 1.22 dlrs vs 1.06 dlrs", "CINRAM LTD 1ST QTR NET", section="Year")
    True
    """
    if not asked:
        return False
    if section is not None:
        within = periods(section)  # "Year" names no quarter, half or months: it is none of them
        return any(not (within.get(kind, set()) & want) for kind, want in asked.items())
    # the sentence's own periods first, then its headline's: "a 3.3 mln dlr profit for the previous fourth
    # quarter" under "VARITY EXPECTS 4TH QTR LOSS" is no figure for this fourth quarter
    own, head = periods(sentence), periods(headline)
    for kind, want in asked.items():
        named = own.get(kind) or head.get(kind)
        if named and not named & want:
            return True
    return False
