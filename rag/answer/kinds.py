"""What a question asks for beyond its answer type: the kind of thing a "which X" question wants
("which dam" -> dam) and what a "how many X" question counts ("jobs"), and how close a candidate
answer in a sentence stands to that kind or count. Pure functions on text, used by the question frame
(rag.answer.question) and the answerhood features (rag.answer.answerhood).
"""

from __future__ import annotations

import re

from rag.answer.support import stems

_NOT_KINDS = frozenset(str.split("""is was are were did does do has had will would can could should
    year years date day days month time kind type sort part percentage proportion share number happened"""))

# the kinds of thing that are people: "which coach", "which IBM researcher", "which BT figure"
_PERSON = re.compile(r"\w+(?:ist|man|woman|person|er|or|ee)|leader|chief|head|boss|official|figure|"
                     r"secretary|judge|king|queen|member|executive|analyst|star|mp|minister|actress|"
                     r"athlete|candidate|chancellor|tycoon|founder|spokesperson|presenter|chairman|"
                     r"coach|player|singer|director|manager", re.I)
_NOT_PERSON = re.compile(r"\w*(?:maker|insurer|carrier|operator|retailer|distributor|provider|supplier|"
                         r"manufacturer|broadcaster|publisher|lender|developer|exporter|importer|computer|"
                         r"number|order|letter|paper|water|weather|character|cent(?:er|re)|border|"
                         r"chapter|counter|cover|power|motor|sector|monitor|error|factor|corridor|"
                         r"theatre|tower|quarter|poster|register|trailer|thriller)", re.I)


def person_kind(kind: str | None) -> bool:
    """Whether the kind a "which X" question asks for is a person ("which party leader", "which jazz
    flautist"), not a thing that ends like one ("which carmaker", "which computer")."""
    return bool(kind and _PERSON.fullmatch(kind) and not _NOT_PERSON.fullmatch(kind))


# titles written with a capital that still name the kind asked for: "which former Commons Speaker",
# "which Conservative MP"
_TITLES = frozenset(str.split("""mp mep speaker chancellor minister president secretary governor senator
    judge bishop chairman chairwoman commissioner mayor king queen prince princess premier"""))
# words after "which" that qualify the kind rather than name it ("which former minister")
_QUALIFIERS = frozenset(str.split("former new first last main top other same only little big small"))
# words that end the "which X" phrase: its verb, a preposition, a determiner ("which country won the")
_PHRASE_END = frozenset(str.split(
    """is was are were be been did does do has had have will would can could should may might and or but
    of in at on to for from by with into about after before during under over as than that who whom
    whose which what where when why how it the a an his her its their this these those won beat made
    sold bought took gave left ran led met told paid hit lost held kept chose became came went saw knew
    began wrote got put quit grew rose fell drew shot struck spent sent built brought caught fought
    thought stood said says since per called named"""))


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
        if lower in _TITLES:
            head = lower
            continue
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
    stem = stems(noun)[:1]
    after = [stems(w)[:1] for w in re.findall(r"[\w'’-]+", sentence[span[1]:])[:3]]
    if stem and stem in after:
        return 1.0
    return 0.5 if stem and stem[0] in stems(sentence) else 0.0


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
