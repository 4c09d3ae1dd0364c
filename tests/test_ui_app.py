"""UI wiring without a browser: the error pages, launch options, and the `rag serve`/`rag demo` CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag.errors import RagError
from rag.settings import Settings


def _html_values(app: Any) -> str:
    import gradio as gr

    return "".join(str(b.value) for b in app.blocks.values() if isinstance(b, gr.HTML))


def test_missing_index_shows_the_fixing_command(tmp_path: Path) -> None:
    from rag.ui.app import build_app

    page = _html_values(build_app(Settings(), tmp_path / "nowhere"))
    assert "No index to answer from" in page and "rag index corpus/sample" in page
    assert "Traceback" not in page


def test_mismatched_index_shows_the_fixing_command(hash_index: Path) -> None:
    from rag.ui.app import build_app

    page = _html_values(build_app(Settings(), hash_index))  # built with the hash embedder, asked for MiniLM
    assert "does not match" in page and "--rebuild" in page and "RAG_EMBEDDING__MODEL=" in page


def test_chat_app_builds_over_an_index(hash_index: Path, hash_settings: Settings) -> None:
    from rag.ui.app import build_app

    app = build_app(hash_settings, hash_index)
    page = _html_values(app)
    assert "index-info" in page and "Articles" in page
    assert "/ask" in app.get_api_info()["named_endpoints"]  # what gradio_client and eval/load_ui.py call


def test_llm_answerer_offered_only_when_configured(hash_index: Path, hash_settings: Settings) -> None:
    import gradio as gr

    from rag.ui.app import LLM, build_app

    def choices(settings: Settings) -> list[Any]:
        app = build_app(settings, hash_index)
        radio = next(b for b in app.blocks.values() if isinstance(b, gr.Radio) and b.elem_id == "answerer")
        return [c[0] for c in radio.choices]

    assert LLM not in choices(hash_settings)
    llm = hash_settings.model_copy(update={"llm": hash_settings.llm.model_copy(
        update={"base_url": "http://127.0.0.1:9/v1", "model": "any"})})
    assert LLM in choices(llm)


@pytest.mark.parametrize(("auth", "expect"), [(None, None), ("ann:pw:x", ("ann", "pw:x"))])
def test_launch_binds_localhost_and_parses_auth(auth: str | None, expect: tuple[str, str] | None) -> None:
    import asyncio

    from rag.ui.app import launch_kwargs

    kw = launch_kwargs(Settings.from_env({}, ui={"auth": auth}))
    assert kw["server_name"] == "127.0.0.1" and kw["server_port"] == 7860
    if expect is None:
        assert "auth" not in kw
    else:  # a throttled check, not a plain pair Gradio compares
        assert asyncio.run(kw["auth"](*expect)) is True
    assert "cite-chip" in kw["js"] and ".src-card" in kw["css"]


@pytest.mark.parametrize("auth", ["nopassword", ":pw", "ann:"])
def test_bad_auth_says_how_to_write_it(auth: str) -> None:
    from rag.ui.app import launch_kwargs

    with pytest.raises(RagError, match="user:password"):
        launch_kwargs(Settings.from_env({}, ui={"auth": auth}))


def test_cli_serve_and_demo_options(tmp_path: Path) -> None:
    from rag.cli import build_parser
    from rag.cli.serve_cmd import settings_from

    parser = build_parser()
    login = tmp_path / "login"
    login.write_text("a:b\n")
    args = parser.parse_args(["serve", "--index", "x", "--port", "8000", "--auth-file", str(login)])
    s = settings_from(args)
    assert (args.index, s.ui.host, s.ui.port, s.ui.auth) == ("x", "127.0.0.1", 8000, "a:b")
    with pytest.raises(RagError, match="visible to every user"):  # a password in `ps`: refused
        settings_from(parser.parse_args(["serve", "--auth", "a:b"]))
    demo = parser.parse_args(["demo", "--host", "0.0.0.0"])
    assert settings_from(demo).ui.host == "0.0.0.0" and demo.rebuild is False


class FakeBackend:
    """The Backend interface with canned answers; records what the app asked for."""

    llm_available = False

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def stream(self, question: str, history: Any, filters: Any, mode: Any, k: Any, use_llm: bool) -> Any:
        from rag.errors import LLMUnavailable
        from rag.types import Answer, Citation

        self.calls.append({"question": question, "history": list(history), "filters": filters, "mode": mode,
                           "k": k, "use_llm": use_llm})
        if "fail" in question:
            raise LLMUnavailable("The endpoint refused the connection.")
        yield "Alpha <b>one</b> "
        yield "[1]. Beta"
        quote = "Alpha one"
        cite = Citation(1, "p1", "a1", "T", "2020-01-01", "A", "S", 0, len(quote), quote)
        yield Answer(text="Alpha one [1].", citations=[cite], grounded=True, question=question,
                     query=question)

    def article(self, article_id: str) -> Any:
        return None

    def stats(self) -> dict[str, Any]:
        return {"articles": 1, "passages": 1, "model": "fake", "built_at": "now"}

    def facets(self) -> Any:
        from rag.ui.backend import Facets

        return Facets(("A",), ("S",))


def test_streaming_filters_history_and_errors_through_the_api(tmp_path: Path) -> None:
    import socket

    from gradio_client import Client

    from rag.ui.app import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = FakeBackend()
    app = serve(Settings.from_env({}, ui={"port": port}), tmp_path, block=False, backend=backend, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        job = client.submit("first?", [], "2019", "2020-12", ["A"], [], "bm25", 3, "Offline (extractive)",
                            api_name="/ask")
        steps = [str(out[0][-1]["content"]) for out in job]
        chat, panel = job.outputs()[-1][0], job.outputs()[-1][1]
        # placeholder, then each delta (escaped, the marker already a chip), then the checked final text
        assert len(steps) >= 3 and "&#60;b&#62;one" in "".join(steps) and "cite-chip" in "".join(steps)
        assert "Beta" not in str(chat[-1]["content"]) and "Alpha one" in str(chat[-1]["content"])
        assert "Sources for: <q>first?</q>" in panel and "<mark>Alpha one</mark>" in panel
        call = backend.calls[0]
        assert (call["mode"], call["k"], call["use_llm"]) == ("bm25", 3, False)
        f = call["filters"]
        assert (f.since, f.until, f.authors) == ("2019", "2020-12", ("A",))
        failed = client.predict("please fail", chat, "", "", [], [], "hybrid", 8, "Offline (extractive)",
                                api_name="/ask")
        assert backend.calls[1]["history"] == [("first?", "Alpha one [1].")]  # this session's turn only
        import html

        shown = html.unescape(str(failed[0][-1]["content"]))
        assert "Sorry, that failed: The endpoint refused" in shown and "RAG_LLM__BASE_URL" in shown
        # a bad date is said beside the date box (the last output), and nothing is asked
        out = client.predict("dated?", [], "last June", "", [], [], "hybrid", 8, "Offline (extractive)",
                             api_name="/ask")
        assert "YYYY-MM-DD" in out[-1] and "Check the filters" in out[-2] and len(backend.calls) == 2
    finally:
        app.close()


def test_auth_is_required_when_configured(tmp_path: Path) -> None:
    import socket

    import httpx

    from rag.ui.app import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings.from_env({}, ui={"port": port, "auth": "ann:s3cret"})
    app = serve(settings, tmp_path, block=False, backend=FakeBackend(), quiet=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert httpx.get(f"{base}/config").status_code == 401
        with httpx.Client(base_url=base) as c:
            assert c.post("/login", data={"username": "ann", "password": "wrong"}).status_code == 400
            assert c.post("/login", data={"username": "ann", "password": "s3cret"}).status_code == 200
            assert c.get("/config").status_code == 200
    finally:
        app.close()


@pytest.mark.parametrize("raw", [
    '{"kind": "cite", "turn": "x", "n": 1}', '{"kind": "cite", "turn": 0, "n": null}',
    '{"kind": "cite", "turn": [0], "n": 1}', '{"kind": "cite", "turn": 1e999, "n": 1}', '[1, 2]', '"cite"',
])
def test_malformed_chip_click_is_ignored(hash_index: Path, hash_settings: Settings, raw: str) -> None:
    from rag.ui.app import build_app
    from rag.ui.session import Session

    app = build_app(hash_settings, hash_index)
    on_action = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "on_action")
    sess = Session()
    out = on_action(raw, sess)
    assert out[-1] is sess and sess.selected is None and sess.cited is None
