"""Read a QA file for the user's own index: JSON Lines with a question and gold ids and/or answer strings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import EvalInputError
from rag.evaluation.beir import file_hash, iter_jsonl
from rag.loaders.base import article_id
from rag.types import Passage

_HELP = (
    'Each line is a JSON object like {"question": "...", "gold_article_ids": ["..."], '
    '"gold_passage_ids": ["..."], "answers": ["..."]} with a question and at least one of the other three.'
)
_GOLD_FIELDS = ("gold_article_ids", "gold_passage_ids", "answers", "gold_paths")
_KINDS = ("factoid", "list", "comparison", "over_time", "followup", "unanswerable")
_TEXT_FIELDS = ("type", "reason", "follows", "split", "note")


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    gold_article_ids: tuple[str, ...] = ()
    gold_passage_ids: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()  # strings a relevant passage must contain (case and spacing ignored)
    kind: str = "factoid"  # factoid | list | comparison | over_time | followup | unanswerable
    type: str | None = None  # expected answer type of a factoid: person, number, money, date, ...
    reason: str | None = None  # why an unanswerable one is: off_topic | near_miss
    follows: str | None = None  # a follow-up's first turn (the id of another item)
    split: str | None = None  # dev | test
    items: tuple[str, ...] = ()  # what a full answer to a list question names
    gold_paths: tuple[str, ...] = ()  # gold articles as file paths relative to the indexed folder
    near_paths: tuple[str, ...] = ()  # articles on the topic of a near-miss question

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"


def _strings(path: Path, lineno: int, obj: dict[str, Any], name: str) -> tuple[str, ...]:
    value = obj.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
        raise EvalInputError(f"{path}:{lineno}: '{name}' must be a list of non-empty strings.", help=_HELP)
    return tuple(str(v) for v in value)


def load_qa(path: str | Path) -> list[QAItem]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise EvalInputError(f"{path} not found.", help="Pass a JSON Lines QA file to --qa.")
    items: list[QAItem] = []
    seen: set[str] = set()
    for lineno, obj in iter_jsonl(path):
        question = obj.get("question")
        if not isinstance(question, str) or not question.strip():
            raise EvalInputError(f"{path}:{lineno}: missing 'question'.", help=_HELP)
        unknown = sorted(set(obj) - {"id", "question", "kind", "items", "near_paths", *_GOLD_FIELDS,
                                     *_TEXT_FIELDS})
        if unknown:
            raise EvalInputError(f"{path}:{lineno}: unknown field(s) {unknown}.", help=_HELP)
        kind = obj.get("kind", "factoid")
        if kind not in _KINDS:
            raise EvalInputError(f"{path}:{lineno}: unknown kind {kind!r}.", help=f"Use one of {_KINDS}.")
        gold = {name: _strings(path, lineno, obj, name) for name in _GOLD_FIELDS}
        if gold["gold_paths"] and not gold["gold_article_ids"]:
            # ids are derived from the path relative to the indexed folder (rag.loaders.base.article_id)
            gold["gold_article_ids"] = tuple(article_id(p) for p in gold["gold_paths"])
        if not any(gold.values()) and kind != "unanswerable":
            raise EvalInputError(f"{path}:{lineno}: nothing to score against.", help=_HELP)
        extra = {name: str(obj[name]) for name in _TEXT_FIELDS if obj.get(name) and name != "note"}
        qid = str(obj.get("id") or f"q{lineno}")
        if qid in seen:
            raise EvalInputError(
                f"{path}:{lineno}: duplicate id {qid!r}.", help="Give every question its own id."
            )
        seen.add(qid)
        items.append(QAItem(qid, question.strip(), **gold, kind=kind, **extra,  # type: ignore[arg-type]
                            items=_strings(path, lineno, obj, "items"),
                            near_paths=_strings(path, lineno, obj, "near_paths")))
    if not items:
        raise EvalInputError(f"{path}: no questions found.", help=_HELP)
    for item in items:
        if item.follows and item.follows not in seen:
            raise EvalInputError(f"{path}: {item.id} follows {item.follows!r}, which is not in the file.",
                                 help="A follow-up names the id of its first turn.")
    return items


def qa_fingerprint(path: str | Path) -> str:
    return file_hash(Path(path))


def _norm(text: str) -> str:
    # Curly quotes and runs of whitespace differ between sources and passages; the words are what count.
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Whether any answer string is in `text`, ignoring case, spacing and curly quotes.

    >>> contains_answer("Some 12,500 of the  30,000", ("12,500 of the 30,000",))
    True
    """
    hay = _norm(text)
    return any(_norm(a) in hay for a in answers)


def gold_passage_ids(item: QAItem, passages: Iterable[Passage]) -> tuple[str, ...]:
    """The passages of the item's gold articles that contain one of its answers, in index order.

    Passage ids follow the chunking settings, so a QA file's gold passages are derived, not written by
    hand: eval/regen_sample_qa.py rewrites them after a chunking change.
    """
    return tuple(p.id for p in passages
                 if p.article_id in item.gold_article_ids and contains_answer(p.text, item.answers))
