"""`rag index PATH... [--index DIR] [--prune] [--strict] [--rebuild] [--engine ray [--address ADDR]]
[--shard I/N]`: build or update an index (or shard I of N of one, for `rag merge`), and
`rag remove ID_OR_ORIGIN... --index DIR`: take articles out of one.

Exit status: 0 when every PATH was read; 1 when a PATH is missing or unreadable (the rest is still
indexed, and no article of the failed PATH is removed), or, with --strict, on any input problem
(then nothing is written).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from rag.settings import DEFAULT_INDEX, SAMPLE_CORPUS, Settings
from rag.types import Problem


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "index", help="build or update a search index from article files",
        description="Adds new articles and updates changed ones; articles already in the index that are not "
        "under these paths are kept unless --prune. Ends with one line: added, updated, unchanged, removed, "
        "failed. Exits 1 when a PATH could not be read (the rest is indexed).")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: corpus/sample)")
    p.add_argument("--index", default=str(DEFAULT_INDEX), metavar="DIR",
                   help="index folder (default: index/default)")
    p.add_argument("--prune", action="store_true",
                   help="remove articles no longer found under these paths (never ones whose file "
                        "or folder could not be read)")
    p.add_argument("--strict", action="store_true",
                   help="any problem in the input is an error: exit 1 and leave the index as it is")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of updating")
    p.add_argument("--backend", choices=["auto", "onnx-int8", "onnx", "torch"], help="embedding backend")
    p.add_argument("--model", help="sentence-transformers model name or local folder")
    p.add_argument("--kind", choices=["auto", "flat", "hnsw", "ivfpq"],
                   help="FAISS index kind (auto: exact while small, HNSW when large, IVF-PQ on disk past "
                        "index.ivfpq_threshold passages)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="ray: read, chunk and embed on Ray workers (a local Ray with --workers CPUs, "
                        "or --address)")
    p.add_argument("--address", help="Ray cluster address for --engine ray (default: start a local one)")
    p.add_argument("--workers", type=int, default=2, help="Ray embedding workers (default: %(default)s)")
    p.add_argument("--batch-size", type=int, help="texts per embedding batch")
    p.add_argument("--shard", metavar="I/N",
                   help="index only the articles whose id hashes to shard I of N (0 <= I < N); "
                        "merge the N shard indexes with rag merge")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)

    r = subparsers.add_parser("remove", help="remove articles from an index (by article id or file origin)",
                              description="Removes the named articles; an origin (a file's path as shown "
                              "by rag ingest) removes every article read from that file.")
    r.add_argument("names", nargs="+", metavar="ID_OR_ORIGIN")
    r.add_argument("--index", default=str(DEFAULT_INDEX), metavar="DIR",
                   help="index folder (default: index/default)")
    r.set_defaults(func=run_remove)


def run(args: argparse.Namespace) -> int:
    from rag.indexer import build_index  # imported here: `rag --help` should not load numpy and faiss

    settings = Settings.from_env(
        embedding={"backend": args.backend, "model": args.model, "batch_size": args.batch_size},
        index={"kind": args.kind},
    )
    paths = args.paths or [str(SAMPLE_CORPUS)]
    progress = not args.quiet and sys.stderr.isatty()
    embedder = None
    if args.engine == "ray":
        from rag.ray_engine import RayEmbedder

        embedder = RayEmbedder(settings.embedding, workers=args.workers, address=args.address)
    options = {"rebuild": args.rebuild, "progress": progress, "prune": args.prune, "strict": args.strict,
               "embedder": embedder}
    if args.shard:  # a shard is read and chunked by its own driver (it keeps only its share)
        from rag.shards import build_shard, parse_shard

        report = build_shard(paths, args.index, settings, parse_shard(args.shard), **options)
    else:
        if embedder is not None:  # the Ray engine also reads and chunks on its workers
            options["read_and_chunk"] = embedder.read_and_chunk
        report = build_index(paths, args.index, settings, **options)
    print(report.summary())
    print_problems(report.problems)
    return 1 if report.failed_paths else 0


def print_problems(problems: Sequence[Problem]) -> None:
    """Every problem with its path, under what happened to it: read with a fallback encoding (the
    article is in the index) or not indexed (the file, record or duplicate copy was left out)."""
    from rag.ingest import is_note

    decoded = [p for p in problems if is_note(p)]
    lost = [p for p in problems if not is_note(p)]
    for heading, group in (("decoded with a fallback encoding, indexed", decoded), ("not indexed", lost)):
        if group:
            print(f"{heading} ({len(group)}):", file=sys.stderr)
            for problem in group:
                print(f"  {problem}", file=sys.stderr)


def run_remove(args: argparse.Namespace) -> int:
    from rag.indexer import remove_articles

    report = remove_articles(args.names, args.index, Settings.from_env())
    print(report.summary())
    return 0

