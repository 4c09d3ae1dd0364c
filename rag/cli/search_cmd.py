"""`rag search QUERY`: ranked passages with scores, provenance and the filter that was applied."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rag import dates
from rag.cli.options import add_retrieval_options
from rag.errors import SettingsError
from rag.settings import Settings
from rag.types import Filters, SearchResult

SNIPPET = 160


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "search",
        help="search the index (no answer, just ranked passages)",
        description="Hybrid BM25 + dense search; filters apply before the top-k cut.",
    )
    p.add_argument("query", help="the search text; a year, a month or 'latest' in it narrows by date")
    add_retrieval_options(p, "hits", 10, "number of hits (default 10)")
    p.add_argument("--article", action="append", default=[], metavar="ID", help="article id (repeatable)")
    p.add_argument("--section", action="append", default=[], metavar="NAME",
                   help="section or category, e.g. sport: the BBC folder, a record's section/category "
                        "field, a Reuters topic (repeatable)")
    p.add_argument("--newest-first", action="store_true", help="order the hits by date, newest first")
    p.add_argument("--rerank", metavar="MODEL", help="cross-encoder folder or cached name to rerank with")
    p.add_argument("--no-time", action="store_true", help="do not infer dates from the query text")
    p.add_argument("--json", action="store_true", help="print a JSON list (passage fields + score + rank)")
    p.set_defaults(func=run)


def _year_edge(value: str | None, end: bool) -> str | None:
    """'1987' -> 1987-01-01 (or 1987-12-31 for --until); other bounds pass through ("1987-03" for
    --until keeps all of March: the store compares ISO prefixes)."""
    if value and len(value) == 4:
        return f"{value}-12-31" if end else f"{value}-01-01"
    return value


def date_range(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """--since / --until as filter bounds; not a date, or an empty range, is an error."""
    try:
        lo, hi = dates.date_range(since, until, "--since", "--until")
    except ValueError as exc:
        raise SettingsError(str(exc), help="") from exc
    return _year_edge(lo, False), _year_edge(hi, True)


def filters_from(args: argparse.Namespace) -> Filters:
    since, until = date_range(args.since, args.until)
    return Filters(
        since=since,
        until=until,
        authors=tuple(args.author),
        sources=tuple(args.source),
        article_ids=tuple(args.article),
        sections=tuple(args.section),
        newest_first=args.newest_first,
    )


def format_result(result: SearchResult) -> str:
    lines = []
    if result.inferred:
        lines.append(f"({result.inferred})")
    if not result.filters.is_empty():
        shown = {k: v for k, v in result.filters.to_dict().items() if v}
        lines.append("filters: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    if not result.hits:
        lines.append("No passages found.")
    for hit in result.hits:
        p = hit.passage
        snippet = " ".join(p.text.split())
        snippet = snippet if len(snippet) <= SNIPPET else snippet[: SNIPPET - 1].rstrip() + "…"
        lines.append(
            f"{hit.rank:>2}. [{hit.score:.4f}] {p.title or '(untitled)'} — {p.date or 'undated'}"
            + (f" — {p.author}" if p.author else "")
        )
        lines.append(f"    {p.id}  chars {p.start}-{p.end}")
        lines.append(f"    {snippet}")
        if hit.also_in:
            lines.append(f"    also in: {', '.join(hit.also_in)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from rag.retrieval import Retriever

    retrieval: dict[str, Any] = {"mode": args.mode}
    if args.rerank:
        retrieval["reranker"] = args.rerank
    if args.no_time:
        retrieval["time_aware"] = False
    settings = Settings.from_env(retrieval=retrieval)
    result = Retriever.open(args.index, settings).search(args.query, k=args.hits, filters=filters_from(args))
    if args.json:
        json.dump([h.to_dict() for h in result.hits], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_result(result))
    return 0
