"""Normalise stage: pure text functions the loaders share (unicode, markdown, paragraphs, dates, authors).

Article.text is always NFC, paragraphs separated by exactly "\\n\\n", no trailing spaces, no
control characters: the chunker's offsets and the UI's quotes index into this one canonical form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime

from dateutil import parser as date_parser

# C0/C1 controls except tab/newline; Reuters carries &#2; &#3; &#5; &#22; ... as numeric references.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$<>|~\"'])")
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EM = re.compile(r"(?<![\w*])([*_])(?=\S)([^*_\n]+?)(?<=\S)\1(?![\w*])")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+\u2022]\s|\d{1,3}[.)]\s)")
_SENTENCE_END = re.compile(r"[.!?:;\u2026][\"'\u201d\u2019)\]]*$|[\"\u201d\u2019)\]]$")
# A paragraph that ends on one of these words stops mid-sentence even when the next one starts
# with a capital ("...massing of Western troops along" + "Russia's border ...").
_CONTINUING = frozenset(
    """a an the and or but nor of in on at to for from by with along among about into onto upon
    over under between against through during without within across behind beyond toward towards
    as than that which who whom whose is are was were be been being has have had do does did will
    would can could shall should may might must its their his her our your my this these those
    not very such per via""".split()  # noqa: SIM905 - a word list reads better as text
)


def clean_text(text: str) -> str:
    """NFC, no control characters, single spaces, no trailing spaces, "\\n" line ends.

    >>> clean_text("Caf\\u0065\\u0301  au\\tlait \\r\\n")
    'Café au lait'
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def strip_markdown(text: str) -> str:
    """Markdown inline syntax to plain text: escapes undone, emphasis and links reduced to their words.

    >>> strip_markdown(r"the UK's *Daily Express* pays \\$3 billion: **[wsws.org/contact](https://wsws.org)**")
    "the UK's Daily Express pays $3 billion: wsws.org/contact"
    """
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_STRONG.sub(r"\2", text)
    text = _MD_EM.sub(r"\2", text)
    text = _MD_HEADING.sub("", text)
    return _MD_ESCAPE.sub(r"\1", text)


def split_paragraphs(text: str, unwrap: bool = True) -> list[str]:
    """Blank-line separated paragraphs; with `unwrap`, hard-wrapped lines inside one are joined
    with a space, except lines that start a list item."""
    paragraphs = []
    for block in _BLANK_LINES.split(clean_text(text)):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        if not unwrap:
            paragraphs.append("\n".join(lines))
            continue
        merged = [lines[0]]
        for line in lines[1:]:
            if _LIST_ITEM.match(line):
                merged.append(line)
            else:
                merged[-1] = f"{merged[-1]} {line}"
        paragraphs.append("\n".join(merged))
    return paragraphs


def is_broken(paragraph: str, following: str) -> bool:
    """Does `paragraph` stop mid-sentence and `following` carry the sentence on?

    Headings and list items never join: a paragraph must be at least six words long and end
    without sentence punctuation, and the next must start lowercase (or a digit), or the
    paragraph must end on a word that cannot end an English sentence ("along", "has", "is").

    >>> is_broken("The continued massing of Western troops along", "Russia's border makes good")
    True
    >>> is_broken("Operation Anaconda and the Baltic states", "The US said")
    False
    """
    if not paragraph or not following or "\n" in paragraph:
        return False
    if _SENTENCE_END.search(paragraph) or _LIST_ITEM.match(following) or _LIST_ITEM.match(paragraph):
        return False
    words = paragraph.split()
    if len(words) < 6:
        return False
    first = following.lstrip("\"'\u201c\u2018(")[:1]
    if first.islower() or first.isdigit():
        return True
    return words[-1].lower().strip(",") in _CONTINUING


def join_broken(paragraphs: Iterable[str]) -> list[str]:
    """Paragraphs with mid-sentence breaks joined back by a single space."""
    out: list[str] = []
    for para in paragraphs:
        if out and is_broken(out[-1], para):
            out[-1] = f"{out[-1]} {para}"
        else:
            out.append(para)
    return out


def body_text(paragraphs: Iterable[str]) -> str:
    """The canonical Article.text: paragraphs joined by one blank line."""
    return "\n\n".join(p for p in (p.strip() for p in paragraphs) if p)


def normalize_body(text: str, markdown: bool = False, unwrap: bool = True) -> str:
    """Raw body text -> canonical Article.text (split, optionally de-markdowned, broken paragraphs joined)."""
    paragraphs = split_paragraphs(text, unwrap=unwrap)
    if markdown:
        paragraphs = [clean_text(strip_markdown(p)) for p in paragraphs]
    return body_text(join_broken(paragraphs))


def one_line(text: str | None) -> str:
    """A title or author: clean, markdown-free, on one line."""
    if not text:
        return ""
    return " ".join(strip_markdown(clean_text(text)).split())


_DATE_ONLY = re.compile(r"\d{1,2}\s+[A-Za-z]+\.?\s+\d{4}|[A-Za-z]+\.?\s+\d{1,2},?\s+\d{4}|\d{4}-\d{2}-\d{2}")
_REUTERS_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})(?:\s+(\d{1,2}):(\d{2}):(\d{2}))?")
_TIME = re.compile(r"\d{1,2}:\d{2}")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}  # noqa: SIM905
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))  # two defaults expose fields the input lacked


def parse_date(value: str | None) -> str | None:
    """A date string in any common form -> "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SS" when it has a time.

    Incomplete dates ("June 2016") and unparseable ones give None rather than a guessed day.

    >>> parse_date("14 June 2016"), parse_date("26-FEB-1987 15:01:01.79")
    ('2016-06-14', '1987-02-26T15:01:01')
    >>> parse_date("31-MAR-1987 605:12:19.12"), parse_date("June 2016")
    ('1987-03-31', None)
    """
    if not value or not value.strip():
        return None
    text = " ".join(value.split())
    m = _REUTERS_DATE.match(text)
    if m:  # Reuters "26-FEB-1987 15:01:01.79", built directly: dateutil is 0.2 ms a call
        day, mon, year, hh, mm, ss = m.groups()
        month = _MONTHS.get(mon.lower())
        if month is None:
            return None
        try:
            d = datetime(int(year), month, int(day))
        except ValueError:
            return None
        if hh is not None and int(hh) < 24 and int(mm) < 60 and int(ss) < 60:  # "605:12:19" keeps the day
            return d.replace(hour=int(hh), minute=int(mm), second=int(ss)).isoformat()
        return d.date().isoformat()
    if _ISO_DAY.fullmatch(text):
        try:
            return datetime.fromisoformat(text).date().isoformat()
        except ValueError:
            return None
    try:
        a, b = (date_parser.parse(text, default=d) for d in _DEFAULTS)
    except (ValueError, OverflowError, TypeError):
        return None
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return None
    if _TIME.search(text):  # a time was given (midnight included), so keep it
        if a.tzinfo is not None:  # stored as naive UTC so dates compare across sources
            a = a.astimezone(UTC)
        return a.replace(tzinfo=None, microsecond=0).isoformat()
    return a.date().isoformat()


def split_author_date(line: str) -> tuple[str | None, str | None]:
    """ "Thomas Gaist 14 June 2016" -> ("Thomas Gaist", "2016-06-14"); a bare date or name works too."""
    line = one_line(line)
    for m in _DATE_ONLY.finditer(line):
        if m.end() == len(line):
            date = parse_date(m.group(0))
            if date:
                name = line[: m.start()].strip(" ,-|\u2013\u2014")
                return (clean_author(name) or None), date
    return None, None


_BYLINE = re.compile(r"^\s*by\s+", re.IGNORECASE)
_AGENCY = re.compile(r",?\s*\b(?:reuters?|associated press|ap|afp)\b\.?\s*$", re.IGNORECASE)


def clean_author(value: str | None) -> str | None:
    """Bylines to names: "    By Jane Doe, Reuters" -> "Jane Doe"; "BY JOHN SMITH" -> "John Smith".

    >>> clean_author("    By Steven Brull, Reuter"), clean_author("BY JOHN SMITH")
    ('Steven Brull', 'John Smith')
    """
    if not value:
        return None
    name = _AGENCY.sub("", _BYLINE.sub("", one_line(value))).strip(" ,;")
    if name.isupper():
        name = name.title()
    return name or None


def looks_like_name(line: str) -> bool:
    """A short line of capitalised words without sentence punctuation: an author line."""
    words = one_line(line).replace(" and ", " ").split()
    if not 1 <= len(words) <= 6 or _SENTENCE_END.search(line.strip()):
        return False
    return all(w[:1].isupper() or w in {"de", "van", "von", "der", "la", "le", "da"} for w in words)
