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
