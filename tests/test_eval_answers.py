"""Answer-level eval checks with a stub answerer: what is reported when no answer cites anything."""

from __future__ import annotations

from typing import Any

import pytest

from rag.evaluation.answers import answer_checks
from rag.evaluation.qa import QAItem
from rag.settings import Settings
from rag.types import Answer


class _Store:
    def article(self, article_id: str) -> None:
        return None


class _Retriever:
    store = _Store()


def test_citations_exact_is_na_without_citations(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.answer

    def uncited(question: str, retriever: Any, settings: Settings, history: Any = ()) -> Answer:
        return Answer("Not covered.", [], False, question, question)

    monkeypatch.setattr(rag.answer, "answer_question", uncited)
    items = [QAItem("q1", "Who?", answers=("Ann",))]
    out, records = answer_checks(items, _Retriever(), Settings(), progress=False)
    assert len(records) == 1 and records[0]["refused"]
    assert out["citations exact (quote == article slice)"] == "n/a"


def test_short_answer_is_checked_apart_from_its_quote(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong short answer counts against "short answer right" even when the quote after it holds the
    answer, so accuracy alone cannot hide it."""
    import rag.answer
    from rag.types import Citation

    text = "Owen beat Foxx; Jamie Foxx picked up best actor."

    def cite(n: int, start: int, end: int) -> Citation:
        return Citation(n, "a#0", "a", "Oscars", None, None, None, start, end, text[start:end])

    def led_by(short: str) -> Any:
        def answer(question: str, retriever: Any, settings: Settings, history: Any = ()) -> Answer:
            a = text.index(short)
            quote = cite(2, 16, len(text))
            return Answer(f"{short} [1]\n\n{quote.quote} [2]", [cite(1, a, a + len(short)), quote], True,
                          question, question)
        return answer

    items = [QAItem("q1", "Who won the best actor Oscar?", answers=("Jamie Foxx",))]
    for short, right in (("Owen", False), ("Jamie Foxx", True)):
        monkeypatch.setattr(rag.answer, "answer_question", led_by(short))
        out, records = answer_checks(items, _Retriever(), Settings(), progress=False)
        assert records[0]["correct"] and records[0]["short"] == short
        assert out["short answer right, factoid answers with one"] == float(right)
