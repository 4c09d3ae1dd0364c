"""What the archive holds, as the UI and the CLI offer it: sections from each format's metadata, the
date range (or its absence), headline examples, `rag search --section`, and indexing messages that say
what happened to each file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.cli import main
from rag.settings import Settings
from rag.types import Article, Filters
from rag.ui.app import example_questions
from rag.ui.backend import read_facets
from rag.ui.render import facets_note_html

BBC = Path("/work/shared/data/bbc-news")


@pytest.fixture(scope="module")
def bbc_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three stories from each of three BBC folders, and sport/199.txt, which is not UTF-8."""
    if not BBC.is_dir():
        pytest.skip("shared BBC data not present")
    corpus = tmp_path_factory.mktemp("bbc-facets") / "bbc-news"
    names = [f"{s}/{n:03d}.txt" for s in ("business", "sport", "tech") for n in (1, 2, 3)] + ["sport/199.txt"]
    for name in names:
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BBC / name, corpus / name)
    return corpus


@pytest.fixture
def hash_env(monkeypatch: pytest.MonkeyPatch, hash_settings: Settings) -> None:
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", "hash")
    monkeypatch.setenv("RAG_EMBEDDING__CACHE_DIR", hash_settings.embedding.cache_dir)


def test_bbc_index_section_search_and_messages(bbc_corpus: Path, tmp_path: Path, hash_env: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "index"
    assert main(["index", str(bbc_corpus), "--index", str(index), "--quiet"]) == 0
    out, err = capsys.readouterr()
    # sport/199.txt was read with a fallback encoding and indexed: said so, never called skipped
    assert "1 file(s) decoded with a fallback encoding and indexed" in out and "skipped" not in out + err
    assert "decoded with a fallback encoding, indexed (1):" in err and "sport/199.txt" in err
    assert "not indexed" not in err

    facets = read_facets(index / "passages.sqlite")
    assert set(facets.sections) == {"business", "sport", "tech"} and facets.sections[0] == "sport"
    assert facets.sources == ("BBC News",) and facets.authors == () and not facets.has_dates
    assert "no dates" in facets_note_html(facets) and "newest-first" in facets_note_html(facets)
    titles = {(bbc_corpus / p).read_bytes().decode("latin-1").split("\n", 1)[0].strip()
              for p in (f"{s}/001.txt" for s in ("business", "sport", "tech"))}
    examples = example_questions(facets)
    assert len(examples) == 3 and all("NATO" not in q for q in examples)
    assert sum(any(t in q for t in titles) for q in examples) >= 2  # built from this archive's headlines

    assert main(["search", "match win season", "--index", str(index), "--section", "sport", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    sport = {(bbc_corpus / "sport" / f).read_bytes().decode("latin-1").split("\n", 1)[0].strip()
             for f in ("001.txt", "002.txt", "003.txt", "199.txt")}
    assert hits and {h["title"] for h in hits} <= sport
    assert main(["search", "match win season", "--index", str(index), "--section", "SPORT"]) == 0
    assert "sections=('SPORT',)" in capsys.readouterr().out  # the filter is shown; case does not matter


@pytest.mark.parametrize("metadata, section", [
    ({"category": "sport"}, "sport"),  # the BBC folder
    ({"section": "World"}, "World"),  # a JSON/CSV record's own field
    ({"topics": ["earn", "acq"]}, "earn"),  # Reuters TOPICS
    ({"category": ["a", "b"]}, None),  # a list is no section
    ({}, None),
])
def test_section_from_each_kind_of_metadata(make_hash_index, metadata: dict[str, object],
                                            section: str | None) -> None:
    from rag.store import Store

    arts = [Article(id="a1", title="Alpha story here today", text="Alpha body text.", metadata=metadata),
            Article(id="a2", title="Beta", text="Beta body text.", date="2016-01-02")]
    index = make_hash_index(arts)
    facets = read_facets(index / "passages.sqlite")
    assert facets.sections == ((section,) if section else ())
    dates = (facets.first_date, facets.last_date, facets.dated, facets.articles)
    assert dates == ("2016-01-02", "2016-01-02", 1, 2)
    assert "1 of 2 articles have none" in facets_note_html(facets)
    store = Store.open(index)
    rows = store.rows_for(Filters(sections=(section or "nothing",)))
    assert rows is not None and [store.passages(rows)[i].article_id for i in range(len(rows))] == (
        ["a1"] if section else [])


def test_the_question_says_which_sections_it_searched() -> None:
    from rag.types import Answer
    from rag.ui.render import question_html

    answer = Answer(text="A [1].", citations=[], grounded=True, question="q", query="q",
                    filters=Filters(sections=("sport", "tech")))
    assert "Sections&#58; sport, tech" in question_html("q", answer)  # escaped for Markdown
