"""BM25 stage: a bm25s lexical index over passage texts (row i = passage row i), saved in the index folder.

Tokens are lower-cased words of two or more characters, English stop words removed, Snowball-stemmed
(PyStemmer). The index is bm25s' own format (params JSON + .npy arrays, no pickle) plus our small
`rag_bm25.json` recording the tokenizer so a query is always tokenized the way the corpus was.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from rag.errors import IndexMismatch, IndexNotFound

FORMAT_VERSION = 1
META_FILE = "rag_bm25.json"
# Lucene's BM25 variant; k1/b are bm25s' defaults, kept after the SciFact train sweep
# (eval/results/tune_retrieval.md) found no setting better by more than noise.
DEFAULT_K1 = 1.5
DEFAULT_B = 0.75

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOP = frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased words of 2+ characters, English stop words dropped, Snowball-stemmed.

    >>> tokenize("The soldiers were contributing troops")
    ['soldier', 'were', 'contribut', 'troop']
    """
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOP]
    return list(_stemmer().stemWords(words)) if words else []


# Wire copy's abbreviations and the words a question uses for them ("4TH QTR NET: Shr 45 cts vs 58 cts",
# "AMERICAN INT'L GROUP"). The index keeps the text's own words (changing them would mean rebuilding every
# index); a query is widened to the abbreviations of its words (`BM25Index.scores`), and the answer's
# lexical match reads the abbreviations as the words (`rag.answer.support.stems`). Whole words only:
# "Revs" is revenues, "Rev" (a reverend) is not.
WIRE = {"shr": "share", "shrs": "shares", "qtr": "quarter", "mln": "million", "bln": "billion",
        "dlr": "dollar", "dlrs": "dollars", "pct": "percent", "mths": "months", "revs": "revenues",
        "avg": "average", "cts": "cents", "yr": "year", "int'l": "international", "1st": "first",
        "2nd": "second", "3rd": "third", "4th": "fourth"}


# (the look-ahead at the abbreviations' first letters halves the time on text that holds none)
_FIRSTS = "".join(sorted({w[0] for w in WIRE}))
_WIRE_WORD = re.compile(rf"\b(?=[{_FIRSTS}])(?:{'|'.join(map(re.escape, WIRE))})\b", re.I)


def spelled_out(text: str) -> str:
    """The text with wire abbreviations written as their words, in the abbreviation's case (a name's
    capitals are kept for the name matching that reads them, `rag.answer.names`).

    >>> spelled_out("AMERICAN INT'L GROUP 4TH QTR: Shr 45 cts; the Rev Smith")
    'AMERICAN INTERNATIONAL GROUP FOURTH QUARTER: Share 45 cents; the Rev Smith'
    """
    return _WIRE_WORD.sub(lambda m: _in_case_of(WIRE[m.group(0).lower()], m.group(0)), text)


def _in_case_of(word: str, like: str) -> str:
    return word.upper() if like.isupper() else word.capitalize() if like[0].isupper() else word


@lru_cache(maxsize=1)
def _abbreviations() -> dict[str, tuple[str, ...]]:
    """Each word's stem -> the stems of its wire abbreviations ("quarter" -> "qtr")."""
    out: dict[str, set[str]] = {}
    for short, word in WIRE.items():
        for stem in tokenize(word):
            out.setdefault(stem, set()).update(tokenize(short))
    return {stem: tuple(sorted(shorts)) for stem, shorts in out.items()}


def widened(terms: Sequence[str]) -> list[str]:
    """Query terms and their wire abbreviations.

    >>> widened(tokenize("net income for the fourth quarter"))
    ['net', 'incom', 'fourth', 'quarter', '4th', 'qtr']
    """
    shorts = _abbreviations()
    return [*terms, *(s for t in terms for s in shorts.get(t, ()) if s not in terms)]


def build_bm25(
    texts: Sequence[str], folder: Path, k1: float = DEFAULT_K1, b: float = DEFAULT_B
) -> None:
    """Index `texts` (document i = passage row i) and save into `folder` (created if missing)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # An empty document still needs a token so bm25s keeps row numbering aligned with the store.
    corpus = [tokenize(t) or [""] for t in texts]
    model = bm25s.BM25(k1=k1, b=b, method="lucene")
    if corpus:
        model.index(corpus, show_progress=False)
        model.save(str(folder), show_progress=False)
    meta = {"format_version": FORMAT_VERSION, "stemmer": "english", "stopwords": "english",
            "token_pattern": _TOKEN.pattern, "num_docs": len(corpus), "k1": k1, "b": b,
            "bm25s_version": bm25s.__version__}
    (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")


class BM25Index:
    """Loaded once per process; `search` scores only the query's terms over the CSC postings."""

    def __init__(self, model: bm25s.BM25 | None, num_docs: int) -> None:
        self.model = model
        self.num_docs = num_docs
        if model is not None:
            self._data = np.asarray(model.scores["data"])
            self._indices = np.asarray(model.scores["indices"])
            self._indptr = np.asarray(model.scores["indptr"])
            self._vocab: dict[str, int] = dict(model.vocab_dict)

    def __len__(self) -> int:
        return self.num_docs

    def idf(self, terms: Sequence[str]) -> list[float]:
        """Inverse document frequency of each (stemmed) term over the passages; a term the index has
        never seen gets the rarest weight. log(1 + (N - df + 0.5) / (df + 0.5)), as in BM25."""
        out = []
        for t in terms:
            i = self._vocab.get(t) if self.model is not None else None
            df = 0 if i is None else int(self._indptr[i + 1] - self._indptr[i])
            out.append(math.log(1.0 + (self.num_docs - df + 0.5) / (df + 0.5)))
        return out

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (zeros where no query term occurs)."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        if self.model is None:
            return out
        ids = sorted({self._vocab[t] for t in widened(tokenize(query)) if t in self._vocab})
        if not ids:
            return out
        # One bincount over the query terms' postings: much faster than bm25s' np.add.at loop.
        parts = [slice(int(self._indptr[i]), int(self._indptr[i + 1])) for i in ids]
        docs = np.concatenate([self._indices[s] for s in parts])
        weights = np.concatenate([self._data[s] for s in parts])
        return np.bincount(docs, weights=weights, minlength=self.num_docs).astype(np.float32)

    def search(
        self, query: str, k: int, allowed_rows: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (row, score) best first, among `allowed_rows` when given (filtered before the cut).

        Documents sharing no term with the query score 0 and are not returned: they are not matches.
        """
        scores = self.scores(query)
        if allowed_rows is not None:
            allowed = np.asarray(allowed_rows, dtype=np.int64)
            mask = np.zeros(self.num_docs, dtype=bool)
            mask[allowed[(allowed >= 0) & (allowed < self.num_docs)]] = True
            scores = np.where(mask, scores, 0.0)
        return top_k(scores, k)

    def search_many(
        self, queries: Sequence[str], k: int, allowed_rows: np.ndarray | None = None
    ) -> list[list[tuple[int, float]]]:
        return [self.search(q, k, allowed_rows) for q in queries]


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Positive entries of `scores` as (index, score), highest first, ties by lower index."""
    positive = np.flatnonzero(scores > 0)
    if k <= 0 or positive.size == 0:
        return []
    if positive.size > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = positive[part]
    order = np.lexsort((positive, -scores[positive]))
    return [(int(positive[i]), float(scores[positive[i]])) for i in order]


def load_bm25(folder: Path) -> BM25Index:
    """Load a saved index (memory-mapped). Raises if it is missing or from another format."""
    folder = Path(folder)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise IndexNotFound(f"No BM25 index in {folder}.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError(f"{META_FILE} is not a JSON object")
        if meta.get("format_version") != FORMAT_VERSION or meta.get("token_pattern") != _TOKEN.pattern:
            raise IndexMismatch(f"The BM25 index in {folder} was written by another version ({meta}).")
        num_docs = int(meta["num_docs"])
        if num_docs == 0:
            return BM25Index(None, 0)
        model = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        if int(model.scores["num_docs"]) != num_docs:
            raise IndexMismatch(f"The BM25 index in {folder} is incomplete (document count differs).")
        index = BM25Index(model, num_docs)
        # what scores() relies on: postings of every term, pointing at existing documents
        # (bm25s may list one more term than it has postings for: "", which no query holds)
        ptr, idx = index._indptr, index._indices
        if len(ptr) < len(index._vocab) or int(ptr[-1]) != len(idx) or len(idx) != len(index._data) or (
                len(idx) and int(idx.max()) >= num_docs):
            raise ValueError("its postings do not match its vocabulary and document count")
        return index
    except IndexMismatch:
        raise
    except (ValueError, KeyError, TypeError, OSError, EOFError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise IndexMismatch(f"The BM25 index in {folder} is damaged and cannot be read ({reason}).") from exc
