"""Reliability of the server (issue 14): bounded requests, every route behind the login, throttled
logins, a private export folder, and a server that follows its index through `rag index` updates."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.settings import Settings
from rag.types import Answer
from rag.ui.session import MAX_QUESTION_CHARS, MAX_TURNS, Session, check_request


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """The chat app with the canned backend of test_ui_app, behind a login (ann / s3cret)."""
    from test_ui_app import FakeBackend

    import rag.ui.guard as guard
    from rag.ui.app import serve

    monkeypatch.setattr(guard, "FAIL_DELAY_S", 0.2)
    port = _port()
    backend = FakeBackend()
    app = serve(Settings.from_env({}, ui={"port": port, "auth": "ann:s3cret"}), tmp_path, block=False,
                backend=backend, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}", backend
    finally:
        app.close()


# --- 3. bounds on every request ------------------------------------------------------------------


@pytest.mark.parametrize(("question", "history", "turns", "authors", "mode", "k", "message"), [
    ("q" * (MAX_QUESTION_CHARS + 1), [], 0, [], "hybrid", 8, "characters long"),
    ("ok?", [], MAX_TURNS, [], "hybrid", 8, "Clear chat"),
    ("ok?", [{}] * (2 * MAX_TURNS + 1), 0, [], "hybrid", 8, "Clear chat"),
    ("ok?", [], 0, ["x"] * 21, "hybrid", 8, "at most 20"),
    ("ok?", [], 0, ["x" * 201], "hybrid", 8, "under 200 characters"),
    ("ok?", [], 0, [], "evil", 8, "Unknown retrieval mode"),
    ("ok?", [], 0, [], "hybrid", 10**9, "between 1 and 20"),
    ("ok?", [], 0, [], "hybrid", float("nan"), "between 1 and 20"),
    ("ok?", [], 0, [], "hybrid", "many", "between 1 and 20"),
])
def test_requests_out_of_bounds_are_refused(question: str, history: list[Any], turns: int, authors: list[str],
                                           mode: str, k: object, message: str) -> None:
    answer = Answer(text="a", citations=[], grounded=True, question="q", query="q")
    session = Session(answers=[answer] * turns)
    with pytest.raises(ValueError, match=message):
        check_request(question, history, session, authors, [], mode, k)


def test_follow_up_history_is_bounded() -> None:
    session = Session(answers=[Answer(text=f"a{i}", citations=[], grounded=True, question=f"q{i}",
                                      query=f"q{i}") for i in range(30)])
    assert [q for q, _ in session.history()] == [f"q{i}" for i in range(24, 30)]


def test_a_10mb_question_is_refused_at_once(server: tuple[str, Any]) -> None:
    base, backend = server
    with httpx.Client(base_url=base, timeout=30) as c:
        assert c.post("/login", data={"username": "ann", "password": "s3cret"}).status_code == 200
        started = time.perf_counter()
        big = c.post("/gradio_api/call/ask", json={"data": ["x" * 10_000_000, [], "", "", [], [], "hybrid", 8,
                                                            "Offline (extractive)"]})
        assert big.status_code == 413  # the body is refused before Gradio reads it into memory
        long = c.post("/gradio_api/call/ask", json={"data": ["x" * 5000, [], "", "", [], [], "hybrid", 8,
                                                             "Offline (extractive)"]})
        event = long.json()["event_id"]
        stream = c.get(f"/gradio_api/call/ask/{event}").text
        assert "at most 2000" in stream and time.perf_counter() - started < 10
    assert backend.calls == []  # nothing reached the answerer


def test_exports_are_private_and_replaced(tmp_path: Path) -> None:
    from rag.ui.export import export_dir, write_export

    answer = Answer(text="A [1].", citations=[], grounded=True, question="q", query="q")
    first = write_export([answer])
    assert first.parent == export_dir() and stat.S_IMODE(export_dir().stat().st_mode) == 0o700
    second = write_export([answer, answer], replaces=first)
    assert not first.exists() and second.exists()  # one file per chat, not one per answer kept 24 h


# --- 5. auth ----------------------------------------------------------------------------------------


ROUTES = [("GET", "/openapi.json"), ("GET", "/gradio_api/heartbeat/abc"), ("POST", "/gradio_api/reset"),
          ("POST", "/gradio_api/cancel"), ("GET", "/gradio_api/info"), ("GET", "/gradio_api/app_id"),
          ("GET", "/gradio_api/token"), ("GET", "/monitoring"), ("POST", "/gradio_api/upload"),
          ("GET", "/gradio_api/file=/etc/passwd"), ("POST", "/gradio_api/queue/join")]


def test_every_route_but_the_login_page_needs_the_login(server: tuple[str, Any]) -> None:
    base, _ = server
    for method, path in ROUTES:
        r = httpx.request(method, base + path, timeout=5)
        assert r.status_code == 401, (method, path, r.status_code)
    assert httpx.get(base + "/", timeout=5).status_code == 200  # the login page itself
    with httpx.Client(base_url=base, timeout=5) as c:
        assert c.post("/login", data={"username": "ann", "password": "s3cret"}).status_code == 200
        assert c.get("/gradio_api/info").status_code == 200 and c.get("/openapi.json").status_code == 200


def test_failed_logins_are_throttled(server: tuple[str, Any]) -> None:
    base, _ = server

    async def attempts(n: int, password: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            rs = await asyncio.gather(*(c.post("/login", data={"username": "ann", "password": password})
                                        for _ in range(n)))
        return [r.status_code for r in rs]

    started = time.perf_counter()
    assert asyncio.run(attempts(10, "wrong")) == [400] * 10
    assert time.perf_counter() - started >= 10 * 0.2 * 0.9  # one at a time, 0.2 s each (1 s in use)
    started = time.perf_counter()
    assert asyncio.run(attempts(1, "s3cret")) == [200]
    assert time.perf_counter() - started < 1.5


def test_the_password_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    from rag.cli import build_parser
    from rag.cli.serve_cmd import settings_from
    from rag.errors import RagError

    parser = build_parser()
    with pytest.raises(RagError, match="visible to every user"):
        settings_from(parser.parse_args(["serve", "--auth", "ann:s3cret"]))
    login = tmp_path / "login"
    login.write_text("ann:s3cret\n")
    assert settings_from(parser.parse_args(["serve", "--auth-file", str(login)])).ui.auth == "ann:s3cret"
    os.environ["RAG_UI__AUTH"] = "bob:pw"
    try:
        assert settings_from(parser.parse_args(["serve"])).ui.auth == "bob:pw"
    finally:
        del os.environ["RAG_UI__AUTH"]


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's chromium")
def test_the_login_page_still_works_in_a_browser(server: tuple[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base, _ = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(base + "/")
            page.fill("input[type=password]", "s3cret")
            page.locator("input").first.fill("ann")
            page.keyboard.press("Enter")
            page.wait_for_selector("#question textarea")  # the chat, after the login
        finally:
            browser.close()


# --- 6. the server follows its index -----------------------------------------------------------------


def test_the_server_sees_an_update_between_questions(tmp_path: Path, hash_settings: Settings) -> None:
    from rag.indexer import build_index
    from rag.ui.backend import IndexBackend

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Harbour news\n\nThe harbour reopened after the storm.\n")
    index = tmp_path / "index"
    build_index([corpus], index, hash_settings)
    backend = IndexBackend(index, hash_settings)
    first = backend.retriever
    running = backend.stream("harbour storm", [], None, "bm25", 3, False)
    next(running)  # a question in flight when the update lands

    (corpus / "b.txt").write_text("Zeppelin news\n\nA zeppelin landed in the harbour on Monday.\n")
    build_index([corpus], index, hash_settings)  # swaps the folder under the running server
    finished = [item for item in running if isinstance(item, Answer)]
    assert len(finished) == 1  # the question in flight completed on the index it started with

    hits = backend.current().search("zeppelin", mode="bm25").hits
    assert backend.retriever is not first and hits and hits[0].passage.title == "Zeppelin news"
    assert backend.current() is backend.retriever  # reopened once, not per question
    assert backend.facets() is not None
