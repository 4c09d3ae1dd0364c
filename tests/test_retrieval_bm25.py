"""BM25 stage: tokenization, save/load round trip, agreement with bm25s' own scorer, filters."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from rag.errors import IndexNotFound
from rag.retrieval.bm25 import build_bm25, load_bm25, tokenize, top_k

DOCS = [
    "The US will contribute 1,000 soldiers to the NATO battalion in Lithuania.",
    "Germany and Britain each pledged troops to the new NATO force.",
    "Oil prices fell sharply in March as OPEC output rose.",
    "",
    "Coffee exports from Brazil rose in 1987, traders said.",
    "Soldiers soldiering: the soldier's contributions to troops.",
]


@pytest.mark.parametrize(
    "text, expected",
    [("", []), ("a I", []), ("The soldiers", ["soldier"]), ("Élan élans 1987", ["élan", "élan", "1987"])],
)
def test_tokenize_edge_cases(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_round_trip_and_agreement_with_bm25s(tmp_path) -> None:
    build_bm25(DOCS, tmp_path)
    index = load_bm25(tmp_path)
    assert len(index) == len(DOCS)
    query = "how many soldiers will NATO troops get"
    ours = index.scores(query)
    reference = bm25s.BM25.load(str(tmp_path)).get_scores(tokenize(query))
    np.testing.assert_allclose(ours, reference, rtol=1e-5)
    hits = index.search(query, k=3)
    assert hits[0][0] == 5  # the passage with three stemmed matches
    assert {row for row, _ in hits} <= {0, 1, 5}
    assert all(a[1] >= b[1] for a, b in zip(hits, hits[1:], strict=False))


def test_filter_applies_before_the_cut(tmp_path) -> None:
    build_bm25(DOCS, tmp_path)
    index = load_bm25(tmp_path)
    unfiltered = index.search("soldiers troops NATO", k=1)
    assert unfiltered[0][0] == 5
    filtered = index.search("soldiers troops NATO", k=2, allowed_rows=np.array([0, 1, 2]))
    assert [row for row, _ in filtered] == [0, 1] or [row for row, _ in filtered] == [1, 0]
    assert index.search("soldiers", k=5, allowed_rows=np.array([], dtype=np.int64)) == []


def test_unknown_terms_and_empty_index(tmp_path) -> None:
    build_bm25(DOCS, tmp_path / "a")
    assert load_bm25(tmp_path / "a").search("zzzz qqqq", k=5) == []
    build_bm25([], tmp_path / "b")
    assert load_bm25(tmp_path / "b").search("soldiers", k=5) == []
    with pytest.raises(IndexNotFound):
        load_bm25(tmp_path / "missing")


def test_top_k_orders_and_breaks_ties_by_row() -> None:
    scores = np.array([0.0, 2.0, 5.0, 2.0, -1.0, 3.0], dtype=np.float32)
    assert top_k(scores, 3) == [(2, 5.0), (5, 3.0), (1, 2.0)]
    assert top_k(scores, 10) == [(2, 5.0), (5, 3.0), (1, 2.0), (3, 2.0)]


def test_a_question_finds_wire_copys_abbreviations(tmp_path) -> None:
    """A query is widened to wire copy's abbreviations of its words: "fourth quarter" finds the
    headline "4TH QTR NET", "International" finds "INT'L"; the index keeps the text's own words."""
    docs = ["AMERICAN INT'L GROUP INC <AIG> 4TH QTR NET: Net 296.6 mln vs 120.1 mln",
            "Oil prices fell sharply in March as OPEC output rose."]
    build_bm25(docs, tmp_path)
    index = load_bm25(tmp_path)
    reference = bm25s.BM25.load(str(tmp_path)).get_scores(tokenize("int 4th qtr mln"))
    widened = index.scores("international fourth quarter, in millions")
    np.testing.assert_allclose(widened, reference, rtol=1e-5)
    assert index.search("the fourth quarter", k=2) == index.search("4th qtr", k=2) != []
