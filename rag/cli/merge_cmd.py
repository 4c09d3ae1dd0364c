"""`rag merge SHARD... --index OUT [--kind K]`: merge index folders of disjoint articles (shards built
with `rag index --shard I/N`, or any indexes built alike) into one, without re-embedding (rag/shards.py)."""

from __future__ import annotations

import argparse
from typing import Any

from rag.settings import Settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "merge", help="merge shard indexes into one index without re-embedding",
        description="Copies the articles, passages and vectors of each SHARD (same model, backend and "
        "chunking; disjoint articles) into one index at --index, rebuilding its vector index and BM25. "
        "Whatever index was at --index is replaced, atomically.")
    p.add_argument("shards", nargs="+", metavar="SHARD", help="index folders to merge, in this order")
    p.add_argument("--index", required=True, metavar="OUT", help="the merged index folder")
    p.add_argument("--kind", choices=["auto", "flat", "hnsw", "ivfpq"],
                   help="FAISS index kind of the merged index (auto: chosen by its size, as rag index does)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rag.shards import merge_indexes

    report = merge_indexes(args.shards, args.index, Settings.from_env(index={"kind": args.kind}))
    print(report.summary())
    return 0
