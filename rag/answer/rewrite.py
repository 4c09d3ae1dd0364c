"""Rewrite stage: a follow-up question + chat history -> one standalone retrieval query.

Retrieval sees one query, not a conversation, so "And Canada?" must become "How many soldiers will
Canada each contribute?". With an LLM configured it does the rewrite; offline, two heuristics cover
the common shapes: an elliptical follow-up ("And Canada?") takes the place of the previous question's
named entities, and an anaphoric one ("What did Russia say about that?") gets the previous question's
topic spelled out next to the pronoun. Questions that look standalone are left alone either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.candidates import candidates
from rag.answer.llm import complete, llm_configured
from rag.answer.markers import strip_markers
from rag.answer.prompt import rewrite_messages
from rag.answer.question import analyse, known_words
from rag.errors import LLMUnavailable
from rag.settings import LLMSettings

_AUX_WORDS = "is|are|was|were|do|does|did|will|would|can|could|should|has|have|had"
_LEAD = re.compile(
    r"^\s*(?:(?:and|but|also|so|then|ok|okay)\b[\s,]*)?(?:(?:what|how)\s+about\b\s*)?", re.IGNORECASE
)
_PRONOUN = re.compile(
    r"\b(it|its|that|this|these|those|they|them|their|he|she|him|her|his|there)\b", re.IGNORECASE
)
_WH = re.compile(rf"^\s*(who|whom|whose|what|which|when|where|why|how|{_AUX_WORDS})\b", re.IGNORECASE)
# a run of capitalised words (not the first word), joined by commas, "and", "or", "the", "of"
_ENTITY_RUN = re.compile(
    r"(?<!^)(?:\bthe\s+)?\b[A-Z][\w.'-]*(?:(?:\s*,\s*|\s+(?:and|or|of|the)\s+|\s+)(?:the\s+)?[A-Z][\w.'-]*)*"
)
_LEADING_QUESTION = re.compile(
    r"^\s*(?:(?:how|what|which|who|when|where|why)\s+)?(?:many|much|long|often)?\s*", re.IGNORECASE
)
_AUX = re.compile(rf"^(?:{_AUX_WORDS})\s+", re.IGNORECASE)
_SHORT = 4  # words; "And Canada?", "What about Poland's army?"


def is_follow_up(question: str) -> bool:
    """Example:

    >>> is_follow_up("And Canada?"), is_follow_up("Who leads NATO?")
    (True, False)
    """
    lead = _LEAD.match(question)
    words = re.findall(r"\w+", question)
    return bool(lead and lead.group(0).strip()) or len(words) <= _SHORT and not _WH.match(question) \
        or bool(_PRONOUN.search(question))


def _topic(previous: str) -> str:
    """The previous question minus its question words: "How many soldiers will X send?" ->
    "soldiers will X send"."""
    rest = _LEADING_QUESTION.sub("", previous.strip().rstrip("?.! "), count=1)
    return rest.strip() or previous.strip().rstrip("?.! ")


def rewrite_offline(question: str, previous: str, previous_answer: str = "") -> str:
    r"""Example:

    >>> rewrite_offline("And Canada?", "How many soldiers will the US and Britain each contribute?")
    'How many soldiers will Canada each contribute?'
    >>> rewrite_offline("Which seat does he hold?", "Which MP defected?", "Robert Jackson [1]\n\nquote [2]")
    'Which seat does Robert Jackson hold?'
    >>> rewrite_offline("And what did the opposition say?", "What did Labour propose on maternity pay?")
    'And what did the opposition say? (Labour propose on maternity pay)'
    """
    q = question.strip()
    lead = _LEAD.match(q)
    fragment = q[lead.end():] if lead else q
    fragment = fragment.strip().rstrip("?.! ")
    elliptical = bool(fragment) and not _WH.match(fragment) and len(fragment.split()) <= _SHORT
    if elliptical:
        runs = list(_ENTITY_RUN.finditer(previous))
        if runs and re.search(r"\b[A-Z]", fragment):
            # a name for a name: "And Canada?" swaps out "the US, Germany and Britain"
            run = max(runs, key=lambda m: len(m.group(0)))
            return previous[: run.start()] + fragment + previous[run.end():]
        # anything else ("And in 2021?") narrows the previous question
        return f"{previous.strip().rstrip('?.! ')} {fragment}?"
    person = _PERSON_PRONOUN.search(q)
    name = (short_answer_of(previous_answer) or _quoted_name(previous_answer)
            or _person_written(previous, previous_answer))
    if person and name:
        # "Which seat does he hold?" after "Which MP defected?" answered "Robert Jackson"
        said = f"{name}'s" if person.group(0).lower() in ("his", "her") and _possessive(q, person) else name
        return q[: person.start()] + said + q[person.end():]
    pronoun = _PRONOUN.search(q)
    if pronoun:
        topic = _AUX.sub("", _topic(previous))
        return q[: pronoun.end()] + f" ({topic})" + q[pronoun.end():]
    if lead and lead.group(0).strip():
        # "And what did the opposition say?": the same topic from another side
        return f"{q} ({_AUX.sub('', _topic(previous))})"
    return q


_PERSON_PRONOUN = re.compile(r"\b(he|she|him|his|her)\b", re.IGNORECASE)
_SHORT_ANSWER = re.compile(r"^([^\n\[\]]{2,60}?)\s*\[\d+\]\s*(?:\n|$)")


def short_answer_of(answer: str) -> str:
    """The short answer an extractive answer opens with ("Robert Jackson [1]"), or ''."""
    m = _SHORT_ANSWER.match(answer.strip())
    return m.group(1).strip() if m and len(m.group(1).split()) <= 6 else ""


# How the local answerer shows the extractive short answer that a written answer did not name: the
# written answer and the quote disagree, and a follow-up's "he" takes the quoted name, which the
# reader can check against its sentence (the written name may be a firm: "Xerox PARC developed ...").
BEST_QUOTE_NAMES = "The best-matching quote names"
_QUOTED_NAME = re.compile(rf"^{BEST_QUOTE_NAMES} ([^:\n]{{2,60}}): ", re.MULTILINE)


def _quoted_name(answer: str) -> str:
    m = _QUOTED_NAME.search(answer)
    return m.group(1).strip() if m else ""


def _person_written(previous: str, answer: str) -> str:
    """The first name in an answer to a "who" question that the question did not already say, for an
    answer that opens with no bare short answer: a written one ("Jef Raskin led the team [1]." -> "Jef
    Raskin"), or quotes whose short answer was not sure enough to show, each led by its headline,
    which names the story, not the answer ("Eastwood's Baby scoops top Oscars: Jamie Foxx picked up
    best actor [1]").

    >>> _person_written("Who led the Mac team?", "The team at Apple was led by Jef Raskin [1].")
    'Jef Raskin'
    >>> _person_written("Who led the Mac team?", "Jef Raskin led the team [1].")
    'Jef Raskin'
    >>> _person_written("What did Apple make?", "Jef Raskin led the team [1].")
    ''
    >>> _person_written("Who won the best actor Oscar?", "Eastwood's Baby scoops top Oscars: Jamie Foxx "
    ...                 "picked up best actor for playing soul star Ray Charles in Ray. [1]")
    'Jamie Foxx'
    """
    frame = analyse(previous)
    if frame.expects != "person":
        return ""
    first = re.split(r"(?<=[.!?])\s|\n", strip_markers(answer).strip(), maxsplit=1)[0]
    headline, colon, quote = first.partition(": ")
    names = []
    for text in (quote, headline) if colon else (first,):
        names += [text[a:b] for a, b in candidates(text, "person", known_words(previous, frame), text)]
    # a person is usually named in full on first mention ("Jef Raskin"), a firm or place in one word
    return next((n for n in names if " " in n), names[0] if names else "")


def _possessive(question: str, match: re.Match[str]) -> bool:
    """'her' before a noun ("her film") is possessive; 'her' at the end or before a verb is not."""
    if match.group(0).lower() == "his":
        return True
    after = question[match.end():].split()
    return bool(after) and after[0].lower() not in ("to", "in", "at", "on", "for", "with", "about", "?")


def standalone_offline(question: str, history: Sequence[tuple[str, str]]) -> str:
    """Rewrite through the whole history, so a follow-up of a follow-up still resolves."""
    previous: str | None = None
    previous_answer = ""
    for user, assistant in history:
        previous = user if previous is None or not is_follow_up(user) else \
            rewrite_offline(user, previous, previous_answer)
        previous_answer = assistant
    if previous is None or not is_follow_up(question):
        return question
    return rewrite_offline(question, previous, previous_answer)


def rewrite_query(
    question: str, history: Sequence[tuple[str, str]], llm: LLMSettings, use_llm: bool
) -> tuple[str, LLMUnavailable | None]:
    """The standalone query, and the LLM's failure when it was asked and failed (then the rewrite
    is done offline, and the caller knows not to wait on the same endpoint again)."""
    if not history or not is_follow_up(question):
        return question, None
    if use_llm and llm_configured(llm):
        try:
            lines = complete(rewrite_messages(question, history), llm).strip().splitlines()
            query = lines[0].strip().strip('"') if lines else ""
            if query:
                return query, None
        except LLMUnavailable as exc:
            return standalone_offline(question, history), exc
    return standalone_offline(question, history), None
