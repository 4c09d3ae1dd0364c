"""Reuters full-run check: `since` filters before the top-k cut, so every query still gets k hits,
all dated on or after the cut-off. Dates and filters do not depend on the embedder, so the index may
be built with the hash embedder for speed:

    RAG_EMBEDDING__MODEL=hash rag index ../shared/data/reuters21578/reut2-00*.sgm \
        --index /tmp/reut --model hash
    RAG_EMBEDDING__MODEL=hash .venv/bin/python eval/check_reuters_since.py /tmp/reut
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.retrieval import Retriever  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import Filters  # noqa: E402

QUERIES = [
    "oil prices",
    "coffee exports",
    "bank interest rates",
    "wheat harvest",
    "dollar yen exchange",
    "quarterly earnings",
    "gold mine",
    "trade deficit Japan",
    "OPEC output",
    "merger offer",
]
SINCE, K = "1987-03-20", 10


def main() -> int:
    index = Path(sys.argv[1])
    retriever = Retriever.open(index, Settings.from_env())
    rows = []
    for q in QUERIES:
        hits = retriever.search(q, k=K, filters=Filters(since=SINCE)).hits
        before = retriever.search(q, k=K).hits
        dates = [h.passage.date or "" for h in hits]
        rows.append(
            {
                "query": q,
                "hits": len(hits),
                "all_on_or_after": all(d >= SINCE for d in dates),
                "earliest": min(dates) if dates else None,
                "unfiltered_before_cutoff": sum((h.passage.date or "") < SINCE for h in before),
            }
        )
    m = retriever.store.manifest
    lines = [
        f"# Reuters `--since {SINCE}`, k={K} ({m.articles} stories, {m.passages} passages, model {m.model})",
        "",
        "Command: see the docstring of `eval/check_reuters_since.py`.",
        "",
        "| query | hits | all >= since | earliest hit | unfiltered hits before since |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['query']} | {r['hits']} | {r['all_on_or_after']} | {r['earliest']} | "
        f"{r['unfiltered_before_cutoff']} |"
        for r in rows
    ]
    out = ROOT / "eval" / "results"
    (out / "reuters_since.md").write_text("\n".join(lines) + "\n")
    (out / "reuters_since.json").write_text(json.dumps(rows, indent=2))
    print("\n".join(lines))
    return 0 if all(r["hits"] == K and r["all_on_or_after"] for r in rows) else 1


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("index", help="a Reuters-21578 index folder")
    cli.parse_args()
    sys.exit(main())
