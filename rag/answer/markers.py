"""Citation markers as answers write them, read in one place: `[1]`, `[1, 2]`, `[1; 2]`, `[1-3]`,
`[1][2]`, and the `[unsupported]` flag the checker writes.

Every reader of markers (the citation check, the support and figures checks, the UI chips, the QA
evaluation) uses these functions, so they cannot drift apart: a form one accepts and another does
not is how `[1; 2]` once reached the figures check as the figures "1, 2".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

UNSUPPORTED = "[unsupported]"
# A range longer than this is not expanded (its two ends are kept): "[1-1000]" is no list of citations.
MAX_RANGE = 20

_KEY = r"\d+(?:\s*[-\u2013]\s*\d+)?"
KEYS = rf"{_KEY}(?:\s*[,;]\s*{_KEY})*"
NUMBERED = re.compile(rf"\[({KEYS})\]")
# One marker, numbered or the flag (used where markers are moved or removed).
ANY = rf"\[(?:{KEYS}|unsupported)\]"
_ANY_WITH_SPACE = re.compile(rf"\s*{ANY}")


def numbers(keys: str) -> list[int]:
    """The citation numbers of a marker's inside, in order, ranges expanded.

    >>> numbers("1; 3-5, 2")
    [1, 3, 4, 5, 2]
    """
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", keys.strip()):
        lo, _, hi = re.sub(r"\s+", "", part).replace("\u2013", "-").partition("-")
        a, b = int(lo), int(hi or lo)
        out.extend(range(a, b + 1) if 0 <= b - a <= MAX_RANGE else (a, b))
    return out


def find(text: str) -> Iterator[tuple[int, int, list[int]]]:
    """(start, end, numbers) of each numbered marker in `text`."""
    for m in NUMBERED.finditer(text):
        yield m.start(), m.end(), numbers(m.group(1))


def parse_markers(text: str) -> list[int]:
    """Every number cited in `text`, once each, in order of first mention.

    >>> parse_markers("Troops arrive [2][1, 3] and leave [2; 4].")
    [2, 1, 3, 4]
    """
    return list(dict.fromkeys(n for _, _, nums in find(text) for n in nums))


def strip_markers(text: str) -> str:
    """`text` without its markers (nor the space before each), trimmed.

    >>> strip_markers("Troops arrive [1; 2]. Ships leave [unsupported].")
    'Troops arrive. Ships leave.'
    """
    return _ANY_WITH_SPACE.sub("", text).strip()
