"""Rules that keep a sentence about something else from answering: another reporting period (of the
headline, or of a results table's section), an offer, a preview or a charge for an outcome, a story
that never names the asked company; and what a results table's lines hold. Literal articles,
HashEmbedder, `min_support` 0 so that only the rule under test can refuse."""

from __future__ import annotations

from test_answer_helpers import hits_for, run_extractive

from rag.answer.answerhood import Corpus
from rag.answer.extractive import unnamed_articles
from rag.answer.outcome import UNSETTLED
from rag.answer.question import analyse
from rag.answer.support import hit_sentences
from rag.types import Article


def test_a_results_story_of_another_quarter_does_not_answer_for_the_asked_one():
    results = Article(id="aig", title="AMERICAN INT'L GROUP INC 4TH QTR NET", date="1987-03-02",
                      text="American International Group Inc said fourth quarter net income rose to "
                           "296.6 mln dlrs from 120.1 mln dlrs a year earlier. Its sales also rose.")
    asked = run_extractive("What was American International Group's net income for the fourth quarter?",
                           hits_for(results), min_support=0.0)
    assert asked.grounded and "296.6 mln dlrs" in asked.text
    other = run_extractive("What was American International Group's net income for the first quarter?",
                           hits_for(results), min_support=0.0)
    assert not other.grounded  # every sentence is read under a headline about the fourth quarter


def test_an_offer_does_not_answer_how_a_deal_ended():
    bid = Article(id="hpr", title="HARPER AND ROW TO MULL OPTIONS AFTER BIDS", date="1987-03-23",
                  text="Private investor Theodore Cross offered 34 dlrs a share for Harper and Row. "
                       "The publisher's board met on Monday.")
    offered = run_extractive("How much did Theodore Cross offer for Harper and Row?", hits_for(bid),
                             min_support=0.0)
    assert offered.grounded and "34 dlrs" in offered.text
    sold = run_extractive("At what price was Harper and Row finally sold?", hits_for(bid), min_support=0.0)
    assert not sold.grounded


def test_a_preview_does_not_answer_who_won_nor_a_charge_what_sentence_was_given():
    preview = Article(id="preview", title="Judges meet to pick Harbour prize winner",
                      text="A panel of judges will decide the overall winner of the Harbour Book Prize "
                           "on Tuesday. The shortlist was announced in January.")
    result = Article(id="result", title="Sea Glass takes Harbour prize",
                     text="The novel Sea Glass won the Harbour Book Prize on Tuesday. The judges praised "
                          "its humour.")
    question = "Which book won the Harbour Book Prize?"
    previewed = run_extractive(question, hits_for(preview), min_support=0.0)
    assert not previewed.grounded and previewed.warnings == [UNSETTLED]  # says why it refused
    won = run_extractive(question, hits_for(result), min_support=0.0)
    assert won.grounded and "Sea Glass" in won.text
    trial = Article(id="trial", title="Trial of banker Juan Ortega opens",
                    text="The trial of banker Juan Ortega, accused of misusing the bank's funds, has "
                         "started in Madrid. Mr Ortega was charged in 2003.")
    asked = "What sentence did Juan Ortega receive at the end of his trial?"
    assert not run_extractive(asked, hits_for(trial), min_support=0.0).grounded


def test_a_story_that_never_names_the_asked_company_does_not_answer_for_it():
    other = Article(id="nahl", title="NORTH AMERICAN SEES RECORD FOURTH QTR", date="1987-03-02",
                    text="For the fourth quarter the company reported net income of 631,720 dlrs. "
                         "Its sales rose to 5.2 mln dlrs.")
    question = "What was American International Group's net income for the fourth quarter?"
    assert not run_extractive(question, hits_for(other), min_support=0.0).grounded
    aig = Article(id="aig", title="AMERICAN INT'L GROUP INC <AIG> 4TH QTR NET", date="1987-03-02",
                  text="Net 296.6 mln dlrs vs 120.1 mln dlrs. Revs 3.5 billion dlrs vs 2.9 billion dlrs.")
    named = run_extractive(question, hits_for(other, aig), min_support=0.0)  # by its initials
    assert named.grounded and "296.6 mln dlrs" in named.text and "631,720" not in named.text


def test_a_verb_that_opens_the_question_is_no_name_a_story_must_hold():
    story = Article(id="bud", title="Brown unveils Budget", date=None,
                    text="The chancellor set out plans to cut stamp duty and raise child tax credits.")
    sentences = hit_sentences(hits_for(story))
    for question in ("Describe the plans", "Describe the Budget plans"):  # "describe" read as a name
        assert unnamed_articles(sentences, analyse(question), Corpus()) == set()
    question = "Describe the Barclays plans"
    assert unnamed_articles(sentences, analyse(question), Corpus()) == {"bud"}
    question = "What did Gordon Brown promise in the Budget?"
    assert unnamed_articles(sentences, analyse(question), Corpus()) == set()
    question = "What did Barclays announce?"
    assert unnamed_articles(sentences, analyse(question), Corpus()) == {"bud"}


def test_a_line_under_a_results_tables_year_heading_does_not_answer_for_the_quarter():
    text = ("Shr 45 cts vs 58 cts\n\nNet 1.1 mln vs 829,000\n\nYear\n\nShr 1.22 dlrs vs 1.06 dlrs\n\n"
            "Net 2.9 mln vs 1.5 mln\n\nSales 25.7 mln vs 22.2 mln")
    table = Article(id="cinram", title="<CINRAM LTD> 4TH QTR NET", date="1987-02-26", text=text)
    corpus = Corpus(article_text=lambda _id: text)
    question = "What were Cinram Ltd's sales in the fourth quarter?"
    without = run_extractive(question, hits_for(table), min_support=0.0)  # no article text: no sections
    assert "25.7 mln" in without.text  # read under the headline alone
    draft = run_extractive(question, hits_for(table), corpus, min_support=0.0)
    assert "25.7 mln" not in draft.text and "1.22" not in draft.text and "2.9 mln" not in draft.text


def test_wire_abbreviations_read_as_the_questions_words():
    # "per-share" and "quarter" in the question, "Shr" and "QTR" in the table: the share line answers
    text = "Shr 45 cts vs 58 cts\n\nNet 1.1 mln vs 829,000\n\nRevs 7.9 mln vs 9.4 mln"
    table = Article(id="cinram", title="<CINRAM LTD> 4TH QTR NET", date="1987-02-26", text=text)
    draft = run_extractive("What per-share profit did Cinram report for its fourth quarter?",
                           hits_for(table), Corpus(article_text=lambda _id: text), min_support=0.0)
    assert draft.text.split("[1]")[0].endswith("Shr 45 cts vs 58 cts ")


def test_a_results_tables_bare_figures_are_sums_of_money():
    # "Net loss 18,600,000": a results line's figure is a sum, written without its currency
    text = ("Shr loss 13 cts vs loss one ct\n\nNet loss 18,600,000 vs profit 3,300,000\n\n"
            "Revs 394.0 mln vs 351.0 mln\n\nAvg shrs 25,100,000 vs 24,800,000")
    table = Article(id="vat", title="VARITY CORP <VAT> 4TH QTR JAN 31 LOSS", date="1987-03-25", text=text)
    draft = run_extractive("What net loss did Varity Corp report for its fourth quarter?",
                           hits_for(table), Corpus(article_text=lambda _id: text), min_support=0.0)
    assert "Net loss 18,600,000" in draft.text.split("[1]")[0]  # the first quote, not the sales line
