"""Question analysis: what kind of answer a question wants and which constraints an answer must meet.

Pure functions on the question text. The extractive answerer uses the frame to tell a sentence that
answers ("Jamie Foxx picked up best actor") from one that is merely about the topic ("Foxx is
nominated for best actor"): the expected answer type must be present as a candidate the question does
not already contain, and the question's years and names must hold in the sentence or its article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.kinds import asked_kind, person_kind
from rag.answer.support import content_terms
from rag.dates import YEAR
from rag.retrieval.timequery import _MONTHS  # month names and abbreviations, lower-cased

# answer types; "open" is a why/how/what-did-X-say question with no single short answer
TYPES = ("person", "date", "number", "money", "place", "name", "open")
SHORT_TYPES = TYPES[:-1]  # the types whose answer is a short span: a name, figure, date or place

_MONEY_WORDS = (r"cost|costs|costing|pay|paid|pays|price|priced|worth|sell|sold|fetch|fetched|spend|spent|"
                r"raise|raised|earn|earned|profit|profits|revenue|revenues|sales|deal|fee|fine|fined|bid|"
                r"offer|value|valued|budget|salary|tax|debt|owe|owed|loss|losses|invest|invested|charge|bill|"
                r"compensation|damages|fund|funds|funded|funding|pledge|pledged|give|gave|grant|granted|"
                r"donate|donated|lend|lent|loan|borrow|borrowed|takings|grossed")
# "What net loss did ...", "What per-share profit ...", "To what level ...": a figure named by its noun,
# after at most three modifiers (no verb between: "What did Brown say about tax" asks no figure; no
# possessive: "Which company's share price fell?" asks for a company)
_VERBS = r"did|does|do|was|is|were|are|will|would|has|have|had"
_MODIFIERS = rf"(?:what|which)\s+(?:(?!(?:{_VERBS})\b|[\w-]+['’]s\b)[\w'-]+\s+){{0,3}}?"
_MONEY_NOUNS = (r"profits?|loss|losses|income|earnings|revenues?|turnover|sales|price|cost|fee|fine|salary|"
                r"wages?|allowance|dividend|bid|offer|award|damages|compensation|amount|sum|payout|bonus")
_NUMBER_NOUNS = (r"rate|stake|share|level|height|speed|distance|size|majority|output|production|quota|"
                 r"capacity|growth|inflation|unemployment|exports|imports|volume|personal best")
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.I), t) for p, t in (
    (r"^\s*(?:and\s+|but\s+|so\s+)?(?:(?:with|to|by|for|from)\s+)?(?:who|whom)\b", "person"),
    (r"\bwhose\b|\b(?:first|given|last|full|maiden) name\b|\bsurname\b", "person"),
    # "when" asks for a date where it opens the question; inside one ("What best did he set when
    # winning...") it is a conjunction, and the question's own phrase decides
    (r"^\s*(?:and\s+|but\s+|so\s+)?(?:since\s+|until\s+)?when\b|"
     r"\bwhat (?:year|date|day|month|time of year)\b|\bwhich (?:year|date|day|month)\b|"
     r"\bhow long ago\b", "date"),
    (rf"\bhow much\b.*\b(?:{_MONEY_WORDS})\b|\bhow much (?:money|cash)\b|\bat what price\b|"
     rf"\bwhat (?:was|is|were|are) the (?:price|cost|value|fee|fine|bid|offer|deal|salary|budget)\b|"
     rf"\bfor how much\b|\bwhat (?:was|were|is|are)\b[^?]*\b(?:profits?|revenues?|turnover|earnings|"
     rf"losses|debts?|prices?|costs?|fees?|fines?|salary|budget|valuation|income|dividend|wages?|allowance)\b|"
     rf"\b{_MODIFIERS}(?:{_MONEY_NOUNS})\b", "money"),
    (r"\bhow (?:many|much|long|far|big|large|old|fast|high|tall|often)\b|"
     r"\bwhat (?:percentage|proportion|share|number|rate|score|figure|total|time|margin|age)\b|"
     r"\bwhat (?:was|is|were|are) the (?:average|total|combined|overall|peak|record|final)? ?(?:audience|"
     r"attendance|population|turnout|majority|tally|number|rate|score|figure|total|margin)\b|"
     r"\bby how\b|\bwhat was the (?:final )?score\b|"
     rf"\b{_MODIFIERS}(?:{_NUMBER_NOUNS})\b|"
     rf"\bwhat (?:was|is|were|are)\b[^?]*\b(?:{_NUMBER_NOUNS})\b", "number"),
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
# a model number ends a name ("PlayStation 3", "Half-Life 2", "FTSE 100"), a score or share does not
# ("Aberdeen 4-1", "Britain's 659 MPs")
_CAP_RUN = re.compile(r"\b(?:[A-Z][\w&'.-]*|\d+[A-Za-z]*)"
                      r"(?:\s+(?:of|the|de|van|von|and|&)?\s*[A-Z][\w&'.-]*)*"
                      r"(?:(?<!'s)(?<!’s)\s+\d{1,3}(?![\d%.,:/–-]|\s*%|\s*per\s*cent))?")
NOT_NAMES = frozenset(str.split(
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
    >>> analyse("What net loss did Varity report?").expects, analyse("Which firm's share price fell?").expects
    ('money', 'name')
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
    kind = asked_kind(q)
    if expects == "name" and person_kind(kind):
        expects = "person"  # "which party leader", "which jazz flautist"
    return QuestionFrame(shape, expects, years, names_in(q), kind)


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
    >>> names_in("How much will the PlayStation 3 cost, and did Aberdeen win 4-1?")
    ('playstation 3', 'aberdeen')
    >>> names_in("What did Barclays offer in March 1987, and Theresa May in May?")
    ('barclays', 'theresa may')
    >>> names_in("Describe the plans"), names_in("Explain the Barclays bid"), names_in("Tony Blair said?")
    ((), ('barclays',), ('tony blair',))
    """
    out: list[str] = [text[a:b].lower() for a, b in quoted_spans(text)]
    for m in _CAP_RUN.finditer(text):
        words = m.group(0).split()
        if not text[: m.start()].strip(" \"'“‘(") and (len(words) == 1 or words[1][0].islower()):
            words = words[1:]  # the opening word alone is capitalised by its place: a verb, "Describe"
        while words and (words[0] in NOT_NAMES or words[0].lower() in ("of", "the", "and", "&")
                         or YEAR.fullmatch(words[0])):
            words = words[1:]
        while words and words[-1].lower() in ("of", "the", "and", "&", "de", "van", "von"):
            words = words[:-1]
        if not words or (len(words) == 1 and (YEAR.fullmatch(words[0]) or words[0][0].isdigit()
                                              or words[0].lower() in _MONTHS)):
            continue  # a month is a time, not a name ("in March 1987", "ended May 31")
        name = " ".join(words).strip(".,'").lower()
        name = re.sub(r"'s$", "", name)
        if len(name) > 1:
            out.append(name)
    return tuple(dict.fromkeys(out))
