"""Retriever over real indexes: the sample corpus (real model), BBC revised stories and a Reuters slice
(hash embedder; the point there is filters and duplicate collapse, not semantic quality)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.retrieval import Retriever
from rag.settings import Settings
from rag.types import Article, Filters

DATA = Path("/work/shared/data")
TROOPS = "How many soldiers will the US, Germany and Britain each contribute?"


@pytest.fixture(scope="module")
def sample(sample_index: Path, sample_settings: Settings) -> Retriever:
    return Retriever.open(sample_index, sample_settings)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_troop_question_ranks_the_2016_passage_first(sample: Retriever, mode: str) -> None:
    result = sample.search(TROOPS, k=5, mode=mode)
    top = result.hits[0]
    assert top.passage.date is not None and top.passage.date.startswith("2016")
    assert "each contribute 1,000 soldiers" in top.passage.text
    assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1))
    assert set(top.scores) >= ({"bm25", "dense"} if mode == "hybrid" else {mode})
    assert result.inferred is None and result.filters == Filters()


@pytest.mark.slow
def test_overlapping_passages_of_one_article_never_both_appear(sample: Retriever) -> None:
    hits = sample.search("NATO troops Baltic Poland Russia", k=20).hits
    for i, a in enumerate(hits):
        for b in hits[i + 1 :]:
            assert not (
                a.passage.article_id == b.passage.article_id
                and a.passage.start < b.passage.end
                and b.passage.start < a.passage.end
            )


@pytest.mark.slow
@pytest.mark.parametrize(
    "filters, check",
    [
        (Filters(since="2021-01-01"), lambda p: p.date >= "2021-01-01"),
        (Filters(until="2016-12-31"), lambda p: p.date[:10] <= "2016-12-31"),
        (Filters(authors=("clara weiss",)), lambda p: p.author == "Clara Weiss"),
        (Filters(authors=("Gaist",)), lambda p: "Gaist" in p.author),
    ],
)
def test_filters_apply_before_the_cut(sample: Retriever, filters: Filters, check: Callable) -> None:
    # The troop passage is the best unfiltered hit; filtered away, k other hits must still come back.
    rows = sample.store.rows_for(filters)
    assert rows is not None and len(rows) >= 3
    result = sample.search(TROOPS, k=3, filters=filters)
    assert len(result.hits) == 3
    assert all(check(h.passage) for h in result.hits)
    assert result.filters == filters


@pytest.mark.slow
def test_article_id_filter_and_time_aware_queries(sample: Retriever) -> None:
    first = sample.search(TROOPS, k=1).hits[0].passage
    only = sample.search("NATO", k=50, filters=Filters(article_ids=(first.article_id,))).hits
    assert only and {h.passage.article_id for h in only} == {first.article_id}

    in_2021 = sample.search("NATO border escalation in 2021", k=3)
    assert in_2021.filters.since == "2021-01-01" and in_2021.filters.until == "2021-12-31"
    assert in_2021.inferred == "Only articles from 2021 (the query names a year)"
    assert in_2021.hits and all(h.passage.date.startswith("2021") for h in in_2021.hits)

    june = sample.search("NATO battalions June 2016", k=3)
    assert june.inferred == "Only articles from June 2016 (the query names a month)"
    assert all(h.passage.date.startswith("2016-06") for h in june.hits)

    explicit = sample.search("NATO in 2021", k=3, filters=Filters(until="2016-12-31"))
    assert explicit.filters == Filters(until="2016-12-31") and explicit.inferred is None
    assert all(h.passage.date <= "2016-12-31" for h in explicit.hits)

    latest = sample.search("latest NATO troop deployments", k=6)
    dates = [h.passage.date for h in latest.hits]
    assert latest.filters.newest_first and dates == sorted(dates, reverse=True)
    assert latest.inferred and "Newest" in latest.inferred

    nothing = sample.search("NATO troops in 1999", k=3)
    assert nothing.hits and nothing.filters.since is None
    assert nothing.inferred and "all dates were searched" in nothing.inferred


def _bbc(name: str) -> Article:
    lines = (DATA / "bbc-news" / name).read_text(encoding="latin-1").split("\n", 1)
    return Article(id=f"bbc/{name}", title=lines[0].strip(), text=lines[1].strip(), source="BBC")


def test_bbc_revised_stories_collapse_into_also_in(make_hash_index, hash_settings: Settings) -> None:
    names = [
        "business/254.txt",
        "business/447.txt",
        "business/001.txt",
        "business/002.txt",
        "tech/001.txt",
        "sport/001.txt",
    ]
    folder = make_hash_index([_bbc(n) for n in names])
    # The hash embedder's dense scores are noise, and z-score fusion lets a strong one-sided match
    # (254.txt's revised second passage, not a copy of 447's text) into the top 5; this test is about
    # collapsing copies, so it pins the plain passage-level RRF it was written against.
    hash_settings.retrieval.fusion, hash_settings.retrieval.fusion_level = "rrf", "passage"
    hash_settings.retrieval.dense_prf, hash_settings.retrieval.dense_weight = 0.0, 0.5
    retriever = Retriever.open(folder, hash_settings)
    hits = retriever.search("News Corp video games market Activision takeover", k=5).hits
    assert hits[0].passage.article_id in ("bbc/business/254.txt", "bbc/business/447.txt")
    other = (
        "bbc/business/447.txt" if hits[0].passage.article_id.endswith("254.txt") else "bbc/business/254.txt"
    )
    assert any(pid.startswith(other) for pid in hits[0].also_in)
    assert other not in {h.passage.article_id for h in hits}
    off = hash_settings.model_copy(deep=True)
    off.retrieval.collapse_duplicates = False
    plain = Retriever.open(folder, off).search("News Corp video games market Activision takeover", k=5).hits
    assert {"bbc/business/254.txt", "bbc/business/447.txt"} <= {h.passage.article_id for h in plain}


_REUTER = re.compile(r"<REUTERS.*?NEWID=\"(\d+)\">.*?<DATE>\s*([^<]+)</DATE>(.*?)</REUTERS>", re.S)
_MONTHS = {"FEB": "02", "MAR": "03"}


def _reuters_slice(first: int, last: int) -> list[Article]:
    raw = (DATA / "reuters21578" / "reut2-007.sgm").read_text(encoding="latin-1")
    out = []
    for newid, date, rest in _REUTER.findall(raw):
        if not first <= int(newid) <= last:
            continue
        day, mon, year = date.split()[0].split("-")
        title = re.search(r"<TITLE>(.*?)</TITLE>", rest, re.S)
        body = re.search(r"<BODY>(.*?)</BODY>", rest, re.S)
        if title and body:
            out.append(
                Article(
                    id=f"reuters/{newid}",
                    title=html.unescape(title.group(1)),
                    text=html.unescape(body.group(1)).strip(),
                    date=f"{year}-{_MONTHS[mon]}-{int(day):02d}",
                    source="Reuters",
                )
            )
    return out


def test_reuters_since_keeps_k_hits_from_that_date(make_hash_index, hash_settings: Settings) -> None:
    articles = _reuters_slice(7480, 7620)  # around the 19/20 March 1987 boundary of reut2-007
    assert {a.date for a in articles} == {"1987-03-19", "1987-03-20"}
    retriever = Retriever.open(make_hash_index(articles), hash_settings)
    result = retriever.search("oil prices shares dollar", k=8, filters=Filters(since="1987-03-20"))
    assert len(result.hits) == 8
    assert all(h.passage.date >= "1987-03-20" for h in result.hits)
    unfiltered = retriever.search("oil prices shares dollar", k=8)
    assert any(h.passage.date < "1987-03-20" for h in unfiltered.hits)


@pytest.mark.slow
def test_mmr_option_keeps_the_best_hit_and_diversifies(sample_index: Path, sample_settings: Settings) -> None:
    settings = sample_settings.model_copy(deep=True)
    settings.retrieval.mmr = True
    settings.retrieval.mmr_lambda = 0.3
    diverse = Retriever.open(sample_index, settings).search(TROOPS, k=4).hits
    plain = Retriever.open(sample_index, sample_settings).search(TROOPS, k=4).hits
    assert diverse[0].passage.id == plain[0].passage.id  # MMR starts from the most relevant hit
    assert len(diverse) == 4 and [h.rank for h in diverse] == [1, 2, 3, 4]
    articles = [h.passage.article_id for h in diverse]
    assert len(set(articles)) >= len({h.passage.article_id for h in plain})
