"""Answer-level checks for QA files: the final answer and its citations against the gold strings."""

from __future__ import annotations

import importlib
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from rag.evaluation.metrics import latency_summary
from rag.evaluation.qa import QAItem, contains_answer
from rag.settings import Settings


def _mean(values: Sequence[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


_MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


def answer_checks(
    items: Sequence[QAItem], retriever: Any, settings: Settings, progress: bool
) -> dict[str, Any]:
    """Final answers: does the answer (and a cited span) contain a gold string; is every quote exact."""
    try:
        answer_question = getattr(importlib.import_module("rag.answer"), "answer_question", None)
    except ImportError:
        answer_question = None
    if answer_question is None:  # the answer stage has not landed (or failed to import): skip, say so
        return {}
    store = retriever.store
    contained, cited, gold_cited, exact, n_citations, seconds = [], [], [], 0, 0, []
    for item in tqdm(items, desc=" answer", unit="q", disable=not progress, file=sys.stderr):
        start = time.perf_counter()
        answer = answer_question(item.question, retriever, settings)
        seconds.append(time.perf_counter() - start)
        for c in answer.citations:
            n_citations += 1
            article = store.article(c.article_id)
            exact += int(article is not None and article.text[c.start : c.end] == c.quote)
        if item.answers:
            contained.append(contains_answer(_MARKER.sub("", answer.text), item.answers))
            cited.append(any(contains_answer(c.quote, item.answers) for c in answer.citations))
        if item.gold_article_ids:
            gold_cited.append(any(c.article_id in item.gold_article_ids for c in answer.citations))
    out = {
        "questions": len(items),
        "answer contains gold": _mean(contained),
        "a cited span contains gold": _mean(cited),
        "cites a gold article": _mean(gold_cited),
        # over the citations given; with none there is nothing to be exact or inexact
        "citations exact (quote == article slice)": exact / n_citations if n_citations else "n/a",
        "answer p50 ms": latency_summary(seconds)["p50_ms"],
    }
    return out
