"""A question about how something ended is not answered by a sentence about how it might end.

"How much did Glazer finally pay?", "What price did PepsiCo ultimately pay for Calny?", "What was the
verdict?": the question asks for the outcome, and an archive that covers only the offer, the bid, the
plan or the trial's start ("Cross offered 34 dlrs a share", "five managers are to go on trial") does
not hold it. Such a sentence names the right people and even a figure of the right type, so the
answerability model, which reads topic and type, takes it for an answer; this check reads the tense.
The same holds for who won ("will decide the overall winner on Tuesday", a preview) and for a
sentence or a verdict ("has been arrested", "the trial has started", "they claim": a charge).
"""

from __future__ import annotations

import re

# the question asks for the end state: only explicit words, since "What did X pay?" may be answered
# by "X agreed to pay ..."; or for a verdict or a sentence, for who or what won (a contest is decided
# once: a preview names past winners and the field), or for the result or the score
_ASKS_OUTCOME = re.compile(r"\b(?:finally|ultimately|eventually|in the end|verdicts?|what sentence|"
                           r"sentenced)\b|^(?:who|(?:which|what)\b[^?]*?)\s+won\b|"
                           r"\bwhat (?:was|were) the (?:final )?(?:results?|outcomes?|score)\b", re.I)
# an offer, a proposal, a plan or an expectation, or a future: not yet the outcome ("may" in lower
# case only: "in May" is a month)
_PROSPECT = re.compile(r"\b(?:offer(?:s|ed|ing)?|bids?|bidding|propos(?:e|es|ed|al|als)|plans?|planned|"
                       r"talks|consider(?:s|ed|ing)?|expect(?:s|ed)?|estimat(?:e|es|ed)|would|could|might|"
                       r"will|(?:is|are|was|were|due|set) to|seek(?:s|ing)?|sought|tentative(?:ly)?|"
                       r"hopes?|likely|(?-i:may)|"
                       # or a start, a charge or a claim: the case or the contest is still open
                       r"begins?|began|started|under way|(?:is|are) being|arrested|charged|accused|"
                       r"alleg(?:e|es|ed|edly|ations?)|claims?|claimed)\b", re.I)
# said with the refusal: the archive has the topic, and the reader should know what it lacks
UNSETTLED = ("the closest passage tells of it before its outcome (an offer, a plan, a preview, a start or "
             "a charge), and the question asks how it ended")


def asks_outcome(question: str) -> bool:
    """Whether the question asks how something ended.

    >>> asks_outcome("How much did Glazer finally pay?"), asks_outcome("How much did Glazer pay?")
    (True, False)
    >>> asks_outcome("Who won the 2005 Eurovision?"), asks_outcome("Which book won the prize?")
    (True, True)
    >>> asks_outcome("In what year had Ireland last won the title?"), asks_outcome("Who will win?")
    (False, False)
    """
    return _ASKS_OUTCOME.search(question) is not None


def prospect_only(sentence: str) -> bool:
    """Whether a sentence tells of an offer, plan or future rather than an outcome.

    >>> prospect_only("Private investor Theodore Cross last week offered 34 dlrs a share.")
    True
    >>> prospect_only("Engineering firm Balfour Beatty and five managers are to go on trial.")
    True
    >>> prospect_only("The jury found both men guilty in May.")
    False
    >>> prospect_only("The trial of the bank's chairman has started in Madrid.")
    True
    """
    return _PROSPECT.search(sentence) is not None
