"""Question analysis: what kind of answer a question wants and which constraints an answer must meet.

Pure functions on the question text. The extractive answerer uses the frame to tell a sentence that
answers ("Jamie Foxx picked up best actor") from one that is merely about the topic ("Foxx is
nominated for best actor"): the expected answer type must be present as a candidate the question does
not already contain, and the question's years and names must hold in the sentence or its article.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.kinds import asked_kind, near_kind
from rag.answer.support import content_terms
from rag.dates import YEAR
from rag.retrieval.bm25 import tokenize
from rag.retrieval.timequery import _MONTH_RE

# answer types; "open" is a why/how/what-did-X-say question with no single short answer
TYPES = ("person", "date", "number", "money", "place", "name", "open")
SHORT_TYPES = TYPES[:-1]  # the types whose answer is a short span: a name, figure, date or place

_MONEY_WORDS = (r"cost|costs|pay|paid|pays|price|priced|worth|sell|sold|spend|spent|raise|raised|earn|"
                r"earned|profit|profits|revenue|revenues|sales|deal|fee|fine|fined|bid|offer|value|valued|"
                r"budget|salary|tax|debt|owe|owed|loss|losses|invest|invested|charge|bill|compensation")
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.I), t) for p, t in (
    (r"^\s*(?:and\s+|but\s+|so\s+)?(?:who|whom)\b", "person"),
    (r"\bwhose\b", "person"),
    # "when" asks for a date where it opens the question; inside one ("What best did he set when
    # winning...") it is a conjunction, and the question's own phrase decides
    (r"^\s*(?:and\s+|but\s+|so\s+)?(?:since\s+|until\s+)?when\b|"
     r"\bwhat (?:year|date|day|month|time of year)\b|\bwhich (?:year|date|day|month)\b|"
     r"\bhow long ago\b", "date"),
    (rf"\bhow much\b.*\b(?:{_MONEY_WORDS})\b|\bhow much (?:money|cash)\b|\bat what price\b|"
     rf"\bwhat (?:was|is|were|are) the (?:price|cost|value|fee|fine|bid|offer|deal|salary|budget)\b|"
     rf"\bfor how much\b|\bwhat (?:was|were|is|are)\b[^?]*\b(?:profits?|revenues?|turnover|earnings|"
     rf"losses|debts?|prices?|costs?|fees?|fines?|salary|budget|valuation)\b", "money"),
    (r"\bhow (?:many|much|long|far|big|large|old|fast|high|tall|often)\b|"
     r"\bwhat (?:percentage|proportion|share|number|rate|score|figure|total|time|margin|age)\b|"
     r"\bwhat (?:was|is|were|are) the (?:average|total|combined|overall|peak|record|final)? ?(?:audience|"
     r"attendance|population|turnout|majority|tally|number|rate|score|figure|total|margin)\b|"
     r"\bby how\b|\bwhat was the (?:final )?score\b", "number"),
    (r"\bwhere\b|\bwhich (?:country|city|town|venue|stadium|nation|region|capital|state|island|county)\b|"
     r"\bwhat (?:country|city|town|venue|stadium|nation|region)\b", "place"),
    (r"\b(?:which|what) (?:company|firm|team|club|band|group|film|movie|book|album|song|show|programme|"
     r"party|organisation|organization|bank|airline|carrier|network|channel|brand|game|console|player|"
     r"singer|actor|actress|director|minister|chancellor|manager|coach|chief|boss|star|newspaper|award|"
     r"prize|title|name|court|agency|body|union|operator|retailer|country's|newcomer)\b|\bwhat is the name\b|"
     r"\bwhat was the name\b|\bwho\b|\bwhich\b", "name"),
))
_LIST = re.compile(r"\b(?:which|what) (?:\w+ ){0,2}(?:companies|firms|teams|clubs|countries|players|films|"
                   r"awards|people|bands|products|libraries|parties|games|ministers|candidates|nations|"
                   r"categories|prizes|things|measures|proposals|reasons|changes|plans)\b|\blist\b|"
                   r"\bwho (?:are|were) the\b|\bname (?:the|all)\b", re.I)
_COMPARE = re.compile(r"\bcompare[sd]?\b|\bcomparison\b|\bvs\.?\b|\bversus\b|\bagainst\b.*\?$|"
                      r"\b(?:more|less|fewer|better|worse|bigger|smaller|higher|lower) than\b|"
                      r"\bdifference between\b", re.I)
_OVER_TIME = re.compile(r"\bover time\b|\btimeline\b|\bhow (?:did|has|have) .* (?:develop|unfold|evolve|"
                        r"progress|change)|\bwhat happened (?:with|to|in)\b|\bhistory of\b|\bsaga\b|"
                        r"\bstep by step\b|\bsequence of events\b", re.I)
# a quoted phrase; an apostrophe inside a word ("I'm", "country's") neither opens nor closes one, a quote
# closes with its own kind of mark, and a mark after a comma or full stop closes an earlier quote:
# in 'stolen," Mr Yushchenko told an investors' conference' nothing is quoted
_QUOTED = re.compile(r"(?<![\w,.;:!?])(?:[\"“]([^\"“”]{3,60})[\"”]"
                     r"|['‘]((?:[^\"“”‘’']|(?<=\w)['’](?=\w)){3,60})['’])(?!\w)")
# capitalised runs; the first word of the question is skipped unless it is clearly a name
_CAP_RUN = re.compile(r"\b(?:[A-Z][\w&'.-]*|\d+[A-Za-z]*)"
                      r"(?:\s+(?:of|the|de|van|von|and|&)?\s*[A-Z][\w&'.-]*)*")
_NOT_NAMES = frozenset(str.split(
    """Who Whom Whose What Which When Where Why How Did Does Do Is Are Was Were Will Would Can Could Should
    Has Have Had And But So Also Then The A An In On At Of For To From By With Mr Mrs Ms Dr Sir I It Its
    Tell Name List Compare Give Show Please If After Before During Since Until Between Over"""
))


@dataclass(frozen=True)
class QuestionFrame:
    """What the question asks for: its shape, expected answer type and hard constraints."""

    shape: str  # "factoid" | "list" | "compare" | "over_time" | "open"
    expects: str  # one of TYPES
    years: tuple[str, ...]  # years named in the question ("2005")
    names: tuple[str, ...]  # capitalised names and quoted phrases, lower-cased ("australian open")
    kind: str | None = None  # the kind of thing a "which X" question asks for ("dam"), lower-cased


def analyse(question: str) -> QuestionFrame:
    """The frame of a question.

    >>> f = analyse("Who won the men's singles title at the 2005 Australian Open?")
    >>> f.shape, f.expects, f.years, f.names
    ('factoid', 'person', ('2005',), ('australian open',))
    >>> analyse("How much did Glazer offer for Manchester United?").expects
    'money'
    >>> analyse("What did Labour propose on maternity pay?").expects
    'open'
    """
    q = question.strip()
    # the earliest question phrase decides: "How much did X pay when ..." wants money, not a date
    found = [(m.start(), n, t) for n, (rx, t) in enumerate(_RULES) if (m := rx.search(q))]
    expects = min(found)[2] if found else "open"
    if _OVER_TIME.search(q):
        shape = "over_time"
    elif _COMPARE.search(q):
        shape = "compare"
    elif _LIST.search(q):
        shape = "list"
    elif expects == "open":
        shape = "open"
    else:
        shape = "factoid"
    years = tuple(dict.fromkeys(YEAR.findall(q)))
    return QuestionFrame(shape, expects, years, names_in(q), asked_kind(q))


def known_words(question: str, frame: QuestionFrame) -> tuple[str, ...]:
    """What the question already says (names, years, terms, words): no candidate answer repeats it."""
    words = tuple(w.lower() for w in re.findall(r"\w+", question))
    return tuple(frame.names) + frame.years + tuple(content_terms(question)) + words


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """The spans of the phrases quoted in `text` (inside the marks)."""
    return [m.span(1) if m.group(1) is not None else m.span(2) for m in _QUOTED.finditer(text)]


def names_in(text: str) -> tuple[str, ...]:
    """Capitalised names and quoted phrases of a text, lower-cased, without leading question words.

    >>> names_in("How much did Malcolm Glazer bid for Man Utd in 2005?")
    ('malcolm glazer', 'man utd')
    """
    out: list[str] = [text[a:b].lower() for a, b in quoted_spans(text)]
    for m in _CAP_RUN.finditer(text):
        words = m.group(0).split()
        while words and (words[0] in _NOT_NAMES or words[0].lower() in ("of", "the", "and", "&")
                         or YEAR.fullmatch(words[0])):
            words = words[1:]
        while words and words[-1].lower() in ("of", "the", "and", "&", "de", "van", "von"):
            words = words[:-1]
        if not words or (len(words) == 1 and (YEAR.fullmatch(words[0]) or words[0][0].isdigit())):
            continue
        name = " ".join(words).strip(".,'").lower()
        name = re.sub(r"'s$", "", name)
        if len(name) > 1:
            out.append(name)
    return tuple(dict.fromkeys(out))


# --- answer candidates in a sentence -------------------------------------------------------------

_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                 r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
                 r"eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
                 r"dozen|dozens|half|third|quarter|double|twice|treble|triple")
# "five million" is one amount, not "five" and "million"
NUMBER = re.compile(rf"\d[\d,.]*\s*(?:%|per ?cent|bn|m|k|million|billion|trillion)?\b"
                    rf"|\b(?:{_NUMBER_WORDS})(?:[\s-]+(?:hundred|thousand|million|billion)s?)*\b",
                    re.I)
# "hundreds of ballot papers", "thousands of pounds": a rough size, not the figure a question asks for
_VAGUE = re.compile(r"(?:hundreds|thousands|millions|billions|dozens)", re.I)
MONEY = re.compile(r"[£$€¥]\s?\d[\d,.]*\s*(?:bn|m|k|million|billion|trillion)?\b|"
                   r"\b\d[\d,.]*\s*(?:bn|m|million|billion|trillion)?\s*(?:dollars|pounds|euros|yen|roubles|"
                   r"rupees|yuan|francs|pence|p)\b|\b(?:US|Aus|NZ|HK|A|C)\$\s?\d[\d,.]*\s*(?:bn|m)?", re.I)
DATE = re.compile(rf"\b(?:{_MONTH_RE})\b\.?(?:\s+\d{{1,2}})?|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH_RE})\b|"
                  r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
                  r"\b(?:19|20)\d\d\b|\b(?:yesterday|today|tomorrow|last (?:week|month|year)|"
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
    ['Jamie Foxx', 'Ray Charles', 'Ray']
    >>> v = "Hilary Swank won Best Actress while Foxx triumphed, a former Davis Cup player said."
    >>> [v[a:b] for a, b in candidates(v, "person", ("oscar",))]
    ['Hilary Swank', 'Foxx']
    >>> t = "Rosneft bought it in a deal worth $9.4bn (£5bn)."
    >>> [t[a:b] for a, b in candidates(t, "money", ())]
    ['$9.4bn', '£5bn']
    >>> u = "Novartis bought 67.7% of Eon Labs, founded in 1997, for $31 a share and will cut 1,000 jobs."
    >>> [u[a:b] for a, b in candidates(u, "number", ("how", "many", "jobs"))]
    ['1,000']
    """
    if expects == "money":
        found = [m.span() for m in MONEY.finditer(sentence)]
        if not found:  # "25.4bn" without its currency; a bare number is rarely a price
            found = [m.span() for m in NUMBER.finditer(sentence)
                     if re.search(r"\d.*(?:bn|m|illion)", m.group(0))]
    elif expects == "number":
        # "how many ...?" asks for a count: a share ("67.7%"), a sum of money or a year is not one
        duration = _asks(known, r"how long")
        counting = _asks(known, r"how many") and not any(
            k in ("percentage", "percent", "proportion", "share") for k in known)
        found = ([] if counting else [m.span() for m in MONEY.finditer(sentence)]) + [
            m.span() for m in NUMBER.finditer(sentence)
            if (not re.match(r"-year-old|-years-old| years? old", sentence[m.end():m.end() + 10])
                or any(k in ("old", "age", "aged") for k in known))
            and not _in_date(sentence, *m.span())
            and not YEAR.fullmatch(m.group(0).strip(" ,."))  # a year is a date, not an amount
            and not _VAGUE.fullmatch(m.group(0).strip())
            # "in 19 minutes" is no attendance, "world number 46" no match length: a duration answers
            # "how long" and nothing else
            and (_TIME_UNIT.match(sentence, m.end()) is not None) == duration
            and not (counting and (re.search(r"per ?cent$", m.group(0))
                                   or re.match(r"\s*(?:%|per ?cent)", sentence[m.end():m.end() + 9])
                                   or MONEY.match(sentence, max(m.start() - 1, 0))))]
    elif expects == "date":
        # "what year" wants a year, not "Monday"; "what date", "which day" want a day, not a bare year,
        # a month ("next July") or "this month"
        year = _asks(known, r"(?:what|which) year")
        day = not year and _asks(known, r"(?:what|which) (?:date|day)")
        found = [m.span() for m in DATE.finditer(sentence)
                 if (not year or YEAR.search(m.group(0)))
                 and not (day and (YEAR.fullmatch(m.group(0).strip())
                                   or not re.search(r"\d|day\b", m.group(0), re.I)))]
    elif expects in ("person", "place", "name"):
        found = []
        for m in _SENT_NAME.finditer(sentence):
            a, b = m.span()
            while b > a and sentence[b - 1] in ".'’":
                b -= 1
            first = sentence[a:b].split(" ", 1)
            if not sentence[:a].strip() and first[0] in _OPENERS:  # the sentence's opening word is no name:
                if len(first) == 1:
                    continue  # "While saying he admired..."
                a += len(first[0]) + 1  # "Although Mr Raskin ..."
            month = re.match(r"(\w+)\s+(?:and|&)\s+", sentence[a:b])
            if month and month.group(1).lower() in _CALENDAR:
                a += month.end()  # "in December and Yugansk was sold": a month is no part of a name
            text = sentence[a:b]
            if text.endswith(("'s", "’s")):
                b -= 2
                text = sentence[a:b]
            if not sentence[:a].strip() and " " not in text and not re.search(
                    rf"[^.!?\s]\s+{re.escape(text)}\b", context):
                continue  # a capitalised first word that its passage never capitalises mid-sentence
            if expects == "person" and not _may_be_person(text, sentence[max(0, a - 4):a]):
                continue
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
                                           rf"((?:[A-Z][\w-]*|\d[\w-]*)(?:\s+(?:[A-Z][\w-]*|\d[\w-]*))*)"
                                           rf"\s+{h}\b")
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

    return min(spans, key=lambda span: (-near_kind(sentence, span, kind), distance(span)))


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


_PRIZE_OR_EVENT = re.compile(r"^(?:Best|Outstanding|Lifetime)\b|\b(?:Cup|Open|Awards?|Prize|Trophy|"
                             r"Championships?|Games|Festival|Slam|Series|Show|Conference|Summit|Olympics|"
                             r"Finals?|Tour)$")
_TITLES = frozenset(["mr", "mrs", "ms", "dr", "sir", "lord", "ladi", "prof", "teenag",
                     "the", "of", "and", "a", "s"])
_CALENDAR = frozenset(m.lower() for m in (*calendar.month_name[1:], *calendar.day_name))
# "Russian company", "Japanese carmaker": a nationality before a noun, not a name
# ("Japan is", "Trollhaettan in" are places: a verb or preposition after the word is no noun)
_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ian|ese|ish|an|i)\s+(?!(?:in|on|at|of|to|for|by|from|with|and|or|as|"
                      r"has|had|have|is|was|were|are|will|would|could|said|says)\b)[a-z]")
_DEMONYM_END = re.compile(r"^[a-z]{3,}(?:ian|ese|ish|an|i|ch)$")


def _may_be_person(text: str, before: str) -> bool:
    """Whether a capitalised run (`before`: the few characters ahead of it) could name a person: not a
    prize or a contest ("Best Actress", "the Davis Cup"), and not a name after an article, which
    qualifies a thing ("the Wimbledon finals", "the GB men's team"), unless a nationality opens it
    ("the Australian Lleyton Hewitt")."""
    first = text.split()[0]
    if first in ("The", "A", "An") or _PRIZE_OR_EVENT.search(text):
        return False
    return not (re.search(r"\b(?:the|a|an)\s+$", before, re.I) and not _DEMONYM_END.search(first.lower()))


# words capitalised only because they open a sentence, which the name pattern would join to a name
_OPENERS = frozenset(str.split(
    """Although Though While Whilst When Whenever Where After Before Since Until As If Unless Because
    But And Or So Yet However Meanwhile Despite Following With Without Under Over In On At For From By To
    Then Now Today Yesterday Last Next This That These Those His Her Their Its Our My Former
    Both Neither Either Only Even Also Instead Earlier Later Recently Currently"""
))
_NOT_NAMES_LOWER = frozenset(w.lower() for w in _NOT_NAMES) | {
    "he", "she", "they", "we", "but", "however", "i", "i'm", "i’m"}
