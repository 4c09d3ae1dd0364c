"""Chunk stage: article -> passages, sentence-aware and bounded in the embedder's own word pieces.

Every passage is an exact slice of `article.text` (`text[start:end] == passage.text`), so a
citation can always quote the article. The bound is counted in the embedding model's tokenizer,
not in tiktoken, because that is what truncates: header + passage + [CLS]/[SEP] must fit
`model_max_tokens` or the end of the passage would silently never be embedded.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

import blingfire
from tokenizers import Tokenizer
from tqdm import tqdm

from rag.models import DEFAULT_MODEL, resolve_model_path
from rag.settings import ChunkSettings
from rag.tokens import count_tokens
from rag.types import Article, Passage

_SPECIAL_TOKENS = 2  # [CLS] and [SEP], added by the embedder around every input
_WORD = re.compile(r"\S+")
_LINE = re.compile(r"[^\n]+")
_DEFAULT_HEADER_TOKENS: int = ChunkSettings.model_fields["header_tokens"].default

Span = tuple[int, int]


@lru_cache(maxsize=4)
def word_piece_tokenizer(model: str = DEFAULT_MODEL) -> Tokenizer:
    """The embedding model's own tokenizer (tokenizer.json beside the weights), loaded once."""
    tok = Tokenizer.from_file(str(resolve_model_path(model) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def passage_budget(settings: ChunkSettings) -> int:
    """Word pieces a passage may hold: max_tokens, but never more than the embedder has left
    after the header and the special tokens (200 by default: 256 - 40 - 2 leaves 214)."""
    room = settings.model_max_tokens - settings.header_tokens - _SPECIAL_TOKENS
    return max(1, min(settings.max_tokens, room))


def sentence_spans(text: str) -> list[Span]:
    """Sentence (start, end) offsets into `text`, trimmed, never crossing a line break."""
    if not text.strip():
        return []
    # blingfire's own wrapper maps byte offsets to characters with a Python loop over every
    # byte (half of the chunking time); this calls the C function and maps only the offsets.
    raw = _blingfire_offsets(text)
    spans: list[Span] = []
    for start, end in raw:
        # blingfire already breaks at newlines; splitting again guarantees paragraphs stay apart.
        for m in _LINE.finditer(text, start, end):
            s, e = _trim(text, m.start(), m.end())
            if s < e:
                spans.append((s, e))
    return spans


def _blingfire_offsets(text: str) -> list[Span]:
    data = text.encode("utf-8")
    out = ctypes.create_string_buffer(len(data) * 2)
    starts = (ctypes.c_int32 * len(out))()
    ends = (ctypes.c_int32 * len(out))()
    n = blingfire.blingfire.TextToSentencesWithOffsets(
        ctypes.c_char_p(data),
        ctypes.c_int(len(data)),
        ctypes.byref(out),
        ctypes.byref(starts),
        ctypes.byref(ends),
        ctypes.c_int(len(out)),
    )
    if n <= 0 or n > len(out):
        return [(0, len(text))]
    count = out.value.count(b"\n") + 1
    byte_spans = [(starts[i], ends[i] + 1) for i in range(count)]  # blingfire's ends are inclusive
    if len(data) == len(text):  # ASCII: bytes are characters
        return byte_spans
    spans, pos_b, pos_c = [], 0, 0
    for sb, eb in byte_spans:  # offsets increase, so decode only the gaps, once
        pos_c += len(data[pos_b:sb].decode("utf-8", "replace"))
        start_c = pos_c
        pos_c += len(data[sb:eb].decode("utf-8", "replace"))
        pos_b = eb
        spans.append((start_c, pos_c))
    return spans


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


class _Unit(NamedTuple):
    span: Span
    tokens: int
    glued: bool = False  # ends inside a word that the next unit continues


def _greedy_cut(text: str, span: Span, offsets: list[Span], target: int) -> list[Span]:
    """Cut at word boundaries into pieces of about `target` word pieces (counted with `offsets`,
    the sentence's word-piece offsets); a single longer word is cut between its word pieces."""
    piece_ends = [span[0] + e for _, e in offsets]
    pieces: list[Span] = []
    start, count, i, last_end = span[0], 0, 0, span[0]
    for word in _WORD.finditer(text, span[0], span[1]):
        n = 0
        while i < len(piece_ends) and piece_ends[i] <= word.end():
            n, i = n + 1, i + 1
        if count and count + n > target:
            pieces.append(_trim(text, start, last_end))
            start, count = word.start(), 0
        first = i - n
        while n > target:  # one word longer than a whole passage (a URL, a run of digits)
            cut = piece_ends[first + target - 1]
            pieces.append((start, cut))
            start, first, n = cut, first + target, n - target
        count += n
        last_end = word.end()
    pieces.append(_trim(text, start, span[1]))
    return [p for p in pieces if p[0] < p[1]]


def _split_long(text: str, span: Span, tokenizer: Tokenizer, budget: int, target: int = 0) -> list[_Unit]:
    """Pieces of one over-long sentence, each re-encoded to check the budget: a fragment of a
    word tokenizes differently on its own ("##a0" becomes "a0"), so counts are not additive there."""
    target = target or budget
    offsets = tokenizer.encode(text[span[0] : span[1]], add_special_tokens=False).offsets
    pieces = _greedy_cut(text, span, list(offsets), target)
    units: list[_Unit] = []
    for k, piece in enumerate(pieces):
        n = len(tokenizer.encode(text[piece[0] : piece[1]], add_special_tokens=False).ids)
        glued = k + 1 < len(pieces) and not text[piece[1] : pieces[k + 1][0]]
        if n <= budget or target <= 1:
            units.append(_Unit(piece, n, glued))
        else:
            inner = _split_long(text, piece, tokenizer, budget, max(1, target - (n - budget)))
            units.extend(inner[:-1])
            units.append(inner[-1]._replace(glued=glued))
    return units


def _units(article: Article, budget: int, tokenizer: Tokenizer) -> list[_Unit]:
    """Sentences with their word-piece counts, long ones already split to fit the budget."""
    spans = sentence_spans(article.text)
    if not spans:
        return []
    # encode_batch_fast skips offsets (faster); only the rare over-long sentence needs them
    encodings = tokenizer.encode_batch_fast([article.text[s:e] for s, e in spans], add_special_tokens=False)
    units: list[_Unit] = []
    for span, enc in zip(spans, encodings, strict=True):
        n = len(enc.ids)
        if n <= budget:
            units.append(_Unit(span, n))
        else:
            units.extend(_split_long(article.text, span, tokenizer, budget))
    return units


def _pack(units: list[_Unit], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing of units into windows [i, j) under the budget, with `overlap` whole units
    repeated at the start of the next window when they fit. Always makes progress.

    Word-piece counts of whole sentences add up when joined by whitespace (BERT pre-tokenizes on
    spaces and punctuation); counts of the two halves of a cut word do not, so a window always
    ends at a unit that ends mid-word, and the next window never repeats it as overlap."""
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        total, j = 0, i
        while j < len(units) and (j == i or total + units[j].tokens <= budget):
            total += units[j].tokens
            j += 1
            if units[j - 1].glued:
                break
        windows.append((i, j))
        if j >= len(units):
            break
        nxt = max(i + 1, j - overlap)
        # drop overlap sentences that would leave no room for the next new sentence
        while nxt < j and (
            sum(u.tokens for u in units[nxt:j]) + units[j].tokens > budget
            or any(u.glued for u in units[nxt:j])
        ):
            nxt += 1
        i = nxt
    return windows


def chunk_article(article: Article, settings: ChunkSettings, model: str = DEFAULT_MODEL) -> list[Passage]:
    """Passages of one article; ids are f"{article.id}:{ordinal}" and stable for the same text."""
    budget = passage_budget(settings)
    units = _units(article, budget, word_piece_tokenizer(model))
    passages = []
    for ordinal, (i, j) in enumerate(_pack(units, budget, settings.overlap_sentences)):
        start, end = units[i].span[0], units[j - 1].span[1]
        text = article.text[start:end]
        passages.append(
            Passage(
                id=f"{article.id}:{ordinal}",
                article_id=article.id,
                text=text,
                start=start,
                end=end,
                title=article.title,
                author=article.author,
                date=article.date,
                source=article.source,
                n_tokens=count_tokens(text),
            )
        )
    return passages


def chunk_articles(
    articles: Iterable[Article], settings: ChunkSettings, progress: bool = False, model: str = DEFAULT_MODEL
) -> list[Passage]:
    items: Sequence[Article] = list(articles)
    bar = tqdm(items, desc="chunk", unit="article", disable=not progress or len(items) < 200, leave=False)
    return [p for article in bar for p in chunk_article(article, settings, model)]


def embedding_text(passage: Passage, header_tokens: int | None = None, model: str = DEFAULT_MODEL) -> str:
    """What the embedder reads: "title (date)" cut to `header_tokens` word pieces, a newline, the text.

    >>> embedding_text(Passage("a:0", "a", "Troops arrive.", 0, 14, "NATO", None, "2016-06-14", None, 3))
    'NATO (2016-06-14)\\nTroops arrive.'
    """
    limit = _DEFAULT_HEADER_TOKENS if header_tokens is None else header_tokens
    header = _header(passage.title, passage.date, limit, model)
    return f"{header}\n{passage.text}" if header else passage.text


@lru_cache(maxsize=4096)
def _header(title: str, date: str | None, limit: int, model: str) -> str:
    # Cached: every passage of an article shares its header.
    header = " ".join(title.split())
    if date:
        header = f"{header} ({date[:10]})" if header else date[:10]
    if not header or limit <= 0:
        return ""
    enc = word_piece_tokenizer(model).encode(header, add_special_tokens=False)
    if len(enc.ids) <= limit:
        return header
    return header[: enc.offsets[limit - 1][1]].rstrip()
