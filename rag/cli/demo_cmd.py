"""`rag demo`: the README's one command. Builds the sample index on first start, then serves it."""

from __future__ import annotations

import argparse

from rag.cli.serve_cmd import add_server_options, quiet_environment, settings_from
from rag.settings import DEFAULT_INDEX, SAMPLE_CORPUS


def run(args: argparse.Namespace) -> int:
    quiet_environment()
    settings = settings_from(args)
    from rag.build_report import BuildReport
    from rag.indexer import build_index, ensure_index

    report: BuildReport | None
    if args.rebuild:
        report = build_index([SAMPLE_CORPUS], DEFAULT_INDEX, settings, rebuild=True, progress=True)
    else:  # first start: build the sample index, with progress bars; later starts skip this
        report = ensure_index([SAMPLE_CORPUS], DEFAULT_INDEX, settings, progress=True)
    if report is not None:
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
