"""Plain records that flow through the pipeline: article -> passage -> hit -> answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """A normalised news article. `text` is the body that passage offsets index into."""

    id: str
    title: str
    text: str
    author: str | None = None
    date: str | None = None  # ISO-8601 (YYYY-MM-DD, or a full timestamp when known)
    source: str | None = None
    url: str | None = None
    origin: str = ""  # file path (and record key) it came from, for error reports
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A slice of an article: `article.text[start:end] == text` always holds."""

    id: str
    article_id: str
    text: str
    start: int
    end: int
    title: str
    author: str | None
    date: str | None
    source: str | None
    n_tokens: int  # tiktoken cl100k_base count, for prompt budgets

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Problem:
    """Something in the input that could not be used, reported by path and reason."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Filters:
    """Metadata filters applied before the top-k cut. Dates are ISO strings, inclusive."""

    since: str | None = None
    until: str | None = None
    authors: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()  # whole labels (BBC folder, record section/category, Reuters topic)
    newest_first: bool = False  # set by "latest"/"recent" queries

    def is_empty(self) -> bool:
        return self == Filters()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its score and rank (1-based)."""

    passage: Passage
    score: float
    rank: int
    also_in: tuple[str, ...] = ()  # passage ids of near-identical copies in other articles
    scores: dict[str, float] = field(default_factory=dict)  # per retriever: bm25, dense, rerank

    def to_dict(self) -> dict[str, Any]:
        d = self.passage.to_dict()
        d.update(score=self.score, rank=self.rank, also_in=list(self.also_in), scores=self.scores)
        return d


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    filters: Filters  # what was applied, including filters inferred from the query
    inferred: str | None = None  # a human sentence when the query itself implied a filter


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: an exact span of an article."""

    number: int
    passage_id: str
    article_id: str
    title: str
    date: str | None
    author: str | None
    source: str | None
    start: int  # character offsets into the article text
    end: int
    quote: str  # == article.text[start:end]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """Answer text with inline [n] markers, its citations and how it was produced."""

    text: str
    citations: list[Citation]
    grounded: bool
    question: str
    query: str  # the standalone retrieval query (differs from question after a rewrite)
    filters: Filters = Filters()
    answerer: str = "extractive"
    warnings: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)  # the retrieved passages shown as context
    notes: list[str] = field(default_factory=list)  # how the question was read (a date it names, ...)
    # the extractive answerability model's probability that its quotes answer (None: another answerer
    # wrote the text); the local answerer's judge weighs it with the model's own verdict
    answer_probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "grounded": self.grounded,
            "question": self.question,
            "query": self.query,
            "filters": self.filters.to_dict(),
            "answerer": self.answerer,
            "warnings": list(self.warnings),
            "hits": [h.to_dict() for h in self.hits],
            "notes": list(self.notes),
            "answer_probability": self.answer_probability,
        }
