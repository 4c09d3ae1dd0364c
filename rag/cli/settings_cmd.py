"""`rag settings`: every setting with its current value and where it came from."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "settings",
        help="list every setting, its value and where it came from",
        description="Every setting as GROUP.FIELD, its current value and its source: 'default', the "
                    "environment variable that set it (RAG_GROUP__FIELD, OPENAI_*), or '--set'. Any "
                    "command takes --set GROUP.FIELD=VALUE (repeatable); secrets print as ***.",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of {name, value, source}")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rag.settings import setting_rows

    rows = setting_rows()
    if args.json:
        json.dump([{"name": k, "value": v, "source": s} for k, v, s in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    shown = [(k, json.dumps(v) if not isinstance(v, str) else v, s) for k, v, s in rows]
    width = max(len(k) for k, _, _ in shown)
    value_width = min(40, max(len(v) for _, v, _ in shown))
    for key, value, source in shown:
        print(f"{key:<{width}}  {value:<{value_width}}  {source}")
    return 0
