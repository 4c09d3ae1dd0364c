"""`rag ask QUESTION`: the answer, streamed, then its numbered sources (title, date, quoted span)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from rag.cli.options import add_retrieval_options
from rag.settings import Settings
from rag.types import Answer


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "ask",
        help="answer a question with cited passages",
        description="Answer from the indexed articles; every sentence cites an exact span. Offline by "
        "default: extractive quotes, or --answerer local for a written answer from the local model; "
        "--answerer llm (or --llm) uses the OpenAI-compatible endpoint in RAG_LLM__BASE_URL, RAG_LLM__MODEL.",
    )
    p.add_argument("question")
    add_retrieval_options(p, "passages", None, "passages to retrieve and read (default: setting retrieval.k)")
    p.add_argument("--answerer", choices=["extractive", "local", "llm"], default=None,
                   help="who writes the answer (default from settings: RAG_ANSWER__ANSWERER); local and llm "
                   "fall back to extractive with a warning when unavailable")
    p.add_argument("--llm", action="store_true", help="the same as --answerer llm")
    p.add_argument("--json", action="store_true", help="print the Answer object as JSON")
    p.set_defaults(func=run)


def format_sources(answer: Answer) -> str:
    if not answer.citations:
        return ""
    head = "Sources:" if answer.grounded else "Closest passages (they do not answer the question):"
    lines = [head]
    for c in answer.citations:
        meta = " — ".join(x for x in (c.title or "(untitled)", c.date or "undated", c.author) if x)
        quote = " ".join(c.quote.split())
        lines.append(f"[{c.number}] {meta}")
        lines.append(f'    "{quote}" (chars {c.start}-{c.end} of {c.article_id})')
    return "\n".join(lines)


def print_stream(items: Any, out: TextIO) -> Answer:
    """Print deltas as they come, then what the preview did not show: the checked text (when the
    LLM's raw words were changed by the citation check), the rewritten query, warnings, sources."""
    streamed: list[str] = []
    answer: Answer | None = None
    for item in items:
        if isinstance(item, Answer):
            answer = item
        else:
            streamed.append(item)
            out.write(item)
            out.flush()
    assert answer is not None
    out.write("\n")
    if "".join(streamed).strip() != answer.text.strip():
        out.write(f"\nChecked answer:\n{answer.text}\n")
    if answer.query != answer.question:
        out.write(f"\n(searched for: {answer.query})\n")
    for note in answer.notes:
        out.write(f"({note})\n")
    for warning in answer.warnings:
        out.write(f"warning: {warning}\n")
    sources = format_sources(answer)
    if sources:
        out.write(f"\n{sources}\n")
    return answer


def run(args: argparse.Namespace) -> int:
    from rag.answer import answer_question, stream_answer
    from rag.cli.search_cmd import date_range
    from rag.retrieval import Retriever
    from rag.types import Filters

    settings = Settings.from_env()  # Retriever.open says when there is no index, after recovering one
    retriever = Retriever.open(args.index, settings)
    since, until = date_range(args.since, args.until)
    filters = Filters(since=since, until=until, authors=tuple(args.author), sources=tuple(args.source))
    use_llm = True if args.llm else None
    if args.answerer:
        settings.answer.answerer = args.answerer
    if args.json:
        answer = answer_question(args.question, retriever, settings, filters=filters, mode=args.mode,
                                 k=args.passages, use_llm=use_llm)
        json.dump(answer.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print_stream(stream_answer(args.question, retriever, settings, filters=filters, mode=args.mode,
                               k=args.passages, use_llm=use_llm), sys.stdout)
    return 0
