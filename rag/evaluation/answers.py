"""Answer-level checks for QA files: is the answer right, is it cited, does it refuse when it should.

Per question: `answer_question` (a follow-up with its first turn as history), then
- correct: an accepted answer string is in the answer text (markers removed), case and number format
  ignored ("$9.4bn" = "9.4 billion", "12,500" = "12500");
- cited: an accepted answer string is inside one of the cited quotes;
- short answer right: where the answer leads with a short answer (a name, figure, date), it holds an
  accepted answer string;
- refused: the answer is not grounded (the answerer said the archive does not cover the question).
Aggregated as accuracy and false refusals on answerable questions, rejection on unanswerable ones,
per kind and per answer type, with latency; every quote checked against its article slice.
"""

from __future__ import annotations

import importlib
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from rag.answer.markers import strip_markers
from rag.evaluation.metrics import latency_summary
from rag.evaluation.qa import QAItem
from rag.settings import Settings

# wire copy's "pct", "mln", "bln" too (Reuters: "1.5 mln dlrs", "3.2 pct")
_UNITS = ((re.compile(r"\s*per\s?cent\b|\s*percent\b|(?<=\d)\s*pct\b"), "%"),
          (re.compile(r"\s*billion\b|(?<=\d)\s*bln\b"), "bn"),
          (re.compile(r"\s*million\b|(?<=\d)\s*mln\b"), "m"), (re.compile(r"\s*trillion\b"), "tn"))


def normalise(text: str) -> str:
    """Lower case, straight quotes, one space, numbers without thousands commas and with short units.

    >>> normalise("$9.4 Billion, 12,500 and 5 per cent")
    '$9.4bn, 12500 and 5%'
    >>> normalise("1.5 mln dlrs, 2 bln yen, up 3.2 pct")
    '1.5m dlrs, 2bn yen, up 3.2%'
    """
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"\s+", " ", text).strip().casefold()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    for pattern, unit in _UNITS:
        text = pattern.sub(unit, text)
    return text


def answer_in(text: str, answers: Sequence[str]) -> bool:
    """Whether an accepted answer occurs in `text` as whole words (so "99" is not found in "1999").

    >>> answer_in("It sold for $9.4 billion (£5bn).", ["9.4bn"]), answer_in("in 1999", ["99"])
    (True, False)
    """
    hay = normalise(text)
    return any(re.search(rf"(?<![\w.]){re.escape(normalise(a))}(?!\w)", hay) for a in answers if a.strip())


def _mean(values: Sequence[bool]) -> float | str:
    return round(sum(values) / len(values), 4) if values else "n/a"


def ask_all(items: Sequence[QAItem], retriever: Any, settings: Settings, progress: bool,
            answer_question: Any) -> list[dict[str, Any]]:
    """One record per question: what was asked, the answer, and the checks."""
    by_id = {it.id: it for it in items}
    store = retriever.store
    records: list[dict[str, Any]] = []
    answered: dict[str, str] = {}
    for item in tqdm(items, desc=" answer", unit="q", disable=not progress, file=sys.stderr):
        history: list[tuple[str, str]] = []
        if item.follows and item.follows in by_id:
            first = by_id[item.follows]
            history = [(first.question, answered.get(first.id, ""))]
        start = time.perf_counter()
        answer = answer_question(item.question, retriever, settings, history=history)
        seconds = time.perf_counter() - start
        answered[item.id] = answer.text
        exact = [bool((a := store.article(c.article_id)) is not None and a.text[c.start:c.end] == c.quote)
                 for c in answer.citations]
        refused = not answer.grounded
        correct = item.answerable and not refused and answer_in(strip_markers(answer.text), item.answers)
        # the short answer, where the answer leads with one: its first paragraph is its first quote alone
        lead, _, rest = answer.text.partition("\n\n")
        lead = strip_markers(lead).strip()
        short = lead if rest and answer.citations and lead == answer.citations[0].quote else None
        records.append({
            "id": item.id, "kind": item.kind, "type": item.type, "reason": item.reason,
            "split": item.split, "answerable": item.answerable, "question": item.question,
            "query": answer.query, "refused": refused, "correct": correct,
            "cited": correct and any(answer_in(c.quote, item.answers) for c in answer.citations),
            "gold_cited": any(c.article_id in item.gold_article_ids for c in answer.citations),
            "short": short, "short_correct": short is not None and answer_in(short, item.answers),
            "citations": len(exact), "exact": sum(exact), "seconds": round(seconds, 4),
            "answer": answer.text,
        })
    return records


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The table: overall figures, then per kind, per answer type and per unanswerable reason."""
    ans = [r for r in records if r["answerable"]]
    una = [r for r in records if not r["answerable"]]
    factoid = [r for r in ans if r["kind"] == "factoid"]
    n_cit = sum(r["citations"] for r in records)
    # a refusal leads with no quote; records written before the check have no "short"
    shorts = [r for r in factoid if r.get("short") is not None]
    out: dict[str, Any] = {
        "questions": len(records),
        "answerable / unanswerable": f"{len(ans)} / {len(una)}",
        "accuracy, factoid": _mean([r["correct"] for r in factoid]),
        "cited accuracy, factoid": _mean([r["cited"] for r in factoid]),
        "accuracy, all answerable": _mean([r["correct"] for r in ans]),
        "cited accuracy, all answerable": _mean([r["cited"] for r in ans]),
        "short answer right, factoid answers with one": _mean([r["short_correct"] for r in shorts]),
        # how often the answer opens with a short answer, and how often that one misleads: wrong, or
        # given for a question the archive does not answer (rag.answer.lead hides unsure ones)
        "led by a short answer, factoid answers given": _mean([r.get("short") is not None for r in factoid
                                                               if not r["refused"]]),
        "wrong short answer, all answers given": _mean([r.get("short") is not None and not r["short_correct"]
                                                       for r in records if not r["refused"]]),
        "rejection, unanswerable": _mean([r["refused"] for r in una]),
        "false refusals, answerable": _mean([r["refused"] for r in ans]),
        "cites a gold article, answerable": _mean([r["gold_cited"] for r in ans]),
        "citations exact (quote == article slice)": round(sum(r["exact"] for r in records) / n_cit, 4)
        if n_cit else "n/a",
    }
    lat = latency_summary([r["seconds"] for r in records])
    out["answer p50 ms"], out["answer p95 ms"] = lat["p50_ms"], lat.get("p95_ms", "n/a")
    for kind in ("factoid", "followup", "list", "comparison", "over_time"):
        rows = [r for r in ans if r["kind"] == kind]
        if rows:
            out[f"kind {kind}: accuracy (n={len(rows)})"] = _mean([r["correct"] for r in rows])
    for kind in sorted({str(r["type"]) for r in factoid if r["type"]}):
        rows = [r for r in factoid if r["type"] == kind]
        out[f"factoid type {kind}: accuracy (n={len(rows)})"] = _mean([r["correct"] for r in rows])
    for reason in sorted({str(r["reason"]) for r in una if r["reason"]}):
        rows = [r for r in una if r["reason"] == reason]
        out[f"unanswerable {reason}: rejection (n={len(rows)})"] = _mean([r["refused"] for r in rows])
    return out


def answer_checks(
    items: Sequence[QAItem], retriever: Any, settings: Settings, progress: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The answer table for `items` and the per-question records (empty when the answer stage cannot
    be imported)."""
    try:
        answer_question = getattr(importlib.import_module("rag.answer"), "answer_question", None)
    except ImportError:
        answer_question = None
    if answer_question is None:  # the answer stage failed to import: skip, say so
        return {}, []
    records = ask_all(items, retriever, settings, progress, answer_question)
    return summarise(records), records
