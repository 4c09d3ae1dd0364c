"""Whether a factoid answer shows its short answer: the name, figure or date it puts first, highlighted.

The short answer is the candidate of the asked type that the best sentence holds nearest the
question's words (rag.answer.extractive.short_answer). It is a guess within a quote, and a wrong one
misleads more than a missing one: the reader takes the highlighted span for the answer and may not
read on to the quote that holds the right one. On the BBC QA test split (stop 32) the short answer was
right for 36 of the 69 factoid answers that had one. So a logistic model, fitted on the dev split
(eval/fit_lead.py writes lead.json), gives the probability that the short answer is right from what
the answerer already knows: how likely the question is answered at all, how sure the ranker is of this
sentence, how much of its weight goes to likely sentences that name the same answer (and against the
likeliest other answer), how many candidates the sentence holds, whether the headline names the
answer, the question's words and names in the sentence, the answer's type. The short answer is shown
when that probability is at least SHOW_AT; else the answer opens with its quote.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np

from rag.answer.answerhood import FEATURES, Linear, sigmoid
from rag.answer.question import QuestionFrame

MODEL_FILE = Path(__file__).with_name("lead.json")
# Shown when right at least two times in three: a wrong highlighted answer costs the reader about twice
# what a right one saves (the quote below still holds the answer when the short answer is hidden).
SHOW_AT = 2 / 3
LEAD_FEATURES = (
    "p_answer", "ranker_share", "answer_share", "answer_margin", "candidate_count", "candidate_in_title",
    "lex", "names_sentence", "figure", "one_word", "asks_kind",
)
# the sentence features (rag.answer.answerhood.FEATURES) that the lead model reads as they are
_FROM_SENTENCE = ("candidate_count", "candidate_in_title", "lex", "names_sentence")


def lead_features(row: np.ndarray, p_answer: float, scores: np.ndarray, best: int, frame: QuestionFrame,
                  text: str, agreeing: tuple[float, float]) -> np.ndarray:
    """One row of LEAD_FEATURES: `row` is the best sentence's answerhood features, `scores` the ranker's
    scores of every candidate sentence (-inf for those set aside), `text` the short answer, `agreeing`
    the ranker's share of the likeliest sentences that name the same answer and that share against the
    likeliest other answer's (rag.answer.extractive.answer_support).

    >>> from rag.answer.question import analyse
    >>> x = lead_features(np.zeros(len(FEATURES)), 0.9, np.array([2.0, 0.0, -np.inf]), 0,
    ...                   analyse("Who won the best actor Oscar?"), "Jamie Foxx", (0.9, 0.9))
    >>> round(float(x[1]), 3), float(x[-2])  # the ranker's share of the best sentence; two words
    (0.881, 0.0)
    """
    kept = scores[np.isfinite(scores)]
    share = math.exp(float(scores[best]) - float(np.logaddexp.reduce(kept))) if len(kept) else 0.0
    p = min(max(p_answer, 1e-4), 1 - 1e-4)
    return np.array([
        math.log(p / (1 - p)), share, *agreeing, *(float(row[FEATURES.index(n)]) for n in _FROM_SENTENCE),
        float(frame.expects in ("money", "number", "date")), float(" " not in text.strip()),
        float(frame.kind is not None),
    ], dtype=np.float32)


@cache
def lead_model() -> Linear | None:
    """The fitted model, or None before eval/fit_lead.py has written one (then every lead is shown)."""
    if not MODEL_FILE.exists():
        return None
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    if data.get("features") != list(LEAD_FEATURES):
        raise ValueError(f"{MODEL_FILE} was fitted on other features; run eval/fit_lead.py again.")
    return Linear.from_json(data)


def keep(x: np.ndarray) -> bool:
    """Whether the short answer with lead features `x` is shown."""
    model = lead_model()
    return model is None or sigmoid(float(model.score(x[None, :])[0])) >= SHOW_AT
