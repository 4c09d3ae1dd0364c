"""Chunker: exact offsets and the embedder's token bound, as properties (hypothesis) and on real text."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_article, embedding_text, passage_budget, sentence_spans, word_piece_tokenizer
from rag.settings import ChunkSettings
from rag.types import Article

WORDS = st.sampled_from(
    [
        "NATO",
        "troops",
        "the",
        "Baltic",
        "£15.8m",
        "naïve",
        "Ünïcödé",
        "日本語",
        "don't",
        "U.S.",
        "e.g.",
        "—",
        "3,000",
    ]
)
LONG_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=30, max_size=400)
SENTENCE = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(st.one_of(WORDS, WORDS, WORDS, LONG_WORD), min_size=1, max_size=120),
    st.sampled_from([".", "!", "?", '."', ""]),
)
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=6).map(" ".join)
BODY = st.lists(PARAGRAPH, min_size=1, max_size=5).map("\n\n".join)


def _wordpieces(text: str) -> int:
    return len(word_piece_tokenizer().encode(text, add_special_tokens=False).ids)


def check(article: Article, cfg: ChunkSettings) -> None:
    passages = chunk_article(article, cfg)
    budget = passage_budget(cfg)
    covered = [False] * len(article.text)
    for ordinal, p in enumerate(passages):
        assert article.text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text
        assert p.id == f"{article.id}:{ordinal}"
        assert _wordpieces(p.text) <= budget
        # what the embedder reads never exceeds its limit, header and [CLS]/[SEP] included
        assert (
            len(word_piece_tokenizer().encode(embedding_text(p, cfg.header_tokens)).ids)
            <= cfg.model_max_tokens
        )
        for i in range(p.start, p.end):
            covered[i] = True
    # every non-space character is in some passage: nothing is dropped
    assert all(c or ch.isspace() for c, ch in zip(covered, article.text, strict=True))
    starts = [p.start for p in passages]
    assert starts == sorted(set(starts))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=BODY,
    max_tokens=st.integers(16, 120),
    overlap=st.integers(0, 3),
    title=st.text(min_size=0, max_size=300),
)
def test_offsets_and_token_bounds_hold_for_any_text(
    body: str, max_tokens: int, overlap: int, title: str
) -> None:
    cfg = ChunkSettings(
        max_tokens=max_tokens, overlap_sentences=overlap, model_max_tokens=128, header_tokens=24
    )
    check(Article(id="a", title=title, text=body, date="2016-06-14"), cfg)


def test_overlap_repeats_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} talks about the troops along the border." for i in range(40))
    cfg = ChunkSettings(max_tokens=40, overlap_sentences=1)
    passages = chunk_article(Article(id="x", title="T", text=text), cfg)
    assert len(passages) > 3
    for a, b in zip(passages, passages[1:], strict=False):
        assert a.start < b.start < a.end  # they overlap ...
        last_sentence = a.text.rsplit(". ", 1)[-1]
        assert b.text.startswith(last_sentence)  # ... by exactly the last whole sentence


def test_a_sentence_longer_than_the_budget_is_cut_at_word_boundaries() -> None:
    text = " ".join(["word"] * 700) + "."
    passages = chunk_article(Article(id="x", title="T", text=text), ChunkSettings())
    assert len(passages) >= 4
    for p in passages:
        assert re.fullmatch(r"(word )*word\.?", p.text)


def test_sentences_do_not_cross_paragraphs() -> None:
    text = "First line without a stop\n\nsecond paragraph here. Another one!"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "First line without a stop",
        "second paragraph here.",
        "Another one!",
    ]


def test_embedding_text_header_is_truncated() -> None:
    article = Article(id="x", title="word " * 200, text="Body sentence.", date="2020-01-02T10:00:00")
    p = chunk_article(article, ChunkSettings())[0]
    header, body = embedding_text(p, 10).split("\n")
    assert body == "Body sentence." and _wordpieces(header) <= 10
    assert embedding_text(p, 0) == "Body sentence."
    short = chunk_article(Article(id="y", title="NATO", text="Troops.", date="2016-06-14"), ChunkSettings())[
        0
    ]
    assert embedding_text(short) == "NATO (2016-06-14)\nTroops."


def test_empty_article_has_no_passages() -> None:
    assert chunk_article(Article(id="x", title="T", text="  \n\n "), ChunkSettings()) == []
