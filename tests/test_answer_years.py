"""A question about one year is not answered from an undated story about another."""

from __future__ import annotations

from test_answer_helpers import passages_of

from rag.answer.answerhood import Corpus
from rag.answer.extractive import PRESENT_EVIDENCE, present_years, undated_elsewhere
from rag.answer.question import analyse
from rag.answer.support import passage_sentences
from rag.types import Article

# undated passages naming each year in a 2004-05 archive (the BBC set's shape: 2010 only in forecasts)
DF = {2001: 160, 2002: 141, 2003: 320, 2004: 390, 2005: 301, 2006: 105, 2010: 27}
PRESENT = (2003, 2005)  # the years named at least half as often as the most named


def sentence_of(text: str, date: str | None = None):
    article = Article(id="a", title="Barclays profits hit record level", text=text, date=date)
    passage = passages_of(article)[0]
    return passage_sentences(passage)[0], Corpus(article_text=lambda _id: text)


def test_the_archive_present_is_the_years_named_most_often():
    assert present_years(Corpus(undated_years=lambda: DF)) == PRESENT
    assert present_years(Corpus()) is None  # no undated passages: no guess


def test_an_article_naming_later_years_but_not_the_asked_one_is_about_another_time():
    s, corpus = sentence_of("Profits rose 20% to £4.6bn. In 2003, Barclays reported a 20% rise. "
                            "The bank expects more in 2004.")
    assert undated_elsewhere(s, analyse("What were Barclays' profits for 2002?"), corpus, PRESENT)
    assert not undated_elsewhere(s, analyse("What were Barclays' profits for 2004?"), corpus, PRESENT)


def test_an_article_naming_only_earlier_years_may_be_about_the_present():
    s, corpus = sentence_of("Williams won her first Grand Slam title since 2003 with victory in Melbourne.")
    assert not undated_elsewhere(s, analyse("Who won the women's title at the 2005 Australian Open?"),
                                 corpus, PRESENT)


def test_a_year_after_the_archive_present_is_never_answered_by_an_article_not_naming_it():
    s, corpus = sentence_of("Safin beat Hewitt in the final in Melbourne. Forecasts run to 2010.")
    question = analyse("Who won the men's title at the 2006 Australian Open?")
    assert undated_elsewhere(s, question, corpus, PRESENT)


def test_an_article_naming_no_year_is_about_the_archive_present():
    """A question about 2002 is not answered from a story that names no year in a 2003-05 archive
    (the Dome's upkeep "in the four years after" it closed is not its 2002 cost); one about 2004 is."""
    s, corpus = sentence_of("The Dome cost taxpayers £28.7m to maintain and sell after it closed.")
    def asked(year: int):
        return analyse(f"How much did the Dome cost to maintain in {year}?")

    assert undated_elsewhere(s, asked(2002), corpus, PRESENT)
    assert not undated_elsewhere(s, asked(2004), corpus, PRESENT)
    assert not undated_elsewhere(s, asked(2002), corpus, None)


def test_dated_articles_are_left_to_the_dated_rule():
    s, corpus = sentence_of("Profits rose 20% to £4.6bn in 2004.", date="2005-02-17")
    assert not undated_elsewhere(s, analyse("What were Barclays' profits for 2002?"), corpus, PRESENT)


def test_dated_stories_beside_an_undated_archive_do_not_move_its_present(make_hash_index, hash_settings):
    """A 1987 wire archive indexed beside undated 2004-05 stories: the undated stories' present stays
    2005 (it was 1987 when every passage's years counted, and every 2005 question was refused)."""
    from rag.answer import corpus_of
    from rag.retrieval import Retriever

    undated = [Article(id=f"bbc{i}", title="Rates", text=f"Rates rose in 2004 and {2004 + i % 2}.")
               for i in range(PRESENT_EVIDENCE * 2)] + [
        Article(id="bbc-forecast", title="Rates", text="Rates rise to 2010.")]
    wire = [Article(id=f"reut{i}", title="Wheat", text="Wheat rose in 1987.", date="1987-03-20")
            for i in range(PRESENT_EVIDENCE * 4)]
    retriever = Retriever.open(make_hash_index(undated + wire), hash_settings)
    corpus = corpus_of(retriever)
    assert corpus.undated_years() == {2004: PRESENT_EVIDENCE * 2, 2005: PRESENT_EVIDENCE, 2010: 1}
    assert present_years(corpus) == (2004, 2005)


def test_a_small_archive_has_no_present():
    """A dozen same-topic stories name each year a few times: too few to say which years they are
    about, so no question is refused for its year alone (a distractor set naming 1999 twice made every
    2005 question about "another time")."""
    counts = {1999: 2, 1993: 1}
    assert present_years(Corpus(undated_years=lambda: counts)) is None
    many = {2004: PRESENT_EVIDENCE * 2, 2005: PRESENT_EVIDENCE, 2001: 3}
    assert present_years(Corpus(undated_years=lambda: many)) == (2004, 2005)
