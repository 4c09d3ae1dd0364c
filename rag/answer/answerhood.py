"""Answerhood: how likely a retrieved sentence is to answer the question, not just to be about it.

Each candidate sentence gets a feature row (embedding and lexical match, whether it holds a candidate
of the expected answer type that the question does not already contain, whether the question's years
and names hold in the sentence, its passage, headline and article, its position and retrieval rank,
the rarest asked word that nothing retrieved holds), and a logistic regression fitted on the dev
split of the BBC QA set (eval/fit_answerhood.py) turns the row into a probability. The answerer
quotes the most probable sentences and refuses when even the best is unlikely: a sentence on the right
topic that lacks the asked year, name or kind of answer scores low, which is what lets a near-miss
question be refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from rag.answer.candidates import answer_span, candidates
from rag.answer.kinds import counted_noun, near_kind, unit_near
from rag.answer.names import has, name_share
from rag.answer.question import SHORT_TYPES, QuestionFrame, analyse, known_words
from rag.answer.support import Sentence, content_terms, lexical_coverage, stems
from rag.dates import YEAR
from rag.types import Hit, Passage

MODEL_FILE = Path(__file__).with_name("answerhood.json")

FEATURES = (
    "cos", "cos_gap", "lex", "lex_gap", "lex_context", "lex_passage", "idf_sentence", "idf_context",
    "relation", "rare_absent",
    "names_sentence", "names_passage", "names_title", "names_missing_article", "has_names",
    "has_year", "year_sentence", "year_article", "year_conflict", "year_conflict_later",
    "year_sentence_conflict",
    "typed_candidate", "typed_no_candidate", "candidate_near", "candidate_kind", "candidate_unit",
    "candidate_count",
    "person_full_name", "novelty", "candidate_x_lex", "candidate_x_names", "candidate_support",
    "candidate_in_title", "forecast", "negative",
    "open_said", "lead", "first_in_passage", "rank_recip", "fused_gap", "log_len", "anaphoric",
)
_ANAPHORIC = re.compile(r"^(?:he|she|it|they|this|that|these|those|his|her|its|their|the (?:firm|company|"
                        r"group|move|deal|bank|club|side|team|film|band|star|player|move|plan|report|"
                        r"minister|government|party)|but|however|also|and|so|meanwhile)\b", re.I)
_SAID = re.compile(r"\b(?:said|says|told|added|argued|claimed|warned|insisted|stated|announced|"
                   r"proposed|promised|pledged|called for|accused)\b|[\"“]", re.I)
# A forecast or a shortlist next to the answer, or before what the question says happened, is not the
# fact itself: "is expected to fetch up to $1m", "which would value United at about £800m", "Spark has
# made the shortlist". "Will" and "is to" are left out: an archive reports many facts as announced
# ("Britain is to give a £4m grant"). Not counted where the question itself asks about plans.
_SHORTLISTED = r"nominat\w*|nominees?|finalists?|contenders?|shortlist\w*|in the running|among the favourites"
_FORECAST = re.compile(rf"\b(?:would|could|might|(?-i:may)|(?:likely|expected|poised|tipped|hop(?:e|es|ing)|"
                       rf"aim(?:s|ing)?|bid|bidding) to|predict(?:s|ed|ing)?|{_SHORTLISTED})\b", re.I)
_SHORTLIST = re.compile(rf"\b(?:{_SHORTLISTED})\b", re.I)
_FUTURE_QUESTION = re.compile(r"\b(?:will|would|going to|expected|expect|plans?|planned|set to|could|might|"
                              r"should|hopes?|aims?|forecasts?|predict\w*|tipped|favourites?|likely|intends?|"
                              rf"promised?|pledged?|propos\w*|{_SHORTLISTED}|possible|potential|"
                              r"(?:due|agreed?|offer(?:ed)?|scheduled|decided|vowed|threatened) to)\b", re.I)
# A loss or a denial is not the fact asked for: "Foxx was beaten to the title by Owen".
_NEGATIVE = re.compile(r"\b(?:not|never|no longer|beaten|lost|loses|lose|failed|missed out|denied|rejected|"
                       r"refused)\b|n't\b", re.I)


@dataclass(frozen=True)
class Corpus:
    """What the answerer may look up beyond the retrieved passages: an article's whole text (to check a
    year or name) and passages (to read the top articles whole), and the inverse document frequency
    of stemmed terms (rare words weigh more), and how many undated passages name each year."""

    article_text: Callable[[str], str | None] = lambda _id: None
    idf: Callable[[Sequence[str]], list[float]] = lambda terms: [1.0] * len(terms)
    passages: Callable[[str], list[Passage]] = lambda _id: []  # an article's passages, in text order
    undated_years: Callable[[], dict[int, int]] = dict


# Question-level features for the answerability model: how the best sentence scored and what it lacks.
QUESTION_FEATURES = (
    "top_score", "margin", "top_share", "top_cos", "top_idf_context", "top_lex_context", "top_names_passage",
    "top_names_missing_article", "top_year_conflict", "top_year_sentence_conflict", "top_typed_no_candidate",
    "top_candidate_support", "top_year_conflict_later", "top_relation", "top_forecast",
    "top_candidate_unit", "top_year_missing", "top_rare_absent",
    "max_idf_sentence", "max_cos", "any_year_article", "min_names_missing_article",
    "has_names", "has_year", "typed",
)


@dataclass(frozen=True)
class Linear:
    """A linear score over standardised features: ((x - mean) / scale) @ coef + bias."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float = 0.0

    def score(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        return (((x - self.mean) / self.scale) @ self.coef + self.bias).astype(np.float32)

    def to_json(self) -> dict[str, object]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "bias": self.bias}

    @classmethod
    def from_json(cls, d: dict) -> Linear:
        mean, scale, coef = (np.array(d[k], dtype=np.float32) for k in ("mean", "scale", "coef"))
        return cls(mean, scale, coef, float(d["bias"]))


def sigmoid(z: float) -> float:
    """The logistic function, clamped so that exp never overflows."""
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


@dataclass(frozen=True)
class Model:
    """Two stages: `ranker` scores each sentence against the others of its question (a conditional
    logit: softmax over the candidates), `answerable` is a logistic regression on QUESTION_FEATURES
    giving the probability that the best sentence answers at all; below `threshold` the answerer refuses."""

    ranker: Linear
    answerable: Linear
    threshold: float

    def rank(self, rows: np.ndarray) -> np.ndarray:
        return self.ranker.score(rows)

    def answer_probability(self, rows: np.ndarray, scores: np.ndarray) -> float:
        if len(rows) == 0:
            return 0.0
        return sigmoid(float(self.answerable.score(question_features(rows, scores)[None, :])[0]))

    def to_json(self) -> dict[str, object]:
        return {"features": list(FEATURES), "question_features": list(QUESTION_FEATURES),
                "ranker": self.ranker.to_json(), "answerable": self.answerable.to_json(),
                "threshold": self.threshold}


def question_features(rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """One row of QUESTION_FEATURES from the sentences' feature rows and ranker scores."""
    col = {name: rows[:, i] for i, name in enumerate(FEATURES)}
    order = np.argsort(-scores)
    top = int(order[0])
    second = float(scores[order[1]]) if len(order) > 1 else float(scores[top]) - 5.0
    shifted = np.exp(scores - scores.max())
    values = {
        "top_score": float(scores[top]), "margin": float(scores[top]) - second,
        "top_share": float(shifted[top] / shifted.sum()),
        **{f"top_{name}": float(col[name][top]) for name in (
            "cos", "idf_context", "lex_context", "names_passage", "names_missing_article", "year_conflict",
            "year_sentence_conflict", "typed_no_candidate", "candidate_support", "year_conflict_later",
            "relation", "forecast", "candidate_unit", "rare_absent")},
        "max_idf_sentence": float(col["idf_sentence"].max()), "max_cos": float(col["cos"].max()),
        "any_year_article": float(col["year_article"].max()),
        "min_names_missing_article": float(col["names_missing_article"].min()),
        "has_names": float(col["has_names"][top]), "has_year": float(col["has_year"][top]),
        "typed": float(col["typed_candidate"][top] + col["typed_no_candidate"][top]),
        # a year asked and not found in the best sentence's article (nor its date)
        "top_year_missing": float(col["has_year"][top] * (1.0 - col["year_article"][top])),
    }
    return np.array([values[name] for name in QUESTION_FEATURES], dtype=np.float32)


@cache
def load_model(path: Path = MODEL_FILE) -> Model:
    """The fitted model; a file whose feature lists differ from the code's is refused (refit it)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("features") != list(FEATURES) or data.get("question_features") != list(QUESTION_FEATURES):
        raise ValueError(f"{path} was fitted on other features; run eval/fit_answerhood.py again.")
    return Model(Linear.from_json(data["ranker"]), Linear.from_json(data["answerable"]),
                 float(data["threshold"]))


def headed_sentence(sentence: Sentence) -> str:
    """What a candidate sentence is embedded as: under its headline, which says what story (which
    awards, whose plan) the sentence belongs to. The sentence-level counterpart of
    `rag.chunking.embedding_text` (a passage under its cut header); the fitted model expects this form."""
    title = sentence.passage.title
    return f"{title}: {sentence.text}" if title else sentence.text


def _years_in(text: str) -> set[str]:
    return set(YEAR.findall(text))


def _near(sentence: str, spans: Sequence[tuple[int, int]], terms: Sequence[str]) -> float:
    """1 / (1 + words between the nearest candidate and a question term in the sentence)."""
    if not spans or not terms:
        return 0.0
    words = [(m.start(), stems(m.group(0))) for m in re.finditer(r"\w+", sentence)]
    hits = [i for i, (_, found) in enumerate(words) if found and found[0] in terms]
    if not hits:
        return 0.0
    best = math.inf
    for a, b in spans:
        idx = [i for i, (pos, _) in enumerate(words) if a <= pos < b] or [0]
        best = min(best, *(abs(i - j) for i in (idx[0], idx[-1]) for j in hits))
    return 1.0 / (1.0 + best)


def _forecast(sentence: str, answer: tuple[int, int] | None, relation: Sequence[str]) -> float:
    """1 when a forecast marker stands within seven words before the answer span (or, with no answer
    span, before a word of what the question says happened), or a shortlist within ten words after."""
    if answer is not None:
        ends = [answer[0]]
    else:
        ends = [m.start() for m in re.finditer(r"\w+", sentence)
                if (t := stems(m.group(0))) and t[0] in relation]
    for end in ends:
        window = " ".join(re.findall(r"[\w'’]+", sentence[:end])[-7:])
        if _FORECAST.search(window):
            return 1.0
    # a nominee is named before its shortlist: "Spark is among three authors who made the shortlist"
    after = " ".join(re.findall(r"[\w'’]+", sentence[answer[1]:])[:10]) if answer else ""
    return float(bool(_SHORTLIST.search(after)))


def features(
    query: str,
    sentences: Sequence[Sentence],
    vectors: np.ndarray,
    qvec: np.ndarray,
    hits: Sequence[Hit],
    corpus: Corpus,
) -> tuple[QuestionFrame, np.ndarray]:
    """The question's frame and one feature row per sentence (columns as in FEATURES)."""
    frame = analyse(query)
    terms = content_terms(query)
    weights = dict(zip(terms, corpus.idf(terms), strict=True))

    def weighted(text: str) -> float:
        have = set(stems(text))
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in have) / total if total else 0.0

    known = known_words(query, frame)
    # what the question says happened ("pay", "take over"), apart from whom and when: a sentence on the
    # same names that lacks it is about them, not about the asked fact
    named = set(stems(" ".join(frame.names))) | set(frame.years)
    relation = [t for t in terms if t not in named]
    asks_future = bool(_FUTURE_QUESTION.search(query))
    noun = counted_noun(query) if frame.expects == "number" else None
    n = len(sentences)
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return frame, out
    cos = np.clip(vectors @ qvec, 0.0, 1.0)
    lex = np.array([lexical_coverage(terms, s.text) for s in sentences], dtype=np.float32)
    fused = np.array([hits[s.hit_index].score for s in sentences], dtype=np.float32)
    # read once per article and per passage, not per sentence: article id -> (years in text/title/date,
    # share of the question's names it holds); passage id -> (lexical coverage, share of names)
    articles: dict[str, tuple[set[str], float]] = {}
    passages: dict[str, tuple[float, float]] = {}
    typed = frame.expects in SHORT_TYPES
    # Redundancy: the right answer tends to recur across the retrieved passages and headlines.
    lowered = {s.passage.id: f"{s.passage.title}\n{s.passage.text}".lower() for s in sentences}
    passages_lower = list(lowered.values())
    # the rarest question word in no retrieved passage, against the rarest of all: the asked detail
    # ("verdict", "successor", "turnout") missing from everything retrieved
    retrieved, rarest = set(stems(" ".join(passages_lower))), max(weights.values(), default=1.0) or 1.0
    rare_absent = max((w for t, w in weights.items() if t not in retrieved), default=0.0) / rarest
    for i, s in enumerate(sentences):
        p = s.passage
        if p.article_id not in articles:
            body = corpus.article_text(p.article_id) or p.text
            text = f"{p.title}\n{body}"
            years = _years_in(body) | _years_in(p.title or "") | ({p.date[:4]} if p.date else set())
            articles[p.article_id] = (years, name_share(frame.names, text.lower(), text))
        art_years, art_names = articles[p.article_id]
        if p.id not in passages:
            passages[p.id] = (lexical_coverage(terms, lowered[p.id]),
                              name_share(frame.names, lowered[p.id], f"{p.title}\n{p.text}"))
        p_lex, p_names = passages[p.id]
        asked_year = any(y in art_years for y in frame.years)
        before = p.text[: s.start - p.start]
        previous = before.rstrip().rsplit("\n", 1)[-1][-300:]
        context = f"{p.title} {previous} {s.text}"
        lex_context = lexical_coverage(terms, context)
        s_lower = s.text.lower()
        spans = candidates(s.text, frame.expects, known, p.text, frame.kind) if typed else []
        best = answer_span(s.text, spans, terms, frame.kind)
        words = set(stems(s.text))
        s_years = _years_in(s.text)
        row = {
            "cos": cos[i], "cos_gap": cos[i] - cos.max(), "lex": lex[i], "lex_gap": lex[i] - lex.max(),
            "lex_context": lex_context, "lex_passage": p_lex,
            "idf_sentence": weighted(s.text), "idf_context": weighted(context),
            "relation": lexical_coverage(relation, context),
            "rare_absent": rare_absent,
            "names_sentence": name_share(frame.names, s_lower, s.text),
            "names_passage": p_names,
            "names_title": name_share(frame.names, (p.title or "").lower(), p.title or ""),
            "names_missing_article": (1.0 - art_names) if frame.names else 0.0,
            "has_names": float(bool(frame.names)),
            "has_year": float(bool(frame.years)),
            "year_sentence": float(any(y in s_years for y in frame.years)),
            "year_article": float(asked_year),
            "year_conflict": float(bool(frame.years) and bool(art_years) and not asked_year),
            # the article names a later year and not the asked one: written after, about another time
            "year_conflict_later": float(bool(frame.years) and not asked_year
                                         and any(a > max(frame.years) for a in art_years)),
            "year_sentence_conflict": float(bool(frame.years) and bool(s_years)
                                            and not any(y in s_years for y in frame.years)),
            "typed_candidate": float(typed and bool(spans)),
            "typed_no_candidate": float(typed and not spans),
            "candidate_near": _near(s.text, spans, terms),
            "candidate_kind": max((near_kind(s.text, span, frame.kind) for span in spans), default=0) / 2,
            # "how many jobs": the count stands before "jobs" (1 where the question counts nothing named)
            "candidate_unit": (unit_near(s.text, best, noun) if best else 0.0) if noun else 1.0,
            "candidate_count": math.log1p(len(spans)),
            "person_full_name": float(frame.expects == "person" and any(
                " " in s.text[a:b].strip() for a, b in spans)),
            "novelty": len(words - set(terms)) / max(len(words), 1),
            "candidate_x_lex": float(bool(spans)) * lex_context,
            "candidate_x_names": float(bool(spans)) * p_names,
            # how often the sentence's own answer recurs across the retrieved passages
            "candidate_support": (sum(has(t, s.text[best[0]:best[1]].lower()) for t in passages_lower)
                                  / len(passages_lower)) if best else 0.0,
            "forecast": 0.0 if asks_future else _forecast(s.text, best, relation),
            "negative": float(bool(_NEGATIVE.search(s.text))),
            "candidate_in_title": float(any(has((p.title or "").lower(), s.text[a:b].lower())
                                            for a, b in spans)),
            "open_said": float(not typed and bool(_SAID.search(s.text))),
            "lead": float(s.start == p.start and p.id.endswith(":0")),
            "first_in_passage": float(s.start == p.start),
            "rank_recip": 1.0 / (1 + s.hit_index),
            "fused_gap": fused[i] - fused.max(),
            "log_len": math.log(max(len(s.text), 10)) / 6.0,
            "anaphoric": float(bool(_ANAPHORIC.match(s.text))),
        }
        out[i] = [row[name] for name in FEATURES]
    return frame, out
