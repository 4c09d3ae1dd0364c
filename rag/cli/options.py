"""Command-line options shared by the commands that retrieve (`search`, `ask`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.settings import DEFAULT_INDEX


def positive_int(text: str) -> int:
    """argparse type for a count of hits or passages (0 or less would silently return nothing)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def add_retrieval_options(p: argparse.ArgumentParser, count: str, default: int | None,
                          count_help: str) -> None:
    """--index, --COUNT, --mode, --since, --until: the same spelling and checks in every command.

    `count` names what the number counts in this command ("hits" in search, "passages" in ask), so
    one flag never means two things; the old `--k` is kept, hidden, as a deprecated alias.
    """
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index folder (default: index/default)")
    p.add_argument(f"--{count}", type=positive_int, default=default, metavar="N", help=count_help)
    p.add_argument("--k", dest=count, type=positive_int, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)  # deprecated alias of --COUNT
    p.add_argument(
        "--mode", choices=["hybrid", "bm25", "dense"], help="retriever (default from settings: hybrid)"
    )
    p.add_argument("--since", metavar="DATE", help="only articles from this date on (YYYY[-MM[-DD]])")
    p.add_argument("--until", metavar="DATE", help="only articles up to this date, inclusive")
    p.add_argument("--author", action="append", default=[], metavar="NAME", help="author (repeatable)")
    p.add_argument("--source", action="append", default=[], metavar="NAME", help="source (repeatable)")
