"""Command-line options shared by the commands that retrieve (`search`, `ask`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.settings import DEFAULT_INDEX


def positive_int(text: str) -> int:
    """argparse type for --k: a count of hits (0 or less would silently return nothing)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def add_retrieval_options(p: argparse.ArgumentParser, k_default: int | None, k_help: str) -> None:
    """--index, --k, --mode, --since, --until: the same spelling and checks in every command."""
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index folder (default: index/default)")
    p.add_argument("--k", type=positive_int, default=k_default, help=k_help)
    p.add_argument(
        "--mode", choices=["hybrid", "bm25", "dense"], help="retriever (default from settings: hybrid)"
    )
    p.add_argument("--since", metavar="DATE", help="only articles from this date on (YYYY[-MM[-DD]])")
    p.add_argument("--until", metavar="DATE", help="only articles up to this date, inclusive")
