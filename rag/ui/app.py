"""UI stage: the Gradio chat app. Question -> streamed cited answer, sources panel, article view.

Layout: a sidebar with the filters and the index info; the chat on the left; on the right, tabs
with the sources of the selected answer and the full article. All HTML comes from
`rag.ui.render` (escaped); this module only wires events and per-session state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from rag.errors import RagError
from rag.settings import Settings
from rag.types import Answer
from rag.ui import render
from rag.ui.assets import CSS, JS, SCROLL_TO_CARD, SCROLL_TO_MARK
from rag.ui.backend import Backend, Facets, IndexBackend
from rag.ui.export import KEEP_S, answer_text, write_export
from rag.ui.feedback import save_feedback
from rag.ui.guard import Guard, throttled_login
from rag.ui.session import Session, check_request, make_filters, turn_of_message

# Answers run in worker threads (the store is thread-safe); the rest wait in Gradio's queue. On 2
# cores the CPU is the limit: eval/load_ui.py (20 sessions x 2 turns) gave p95 6.2 / 7.2 / 6.5 s
# with 1 / 4 / 8 at a time, within run-to-run noise. 4 lets a quick answer pass a slow one.
CONCURRENCY = 4
OFFLINE, LOCAL, LLM = "Offline (extractive)", "Local model (written)", "LLM"
ANSWERER_OF = {OFFLINE: "extractive", LOCAL: "local", LLM: "llm"}
Msg = dict[str, Any]


def example_questions(facets: Facets) -> list[str]:
    """Questions about this archive's own stories, built from its headlines (a few sections' newest)."""
    return [f"{h.rstrip('.?!')}: what happened?" for h in facets.headlines] or [
        "What does the archive say about the latest news?"]


def _msg(role: str, content: str) -> Msg:
    return {"role": role, "content": content}


def _contexts(backend: Backend, answer: Answer) -> dict[int, render.Context]:
    out = {}
    for c in answer.citations:
        ctx = render.passage_context(c, answer.hits)
        if ctx is None:  # cited from outside the retrieved passages: show a window of the article
            art = backend.article(c.article_id)
            ctx = render.article_window(c, art.text if art else None)
        out[c.number] = ctx
    return out


def _panel(backend: Backend, session: Session) -> str:
    answer = session.current()
    if answer is None or session.selected is None:
        return render.source_cards(None, 0, {})
    return render.source_cards(answer, session.selected, _contexts(backend, answer), session.cited,
                               plain=answer_text(answer))


def build_app(settings: Settings, index_dir: str | Path, backend: Backend | None = None) -> gr.Blocks:
    """The chat app over `index_dir`; an explanatory page instead when the index cannot be opened."""
    if backend is None:
        try:
            backend = IndexBackend(index_dir, settings)
        except RagError as exc:
            return build_error_app(type(exc).__name__, str(exc))
    return _chat_app(settings, Path(index_dir), backend)


def build_error_app(title: str, message: str) -> gr.Blocks:
    readable = {"IndexNotFound": "No index to answer from", "IndexMismatch": "The index does not match"}
    with gr.Blocks(title="News QA: cannot start") as app:
        gr.HTML(render.error_page_html(readable.get(title, title), message), elem_id="error-page")
    return app


def _chat_app(settings: Settings, index_dir: Path, backend: Backend) -> gr.Blocks:  # noqa: C901
    facets = backend.facets()
    local_missing = getattr(backend, "local_unavailable", "not set up")
    answerers = [OFFLINE] + ([LOCAL] if local_missing is None else [])
    answerers += [LLM] if backend.llm_available else []
    default_answerer = {"llm": LLM, "local": LOCAL}.get(settings.answer.answerer, OFFLINE)
    if default_answerer not in answerers:
        default_answerer = OFFLINE
    # what is not offered and why, said once beside the choice rather than on every answer
    notes = [] if backend.llm_available else ["LLM: not configured (see the README's LLM section)."]
    notes += [] if local_missing is None else [f"Local model: {local_missing} (see scripts/install.sh)."]

    # delete_cache: Gradio's own copies of the export files go after an hour, like ours
    with gr.Blocks(title="News QA", delete_cache=(KEEP_S, KEEP_S)) as app:
        session = gr.State(Session())
        with gr.Sidebar(label="Filters", open=True, elem_id="sidebar"):
            gr.Markdown("### Filters")
            # only the filters this archive can answer; one that cannot apply says why instead
            sections = gr.Dropdown(list(facets.sections), multiselect=True, label="Sections",
                                   elem_id="sections-filter", visible=bool(facets.sections),
                                   info="From the folder, section/category field or topic of each article.")
            since = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="since",
                               visible=facets.has_dates)
            until = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="until",
                               visible=facets.has_dates)
            filter_note = gr.HTML("", elem_id="filter-error")
            gr.HTML(render.facets_note_html(facets), elem_id="facet-note")
            authors = gr.Dropdown(list(facets.authors), multiselect=True, allow_custom_value=True,
                                  label="Authors", elem_id="authors", visible=bool(facets.authors))
            sources = gr.Dropdown(list(facets.sources), multiselect=True, allow_custom_value=True,
                                  label="Sources", elem_id="sources-filter", visible=len(facets.sources) > 1)
            gr.Markdown("### Retrieval")
            mode = gr.Radio(["hybrid", "bm25", "dense"], value=settings.retrieval.mode, label="Mode",
                            elem_id="mode")
            k = gr.Slider(1, 20, value=min(settings.retrieval.k, 20), step=1, label="Passages to read",
                          elem_id="k")
            answerer = gr.Radio(answerers, value=default_answerer, label="Answerer", elem_id="answerer",
                                info=" ".join(notes) or None)
            gr.Markdown("### Index")
            gr.HTML(render.index_info_html(backend.stats()), elem_id="index-info")

        gr.HTML('<div id="app-title"><h1>News QA</h1><p>Answers from the news archive; every claim '
                "cites the passage it comes from. Click a number to see it.</p></div>")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                # the chat fits the window with the question and actions under it (1366x768 included)
                chatbot = gr.Chatbot(
                    elem_id="chat", label="Chat", show_label=False, height="max(300px, calc(100vh - 330px))",
                    layout="bubble",
                    latex_delimiters=[], buttons=[], feedback_options=("Like", "Dislike"),
                    placeholder="Ask a question about the articles in the index.",
                )
                with gr.Row():
                    question = gr.Textbox(show_label=False, placeholder="Ask about the news…", scale=6,
                                          elem_id="question", autofocus=True, max_lines=4)
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                ask_note = gr.HTML("", elem_id="ask-error")
                with gr.Row(elem_id="actions"):
                    clear = gr.Button("Clear chat", size="sm", elem_id="clear")
                    export = gr.DownloadButton("Export as Markdown", size="sm", interactive=False,
                                               elem_id="export")
                gr.Examples(example_questions(facets), inputs=question, label="Try (from this archive)",
                            elem_id="examples")
            with gr.Column(scale=2), gr.Tabs(elem_id="right-tabs") as tabs:
                with gr.Tab("Sources", id="sources"):
                    panel = gr.HTML(render.source_cards(None, 0, {}), label="sources",
                                    elem_id="sources-panel")
                with gr.Tab("Article", id="article"):
                    article = gr.HTML('<div class="src-empty">Use "Open article" on a source.</div>',
                                      elem_id="article-panel")
        action = gr.Textbox(elem_id="ui-action", elem_classes=["ui-hidden"], show_label=False)

        # parameter names are the API's (gradio_client: predict(question, history, since, ...))
        def respond(question: str, history: list[Msg], sess: Session, since: str, until: str,
                    authors: list[str], sources: list[str], mode: str, passages: float,
                    answerer: str) -> Iterator[tuple[Any, ...]]:
            q = (question or "").strip()
            if not q:  # an empty box: nothing to ask, nothing to complain about
                yield gr.skip(), sess, gr.skip(), gr.skip(), gr.skip(), "", gr.skip()
                return
            # a bad input is said beside that input; the conversation and the question stay as they are
            try:
                filters = make_filters(since, until, authors, sources, sess.sections)
            except ValueError as exc:
                beside_ask = render.input_error_html(f"Check the filters: {exc}")
                beside_filters = render.input_error_html(str(exc))
                yield gr.skip(), sess, gr.skip(), gr.skip(), gr.skip(), beside_ask, beside_filters
                return
            try:  # bounds first: anything the browser or an API client sends is checked here
                passages = check_request(q, history, sess, authors, sources, mode, passages)
            except ValueError as exc:
                yield gr.skip(), sess, gr.skip(), gr.skip(), gr.skip(), render.input_error_html(str(exc)), ""
                return
            turn = len(sess.answers)
            messages = list(history or []) + [_msg("user", render.question_html(q)), _msg("assistant", "…")]
            yield messages, sess, gr.skip(), gr.skip(), "", "", ""
            text, final = "", None
            try:
                choice = ANSWERER_OF.get(answerer, "extractive")
                # the answerer keyword only when it adds something: test fakes take the older signature
                extra = {"answerer": choice} if choice == "local" else {}
                for item in backend.stream(q, sess.history(), filters, mode, int(passages), choice == "llm",
                                           **extra):
                    if isinstance(item, Answer):
                        final = item
                    else:
                        text += item
                        messages[-1] = _msg("assistant", render.answer_html(text, turn))
                        yield messages, sess, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            except RagError as exc:
                messages[-1] = _msg("assistant", render.md_esc(f"Sorry, that failed: {exc}"))
                yield messages, sess, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            if final is None:
                messages[-1] = _msg("assistant", "Sorry, the answerer stopped without an answer; "
                                                 "see the server log.")
                yield messages, sess, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            messages[-2] = _msg("user", render.question_html(q, final))
            messages[-1] = _msg("assistant", render.final_answer_html(final, turn))
            sess.answers.append(final)
            sess.selected, sess.cited = turn, None
            sess.export = str(write_export(sess.answers, replaces=sess.export))
            download = gr.DownloadButton(value=sess.export, interactive=True)
            # the question box was emptied at the start; what is in it now is the next question
            yield messages, sess, _panel(backend, sess), download, gr.skip(), gr.skip(), gr.skip()

        # the section choice rides in the session, so the API's inputs stay as they were for its clients
        def pick_sections(values: list[str] | None, sess: Session) -> Session:
            sess.sections = [str(v) for v in values or ()]
            return sess

        sections.change(pick_sections, [sections, session], [session], api_visibility="private")
        inputs = [question, chatbot, session, since, until, authors, sources, mode, k, answerer]
        outputs = [chatbot, session, panel, export, question, ask_note, filter_note]
        # show_progress only on the chat: a status overlay on the panel or the box hides what is there
        gr.on([ask.click, question.submit], respond, inputs, outputs, api_name="ask",
              concurrency_limit=CONCURRENCY, show_progress_on=[chatbot]).then(
            lambda: gr.Tabs(selected="sources"), None, tabs, api_visibility="private")

        def on_action(raw: str, sess: Session) -> tuple[Any, ...]:
            try:
                act = json.loads(raw or "{}")
            except json.JSONDecodeError:
                return gr.skip(), gr.skip(), gr.skip(), sess
            if not isinstance(act, dict):
                return gr.skip(), gr.skip(), gr.skip(), sess
            if act.get("kind") == "cite":
                try:  # the action box is page-writable: a malformed click is ignored, not an error
                    turn, n = int(act.get("turn", -1)), int(act.get("n", 0))
                except (TypeError, ValueError, OverflowError):
                    return gr.skip(), gr.skip(), gr.skip(), sess
                if 0 <= turn < len(sess.answers):
                    sess.selected, sess.cited = turn, n
                return _panel(backend, sess), gr.skip(), gr.Tabs(selected="sources"), sess
            if act.get("kind") == "open":
                art = backend.article(str(act.get("article", "")))
                if art is None:
                    gone = ('<div class="src-empty">That article is no longer in the index; '
                            "reload the page.</div>")
                    return gr.skip(), gone, gr.Tabs(selected="article"), sess
                try:
                    start, end = int(act.get("start", 0)), int(act.get("end", 0))
                except (TypeError, ValueError, OverflowError):
                    start, end = 0, 0
                html = render.article_html(art, start, end)
                return gr.skip(), html, gr.Tabs(selected="article"), sess
            return gr.skip(), gr.skip(), gr.skip(), sess

        action.change(on_action, [action, session], [panel, article, tabs, session],
                     api_visibility="private").then(None, js=SCROLL_TO_CARD).then(None, js=SCROLL_TO_MARK)

        def on_select(sess: Session, evt: gr.SelectData) -> tuple[str, Session]:
            turn = turn_of_message(evt.index)
            if 0 <= turn < len(sess.answers):
                sess.selected, sess.cited = turn, None
            return _panel(backend, sess), sess

        chatbot.select(on_select, [session], [panel, session], api_visibility="private")

        def on_like(sess: Session, evt: gr.LikeData) -> None:
            turn = turn_of_message(evt.index)
            if 0 <= turn < len(sess.answers) and isinstance(evt.liked, bool):
                save_feedback(index_dir, sess.answers[turn], evt.liked, sess.id, turn)
                gr.Info("Thanks, feedback saved.")

        chatbot.like(on_like, [session], None, api_visibility="private")

        def on_clear(sess: Session) -> tuple[Any, ...]:
            fresh = Session(sections=list(sess.sections))  # the filters stay as they are shown
            return ([], fresh, _panel(backend, fresh), '<div class="src-empty">No article open.</div>',
                    gr.DownloadButton(value=None, interactive=False))

        cleared = [chatbot, session, panel, article, export]
        clear.click(on_clear, [session], cleared, api_name="clear")
        # the Chatbot's own trash icon empties the messages only; forget the answers with them
        chatbot.clear(on_clear, [session], cleared, api_visibility="private")
    return app


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """What `Blocks.launch` needs besides the app: page assets (launch-time in Gradio 6), host, auth."""
    kw: dict[str, Any] = {"css": CSS, "js": JS, "server_name": settings.ui.host,
                          "server_port": settings.ui.port, "theme": gr.themes.Soft()}
    # every route behind the login (when there is one) and request bodies capped: rag.ui.guard
    kw["app_kwargs"] = {"middleware": [Middleware(Guard)]}
    if settings.ui.auth:
        user, sep, password = settings.ui.auth.partition(":")
        if not sep or not user or not password:
            raise RagError("The login must look like user:password.",
                           help="Put it in a file for --auth-file, or set RAG_UI__AUTH=alice:s3cret.")
        kw["auth"] = throttled_login(user, password)
    return kw


def serve(settings: Settings, index_dir: str | Path, block: bool = True, backend: Backend | None = None,
          **overrides: Any) -> gr.Blocks:
    """Build and launch the app on settings.ui.host:port (127.0.0.1 by default).

    `block=False` returns once the server is up (tests, the load script); `overrides` go to launch().
    """
    app = build_app(settings, index_dir, backend)
    kw = launch_kwargs(settings)
    kw.update(overrides)
    app.launch(prevent_thread_lock=not block, show_error=True, **kw)
    return app
