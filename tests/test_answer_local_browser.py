"""The local answerer in the browser: the real model's words stream into the chat, then the checked
answer replaces them with its chips and says which answerer wrote it (slow: the 1.5B model on 2 cores)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_ui_browser import CHROMIUM, QUESTION, _start, browser, page  # noqa: F401 (fixtures)

from rag.answer import local
from rag.settings import Settings

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
    pytest.mark.skipif(local.local_unavailable(Settings().local) is not None,
                       reason=f"local model not installed: {local.local_unavailable(Settings().local)}"),
]


@pytest.fixture(scope="module")
def local_url(sample_index: Path, sample_settings: Settings) -> Iterator[str]:
    settings = sample_settings.model_copy(update={
        "answer": sample_settings.answer.model_copy(update={"answerer": "local"})})
    local.load(settings.local, warm=True)  # as the app does in the background at start
    yield from _start(settings, sample_index)


def test_local_answer_streams_then_is_checked(page: Any, local_url: str) -> None:  # noqa: F811
    page.goto(local_url)
    page.wait_for_selector("#index-info td")
    assert page.is_checked("#answerer input[value='Local model (written)']")
    page.fill("#question textarea", QUESTION)
    page.click("#ask")
    # the model's words arrive before the answer is finished: its figure is in the chat, no chip yet
    page.wait_for_function(
        "() => document.querySelector('#chat').innerText.includes('1,000')"
        " && !document.querySelector('#chat a.cite-chip')", timeout=120_000)
    # the checked answer replaces the preview: its chips and the line saying who wrote it
    page.wait_for_function(
        "() => document.querySelector('#chat a.cite-chip')"
        " && document.querySelector('#chat').innerText.includes('Written by the local model')",
        timeout=120_000)
    chat = page.inner_text("#chat")
    assert "1,000" in chat and "Written by the local model" in chat, chat
    page.wait_for_selector("#sources-panel .src-card mark")
    assert "1,000 soldiers" in page.inner_text("#sources-panel")
