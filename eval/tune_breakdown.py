"""Where a tuned embedder's SciFact test gain comes from: test queries whose relevant documents were all
judged in train (the tuned model has seen them as positives) against those with none judged in train.

    .venv/bin/python eval/tune_breakdown.py models/scifact-minilm     # ~4 minutes (re-embeds, int8)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fusion_bench import SCIFACT, Bench  # noqa: E402
from tune_embedder import hybrid  # noqa: E402

from rag.embedding import load_embedder  # noqa: E402
from rag.settings import EmbeddingSettings  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "tune_breakdown.md"


def main(model: str, data: Path) -> None:
    b = Bench(data)
    judged_in_train = {d for rel in b.qrels["train"].values() for d in rel}
    test = b.qrels["test"]
    seen = np.array([all(d in judged_in_train for d in test[q]) for q in test])
    unseen = np.array([not any(d in judged_in_train for d in test[q]) for q in test])
    lines = [f"Test queries: {seen.sum()} whose relevant documents were all judged in train, {unseen.sum()} "
             f"with none judged in train, {len(test) - seen.sum() - unseen.sum()} mixed (in 'all' only). "
             "nDCG@10, onnx-int8, default hybrid settings.", "",
             "| model | dense all | dense seen | dense unseen | hybrid all | hybrid seen | hybrid unseen |",
             "|---|---|---|---|---|---|---|"]

    def row(label: str) -> None:
        d, h = b.per_query("test", b.maxp(b.dense)), b.per_query("test", hybrid(b))
        cells = [f"{x.mean():.4f}" for x in (d, d[seen], d[unseen], h, h[seen], h[unseen])]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)

    row("stock all-MiniLM-L6-v2")
    emb = load_embedder(EmbeddingSettings(model=str(Path(model).resolve()), backend="onnx-int8"))
    b.pvecs = emb.embed(b.texts).astype(np.float32)
    b.qvecs = emb.embed(b.qtext).astype(np.float32)
    b.dense = b.qvecs @ b.pvecs.T
    row(f"tuned ({model})")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("model", nargs="?", default="models/scifact-minilm", help="the tuned model folder")
    cli.add_argument("--data", type=Path, default=SCIFACT, help="BEIR SciFact folder")
    args = cli.parse_args()
    main(args.model, args.data)
