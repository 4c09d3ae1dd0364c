"""`rag demo`: the README's one command. Builds the sample index on first start, then serves it."""

from __future__ import annotations

import argparse

from rag.cli.serve_cmd import add_server_options, quiet_environment, settings_from
from rag.settings import DEFAULT_INDEX, SAMPLE_CORPUS


def run(args: argparse.Namespace) -> int:
    quiet_environment()
    settings = settings_from(args)
    if args.rebuild or not (DEFAULT_INDEX / "manifest.json").is_file():
        from rag.indexer import build_index

        print(f"Building the sample index from {SAMPLE_CORPUS} into {DEFAULT_INDEX} (first start only)...")
        report = build_index([SAMPLE_CORPUS], DEFAULT_INDEX, settings, rebuild=args.rebuild, progress=True)
        print(report.summary())
    from rag.ui.app import serve

    print(f"Open http://{settings.ui.host}:{settings.ui.port} in a browser (Ctrl+C stops).")
    serve(settings, DEFAULT_INDEX)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build the sample index if needed and start the chat UI")
    p.add_argument("--rebuild", action="store_true", help="rebuild the sample index first")
    add_server_options(p)
    p.set_defaults(func=run)
