"""The answer issue's follow-up pair in a real browser, on real BBC files and the real model: the
second turn is searched with the first one's topic and says so, and a year asked of this undated
archive is said beside the question, as the CLI says it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_answer_bbc import BBC
from test_ui_browser import CHROMIUM, _start, _wait_sources_for, browser, page  # noqa: F401

from rag.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(BBC is None, reason="shared BBC data not present"),
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def bbc_url(tmp_path_factory: pytest.TempPathFactory, sample_settings: Settings) -> Iterator[str]:
    from rag.indexer import build_index

    assert BBC is not None
    corpus = tmp_path_factory.mktemp("bbc-ui") / "bbc-news"
    # the two maternity-pay stories, the 2005 Australian Open final, and every 12th politics and
    # sport story as distractors (about 60 articles)
    paths = {"politics/001.txt", "politics/340.txt", "sport/503.txt"}
    for section in ("politics", "sport"):
        paths.update(f"{section}/{f.name}" for f in sorted((BBC / section).glob("*.txt"))[::12])
    for path in sorted(paths):
        (corpus / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BBC / path, corpus / path)
    folder = corpus.parent / "index"
    build_index([corpus], folder, sample_settings)
    yield from _start(sample_settings, folder)


def test_follow_up_pair_is_searched_with_its_topic(page: Any, bbc_url: str) -> None:  # noqa: F811
    page.goto(bbc_url)
    page.fill("#question textarea", "What did Labour propose on maternity pay?")
    page.click("#ask")
    page.wait_for_selector("#chat a.cite-chip")
    _wait_sources_for(page, "maternity pay")
    first = page.inner_text("#chat")
    assert "Labour plans maternity pay rise" in first  # the quote is led by whose plan it is

    page.fill("#question textarea", "And what did the opposition say?")
    page.click("#ask")
    rewrite = page.wait_for_selector("#chat .q-rewrite")
    text = rewrite.inner_text()
    assert text.startswith("Searched for:") and "opposition" in text and "maternity pay" in text
    _wait_sources_for(page, "opposition")

    page.fill("#question textarea", "Who won the Australian Open in 2005?")
    page.click("#ask")
    _wait_sources_for(page, "Australian Open")
    notes = page.locator("#chat .q-filter").all_inner_texts()
    assert any("no dates" in n and "2005" in n for n in notes)
