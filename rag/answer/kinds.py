"""What a question asks for beyond its answer type: the kind of thing a "which X" question wants
("which dam" -> dam) and what a "how many X" question counts ("jobs"), and how close a candidate
answer in a sentence stands to that kind or count. Pure functions on text, used by the question frame
(rag.answer.question) and the answerhood features (rag.answer.answerhood).
"""

from __future__ import annotations

import re

from rag.retrieval.bm25 import tokenize

_NOT_KINDS = frozenset(str.split("""is was are were did does do has had will would can could should
    year years date day days month time kind type sort part percentage proportion share number happened"""))


# words after "which" that qualify the kind rather than name it ("which former minister")
_QUALIFIERS = frozenset(str.split("former new first last main top other same only little big small"))
# words that end the "which X" phrase: its verb, a preposition, a determiner ("which country won the")
_PHRASE_END = frozenset(str.split(
    """is was are were be been did does do has had have will would can could should may might and or but
    of in at on to for from by with into about after before during under over as than that who whom
    whose which what where when why how it the a an his her its their this these those won beat made
    sold bought took gave left ran led met told paid hit lost held kept chose became came went saw knew
    began wrote got put quit grew rose fell drew shot struck spent sent built brought caught fought
    thought stood said says since per"""))


def asked_kind(question: str) -> str | None:
    """The kind of thing a "which X" / "what X" question asks for: the head word of X, the last
    lower-case word before its verb ("which southern African cactus is" -> cactus) or possessive
    ("which jazz flautist's composition" -> flautist); None for "what is", "what year", a name
    ("which Morpeth Harrier won") and the like.

    >>> asked_kind("Which Nokia handset will passengers need?"), asked_kind("Which little-known company won?")
    ('handset', 'company')
    >>> asked_kind("What is the name of the drug?") is None
    True
    """
    m = re.search(r"(?:^\W*|\b(?:[Ii]n|[Aa]t|[Oo]n|[Tt]o|[Bb]y|[Ff]or|[Ff]rom|[Tt]hrough|[Ww]ith|[Ii]nto|"
                  r"[Oo]f)\s+)"
                  r"(?:[Ww]hich|[Ww]hat)\s+((?:[\w'’-]+[,;:?]?\s+){0,7})", question + " ")
    if not m:
        return None
    head = None
    words = m.group(1).split()
    for i, raw in enumerate(words):
        word = raw.strip(",.;:?!")
        lower = word.lower()
        following = words[i + 1].strip(",.;:?!").lower() if i + 1 < len(words) else ""
        if lower in _PHRASE_END or (head and lower.endswith("ed")):
            break
        if following in ("the", "a", "an", "his", "her", "its", "their") and raw[-1].isalnum():
            break  # a verb: "which band played the first concert"
        possessive = re.sub(r"['’]s?$", "", word)
        if word[0].isupper() or "-" in word or lower in _QUALIFIERS or not possessive.isalpha():
            continue
        head = possessive.lower()
        if possessive != word or raw[-1] in ",;:?":
            break
    return None if head is None or head in _NOT_KINDS else head


def counted_noun(question: str) -> str | None:
    """What a "how many X" question counts: the last word of X before the phrase ends, lower-cased ("how
    many Xbox power cables did..." -> "cables"; "how many schools took part" -> "schools"); None where
    it counts nothing named ("how many of Britain's...").

    >>> counted_noun("How many jobs did Novartis say it would cut?"), counted_noun("How many of them won?")
    ('jobs', None)
    """
    m = re.search(r"\bhow many\s+((?:[\w'’-]+\s+){0,4})", question + " ", re.I)
    if not m:
        return None
    head = None
    for word in m.group(1).split():
        if word.lower() in _PHRASE_END:
            break
        head = word
    return head.lower() if head and head.isalpha() else None


def unit_near(sentence: str, span: tuple[int, int], noun: str) -> float:
    """1 when the counted noun follows the count within three words ("14 million power cables"),
    0.5 when it is elsewhere in the sentence ("the number of civil servants rose to 520,000"), else 0."""
    stem = tokenize(noun)[:1]
    after = [tokenize(w)[:1] for w in re.findall(r"[\w'’-]+", sentence[span[1]:])[:3]]
    if stem and stem in after:
        return 1.0
    return 0.5 if stem and stem[0] in tokenize(sentence) else 0.0


def near_kind(sentence: str, span: tuple[int, int], kind: str | None) -> int:
    """2 when the candidate at `span` holds the asked kind ("Three Gorges Dam"), 1 when it stands
    within three words of it ("the radius, a large bone"), else 0."""
    if not kind:
        return 0
    a, b = span
    named = re.compile(rf"\b{re.escape(kind)}s?\b")
    if named.search(sentence[a:b].lower()):
        return 2
    left = re.findall(r"[\w-]+", sentence[max(0, a - 40):a].lower())[-3:]
    right = re.findall(r"[\w-]+", sentence[b:b + 40].lower())[:4]
    return int(named.search(f"{' '.join(left)} | {' '.join(right)}") is not None)


# last words that make a capitalised name an organisation, an event, a work or a place, not a person
_THING_HEADS = frozenset(str.split(
    """group bank plc inc ltd corp corporation company co investments holdings records studios pictures
    films media entertainment network networks services systems technologies airlines airways motors
    party council union association league federation committee commission board agency office ministry
    department court parliament assembly government institute university college school academy club
    society trust foundation fund charity team united rovers athletic tour cup open championship
    championships games olympics prize award awards festival show series bear lion times post news
    journal magazine radio tv channel theatre museum gallery hall house palace centre center street
    road avenue boulevard square park stadium arena airport station bridge city town county state
    republic kingdom island islands valley river lake sea ocean coast bay mountains hills province"""))
# the first word of a prize's name: "Best Actress", "Outstanding Contribution"
_PRIZE_OPENERS = frozenset(["Best", "Outstanding", "Most", "Lifetime", "Top"])
_PERSON_TITLE = (r"(?:Mr|Mrs|Ms|Miss|Dr|Sir|Dame|Lord|Lady|Prof|Professor|Judge|President|Chancellor|"
                 r"Prince|Princess|Senator|Governor|Rev|Captain|General|coach|manager|boss|striker|"
                 r"midfielder|defender|goalkeeper|actor|actress|singer|director|star|chairman|minister)")
_SPEECH = (r"(?:said|says|told|added|admitted|insisted|argued|claimed|explained|warned|believes|thinks|"
           r"wrote|revealed|denied|confirmed|agreed|stressed)")


def person_evidence(name: str, text: str) -> float:
    """How `text` treats a capitalised name: 1 when as a person (a title or role before its last word,
    "Mr Blair", "striker Owen"; its last word speaking, "Hewitt said"; an age after it, "Smith, 34,"),
    0 when the name has the form of something else (an acronym, a plural, a prize, "Best Actress", a
    last word such as Tour, Group, City, Festival), 0.25 when it follows "in", "at", "from" or "near"
    (a place), else 0.5. Who-questions in news want people, and a capitalised run next to the asked
    words ("Wimbledon", "WTA Tour", "Gunners") often is not one.

    >>> person_evidence("Lleyton Hewitt", "Lleyton Hewitt beat Safin. Hewitt said he was tired.")
    1.0
    >>> person_evidence("WTA Tour", "Mirza won a WTA Tour title."), person_evidence("Sydney", "in Sydney")
    (0.0, 0.25)
    """
    words = re.findall(r"[\w'’.&-]+", name)
    if not words:
        return 0.0
    last = re.sub(r"['’]s?$", "", words[-1])
    if (last.lower() in _THING_HEADS or (len(last) > 1 and last.isupper()) or words[0] in _PRIZE_OPENERS
            or (len(words) == 1 and last.endswith("s") and not last.endswith("ss"))):
        return 0.0
    w = re.escape(last)
    if re.search(rf"\b{_PERSON_TITLE}\.?\s+(?:[A-Z][\w'’-]+\s+){{0,2}}{w}\b", text) or re.search(
            rf"\b{w}(?:,[^,.]{{1,60}},)?\s+{_SPEECH}\b|\b{_SPEECH}\s+(?:[A-Z][\w'’-]+\s+)?{w}\b"
            rf"|\b{w},\s+\d{{2}},", text):
        return 1.0
    # "in Sydney", "from Geneva": a place
    return 0.25 if re.search(rf"\b(?:in|at|from|near)\s+{re.escape(name)}\b(?!['’])", text) else 0.5
