"""Command line: `rag SUBCOMMAND`. Each subcommand lives in its own module and only parses and formats."""

from __future__ import annotations

import argparse
import importlib
import sys

from rag.errors import RagError

# name -> module under rag.cli; each module has register(subparsers) that sets func=run(args) -> int
COMMANDS = ["ingest", "index", "merge", "search", "ask", "eval", "tune", "serve", "demo", "settings"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Question answering over a news archive, with cited passages."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"rag.cli.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name != f"rag.cli.{name}_cmd":
                raise
            continue
        module.register(sub)
    for command in sub.choices.values():  # every command takes --set, read once in main()
        command.add_argument("--set", action="append", default=[], metavar="GROUP.FIELD=VALUE",
                             help="override a setting (repeatable; `rag settings` lists them)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from rag.settings import use_cli_sets

    try:
        use_cli_sets(args.set)
        return int(args.func(args) or 0)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        use_cli_sets([])  # main() run in-process (tests) must not leave this command's --set behind


if __name__ == "__main__":
    sys.exit(main())
