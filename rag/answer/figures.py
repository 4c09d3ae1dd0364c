"""Figures check: a number an answer sentence states must be in a passage it cites.

The support score (rag.answer.support) measures whether a sentence is about what its passage says,
not whether it agrees with it: "3,000 soldiers" for the passage's "1,000 soldiers" keeps every other
word and passes. Figures are what a reader quotes, so a sentence stating a figure that none of its
cited passages contain is not counted as supported. Only figures written in digits are checked; a
passage's figures may be in digits or in words ("four", "1.5 million").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.answer.markers import strip_markers
from rag.types import Passage

# Not a figure: a digit run glued to a word ("COVID19"), part of a name ("HHV-8", "4-PBA", "F4/80")
# or a version ("2.0.1").
_NUMBER = re.compile(
    r"(?<![\w.,/])(?<![A-Za-z]-)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?!(?-i:-[A-Z]))"
    r"(?:(?:st|nd|rd|th)\b|\s*(%|per\s?cent\b|thousand\b|million\b|billion\b|trillion\b)|(bn|m)\b|(?!\w))(?!\.\d)",
    re.I,
)
_SCALES = {"thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
          "twenty")
_TENS = ("thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORDS = {w: i for i, w in enumerate(_UNITS)}
_WORDS.update({w: 10 * i for i, w in enumerate(_TENS, 3)})
_WORDS.update({"dozen": 12, "hundred": 100})
_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")(?:\s+(thousand|million|billion|trillion))?\b", re.I)
# A rounded figure ("about 3.5 million" for 3,487,000) is fine when the sentence says it is rounded.
_HEDGE = re.compile(r"\b(about|around|almost|nearly|roughly|some|approximately|over|more than|"
                    r"less than|fewer than|under|up to|at least|close to)\s*$", re.I)


@dataclass(frozen=True)
class Figure:
    text: str  # as written in the sentence
    value: float
    rounded: bool  # written as a round figure the writer may have rounded to


def figures(text: str) -> list[Figure]:
    """The figures written in digits in `text`.

    >>> [(f.text, f.value) for f in figures("Up 40% to 1,000 troops and $1.5bn, not 3.")]
    [('40%', 40.0), ('1,000', 1000.0), ('1.5bn', 1500000000.0), ('3', 3.0)]
    """
    out = []
    for m in _NUMBER.finditer(text):
        whole, frac, unit = m.group(1), m.group(2) or "", (m.group(3) or m.group(4) or "").lower()
        value = float(whole.replace(",", "") + frac) * _SCALES.get(unit, 1.0)
        hedged = bool(_HEDGE.search(text[: m.start()].rstrip("$£€ ")))
        out.append(Figure(m.group(0).strip(), value, hedged or unit in _SCALES))
    return out


def _passage_values(texts: Iterable[str]) -> set[float]:
    values: set[float] = set()
    for text in texts:
        for m in _NUMBER.finditer(text):
            raw = float(m.group(1).replace(",", "") + (m.group(2) or ""))
            values.update((raw, raw * _SCALES.get((m.group(3) or m.group(4) or "").lower(), 1.0)))
        for m in _WORD.finditer(text):
            base = float(_WORDS[m.group(1).lower()])
            values.update((base, base * _SCALES.get((m.group(2) or "").lower(), 1.0)))
    return values


def _date_values(date: str | None) -> set[float]:
    # "In 2016, ..." or "on June 14" may come from the article's date rather than its text.
    return {float(part) for part in re.findall(r"\d+", (date or "")[:10])}


def _significant(written: str) -> int:
    """Significant digits of a figure as written: "3.5 million" 2, "1,000" 1, "0.05%" 1."""
    number = re.match(r"[\d,.]+", written)
    digits = (number.group(0) if number else written).replace(",", "")
    kept = digits.replace(".", "").lstrip("0")
    return len(kept if "." in digits else kept.rstrip("0")) or 1


def _same(value: float, claim: Figure) -> bool:
    """The passage's `value` written as the claim writes it: exactly, without its decimals
    ("25%" for 25.7%), or, for a round figure, rounded or cut to the claim's significant digits."""
    if math.isclose(value, claim.value, rel_tol=1e-9):
        return True
    whole = claim.value.is_integer() and not value.is_integer()
    if whole and claim.value in (math.floor(value), round(value)):
        return True
    if not claim.rounded or value <= 0 or claim.value <= 0:
        return False
    scale = 10.0 ** (math.floor(math.log10(value)) - _significant(claim.text) + 1)
    return any(math.isclose(f(value / scale) * scale, claim.value, rel_tol=1e-9) for f in (round, math.floor))


def missing_figures(claim: str, passages: Iterable[Passage]) -> list[str]:
    """The claim's figures that none of `passages` (text, title or date) states.

    >>> from rag.types import Passage
    >>> text = "It sent 1,000 soldiers, about 3,487,000 euros."
    >>> p = Passage("a:0", "a", text, 0, len(text), "T", None, "2016-06-14", None, 9)
    >>> missing_figures("In 2016 it sent 3,000 soldiers and about 3.5 million euros [1].", [p])
    ['3,000']
    """
    values: set[float] = set()
    for p in passages:
        values |= _passage_values((p.text, p.title)) | _date_values(p.date)
    out = []
    for fig in figures(strip_markers(claim)):
        if not any(_same(v, fig) for v in values):
            out.append(fig.text)
    return out
