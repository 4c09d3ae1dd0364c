"""`rag ingest PATH...`: load, normalise and chunk articles; print a summary; optionally write JSON Lines."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IngestError
from rag.settings import SAMPLE_CORPUS, Settings

if TYPE_CHECKING:  # `rag --help` loads every command module: the readers load on use
    from rag.ingest import IngestReport

ARTICLE_FIELDS = ("id", "title", "author", "date", "source", "url", "text")
_SHOWN = 10  # above this many problems, a count by reason comes before the full list


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("ingest", help="read article files and print what was found")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: corpus/sample)")
    p.add_argument("--articles", metavar="OUT.jsonl", help="write the normalised articles as JSON Lines")
    p.add_argument("--passages", metavar="OUT.jsonl", help="write the passages as JSON Lines")
    p.add_argument("--strict", action="store_true", help="any problem in the input is an error (exit 1)")
    # exit status: 1 when nothing was ingested or a PATH could not be read; --strict: any problem
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rag.chunking import chunk_articles
    from rag.ingest import ingest

    paths = args.paths or [str(SAMPLE_CORPUS)]
    progress = not args.quiet and sys.stderr.isatty()
    report = ingest(paths, progress=progress)
    if args.strict and report.problems:
        raise IngestError(
            f"{len(report.problems)} problem(s) in the input, first: {report.problems[0]}",
            help="Fix or remove those files, or run without --strict to ingest the rest.",
        )
    settings = Settings.from_env()
    passages = chunk_articles(report.articles, settings.chunking, progress=progress)
    if args.articles:
        write_jsonl(args.articles, ({k: a.to_dict()[k] for k in ARTICLE_FIELDS} for a in report.articles))
    if args.passages:
        write_jsonl(args.passages, (p.to_dict() for p in passages))
    print(summary(report, len(passages)))
    if not report.articles:
        print("error: nothing was ingested; check the paths and the problems above.", file=sys.stderr)
        return 1
    return 1 if report.failed_paths else 0  # a PATH that could not be read fails the run


def summary(report: IngestReport, n_passages: int) -> str:
    rate = len(report.articles) / report.seconds if report.seconds else 0.0
    lines = [
        f"files read:  {report.files}",
        f"articles:    {len(report.articles)}  ({rate:,.0f} articles/s)",
        f"passages:    {n_passages}",
        f"duplicates:  {len(report.duplicates)} exact copies dropped",
    ]
    for kept, dropped in report.duplicates[:3]:
        lines.append(f"  {dropped} = article {kept}")
    if report.skipped:
        lines.append(f"skipped:     {len(report.skipped)} file(s)")
        lines.extend(f"  {p}" for p in report.skipped[:_SHOWN])
    from rag.ingest import is_note

    decoded = [p for p in report.problems if is_note(p)]
    problems = [p for p in report.problems if not is_note(p)]
    if decoded:  # read and kept: only the encoding was not UTF-8
        lines.append(f"decoded:     {len(decoded)} file(s) with a fallback encoding, articles kept")
        lines.extend(f"  {p}" for p in decoded)
    lines.append(f"problems:    {len(problems)} (not ingested)")
    if len(problems) > _SHOWN:
        by_reason = Counter(_reason_kind(p.reason) for p in problems)
        lines.extend(f"  {n} x {reason}" for reason, n in by_reason.most_common(_SHOWN))
        lines.append("  each one:")
    lines.extend(f"  {p}" for p in problems)  # every one with its path, not just a count
    if report.failed_paths:
        lines.append(f"could not read: {', '.join(report.failed_paths)}")
    return "\n".join(lines)


def _reason_kind(reason: str) -> str:
    # "NEWID 17: a title-only brief ..." -> "a title-only brief ..." so repeats group together
    head, sep, tail = reason.partition(": ")
    return tail if sep and len(head) < 20 else reason


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write atomically: a temporary file in the same folder, renamed over the target at the end,
    so a crash never leaves a half-written file where a complete one was expected."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
