"""Pure retrieval stages: fusion, time-aware query parsing, duplicate collapse, MMR."""

from __future__ import annotations

import numpy as np
import pytest

from rag.retrieval.dedupe import collapse, containment, mmr, shingles, spans_touch
from rag.retrieval.fusion import fuse, fuse_articles, normalise, per_article, rrf, weighted, zscore
from rag.retrieval.timequery import TimeIntent, infer_time, merge
from rag.types import Filters, Passage


def test_rrf_matches_the_formula() -> None:
    fused = rrf({"bm25": [(1, 9.0), (2, 5.0)], "dense": [(2, 0.8), (3, 0.7)]}, k=60)
    by_row = {f.row: f for f in fused}
    assert by_row[2].score == pytest.approx(1 / 62 + 1 / 61)
    assert by_row[1].score == pytest.approx(1 / 61)
    assert by_row[2].scores == {"bm25": 5.0, "dense": 0.8}
    assert [f.row for f in fused] == [2, 1, 3]


def test_equal_weight_fuse_is_plain_rrf_and_weights_shift_it() -> None:
    lists = {"bm25": [(1, 9.0), (2, 5.0)], "dense": [(3, 0.9), (1, 0.7)]}
    assert [(f.row, f.score) for f in fuse(lists, "rrf", 0.5, 60)] == [(f.row, f.score) for f in rrf(lists)]
    assert fuse(lists, "rrf", 1.0, 60)[0].row == 3  # dense only
    assert fuse(lists, "rrf", 0.0, 60)[0].row == 1
    with pytest.raises(ValueError, match="rrf"):
        fuse(lists, "borda")


def test_zscore_uses_the_head_statistics_and_missing_rows_get_the_list_floor() -> None:
    z = zscore([(1, 4.0), (2, 2.0), (3, -10.0)], head=2)
    assert z == {1: 1.0, 2: -1.0, 3: -13.0}  # mean 3, sd 1 from the first two entries
    assert zscore([(1, 2.0), (2, 2.0)]) == {1: 0.0, 2: 0.0}
    assert zscore([]) == {}
    fused = fuse({"bm25": [(1, 3.0), (2, 1.0)], "dense": [(2, 0.9), (3, 0.1)]}, "zscore", 0.5)
    by_row = {f.row: f.score for f in fused}
    assert by_row == pytest.approx({1: 0.0, 2: 0.0, 3: -1.0})  # 1 and 3 get the floor (-1) where missing


def test_article_fusion_credits_an_article_found_by_both_retrievers_through_different_passages() -> None:
    article = {1: "a", 2: "a", 3: "b", 4: "c"}.__getitem__
    # Article a: passage 1 tops BM25, passage 2 tops dense. Passage 3 (article b) is second in both.
    lists = {"bm25": [(1, 9.0), (3, 8.0), (4, 2.0)], "dense": [(2, 0.9), (3, 0.85), (4, 0.2)]}
    assert fuse(lists)[0].row == 3  # passage-level RRF: b's single passage wins
    fused = fuse_articles(lists, article)
    assert [f.row for f in fused] == [1, 2, 3, 4]  # a's passages tie (each is found by one retriever)
    assert fused[0].score == pytest.approx(2 / 61)  # the article's fused score: rank 1 in both lists
    assert {f.row for f in fused} == {1, 2, 3, 4}
    assert fused[0].scores  # raw per-retriever scores survive
    assert per_article(lists["bm25"], article) == [("a", 9.0), ("b", 8.0), ("c", 2.0)]
    for method in ("rrf", "weighted", "zscore"):
        assert [f.row for f in fuse_articles(lists, article, method)][-1] == 4
    assert fuse_articles({"bm25": [], "dense": []}, article) == []


def test_weighted_fusion_normalises_each_list() -> None:
    assert normalise([]) == {}
    assert normalise([(7, 3.0)]) == {7: 1.0}
    fused = weighted(
        {"bm25": [(1, 100.0), (2, 0.0)], "dense": [(2, 0.9), (1, 0.1)]}, {"bm25": 0.4, "dense": 0.6}
    )
    assert [f.row for f in fused] == [2, 1]
    assert fused[0].score == pytest.approx(0.6)


@pytest.mark.parametrize(
    "query, since, until, newest",
    [
        ("How many soldiers will the US contribute in 2016?", "2016-01-01", "2016-12-31", False),
        ("oil prices in June 2016", "2016-06-01", "2016-06-30", False),
        ("cocoa exports March 1987", "1987-03-01", "1987-03-31", False),
        ("what happened on March 20, 1987", "1987-03-20", "1987-03-20", False),
        ("news from 2 Feb 1987", "1987-02-02", "1987-02-02", False),
        ("rates since 2015", "2015-01-01", None, False),
        ("rates before 1990", None, "1989-12-31", False),
        ("between 2015 and 2017 elections", "2015-01-01", "2017-12-31", False),
        ("latest news on Lithuania", None, None, True),
        ("most recent OPEC statement in 1987", "1987-01-01", "1987-12-31", True),
        ("profit rose 2,016 dollars", None, None, False),
        ("3.2016 growth", None, None, False),
        ("how many troops", None, None, False),
        ("current account deficit", None, None, False),
        ("recently announced cuts", None, None, True),
    ],
)
def test_infer_time(query: str, since: str | None, until: str | None, newest: bool) -> None:
    intent = infer_time(query)
    assert (intent.since, intent.until, intent.newest_first) == (since, until, newest)
    assert (intent.reason is None) == intent.is_empty()


def test_explicit_filters_win_over_inferred() -> None:
    intent = infer_time("troops in 2016")
    applied, why = merge(Filters(since="2017-01-01", authors=("Smith",)), intent)
    assert applied == Filters(since="2017-01-01", authors=("Smith",))
    assert why is None
    applied, why = merge(Filters(authors=("Smith",)), intent)
    assert applied == Filters(since="2016-01-01", until="2016-12-31", authors=("Smith",))
    assert why == "Only articles from 2016 (the query names a year)"
    assert merge(None, TimeIntent()) == (Filters(), None)


def _p(pid: str, article: str, text: str, start: int = 0) -> Passage:
    return Passage(pid, article, text, start, start + len(text), "t", None, None, None, 1)


STORY = "Troops from the US, Germany and Britain will be sent to the Baltic states next year, NATO said."


def test_collapse_same_article_overlap_and_cross_article_copies() -> None:
    passages = [
        _p("a:0", "a", STORY),
        _p("a:1", "a", "NATO said. More follows here in the second passage.", len(STORY) - 10),
        _p("b:0", "b", STORY.replace("next year", "in 2017")),  # a revised copy elsewhere
        _p("c:0", "c", "Oil prices fell in March as OPEC raised output, traders in London said."),
        _p("a:5", "a", "A distant passage of article a about something else entirely.", 900),
    ]
    assert spans_touch(passages[0], passages[1]) and not spans_touch(passages[0], passages[4])
    assert containment(shingles(passages[0].text), shingles(passages[2].text)) >= 0.7
    groups = collapse(passages, None, limit=10)
    assert [g.index for g in groups] == [0, 3, 4]
    assert groups[0].also_in == ["b:0"]


def test_collapse_by_vector_cosine_and_limit() -> None:
    passages = [
        _p("a:0", "a", "alpha beta gamma delta"),
        _p("b:0", "b", "completely different words here"),
        _p("c:0", "c", "unrelated third passage text"),
    ]
    vecs = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0]], dtype=np.float32)
    groups = collapse(passages, vecs, limit=10)
    assert [g.index for g in groups] == [0, 2] and groups[0].also_in == ["b:0"]
    assert [g.index for g in collapse(passages, None, limit=1)] == [0]


def test_mmr_prefers_diversity_as_lambda_drops() -> None:
    rel = np.array([1.0, 0.95, 0.9])
    vecs = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert mmr(rel, vecs, 3, lam=1.0) == [0, 1, 2]
    assert mmr(rel, vecs, 2, lam=0.5) == [0, 2]
    assert mmr(np.array([]), np.zeros((0, 2)), 3) == []


def test_collapse_checks_later_passages_of_a_copy_against_the_whole_original() -> None:
    # Two revisions cut at different sentences: b:1 matches no kept passage, but its text is in a.
    first, second = STORY, "Canada is expected to confirm its own contingent of one thousand soldiers soon."
    original = f"{first} {second}"
    passages = [
        _p("a:0", "a", first),
        _p("b:0", "b", first),
        _p("b:1", "b", second, 200),
        _p("c:0", "c", "Oil prices fell in March as OPEC raised output, traders in London said."),
    ]
    texts = {"a": original}
    groups = collapse(passages, None, limit=10, article_text=texts.get)
    assert [g.index for g in groups] == [0, 3] and groups[0].also_in == ["b:0", "b:1"]
    assert [g.index for g in collapse(passages, None, limit=10)] == [0, 2, 3]  # without the lookup
