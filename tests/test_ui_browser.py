"""The chat UI in a real browser: Debian's Chromium driven by Playwright, against the app on localhost.

Screenshots of the main screens go to test-artifacts/ui/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.settings import PROJECT_ROOT, Settings
from rag.types import Article

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
FIXTURE = Path(__file__).parent / "fixtures" / "ui" / "xss_articles.json"
QUESTION = "How many soldiers will the US, Germany and Britain each contribute?"
TIMEOUT = 60_000  # ms; the first answer also warms the model on a busy 2-core machine

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt install chromium)"),
]
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(settings: Settings, index: Path) -> Iterator[str]:
    from rag.ui.app import serve

    port = _free_port()
    settings = settings.model_copy(update={"ui": settings.ui.model_copy(update={"port": port})})
    app = serve(settings, index, block=False, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


@pytest.fixture(scope="module")
def sample_url(sample_index: Path, sample_settings: Settings) -> Iterator[str]:
    yield from _start(sample_settings, sample_index)


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[Any]:
    from fake_llm_server import FakeLLM

    server = FakeLLM().start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def llm_url(sample_index: Path, sample_settings: Settings, fake_llm: Any) -> Iterator[str]:
    settings = sample_settings.model_copy(update={
        "answer": sample_settings.answer.model_copy(update={"answerer": "llm"}),
        "llm": sample_settings.llm.model_copy(update={"base_url": fake_llm.base_url, "model": "fake"}),
    })
    yield from _start(settings, sample_index)


@pytest.fixture(scope="module")
def xss_index(tmp_path_factory: pytest.TempPathFactory, hash_settings_session: Settings) -> Path:
    from rag.indexer import index_articles

    folder = tmp_path_factory.mktemp("ui-xss") / "index"
    articles = [Article(**a) for a in json.loads(FIXTURE.read_text(encoding="utf-8"))]
    index_articles(articles, folder, hash_settings_session)
    return folder


@pytest.fixture(scope="module")
def xss_url(xss_index: Path, hash_settings_session: Settings) -> Iterator[str]:
    # The hash embedder carries no meaning, so the answerhood model would refuse; this test is about
    # escaping quoted markup, so the answerer is told never to refuse.
    settings = hash_settings_session.model_copy(deep=True)
    settings.answer.min_support = 0.0
    yield from _start(settings, xss_index)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1500, "height": 950}, accept_downloads=True,
                              permissions=["clipboard-read", "clipboard-write"])
    pg = ctx.new_page()
    pg.add_init_script(SCROLL_WATCH)
    pg.set_default_timeout(TIMEOUT)
    pg.dialogs = []  # every alert/confirm the page tries to open
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    ctx.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _wait_sources_for(page: Any, words: str) -> None:
    """Wait until the sources panel shows the answer to the question containing `words`."""
    page.wait_for_function(
        "w => document.querySelector('#sources-panel .src-head')?.textContent.includes(w)", arg=words
    )


def open_app(page: Any, url: str) -> None:
    """Load the app and wait until it is ready for typing: Gradio focuses the question box
    (autofocus) once it has mounted, and that focus can scroll the page; typing earlier races it."""
    page.goto(url)
    page.wait_for_function("() => document.activeElement === document.querySelector('#question textarea')")


def settle(page: Any, action: Callable[[], None]) -> None:
    """Run `action` (a click), then wait until the server has finished every event it started.

    Gradio streams a session's event results over one `queue/data` request and ends it once none is
    pending (the page then completes or aborts it), so that request ending is the condition; checks
    that something did NOT happen (no message, no answer) can then look at once instead of after a
    guessed pause.
    """
    opened: list[Any] = []
    ended: list[Any] = []

    def on_request(request: Any) -> None:
        if "/queue/data" in request.url:
            opened.append(request)

    def on_end(request: Any) -> None:  # Playwright wraps listeners: a bound builtin will not do
        ended.append(request)

    listeners = [("request", on_request), ("requestfinished", on_end), ("requestfailed", on_end)]
    for event, listener in listeners:
        page.on(event, listener)
    try:
        action()
        deadline = time.monotonic() + TIMEOUT / 1000
        while not any(request in ended for request in opened):
            assert time.monotonic() < deadline, "the server did not finish the events in time"
            page.wait_for_timeout(20)  # a poll of the condition: Playwright delivers events meanwhile
    finally:
        for event, listener in listeners:
            page.remove_listener(event, listener)


# Smooth scrolls end when nothing has moved for a while: every page records when a scroll was asked
# for (per element id) and when anything last moved (scroll events, caught in the capture phase).
SCROLL_WATCH = """
window.__scroll = {asked: {}, moved: 0};
const E = Element.prototype;
for (const [owner, name] of [[E, 'scrollTo'], [E, 'scrollBy'], [E, 'scrollIntoView'],
                             [window, 'scrollTo'], [window, 'scrollBy']]) {
  const original = owner[name];
  owner[name] = function (...args) {
    window.__scroll.asked[this === window ? 'window' : this.id] = performance.now();
    return original.apply(this, args);
  };
}
addEventListener('scroll', () => { window.__scroll.moved = performance.now(); }, true);
"""
# The scroll asked of the element with this id has ended: asked for, then 300 ms without movement
# (a smooth scroll moves every frame, ~16 ms).
SCROLL_ENDED = """id => {
  const s = window.__scroll, asked = s && s.asked[id];
  return !!asked && performance.now() - Math.max(asked, s.moved) > 300;
}"""


def test_ask_click_citation_open_article_and_follow_up(page: Any, sample_url: str) -> None:
    page.goto(sample_url)
    page.wait_for_selector("#index-info td")
    assert "2" in page.inner_text("#index-info")  # the sample index's article count is shown
    page.fill("#question textarea", QUESTION)
    page.click("#ask")
    chip = page.wait_for_selector("#chat a.cite-chip")  # streamed into the chat, then chipped
    assert "1,000" in page.inner_text("#chat")
    page.wait_for_selector("#sources-panel .src-card mark")
    _shot(page, "1-answer-with-sources")

    chip.click()
    card = page.wait_for_selector("#sources-panel .src-card.selected")
    marked = card.query_selector("mark").inner_text()
    assert "1,000" in marked  # the short answer is the first citation
    assert marked in card.query_selector(".src-text").inner_text()  # inside its surrounding passage
    assert "Thomas Gaist" in card.inner_text() and "2016-06-14" in card.inner_text()

    card.query_selector("button.open-article").click()
    mark = page.wait_for_selector("#article-panel #article-mark")
    assert "1,000" in mark.inner_text()
    page.wait_for_function(SCROLL_ENDED, arg="article-panel")
    assert page.evaluate(
        "() => { const m = document.querySelector('#article-mark').getBoundingClientRect();"
        " const p = document.querySelector('#article-panel').getBoundingClientRect();"
        " return m.top >= p.top - 1 && m.bottom <= p.bottom + 1; }"
    ), "the highlighted span is scrolled into view"
    _shot(page, "2-article-view")

    page.fill("#question textarea", "And Canada?")
    page.click("#ask")
    rewrite = page.wait_for_selector("#chat .q-rewrite")
    assert "Canada" in rewrite.inner_text() and "Searched for" in rewrite.inner_text()
    _wait_sources_for(page, "Canada")
    assert page.locator("#chat a.cite-chip").count() >= 2
    _shot(page, "3-follow-up")

    page.click("#chat a.cite-chip >> nth=0")  # a chip of the first answer brings back its sources
    _wait_sources_for(page, "Germany and Britain")
    assert page.wait_for_selector("#sources-panel .src-card.selected mark")

    page.click("#sources-panel button.copy-answer")
    page.wait_for_selector("#sources-panel button.copy-answer:has-text('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("1,000 [1]") and "The US, Germany and Britain" in copied and "Sources:" in copied
    assert page.dialogs == []


def test_llm_answer_streams_and_a_changed_figure_is_marked_unsupported(page: Any, llm_url: str,
                                                                      fake_llm: Any) -> None:
    """The LLM answerer end to end in the browser: one true sentence citing its passage, one that
    changes the passage's figure; the first gets a chip, the second is marked and warned about."""
    true = "The US, Germany and Britain will each contribute 1,000 soldiers"
    wrong = "Canada will contribute 9,000 soldiers"

    def reply(body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        blocks = re.findall(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', prompt, re.S)
        n = next(k for k, text in blocks if "1,000 soldiers" in text)
        return f"{true} [{n}]. {wrong} [{n}]."

    fake_llm.respond = reply
    page.goto(llm_url)
    page.wait_for_selector("#index-info td")
    assert page.is_checked("#answerer input[value='LLM']")
    page.fill("#question textarea", QUESTION)
    page.click("#ask")
    page.wait_for_selector("#chat a.cite-chip")
    page.wait_for_selector("#chat .a-warning")
    chat = page.inner_text("#chat")
    assert true in chat and "[unsupported]" in chat
    assert "states 9,000, which its cited passage" in chat
    assert page.locator("#chat a.cite-chip").count() == 1  # only the true sentence is cited
    assert fake_llm.requests and fake_llm.requests[-1]["stream"] is True
    page.wait_for_selector("#sources-panel .src-card mark")
    assert "1,000 soldiers" in page.inner_text("#sources-panel .src-card mark >> nth=0")
    _shot(page, "6-llm-answer")
    assert page.dialogs == []


def test_date_filter_changes_the_source(page: Any, sample_url: str) -> None:
    page.goto(sample_url)
    page.fill("#since textarea", "2017-01-01")
    page.fill("#question textarea", "What is NATO sending to the Baltic states and Poland?")
    page.click("#ask")
    page.wait_for_selector("#sources-panel .src-card")
    metas = [m.inner_text() for m in page.query_selector_all("#sources-panel .src-meta")]
    assert metas and all("2016" not in m for m in metas), metas
    assert any("2021" in m for m in metas)
    assert "2017-01-01" in page.inner_text("#chat .q-filter")
    _shot(page, "4-date-filter")

    page.fill("#since textarea", "")  # no filter set: the question itself names a year
    page.fill("#question textarea", "What happened at the Polish-Belarusian border in 2021?")
    page.click("#ask")
    _wait_sources_for(page, "Polish-Belarusian")
    assert "2021-01-01 to 2021-12-31" in page.locator("#chat .q-filter").last.inner_text()


def test_xss_article_shows_as_text_and_never_runs(page: Any, xss_url: str, xss_index: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(xss_url)
    page.fill("#question textarea", "What did the mayor say the bridge repairs will cost?")
    page.click("#ask")
    page.wait_for_selector("#sources-panel .src-card mark")
    # the quoted sentence runs on into the markup pasted after it (one sentence to the splitter)
    _wait_sources_for(page, "bridge repairs")
    page.wait_for_selector("#chat a.cite-chip >> nth=0")
    panel = page.inner_text("#sources-panel")
    assert "<script>alert(1)</script>" in panel or "<img src=x onerror=alert(1)>" in panel
    assert "<script>alert('title')</script>" in panel  # the title, as text
    chat = page.inner_text("#chat")
    assert "<script>alert(1)</script>" in chat and "[click](javascript:alert(1))" in chat
    page.click("#sources-panel button.open-article >> nth=0")
    page.wait_for_selector("#article-panel #article-mark")
    article = page.inner_text("#article-panel")
    assert "[click](javascript:alert(1))" in article and "<img src=x onerror=alert(1)>" in article
    page.wait_for_function(SCROLL_ENDED, arg="article-panel")  # the last thing opening an article does
    dom = page.evaluate(
        "() => ({imgs: document.querySelectorAll('#chat img, #sources-panel img, #article-panel img').length,"
        " js: document.querySelectorAll('a[href^=\"javascript\"]').length,"
        " scripts: [...document.querySelectorAll('script')]"
        "   .filter(s => /^alert\\(/.test(s.textContent.trim())).length})"  # a payload turned element
    )
    assert dom == {"imgs": 0, "js": 0, "scripts": 0}
    _shot(page, "5-xss-article")
    assert page.dialogs == [] and errors == []

    # thumbs up on the first answer -> feedback.jsonl in the index folder
    settle(page, lambda: page.click("#chat button[aria-label='Like'] >> nth=0"))  # the handler writes it
    feedback = xss_index / "feedback.jsonl"
    records = [json.loads(x) for x in feedback.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["rating"] == "up" and "bridge repairs" in records[-1]["question"]
    assert records[-1]["citations"] and records[-1]["answer"]

    with page.expect_download() as dl:
        page.click("#export")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "## Q1: What did the mayor say" in text and "\\[1\\]" in text

    page.click("#clear")  # a clean slate: no messages, no sources, nothing to export
    page.wait_for_selector("#sources-panel .src-empty", state="attached")  # the Article tab is open
    assert page.locator("#chat a.cite-chip").count() == 0
    assert page.is_disabled("#export")
