"""`rag index PATH... [--index DIR] [--rebuild] [--backend B] [--kind K]`: build or update an index."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rag.settings import DEFAULT_INDEX, SAMPLE_CORPUS, Settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("index", help="build or update a search index from article files")
    p.add_argument("paths", nargs="*", metavar="PATH", help=f"files or folders (default: {SAMPLE_CORPUS})")
    p.add_argument("--index", default=str(DEFAULT_INDEX), metavar="DIR",
                   help="index folder (default: %(default)s)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of updating")
    p.add_argument("--backend", choices=["auto", "onnx-int8", "onnx", "torch"], help="embedding backend")
    p.add_argument("--model", help="sentence-transformers model name or local folder")
    p.add_argument("--kind", choices=["auto", "flat", "hnsw"],
                   help="FAISS index kind (auto: exact while small, HNSW when large)")
    p.add_argument("--batch-size", type=int, help="texts per embedding batch")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rag.indexer import build_index  # imported here: `rag --help` should not load numpy and faiss

    settings = Settings.from_env(
        embedding={"backend": args.backend, "model": args.model, "batch_size": args.batch_size},
        index={"kind": args.kind},
    )
    paths = args.paths or [str(SAMPLE_CORPUS)]
    progress = not args.quiet and sys.stderr.isatty()
    report = build_index(paths, args.index, settings, rebuild=args.rebuild, progress=progress)
    print(report.summary())
    for problem in report.problems[1:6]:
        print(f"  skipped {problem}", file=sys.stderr)
    return 0
