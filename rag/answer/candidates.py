"""Answer candidates: the spans of a sentence that could answer a question of a given type (a name, a
figure, a sum, a date, a place) and are not already in the question, and which of them a reader would
take as the sentence's answer. Pure functions on text; the question frame (rag.answer.question) says
what type is asked.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence

from rag.answer.kinds import near_kind
from rag.answer.places import is_place, place_or_organisation
from rag.answer.question import NOT_NAMES, quoted_spans
from rag.dates import YEAR
from rag.retrieval.bm25 import tokenize
from rag.retrieval.timequery import _MONTH_RE

_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                 r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
                 r"eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
                 r"dozen|dozens|half|third|quarter|double|twice|treble|triple")
# "five million" is one amount, not "five" and "million"
# Wire copy writes "1.5 mln dlrs", "3.2 pct", "35 cts", "50 mln stg" (Reuters style)
_SCALE = r"bn|m|mln|bln|million|billion|trillion"
NUMBER = re.compile(rf"\d[\d,.]*(?:\s*%|\s*(?:per ?cent|pct|k|{_SCALE})\b|\b)"
                    rf"|\b(?:{_NUMBER_WORDS})(?:[\s-]+(?:hundred|thousand|million|billion)s?)*\b",
                    re.I)
# "hundreds of ballot papers", "thousands of pounds": a rough size, not the figure a question asks for
_VAGUE = re.compile(r"(?:hundreds|thousands|millions|billions|dozens)", re.I)
MONEY = re.compile(rf"[£$€¥]\s?\d[\d,.]*\s*(?:k|{_SCALE})?\b|"
                   rf"\b\d[\d,.]*\s*(?:{_SCALE})?\s*(?:(?:(?-i:[A-Z][a-z]+)|U\.S\.)\s+){{0,2}}"
                   r"(?:dollars|dlrs?|cents|cts|pounds|stg|sterling|euros|yen|marks|guilders|lire|pesos|"
                   r"crowns|roubles|rupees|yuan|francs|pence|p)\b|\b(?:US|Aus|NZ|HK|A|C)\$\s?\d[\d,.]*\s*(?:bn|m)?",
                   re.I)
# a line of a company's results table that gives a sum ("Net loss 18,600,000 vs profit 3,300,000",
# "Revs 394.0 mln vs 351.0 mln": the label, then the figure), not a count ("Avg shrs 12,400,000") nor a
# sentence ("Sales of the console reached 1,000,000")
_RESULTS_LINE = re.compile(r"\s*(?:(?:oper(?:ating)?|pretax|pre-tax|gross)\s+)?"
                          r"(?:net(?:\s+(?:loss|profit|income|earnings))?|revs|revenues?|sales|loss|profit|"
                          r"income|earnings|turnover)\s+\d", re.I)
# a date keeps its year: "April 2008", "31 December 2004", "May 20, 1987" are one date, and "April 2008"
# never shortens to "April 20"
_A_YEAR = r"(?:19|20)\d\d\b"
DATE = re.compile(rf"\b(?:{_MONTH_RE})\b\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?(?!\d)(?:,?\s+{_A_YEAR})?"
                  rf"|\s+{_A_YEAR})?|"
                  rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH_RE})\b(?:,?\s+{_A_YEAR})?|"
                  r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
                  rf"\b{_A_YEAR}|\b(?:yesterday|today|tomorrow|last (?:week|month|year)|"
                  r"next (?:week|month|"
                  r"year)|this (?:week|month|year)|\d{1,2}(?:st|nd|rd|th) century)\b", re.I)
_SENT_NAME = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Sir|Lord|Lady|Prof)\.?\s+)?\b[A-Z][\w'’.&-]*"
                        r"(?:\s+(?:de|van|von|da|del|di|bin|al|of|the|and|&)?\s*[A-Z][\w'’.&-]*)*")


def candidates(sentence: str, expects: str, known: tuple[str, ...],
               context: str = "", kind: str | None = None) -> list[tuple[int, int]]:
    """Spans of `sentence` that could be the answer of type `expects` and are not already in the
    question (`known`: lower-cased names, years and words of the question; `kind`: the frame's). A
    capitalised word that opens the sentence counts as a name only when `context` (its passage)
    capitalises it mid-sentence.

    >>> s = "Jamie Foxx picked up best actor for playing soul star Ray Charles in Ray."
    >>> [s[a:b] for a, b in candidates(s, "person", ("oscar",))]
    ['Jamie Foxx', 'Ray Charles']
    >>> v = "Hilary Swank won Best Actress while Foxx triumphed, a former Davis Cup player said."
    >>> [v[a:b] for a, b in candidates(v, "person", ("oscar",))]
    ['Hilary Swank', 'Foxx']
    >>> t = "Rosneft bought it in a deal worth $9.4bn (£5bn)."
    >>> [t[a:b] for a, b in candidates(t, "money", ())]
    ['$9.4bn']
    >>> w = "It paid 1.5 mln dlrs, or 22 U.S. dlrs a share, for a 3.2 pct stake."
    >>> [w[a:b] for a, b in candidates(w, "money", ())], [w[a:b] for a, b in candidates(w, "number", ())]
    (['1.5 mln dlrs', '22 U.S. dlrs'], ['1.5 mln dlrs', '22 U.S. dlrs', '3.2 pct'])
    >>> r = "Net loss 18,600,000 vs profit 3,300,000"
    >>> [r[a:b] for a, b in candidates(r, "money", ())], candidates("Avg shrs 12,400,000", "money", ())
    (['18,600,000', '3,300,000'], [])
    >>> u = "Novartis bought 67.7% of Eon Labs, founded in 1997, for $31 a share and will cut 1,000 jobs."
    >>> [u[a:b] for a, b in candidates(u, "number", ("how", "many", "jobs"))]
    ['1,000']
    """
    if expects == "money":
        found = _first_currency([m.span() for m in MONEY.finditer(sentence)], sentence)
        if not found:  # "25.4bn" without its currency; a bare number is rarely a price, but on a
            # results table's line of money ("Net loss 18,600,000 vs profit 3,300,000") it is one
            line = _RESULTS_LINE.match(sentence) is not None
            found = [m.span() for m in NUMBER.finditer(sentence)
                     if re.search(r"\d.*(?:bn|m|bln|illion)", m.group(0))
                     or (line and re.search(r"\d,\d{3}", m.group(0)))]
    elif expects == "number":
        if _asks(known, r"(?:what|which|final) score"):  # "by what score": a result, "17-12"
            return [m.span() for m in re.finditer(r"\b\d{1,3}-\d{1,3}\b", sentence)]
        found = _amounts(sentence, known)
    elif expects == "date":
        # "what year" wants a year, not "Monday"; "what date", "which day" want a day, not a bare year,
        # a month ("next July") or "this month"; "what date" a numbered one, not "Wednesday"
        year = _asks(known, r"(?:what|which) year")
        date = not year and _asks(known, r"(?:what|which) date")
        day = not year and (date or _asks(known, r"(?:what|which) day"))
        found = [m.span() for m in DATE.finditer(sentence)
                 if (not year or YEAR.search(m.group(0)))
                 and not (day and (YEAR.fullmatch(m.group(0).strip())
                                   or not re.search(r"\d" if date else r"\d|day\b", m.group(0), re.I)))]
    elif expects in ("person", "place", "name"):
        found = []
        for m in _SENT_NAME.finditer(sentence):
            a, b = m.span()
            while b > a and sentence[b - 1] in ".'’":
                b -= 1
            first = sentence[a:b].split(" ", 1)
            opens = not sentence[:a].strip(_OPENING_MARKS)
            if opens and first[0] in _OPENERS:  # the sentence's opening word is no name:
                if len(first) == 1:
                    continue  # "While saying he admired..."
                a += len(first[0]) + 1  # "Although Mr Raskin ..."
            month = re.match(r"(\w+)(?:\s+(?:and|&)|['’]s)\s+", sentence[a:b])
            if month and month.group(1).lower() in _CALENDAR:
                a += month.end()  # "in December and Yugansk was sold", "November's New York race": a
                # month is no part of a name
            text = sentence[a:b]
            if text.endswith(("'s", "’s")):
                b -= 2
                text = sentence[a:b]
            if not sentence[:a].strip(_OPENING_MARKS) and " " not in text and not re.search(
                    rf"[^.!?\s]\s+{re.escape(text)}\b", context):
                continue  # a capitalised first word that its passage never capitalises mid-sentence
            if expects == "person" and not _may_be_person(text, sentence[max(0, a - 24):a]):
                continue
            if expects == "name" and kind and not _PLACE_KIND.search(kind) and is_place(text):
                continue  # "UK" for which cactus, "Ill." for which bank: a country or a state is neither
            if " " not in text and (text.lower() in _CALENDAR or _DEMONYM.match(sentence, a)):
                continue
            core = re.sub(r"^(?:The|A|An)\s+", "", text)
            if re.search(r"-[a-z]", core) and " " not in core:
                continue  # "Oscar-nominated", "The Newport-based": a compound adjective, not a name
            found.append((a, b))
        if expects == "name":  # titles of shows, songs, books: often in quotes, not always capitalised
            found += quoted_spans(sentence)
        if kind and expects != "person":
            # an apposition names the asked kind in lower case: "its main drug, desmoteplase, ...",
            # "the radius, a large bone"
            h = rf"(?i:{re.escape(kind)}s?)"
            found += [m.span(1) for rx in (rf"\b{h},\s+([a-z][\w-]{{3,}})\s*[,.]",
                                           rf"\b[Tt]he ([a-z][\w-]{{3,}}), an? (?:[\w-]+ ){{0,3}}{h}\b",
                                           rf"\b{h} (?:called|named|known as) ([A-Za-z][\w-]+)",
                                           # "a Nokia 3220 handset": a name or model number before it
                                           # (in lower case: "Cannes Film Festival" is no film)
                                           rf"((?:[A-Z][\w-]*|\d[\w-]*)(?:\s+(?:[A-Z][\w-]*|\d[\w-]*))*)"
                                           rf"\s+{re.escape(kind)}s?\b")
                      for m in re.finditer(rx, sentence)]
    else:
        return []
    known_stems = set(tokenize(" ".join(known)))
    kind_stems = set(tokenize(kind or ""))
    out: list[tuple[int, int]] = []
    for a, b in sorted(set(found)):
        while b > a and sentence[b - 1] in " ,.;:":
            b -= 1
        text = sentence[a:b].lower()
        stems = [w for w in tokenize(text) if w not in _TITLES]
        if not stems or text in _NOT_NAMES_LOWER or all(w in known_stems for w in stems):
            continue
        if " " not in text and (_DEMONYM.match(sentence, a) or (len(text) >= 4 and any(
                k.startswith(text[:4]) and _DEMONYM_END.search(k) for k in known))):
            continue  # "Russian company"; "Sweden" when the question asks for a "Swedish town"
        if expects in ("person", "name") and stems[-1] in known_stems and stems[-1] not in kind_stems:
            continue  # "Sir Edward Heath" when the question names Heath: not a new name ("Three Gorges
            # Dam" for "which dam" is one)
        if out and a < out[-1][1]:  # overlapping matches: keep the longer
            if b - a > out[-1][1] - out[-1][0]:
                out[-1] = (a, b)
            continue
        out.append((a, b))
    return out


def _amounts(sentence: str, known: tuple[str, ...]) -> list[tuple[int, int]]:
    """The figures of `sentence` that could answer a number question whose words are `known`: a count
    for "how many", a duration with its units for "how long", a race time for "what time", an age for
    "how old", else any amount."""
    duration = _asks(known, r"how long")
    # "what time did Gardener run": a race time, "6.56 seconds", "12.37", "14:39.29"
    race = not duration and _asks(known, r"(?:what|which) time")
    # "how many ...?" asks for a count: a share ("67.7%"), a sum of money or a year is not one
    counting = _asks(known, r"how many") and not any(
        k in ("percentage", "percent", "proportion", "share") for k in known)
    age = _asks(known, r"how old|(?:what|which) age|aged")
    money = [m.span() for m in MONEY.finditer(sentence)]
    sums = _first_currency(money, sentence)
    conversions = [span for span in money if span not in sums]
    found = [] if counting or age else list(sums)
    clocks = [m.span() for m in re.finditer(r"\b\d{1,2}(?::\d\d)+(?:\.\d+)?\b", sentence)] if race else []
    for m in NUMBER.finditer(sentence):
        if any(a <= m.start() < b for a, b in clocks):
            continue
        unit = _TIME_UNIT.match(sentence, m.end())
        if race:  # a time has its units or its hundredths: "6.56 seconds", "12.37", not "4x100m"
            if unit or re.fullmatch(r"\d+\.\d+", m.group(0).strip()):
                _add_duration(found, sentence, m.start(), (unit or m).end())
            continue
        if any(a <= m.start() < b for a, b in conversions):
            continue  # the figure of a conversion: "£75m ($141m)"
        said_as_age = bool(re.match(r"-years?-old| years? old", sentence[m.end():m.end() + 10])
                           or re.search(r"\b(?:aged|age of)\s*$", sentence[:m.start()]))
        if (said_as_age != age  # an age answers "how old" and nothing else: "aged 92", "27-year-old"
                or _in_date(sentence, *m.span())
                or YEAR.fullmatch(m.group(0).strip(" ,."))  # a year is a date, not an amount
                or _VAGUE.fullmatch(m.group(0).strip())
                # "first-half", "half-time": part of a word, not an amount
                or (m.group(0).lower() in ("half", "third", "quarter")
                    and "-" in sentence[max(m.start() - 1, 0):m.end() + 1])
                # "in 19 minutes" is no attendance, "world number 46" no match length: a duration
                # answers "how long" and nothing else
                or (not age and (unit is not None) != duration)
                or (counting and (re.search(r"(?:%|per ?cent)$", m.group(0))
                                  or re.match(r"\s*(?:%|per ?cent)", sentence[m.end():m.end() + 9])
                                  or any(MONEY.match(sentence, i)
                                         for i in (max(m.start() - 1, 0), m.start()))))):
            continue
        if duration and unit:  # a duration keeps its units: "two hours and 10 minutes", not "two"
            _add_duration(found, sentence, m.start(), unit.end())
        else:
            found.append(m.span())
    return sorted(found + clocks)


def _add_duration(found: list[tuple[int, int]], sentence: str, a: int, b: int) -> None:
    """Add sentence[a:b] to `found`, joined to the span before it when only "and" or a comma lies
    between: "two hours and 10 minutes", "14 minutes 32.93 seconds" are one duration."""
    if found and re.fullmatch(r"\s*(?:,|and|,\s*and)?\s*", sentence[found[-1][1]:a]):
        found[-1] = (found[-1][0], b)
    else:
        found.append((a, b))


def answer_span(sentence: str, spans: list[tuple[int, int]], terms: Sequence[str],
                kind: str | None = None) -> tuple[int, int] | None:
    """The candidate a reader would take as the sentence's answer: one of the asked kind first, then
    the one nearest the question's words ("beaten to the title by Owen": Owen, not Foxx)."""
    if not spans:
        return None
    words = sentence.lower()
    positions = [i for t in terms for i in (words.find(t),) if i >= 0]

    def distance(span: tuple[int, int]) -> int:
        a, b = span
        return min((min(abs(a - p), abs(b - p)) for p in positions), default=0)

    # "erase the previous world indoor mark of 14:39.29": a figure the sentence marks as superseded is
    # not the answer, unless the question asks for the earlier one
    looks_back = any(t.startswith(_EARLIER_STEMS) for t in terms)

    def superseded(span: tuple[int, int]) -> bool:
        return not looks_back and _EARLIER.search(sentence[max(0, span[0] - 60):span[0]]) is not None

    return min(spans, key=lambda span: (-near_kind(sentence, span, kind), superseded(span), distance(span)))


# not "former" or "old": "former champion Roger Federer", "the 27-year-old Jane Doe" describe a person
_EARLIER = re.compile(r"\b(?:previous|earlier|prior|last year's)\s+(?:[\w'-]+\s+){0,4}$", re.I)
_EARLIER_STEMS = ("previou", "earlier", "prior")


def _first_currency(spans: list[tuple[int, int]], sentence: str) -> list[tuple[int, int]]:
    """The sums of `spans` without their conversions into other currencies, which the article adds in
    brackets after the sum it reports: "$515m (£277m)", "7.5bn yen ($71.5m; £38.4m)". A list outside
    brackets keeps every sum: "£2m, £3m and £4m".

    >>> s = "It paid $515m (£277m), then £2m, £3m and £4m."
    >>> [s[a:b] for a, b in _first_currency([m.span() for m in MONEY.finditer(s)], s)]
    ['$515m', '£2m', '£3m', '£4m']
    """
    out: list[tuple[int, int]] = []
    end = -1
    for a, b in spans:
        bracketed = sentence[:a].count("(") > sentence[:a].count(")")
        if not (bracketed and end >= 0 and re.fullmatch(r"\s*[(;,]\s*", sentence[end:a])):
            out.append((a, b))
        end = b
    return out


def _asks(known: tuple[str, ...], phrase: str) -> bool:
    """Whether the question's words (in order in `known`) hold `phrase` ("what year", not "60 years")."""
    return re.search(rf"\b{phrase}\b", " ".join(known)) is not None


_TIME_UNIT = re.compile(r"[\s-]*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|"
                        r"decades?|centuries|century)\b", re.I)


def _in_date(sentence: str, a: int, b: int) -> bool:
    """Whether the number at sentence[a:b] is a day of a date ("31 December", "May 20"), not a quantity.

    >>> s = "Profits for the three months to 31 December fell 2% to 75m."
    >>> _in_date(s, s.index("31"), s.index("31") + 2), _in_date(s, s.index("75m"), s.index("75m") + 3)
    (True, False)
    """
    day = sentence[a:b].strip(" ,.")
    if not re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?", day):
        return False
    after, before = sentence[b:b + 12], sentence[max(0, a - 11):a]
    return bool(re.match(rf"\s*(?:{_MONTH_RE})\b", after, re.I)
                or re.search(rf"\b(?:{_MONTH_RE})\.?\s*$", before, re.I))


_THING_OR_PLACE = re.compile(r"^(?:Best|Outstanding|Lifetime)\b|\b(?:Cup|Open|Awards?|Prize|Trophy|"
                             r"Championships?|Games|Festival|Slam|Series|Show|Conference|Summit|Olympics|"
                             r"Finals?|Tour|Street|Road|Avenue|Boulevard|Square|Stadium|Park|Theatre|Hall|"
                             r"Centre|Center|Bridge|Airport|Station|Island)$")
_TITLES = frozenset(["mr", "mrs", "ms", "dr", "sir", "lord", "ladi", "prof", "teenag",
                     "the", "of", "and", "a", "s"])
_CALENDAR = frozenset(m.lower() for m in (*calendar.month_name[1:], *calendar.day_name))
# kinds of thing a country or a state may name: "which team" (England), "which market" (Europe)
_PLACE_KIND = re.compile(r"\b(?:team|side|squad|nation|country|state|region|market|territory|host|venue)s?\b",
                         re.I)
# "Russian company", "Japanese carmaker": a nationality before a noun, not a name
# ("Japan is", "Trollhaettan in" are places: a verb or preposition after the word is no noun)
_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ian|ese|ish|an|i)\s+(?!(?:in|on|at|of|to|for|by|from|with|and|or|as|"
                      r"has|had|have|is|was|were|are|will|would|could|said|says)\b)[a-z]")
_DEMONYM_END = re.compile(r"^[a-z]{3,}(?:ian|ese|ish|an|i|ch)$")


def _may_be_person(text: str, before: str) -> bool:
    """Whether a capitalised run (`before`: the few characters ahead of it) could name a person: not a
    prize or a contest ("Best Actress", "the Davis Cup"), not a country or a company ("Japan", "Varity
    Corp", rag.answer.places), not a place or a counted thing ("in Moscow",
    "five Wimbledon titles"), and not a name after an article, which qualifies a thing ("the Wimbledon
    finals", "the GB men's team"), unless a nationality opens it ("the Australian Lleyton Hewitt")."""
    first = text.split()[0]
    if (first in ("The", "A", "An") or _THING_OR_PLACE.search(text) or place_or_organisation(text)
            or _WHERE_OR_COUNTED.search(before) or re.fullmatch(r"[A-Z]{2,5}s?|.*\s[A-Z]{2,5}s", text)):
        return False  # an acronym names no person ("US", "BNP", "Labour MPs")
    return not (re.search(r"\b(?:the|a|an)\s+$", before, re.I) and not _DEMONYM_END.search(first.lower()))


# "in Moscow", "at the central London ceremony", "five Wimbledon titles": a place, or a name counted
_WHERE_OR_COUNTED = re.compile(rf"(?:\b(?:in|at)(?:\s+the(?:\s+(?-i:[a-z]+))?|\s+\w+['’]s)?|\d|"
                               rf"\b(?:{_NUMBER_WORDS}))\s+$", re.I)
_OPENING_MARKS = " \"'“‘("


# words capitalised only because they open a sentence, which the name pattern would join to a name
_OPENERS = frozenset(str.split(
    """Although Though While Whilst When Whenever Where After Before Since Until As If Unless Because
    But And Or So Yet However Meanwhile Despite Following With Without Under Over In On At For From By To
    Then Now Today Yesterday Last Next This That These Those His Her Their Its Our My Former
    Both Neither Either Only Even Also Instead Earlier Later Recently Currently"""
))
_NOT_NAMES_LOWER = frozenset(w.lower() for w in NOT_NAMES) | {
    "he", "she", "they", "we", "but", "however", "i", "i'm", "i’m"}
