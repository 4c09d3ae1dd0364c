"""The chat as people use it, in Chromium at a phone, a laptop and a desktop size: input errors beside
their input with the conversation untouched, nothing overlapped, the archive's own filters and examples.

Screenshots go to test-artifacts/ui/ (git-ignored); RAG_UPDATE_DOCS=1 also refreshes docs/phone.png.
"""

# ruff: noqa: F811  (the `browser` fixture is imported from test_ui_browser and named as a parameter)
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_answer_bbc import BBC
from test_ui_browser import (  # noqa: F401
    ARTIFACTS,
    CHROMIUM,
    SCROLL_ENDED,
    SCROLL_WATCH,
    TIMEOUT,
    _start,
    browser,
    open_app,
    settle,
)

from rag.settings import Settings

SIZES = {"phone": (390, 844), "laptop": (1366, 768), "desktop": (1920, 1080)}
LABELLED = '#chat [aria-label*="s message: "]'  # the chat messages' screen-reader labels

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def never_refuse(hash_settings_session: Settings) -> Settings:
    # the hash embedder carries no meaning, so the answerhood model would refuse every question;
    # these tests are about the page, not the answer
    settings = hash_settings_session.model_copy(deep=True)
    settings.answer.min_support = 0.0
    return settings


@pytest.fixture(scope="module")
def sample_url(hash_index: Path, never_refuse: Settings) -> Iterator[str]:
    yield from _start(never_refuse, hash_index)


@pytest.fixture(scope="module")
def bbc_url(tmp_path_factory: pytest.TempPathFactory, never_refuse: Settings) -> Iterator[str]:
    from rag.indexer import build_index

    if BBC is None:
        pytest.skip("shared BBC data not present")
    corpus = tmp_path_factory.mktemp("bbc-layout") / "bbc-news"
    for section in ("business", "sport", "tech"):  # five stories from each of three folders
        for f in sorted((BBC / section).glob("*.txt"))[:5]:
            (corpus / section).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, corpus / section / f.name)
    folder = corpus.parent / "index"
    build_index([corpus], folder, never_refuse)
    yield from _start(never_refuse, folder)


def _page(browser: Any, size: str) -> Any:
    width, height = SIZES[size]
    ctx = browser.new_context(viewport={"width": width, "height": height})
    pg = ctx.new_page()
    pg.add_init_script(SCROLL_WATCH)
    pg.set_default_timeout(TIMEOUT)
    return pg


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _box(page: Any, selector: str) -> dict[str, float]:
    return page.evaluate("s => { const r = document.querySelector(s).getBoundingClientRect();"
                         " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }", selector)


def _ask(page: Any, question: str) -> None:
    page.fill("#question textarea", question)
    page.click("#ask")


def _in_view(page: Any, selector: str) -> bool:
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    box = _box(page, selector)
    return box["top"] >= 0 and box["bottom"] <= height and box["left"] >= 0 and box["right"] <= width


def _comes_into_view(page: Any, *selectors: str, timeout: float = 10_000) -> bool:
    """Whether every element comes wholly on-screen (a drawer's slide ending) within `timeout` ms."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "sels => sels.every(s => { const r = document.querySelector(s).getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; })",
            arg=list(selectors), timeout=timeout)
    except PlaywrightTimeout:
        return False
    return True


def _error_badges(page: Any) -> int:
    """Gradio's red 'Error' status badges over components."""
    return int(page.evaluate("() => [...document.querySelectorAll('.error, .validation-error')]"
                             ".filter(e => e.offsetParent !== null && /error/i.test(e.textContent)).length"))


@pytest.mark.parametrize("size", list(SIZES))
def test_layout_at_each_size(browser: Any, sample_url: str, size: str) -> None:
    page = _page(browser, size)
    open_app(page, sample_url)
    _ask(page, "How many soldiers will the US, Germany and Britain each contribute?")
    page.wait_for_selector("#sources-panel .src-card")
    page.wait_for_selector("#chat a.cite-chip")
    if size == "phone":
        # the filter drawer starts closed, leaving the chat; it opens and its close button is on-screen
        assert _box(page, "#since")["right"] <= 0, "the filters cover the phone screen"
        assert _in_view(page, "#sidebar .toggle-button"), "no way to open the filters"
        path = _shot(page, f"layout-{size}")
        if os.environ.get("RAG_UPDATE_DOCS"):  # the README's copy, refreshed on request only
            shutil.copyfile(path, Path(__file__).parent.parent / "docs" / "phone.png")
        page.click("#sidebar .toggle-button")
        assert _comes_into_view(page, "#since", "#sidebar .toggle-button"), "close button cut off"
        _shot(page, f"layout-{size}-filters")
        return
    # laptop and desktop: the actions are above the fold and the footer stays clear of the sources
    assert _in_view(page, "#clear") and _in_view(page, "#export"), "Clear chat / Export below the fold"
    footer = page.query_selector("footer")
    if footer is not None:
        assert _box(page, "footer")["top"] >= _box(page, "#sources-panel")["bottom"] - 1
    # what opening a citation must not move; the window itself may already be scrolled, since Playwright
    # scrolls a button it clicks into view when something briefly covers it while the page settles
    chat_top, scrolled = _box(page, "#chat")["top"], page.evaluate("() => window.scrollY")
    page.click("#chat a.cite-chip >> nth=0")
    page.wait_for_selector("#sources-panel .src-card.selected")
    page.click("#sources-panel button.open-article >> nth=0")
    page.wait_for_selector("#article-panel #article-mark")
    page.wait_for_function(SCROLL_ENDED, arg="article-panel")
    assert abs(_box(page, "#chat")["top"] - chat_top) < 2, "opening a citation scrolled the chat away"
    assert page.evaluate("() => window.scrollY") == scrolled
    _shot(page, f"layout-{size}")


def test_input_errors_stay_beside_their_input(browser: Any, sample_url: str) -> None:
    page = _page(browser, "laptop")
    open_app(page, sample_url)
    settle(page, lambda: page.click("#ask"))  # an empty question does nothing
    assert page.locator("#chat .message").count() == 0 and _error_badges(page) == 0
    assert page.inner_text("#ask-error").strip() == ""

    _ask(page, "How many soldiers will the US, Germany and Britain each contribute?")
    page.wait_for_selector("#chat a.cite-chip")
    page.wait_for_selector("#sources-panel .src-card")
    chat_before = page.inner_text("#chat")
    panel_before = page.inner_text("#sources-panel")

    page.fill("#since textarea", "01/02/2005")
    settle(page, lambda: _ask(page, "And Canada?"))
    page.wait_for_selector("#filter-error .input-error")
    beside = page.inner_text("#filter-error")
    assert "YYYY-MM-DD" in beside and "01/02/2005" in beside
    assert "Check the filters" in page.inner_text("#ask-error")
    assert page.input_value("#question textarea") == "And Canada?"  # the question is kept to re-ask
    assert page.inner_text("#chat") == chat_before and page.inner_text("#sources-panel") == panel_before
    assert _error_badges(page) == 0
    _shot(page, "errors-beside-input")

    page.fill("#since textarea", "")  # fixed: the note goes, the question is answered
    page.click("#ask")
    page.wait_for_function("() => document.querySelector('#sources-panel .src-head')?.textContent"
                           ".includes('Canada')")
    assert page.locator("#filter-error .input-error").count() == 0
    assert page.locator("#ask-error .input-error").count() == 0


def test_answer_label_is_text_and_no_emoji_glyph(browser: Any, sample_url: str) -> None:
    page = _page(browser, "desktop")
    page.goto(sample_url)
    page.fill("#since textarea", "2016-01-01")
    _ask(page, "How many soldiers will the US, Germany and Britain each contribute?")
    page.wait_for_selector("#chat a.cite-chip")
    page.wait_for_selector("#sources-panel .src-card")
    page.wait_for_function(f"() => [...document.querySelectorAll({LABELLED!r})]"
                           ".some(e => e.getAttribute('aria-label').includes('[1]'))")
    labels = page.evaluate(f"() => [...document.querySelectorAll({LABELLED!r})]"
                           ".map(e => e.getAttribute('aria-label'))")
    answer = [x for x in labels if "[1]" in x]
    assert answer, labels
    assert all("<" not in x and "&#" not in x and "cite-chip" not in x for x in labels), labels
    content = page.evaluate(
        "() => [...document.querySelectorAll('#chat *')].map(e => getComputedStyle(e, '::before').content)"
        ".filter(c => c && c !== 'none' && c !== 'normal')")
    assert not any(ord(ch) > 0x2FFF for c in content for ch in c), content  # no emoji-range glyph


def test_bbc_index_offers_its_sections_and_its_own_examples(browser: Any, bbc_url: str) -> None:
    page = _page(browser, "laptop")
    open_app(page, bbc_url)
    page.wait_for_selector("#sections-filter")
    page.wait_for_function("() => document.querySelector('#examples')?.innerText.includes('?')")  # loaded
    assert not page.is_visible("#since") and not page.is_visible("#until")  # no dates in the BBC set
    assert "no dates" in page.inner_text("#facet-note") and "newest-first" in page.inner_text("#facet-note")
    examples = page.inner_text("#examples")
    assert "NATO" not in examples and "what happened?" in examples
    page.click("#sections-filter input")
    options = page.locator("[role='option']").all_inner_texts()
    assert {"business", "sport", "tech"} <= {o.strip() for o in options}, options
    page.click("[role='option']:has-text('sport')")
    page.keyboard.press("Escape")
    _ask(page, "Who won the match?")
    page.wait_for_selector("#sources-panel .src-card")
    assert "Sections: sport" in page.locator("#chat .q-filter").last.inner_text()
    _shot(page, "bbc-section-sport")
    titles = page.locator("#sources-panel .src-title").all_inner_texts()
    sport = {(BBC / "sport" / f).read_text(encoding="latin-1").split("\n", 1)[0].strip()
             for f in sorted(p.name for p in (BBC / "sport").glob("*.txt"))[:5]}
    assert titles and all(any(t in title for t in sport) for title in titles), titles
