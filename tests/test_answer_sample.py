"""The offline answerer on the sample corpus with the real model (the issue's must-show cases), and
`rag ask` driven through the CLI."""

from __future__ import annotations

import json

import pytest
from test_answer_helpers import check_answer

from rag.answer import answer_question, stream_answer
from rag.answer.citations import REFUSAL
from rag.cli import main
from rag.retrieval import Retriever
from rag.types import Answer

QUESTION = "How many soldiers will the US, Germany and Britain each contribute?"
TARGET = "The US, Germany and Britain will each contribute 1,000 soldiers"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(sample_index, sample_settings):
    return Retriever.open(sample_index, sample_settings)


def test_answers_the_contribution_question_from_the_2016_article(retriever, sample_settings):
    answer = answer_question(QUESTION, retriever, sample_settings)
    assert answer.grounded and answer.answerer == "extractive"
    first = next(c for c in answer.citations if TARGET in c.quote)
    assert answer.citations[0].quote == "1,000" and answer.text.startswith("1,000 [1]")
    assert first.date is not None and first.date.startswith("2016")
    assert retriever.store.article(first.article_id).date.startswith("2016")
    check_answer(answer, retriever.store.article)
    assert answer.hits and answer.query == QUESTION


def test_refuses_what_the_corpus_does_not_cover(retriever, sample_settings):
    answer = answer_question("Who won the 2018 World Cup?", retriever, sample_settings)
    assert not answer.grounded
    assert answer.text.startswith(REFUSAL)
    check_answer(answer, retriever.store.article)  # the closest passages, exactly quoted
    assert answer.hits  # shown instead of an answer


@pytest.mark.parametrize("question", [
    "Who is NATO's Secretary General?",
    "Which countries intended to invoke Article 4 of the NATO charter?",
    "How many refugees have died at the Polish-Belarusian border?",
])
def test_every_answer_keeps_the_citation_invariants(retriever, sample_settings, question):
    answer = answer_question(question, retriever, sample_settings)
    assert answer.grounded
    check_answer(answer, retriever.store.article)


def test_stream_yields_deltas_then_the_answer(retriever, sample_settings):
    items = list(stream_answer(QUESTION, retriever, sample_settings))
    assert isinstance(items[-1], Answer) and all(isinstance(i, str) for i in items[:-1])
    assert "".join(items[:-1]) == items[-1].text


def test_follow_up_is_rewritten_offline_and_answered(retriever, sample_settings):
    history = [(QUESTION, f"{TARGET}. [1]")]
    answer = answer_question("And Canada?", retriever, sample_settings, history=history)
    assert answer.query == "How many soldiers will Canada each contribute?"
    assert answer.grounded and any("Canada" in c.quote for c in answer.citations)
    check_answer(answer, retriever.store.article)


def test_filters_are_recorded(retriever, sample_settings):
    from rag.types import Filters

    since = Filters(since="2021-01-01")
    answer = answer_question("What did NATO do?", retriever, sample_settings, filters=since)
    assert answer.filters.since == "2021-01-01"
    assert all((c.date or "") >= "2021" for c in answer.citations)


@pytest.fixture
def cli_env(sample_settings, monkeypatch):
    # the CLI reads settings from the environment: point it at the session's exported model
    monkeypatch.setenv("RAG_EMBEDDING__CACHE_DIR", sample_settings.embedding.cache_dir)


def test_cli_ask_prints_answer_and_sources(sample_index, capsys, cli_env):
    assert main(["ask", QUESTION, "--index", str(sample_index)]) == 0
    out = capsys.readouterr().out
    assert TARGET in out and "Sources:" in out and "[1] " in out and "2016" in out


def test_cli_ask_json_is_the_answer_object(sample_index, capsys, cli_env):
    assert main(["ask", "Who won the 2018 World Cup?", "--index", str(sample_index), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["grounded"] is False and data["question"] == "Who won the 2018 World Cup?"
    assert {"text", "citations", "query", "filters", "answerer", "warnings", "hits"} <= set(data)


def test_cli_ask_without_an_index_says_so(tmp_path, capsys):
    assert main(["ask", "anything", "--index", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert "There is no index at" in err and "rag index" in err and "Traceback" not in err
