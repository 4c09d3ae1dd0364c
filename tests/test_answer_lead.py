"""Whether a factoid answer shows its short answer (rag.answer.lead): the committed model, and the
answerer without one; and the days and dates it shows with it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from test_answer_helpers import hits_for, run_extractive

from rag.answer import lead as leads
from rag.answer.answerhood import FEATURES
from rag.answer.extractive import compose
from rag.answer.question import analyse
from rag.answer.support import Sentence
from rag.types import Article, Passage

FOXX = analyse("Who won the best actor Oscar?")


def features(share: float, agreeing: tuple[float, float], p_answer: float = 0.8) -> np.ndarray:
    """A short answer from a two-word name in a sentence with one other candidate."""
    row = np.zeros(len(FEATURES))
    row[FEATURES.index("candidate_count")] = np.log1p(2)
    row[FEATURES.index("lex")] = 0.5
    scores = np.array([np.log(share), *[np.log((1 - share) / 9)] * 9])
    return leads.lead_features(row, p_answer, scores, 0, FOXX, "Jamie Foxx", agreeing)


def test_committed_model_reads_the_code_features():
    data = json.loads(leads.MODEL_FILE.read_text(encoding="utf-8"))
    assert data["features"] == list(leads.LEAD_FEATURES)
    assert leads.lead_model() is not None


def test_a_sure_answer_is_shown_and_a_contested_one_is_not():
    """The ranker sure of the sentence and every likely sentence naming the answer: shown. Its weight
    spread thin and another answer as likely: hidden."""
    assert leads.keep(features(0.9, (0.95, 0.95), p_answer=0.95))
    assert not leads.keep(features(0.1, (0.2, 0.3), p_answer=0.5))


def test_ranker_share_is_its_softmax_weight():
    x = features(0.5, (0.6, 0.7))
    assert x[leads.LEAD_FEATURES.index("ranker_share")] == pytest.approx(0.5)
    assert x[leads.LEAD_FEATURES.index("answer_margin")] == pytest.approx(0.7)


def test_without_a_model_every_short_answer_is_shown(monkeypatch, tmp_path):
    monkeypatch.setattr(leads, "MODEL_FILE", tmp_path / "absent.json")
    leads.lead_model.cache_clear()
    try:
        assert leads.keep(features(0.01, (0.01, 0.01), p_answer=0.05))
    finally:
        leads.lead_model.cache_clear()


def test_a_model_fitted_on_other_features_is_refused(monkeypatch, tmp_path):
    stale = tmp_path / "lead.json"
    stale.write_text(json.dumps({"features": ["p_answer"], "mean": [0], "scale": [1], "coef": [1],
                                 "bias": 0}))
    monkeypatch.setattr(leads, "MODEL_FILE", stale)
    leads.lead_model.cache_clear()
    try:
        with pytest.raises(ValueError, match="fit_lead.py"):
            leads.lead_model()
    finally:
        leads.lead_model.cache_clear()


def test_a_weekday_short_answer_is_said_as_the_day_it_means():
    """Wire copy dates by the weekday: "Wednesday" in a story of Friday 20 March 1987 is the 18th (the
    short answer stays the article's own word, cited; the day follows it); in an undated story it
    stays "Wednesday" alone."""
    text = "The bank raised its rate for overnight assistance to 13-3/4 pct on Wednesday."
    for date, said in (("1987-03-20T06:56:44", " (Wednesday 18 March 1987, counted from the story of "
                                               "Friday 20 March 1987)"), (None, "")):
        passage = Passage("spain:0", "spain", text, 0, len(text), "BANK OF SPAIN DRAINS FUNDS", None,
                          date, None, 14)
        sentence = Sentence(0, passage, 0, len(text), text)
        start = text.index("Wednesday")
        pieces, citations = compose([sentence], [0], (start, start + len("Wednesday")))
        assert pieces[0] == f"Wednesday [1]{said}"
        assert citations[0].quote == "Wednesday"


def test_a_when_answer_shows_its_storys_date():
    """A story often reports an event without its date ("said its board elected ..."): the date of the
    story is then what answers "when", so each quote of a "when" answer shows its story's date; an
    undated story shows none, and a "who" answer keeps the headline alone."""
    text = "Computer Identics Corp said its board elected Frank Wezniak chief executive."
    story = Article(id="cidn", title="COMPUTER IDENTICS NAMES CHIEF EXECUTIVE", date="1987-03-04", text=text)
    when = run_extractive("When did Computer Identics elect Frank Wezniak?", hits_for(story), min_support=0.0)
    assert when.grounded and "1987-03-04, COMPUTER IDENTICS NAMES CHIEF EXECUTIVE: Computer" in when.text
    who = run_extractive("Who did Computer Identics elect chief executive?", hits_for(story), min_support=0.0)
    assert who.grounded and "1987-03-04" not in who.text
    undated = replace(story, date=None)
    assert "1987" not in run_extractive("When did Computer Identics elect Frank Wezniak?",
                                        hits_for(undated), min_support=0.0).text
