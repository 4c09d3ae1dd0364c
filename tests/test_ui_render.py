"""UI pure parts: rendering (escaping, chips, highlights), session controls, export, feedback."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import pytest

from rag.answer.citations import refusal_text
from rag.dates import parse_date
from rag.types import Answer, Article, Citation, Filters, Hit, Passage
from rag.ui import render
from rag.ui.export import answer_markdown, conversation_markdown, write_export
from rag.ui.feedback import read_feedback, save_feedback
from rag.ui.session import Session, make_filters, turn_of_message

EVIL = ("Intro. <script>alert(1)</script> <img src=x onerror=alert(1)> "
        "[click](javascript:alert(1)) and **bold** `code` $$x$$ done.")
LIVE = ("<script", "<img", "](javascript", "onerror=alert", "**bold**", "$$")


def _article(text: str = EVIL) -> Article:
    return Article(id="a1", title="Bad <b>title</b>", text=text, author="Eve <e@x>", date="2021-01-02",
                   source="[src](javascript:x)")


def _answer(text: str = EVIL) -> tuple[Answer, Article]:
    art = _article(text)
    start = text.index("<script>")
    end = text.index(" and **bold**")
    passage = Passage(id="p1", article_id="a1", text=text, start=0, end=len(text), title=art.title,
                      author=art.author, date=art.date, source=art.source, n_tokens=30)
    cite = Citation(number=1, passage_id="p1", article_id="a1", title=art.title, date=art.date,
                    author=art.author, source=art.source, start=start, end=end, quote=text[start:end])
    ans = Answer(text=f"It says {cite.quote} [1] and [7].", citations=[cite], grounded=True,
                 question="What <b>does</b> it say?", query="what does the article say",
                 filters=Filters(since="2021-01-01", until="2021-12-31"), hits=[Hit(passage, 1.0, 1)])
    return ans, art


@pytest.mark.parametrize("text", ["", "plain words", EVIL, "é ü 中文 🙂", "a\nb\n\n- item\n# head\n1. one"])
def test_md_esc_leaves_no_markup_and_round_trips(text: str) -> None:
    import html
    import re

    out = render.md_esc(text)
    bare = re.sub(r"&#\d+;", "", out)  # what is left once the entities are taken out
    for bad in ("<", ">", "[", "]", "(", ")", "*", "`", "$", "#", "&"):
        assert bad not in bare

    assert html.unescape(out) == text


def test_answer_html_chips_only_known_citations() -> None:
    out = render.answer_html("A [1], B [2, 3] and C [9].", turn=4, numbers=[1, 2, 3])
    assert out.count('class="cite-chip"') == 3
    assert 'href="#cite-4-1"' in out and 'href="#cite-4-3"' in out
    assert "&#91;9&#93;" in out  # an unknown number stays text, not a chip
    streaming = render.answer_html("partial [1", turn=0)  # a marker cut mid-stream is just text
    assert "cite-chip" not in streaming


def test_final_answer_escapes_article_quotes() -> None:
    ans, _ = _answer()
    out = render.final_answer_html(ans, 0)
    assert all(bad not in out for bad in LIVE)
    assert out.count("cite-chip") == 1


def test_a_refusal_is_not_called_ungrounded_and_an_unchecked_answer_is() -> None:
    ans, _ = _answer()
    refused = dataclasses.replace(ans, text=refusal_text(ans.citations), grounded=False)
    assert "Not grounded" not in render.final_answer_html(refused, 0)  # it says itself what it lacks
    unchecked = dataclasses.replace(ans, grounded=False)  # a written answer whose check failed
    assert "Not grounded in the sources" in render.final_answer_html(unchecked, 0)


def test_highlight_marks_exact_span_and_clamps() -> None:
    assert render.highlight("a <b> c", 10, 12, 15) == "a <mark>&lt;b&gt;</mark> c"
    assert render.highlight("abc", 100, 0, 500) == "<mark>abc</mark>"
    assert render.highlight("abc", 0, 2, 1) == "ab<mark></mark>c"


def test_source_cards_escape_everything_and_mark_the_quote() -> None:
    ans, art = _answer()
    ctx = {1: render.passage_context(ans.citations[0], ans.hits)}
    assert ctx[1] is not None
    out = render.source_cards(ans, 2, {1: ctx[1]}, selected=1, plain=answer_markdown(ans))
    assert all(bad not in out for bad in ("<script", "<img", "<b>", "<e@x>"))
    assert 'id="src-2-1"' in out and "src-card selected" in out
    marked = out.split("<mark>")[1].split("</mark>")[0]
    import html

    assert html.unescape(marked) == ans.citations[0].quote
    page = render.article_html(art, ans.citations[0].start, ans.citations[0].end)
    assert '<mark id="article-mark">' in page and "<script" not in page


def test_contexts_prefer_the_passage_then_a_window() -> None:
    ans, art = _answer()
    c = ans.citations[0]
    assert render.passage_context(c, []) is None
    win = render.article_window(c, art.text, window=5)
    assert win.text == art.text[c.start - 5 : c.end + 5] and win.start == c.start - 5
    assert render.article_window(c, None).text == c.quote


def test_question_notes_show_rewrite_and_dates() -> None:
    ans, _ = _answer()
    out = render.question_html("And <i>then</i>?", ans)
    import html

    assert "<i>" not in out and "Searched for" in out
    assert "Dates: 2021-01-01 to 2021-12-31" in html.unescape(out)
    assert render.filters_note(Filters()) is None
    assert render.filters_note(Filters(newest_first=True)) == "Dates: newest first"
    same = Answer(text="x", citations=[], grounded=False, question="q", query="q")
    assert "q-notes" not in render.question_html("q", same)


@pytest.mark.parametrize(("since", "until", "who", "expect"), [
    ("", "", [], None),
    ("2016", "", [], Filters(since="2016")),
    (" 2016-01-01 ", "2020-12-31", ["Thomas Gaist", " "], Filters(since="2016-01-01", until="2020-12-31",
                                                                   authors=("Thomas Gaist",))),
])
def test_make_filters(since: str, until: str, who: list[str], expect: Filters | None) -> None:
    assert make_filters(since, until, who, []) == expect


@pytest.mark.parametrize(("since", "until", "needle"), [
    ("June 2016", "", "YYYY-MM-DD"), ("2016-13-01x", "", "YYYY-MM-DD"), ("2020-01-01", "2019", "Swap"),
    ("2016-13-45", "", "YYYY-MM-DD"), ("", "2016-02-30", "YYYY-MM-DD"), ("2016-00", "", "YYYY-MM-DD"),
])
def test_make_filters_errors_say_how_to_fix(since: str, until: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        make_filters(since, until, [], [])


def test_session_history_and_turns() -> None:
    ans, _ = _answer()
    s = Session()
    assert s.current() is None and parse_date(None, "From") is None
    s.answers.append(ans)
    s.selected = 0
    assert s.history() == [(ans.question, ans.text)] and s.current() is ans
    assert [turn_of_message(i) for i in (0, 1, 2, 3, (5, 0))] == [0, 0, 1, 1, 2]
    assert Session().id != Session().id


def test_export_markdown_has_citations_and_no_live_links(tmp_path: Path) -> None:
    ans, _ = _answer()
    md = conversation_markdown([ans, ans])
    assert md.count("## Q") == 2 and "_Searched for: what does the article say_" in md
    assert "\\[1\\] Bad \\<b\\>title\\</b\\>" in md
    assert "[click](javascript" not in md and "\\[click\\](javascript" in md  # escaped: not a link
    import re

    assert not re.search(r"(?<!\\)[<\[]", md)  # every < and [ is backslash-escaped
    assert "> It says" not in md and "> " in md  # quotes go in blockquotes
    path = write_export([ans], tmp_path)
    assert path.read_text(encoding="utf-8") == conversation_markdown([ans])
    assert write_export([ans], tmp_path) != path  # one file per export: sessions never share
    import os

    os.utime(path, (1, 1))  # a day-old export is cleaned up by the next one
    write_export([ans], tmp_path)
    assert not path.exists() and len(list(tmp_path.glob("*.md"))) == 2


def test_feedback_concurrent_appends_stay_whole_lines(tmp_path: Path) -> None:
    ans, _ = _answer()

    def vote(i: int) -> None:
        for j in range(10):
            save_feedback(tmp_path, ans, liked=(i + j) % 2 == 0, session=f"s{i}", turn=j)

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = read_feedback(tmp_path)
    assert len(records) == 80
    lines = (tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["question"] == ans.question for line in lines)
    assert {r["rating"] for r in records} == {"up", "down"}
    assert records[0]["citations"][0]["quote"] == ans.citations[0].quote


def test_a_marker_inside_quoted_article_text_stays_text() -> None:
    first, second = "The report [2] says troops arrive.", "Ministers agree."
    text = f"{first} [1] {second} [2]"
    cites = [Citation(number=n, passage_id="p1", article_id="a1", title="T", date=None, author=None,
                      source=None, start=0, end=len(q), quote=q) for n, q in ((1, first), (2, second))]
    ans = Answer(text=text, citations=cites, grounded=True, question="q", query="q")
    out = render.final_answer_html(ans, 0)
    assert out.count('data-n="1"') == 1 and out.count('data-n="2"') == 1
    assert "report &#91;2&#93; says" in out  # the article's own [2] is not a chip to source 2
    assert out.index('data-n="1"') < out.index("Ministers")
