"""Whether a text names what the question names: a name in full, shortened to its last word ("United",
"Mr Blair") but not inside another name ("French Open" is no mention of the Australian Open), and a
country by another of its names."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from rag.retrieval.bm25 import spelled_out


def mentions(phrase: str, text: str, flags: int = 0) -> Iterator[re.Match[str]]:
    # "Oscar" is in "Oscars" and "Oscar's": a plural or possessive still names it; "Oscar-nominated"
    # does not (a film nominated is no Oscar won)
    return re.finditer(rf"(?<!\w){re.escape(phrase)}(?:'s|’s|s)?(?!\w|-[a-z])", text, flags)


def has(text_lower: str, phrase: str) -> bool:
    return next(mentions(phrase, text_lower), None) is not None


# other names of the same place, matched case-sensitively in the original text ("US" is not "us")
_ALIASES = {name: re.compile(rx) for names, rx in (
    (("united states", "america", "us"), r"\b(?:US|U\.S\.|United States|America|American)\b"),
    (("united kingdom", "britain", "great britain", "uk"),
     r"\b(?:UK|U\.K\.|United Kingdom|Britain|British)\b"),
    (("european union", "eu"), r"\b(?:EU|European Union)\b"),
) for name in names}


def name_share(names: Sequence[str], text_lower: str, text: str = "") -> float:
    """Share of the question's names found in the text; a multi-word name counts when its last word
    (a surname, "United") is there, as articles shorten names after the first mention, and a country
    when the text uses another of its names ("the US" for "the United States")."""
    if not names:
        return 0.0
    text, text_lower = spelled_out(text), spelled_out(text_lower)  # "AMERICAN INT'L GROUP"
    found = 0.0
    for name in names:
        if has(text_lower, name) or (name in _ALIASES and _ALIASES[name].search(text)):
            found += 1
        elif " " in name and name.split()[-1].isalpha() and shortened(name, text_lower, text):
            found += 0.75
    return found / len(names)


# capitalised words that are no name by themselves: a title or a function word may stand before a
# shortened name without making it part of another name ("General Pinochet" is "Pinochet")
NOT_A_NAME = frozenset(str.split(
    """Mr Mrs Ms Miss Dr Sir Dame Lord Lady Prof President Chancellor Minister Secretary Senator Governor
    Judge General Captain Coach Chairman Chief Prince Princess The A An This That In At On By For From
    With And But As When After Before If While Its His Her Their"""))


def shortened(name: str, text_lower: str, text: str) -> bool:
    """Whether the text names `name` by its last word ("United", "Mr Blair") and not as part of another
    name: "French Open" is no mention of the Australian Open, nor "Newcastle United" of Manchester
    United. Without the original text (`text`), any mention of the last word counts.

    >>> shortened("australian open", "roche won the french open.", "Roche won the French Open.")
    False
    >>> shortened("tony blair", "prime minister blair said", "Prime Minister Blair said")
    True
    """
    last = name.split()[-1]
    if not text:
        return has(text_lower, last)
    for m in mentions(last, text, re.I):  # in the original text, where the case of the word before shows
        before = re.search(r"([\w'’.&-]+)\s+$", text[max(0, m.start() - 40):m.start()])
        word = before.group(1).rstrip(".") if before else ""
        if not word or not word[0].isupper() or word in NOT_A_NAME:
            return True
    return False


# a company's legal form, and other words that name no one in particular
_LEGAL = frozenset(str.split("ltd inc corp co plc llc ag sa nv n.v"))
_GENERIC = _LEGAL | frozenset(str.split("group holdings company the of and"))


def named_anywhere(names: Sequence[str], text: str) -> bool:
    """Whether `text` names any of the question's names, read leniently: in full; by a part of a
    possessive or a pair ("Chicago Mercantile Exchange's Random Length", "Midland Bank and Lloyds Bank");
    by the last word that is not a legal form ("Cinram" for "Cinram Ltd"); by its initials ("AIG"); a
    single word by its first four letters ("Yugoslav" in "Yugoslavia", "Peru" in "Peruvian"); a country
    by another of its names. The lenient readings count only as names: a word with a capital, initials
    in capitals. A story that names none of them in any of these ways is about something else, however
    alike its figures: "North American reported net income of 631,720 dlrs" is no figure of American
    International Group's.

    >>> named_anywhere(["cinram ltd"], "CINRAM SAYS PROFIT ROSE")
    True
    >>> named_anywhere(["american international group"], "NORTH AMERICAN SEES RECORD FOURTH QTR")
    False
    >>> named_anywhere(["american international group"], "AMERICAN INT'L GROUP INC <AIG> 4TH QTR NET")
    True
    >>> named_anywhere(["ghanaian"], "Hearts of Oak of Ghana won."), named_anywhere(["peru"], "Peruvian")
    (True, True)
    >>> named_anywhere(["uk"], "British retail sales rose 1% in December.")
    True
    >>> named_anywhere(["american international group"], "losses in the international tin crisis")
    False
    """
    text = spelled_out(text)
    lower = text.lower()
    for name in names:
        if name in _ALIASES and _ALIASES[name].search(text):
            return True  # "Britain" for the UK
        for part in re.split(r"['’]s\s+|\s+(?:and|&)\s+", name):
            words = [w for w in part.split() if w not in _GENERIC]
            if not words:
                continue
            initials = "".join(w[0] for w in part.split() if w not in _LEGAL | {"of", "the", "and"})
            if has(lower, part) or _capitalised(mentions(words[-1], text, re.I)):
                return True
            if len(initials) > 1 and re.search(rf"(?<!\w){re.escape(initials.upper())}(?!\w)", text):
                return True
            prefix = re.finditer(rf"\b{re.escape(words[0][:4])}", text, re.I)
            if len(words) == 1 and len(words[0]) >= 4 and _capitalised(prefix):
                return True
    return False


def _capitalised(matches: Iterator[re.Match[str]]) -> bool:
    """Whether any of the matches opens with a capital, as a name does: the lenient readings above are
    for names, and "the international tin crisis" names no American International Group (nor the word
    "an" Andrew Neil)."""
    return any(m.group(0)[0].isupper() for m in matches)
