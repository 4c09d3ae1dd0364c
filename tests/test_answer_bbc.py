"""The eight questions of the answer issue, on the whole BBC archive and the real model, as a new user
asks them: 2,225 articles, 6,942 passages (58-70 s to embed on two AVX-512
cores, 113 s on AVX2: eval/results/bench_index*.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer import answer_question
from rag.answer.citations import REFUSAL
from rag.retrieval import Retriever
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BBC = next((p for p in (ROOT.parent / "shared" / "data" / "bbc-news", Path("/work/shared/data/bbc-news"))
            if p.is_dir()), None)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(BBC is None, reason="shared BBC data not present")]


@pytest.fixture(scope="module")
def bbc(tmp_path_factory: pytest.TempPathFactory, sample_settings: Settings) -> Retriever:
    from rag.indexer import build_index

    assert BBC is not None
    folder = tmp_path_factory.mktemp("bbc") / "index"
    build_index([BBC], folder, sample_settings)
    return Retriever.open(folder, sample_settings)


def ask(bbc: Retriever, settings: Settings, question: str, history: tuple = ()):
    answer = answer_question(question, bbc, settings, history=history)
    for c in answer.citations:  # every citation an exact article span, every time
        article = bbc.store.article(c.article_id)
        assert article is not None and article.text[c.start : c.end] == c.quote
    return answer


def test_best_actor_oscar_is_answered(bbc, sample_settings):
    answer = ask(bbc, sample_settings, "Who won the best actor Oscar?")
    assert answer.grounded and "Jamie Foxx" in answer.text


def test_best_actor_oscar_results_story_first(bbc, sample_settings):
    """The first quote is the results story's, not the Globes one (Foxx "beaten to the best supporting
    actor title by Owen") nor a forecast. It opens the answer without a short answer: the ranker spreads
    its weight over many Oscar-night sentences, so rag.answer.lead is unsure of "Jamie Foxx" (0.18)."""
    answer = ask(bbc, sample_settings, "Who won the best actor Oscar?")
    assert answer.text.startswith("Eastwood's Baby scoops top Oscars: Jamie Foxx picked up best actor")
    assert answer.citations[0].title == "Eastwood's Baby scoops top Oscars"


def test_follow_up_he_takes_the_name_from_quotes_without_a_short_answer(bbc, sample_settings):
    """The answer above opens with a headline-led quote; "he" is the quote's person, not the headline's
    "Eastwood's Baby"."""
    first = ask(bbc, sample_settings, "Who won the best actor Oscar?")
    answer = ask(bbc, sample_settings, "Which film did he win it for?",
                 history=(("Who won the best actor Oscar?", first.text),))
    assert "Jamie Foxx" in answer.query and "Eastwood" not in answer.query


def test_unsure_short_answer_is_not_shown(bbc, sample_settings):
    """"US" (of "US banking giant Citigroup") is no insurer: the answer opens with the quote that names
    Metlife instead of highlighting a wrong short answer (shown before rag.answer.lead)."""
    question = "Which insurer agreed to buy Citigroup's Travelers Life & Annuity business?"
    answer = ask(bbc, sample_settings, question)
    assert answer.grounded and not answer.text.startswith("US [1]")
    assert answer.text.startswith("Metlife buys up Citigroup insurer: ")
    assert "Metlife" in answer.citations[0].quote


def test_labour_maternity_plan_is_labours_and_says_whose(bbc, sample_settings):
    answer = ask(bbc, sample_settings, "What did Labour propose on maternity pay?")
    assert answer.grounded and ("nine months" in answer.text or "£1,400" in answer.text)
    assert "Labour" in answer.citations[0].title
    assert answer.text.startswith(answer.citations[0].title + ": ")  # the quote says whose plan it is


def test_follow_up_is_rewritten_with_its_topic(bbc, sample_settings):
    first = ask(bbc, sample_settings, "What did Labour propose on maternity pay?")
    answer = ask(bbc, sample_settings, "And what did the opposition say?",
                 history=(("What did Labour propose on maternity pay?", first.text),))
    assert answer.query != answer.question and "maternity pay" in answer.query


def test_follow_up_quotes_the_opposition(bbc, sample_settings):
    first = ask(bbc, sample_settings, "What did Labour propose on maternity pay?")
    answer = ask(bbc, sample_settings, "And what did the opposition say?",
                 history=(("What did Labour propose on maternity pay?", first.text),))
    assert answer.grounded and ("desperate" in answer.text or "misdirected" in answer.text)


def test_a_year_asked_of_an_undated_archive_is_said(bbc, sample_settings):
    answer = ask(bbc, sample_settings, "Who won the Australian Open in 2005?")
    assert any("no dates" in note for note in answer.notes)


@pytest.mark.xfail(strict=True, reason="known miss: retrieval ranks no Safin story in its 12 for this short "
                   "question (their sentences never say 'won the Australian Open'); it refuses, since its "
                   "likeliest sentence is the preview 'Henman will start his 2005 campaign ...' (it had "
                   "answered Henman before stop 40)")
def test_australian_open_2005_winner(bbc, sample_settings):
    answer = ask(bbc, sample_settings, "Who won the Australian Open in 2005?")
    assert answer.grounded and "Safin" in answer.text


def test_psp_and_ds_are_both_quoted(bbc, sample_settings):
    answer = ask(bbc, sample_settings, "PSP vs Nintendo DS sales?")
    quotes = " ".join(c.quote for c in answer.citations)
    assert answer.grounded and "PSP" in quotes and "DS" in quotes
    assert not any(c.quote[:1].islower() for c in answer.citations)  # no quote opens mid-thought


def test_iphone_is_refused_in_a_2004_05_archive(bbc, sample_settings):
    answer = ask(bbc, sample_settings, "What did Apple announce about the iPhone?")
    assert not answer.grounded and answer.text.startswith(REFUSAL)
    assert 1 <= len(answer.citations) <= 3  # the closest passages, for the reader to judge


def test_glazer_over_time_quotes_several_articles_and_says_they_are_undated(bbc, sample_settings):
    answer = ask(bbc, sample_settings, "What happened with Glazer's bid for Man Utd over time?")
    assert answer.grounded and len({c.article_id for c in answer.citations}) >= 2
    assert any("no dates" in w for w in answer.warnings)


# Not strict: the second answer's weight is near the cut, and int8 vectors differ a little between
# CPUs (AVX2 without VNNI rounds differently), so another CPU may pass.
@pytest.mark.xfail(strict=False, reason="known miss on the whole archive (Intel Xeon, avx512_vnni): another "
                   "story's $27bn back-tax figure ('the argument for selling Yuganskneftegaz') is shown as a "
                   "second answer at 0.44 of the best one's weight (the cut is 0.35; at 0.5 dev factoid "
                   "accuracy falls 0.873 -> 0.853)")
def test_yuganskneftegaz_price_without_padding(bbc, sample_settings):
    answer = ask(bbc, sample_settings, "How much did Yuganskneftegaz sell for at the auction?")
    assert answer.grounded and "$9.4bn" in answer.citations[0].quote
    assert not any("27bn" in c.quote for c in answer.citations)  # the sale price, nothing else


@pytest.mark.parametrize(("question", "gold_paths", "answer"), [
    ("Who did Ana Ivanovic beat in the Canberra Classic final to win her first WTA title?",
     ("sport/501.txt",), "Melinda Czink"),
    ("How much did Australian building products group James Hardie agree to pay to victims of "
     "asbestos-related diseases?", ("business/337.txt",), "$1.1bn"),
    ("Which song was named the best British song of the past 25 years at the 2005 Brit Awards?",
     ("entertainment/253.txt",), "Angels"),
    ("In which city is the tower whose lifts were declared the fastest on Earth by the Guinness Book of "
     "Records?", ("tech/253.txt",), "Taipei"),
])
def test_same_topic_stories_answer_with_the_gold_story_and_refuse_without_it(
        bbc, sample_settings, question, gold_paths, answer):
    """eval/distractor_check.py's setting, the held-out check's: a small archive of the gold stories and
    the eight stories retrieval ranks next for the question answers; the eight alone refuse."""
    import sys
    sys.path.insert(0, str(ROOT / "eval"))
    from distractor_check import ask_small
    from fit_answerhood import distractors

    from rag.loaders.base import article_id

    gold = [a for a in (bbc.store.article(article_id(p)) for p in gold_paths) if a is not None]
    assert gold
    others = [bbc.store.article(i) for i in distractors(bbc, question, {a.id for a in gold}, 8)]
    text, refused, _ = ask_small([*gold, *others], question, sample_settings, bbc.store.embedder)
    assert not refused and answer in text, text
    text, refused, _ = ask_small(others, question, sample_settings, bbc.store.embedder)
    assert refused, text


def test_best_actor_oscar_written_by_the_local_model(bbc, sample_settings):
    """The local answerer's must-show on the whole archive: a written answer, cited and verified."""
    from rag.answer.citations import UNSUPPORTED
    from rag.answer.local import local_unavailable

    if (missing := local_unavailable(sample_settings.local)) is not None:
        pytest.skip(f"local model not installed: {missing}")
    answer = answer_question("Who won the best actor Oscar?", bbc, sample_settings, answerer="local")
    assert answer.answerer == "local" and answer.grounded and "Foxx" in answer.text, answer.answerer
    assert UNSUPPORTED not in answer.text and not answer.warnings  # every sentence held up
    for c in answer.citations:
        article = bbc.store.article(c.article_id)
        assert article is not None and article.text[c.start : c.end] == c.quote
