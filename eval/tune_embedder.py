"""Choose `rag tune`'s epochs and learning rate on SciFact without looking at test.

Train queries are split by a hash of their id: 80% fit, 20% dev. For each (epochs, lr) the stock model
is fine-tuned on the fit pairs with the product's own code (rag.tuning), every passage and query is
re-embedded (onnx-int8), and dense and default-hybrid nDCG@10 are scored on dev with fusion_bench's
precomputed BM25 scores and the product's fusion code. The chosen setting is then trained on all of
train with `rag tune` and scored on test once with `rag eval` (see eval/results/tune_embedder.md).

    .venv/bin/python eval/tune_embedder.py 1:2e-5 3:2e-5 3:5e-5    # EPOCHS:LR ...; ~10 min each
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fusion_bench import CACHE, SCIFACT, Bench, default_fusion, rocchio  # noqa: E402

from rag.embedding import load_embedder  # noqa: E402
from rag.evaluation.harness import write_generated  # noqa: E402
from rag.models import resolve_model_path  # noqa: E402
from rag.settings import EmbeddingSettings  # noqa: E402
from rag.tuning import TuneSettings, fine_tune, judged_pairs  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "tune_embedder_dev.md"


def hybrid(b: Bench, dense_weight: float = 0.6) -> np.ndarray:
    """Today's default hybrid: article-level z-score fusion, dense query with BM25-seeded feedback."""
    return default_fusion(b, b.bm, rocchio(b, b.bm, beta=0.25, top=3), dense_weight)


def row(b: Bench, label: str) -> str:
    dense, fused = b.ndcg("dev", b.maxp(b.dense)), b.ndcg("dev", hybrid(b))
    line = f"| {label} | {dense:.4f} | {fused:.4f} |"
    print(line, flush=True)
    return line


def main(configs: list[tuple[int, float]], data: Path) -> None:
    b = Bench(data)
    train = b.qrels["train"]
    b.qrels["dev"] = {q: r for q, r in train.items() if zlib.crc32(q.encode()) % 5 == 0}
    fit = {q: r for q, r in train.items() if q not in b.qrels["dev"]}
    queries = dict(zip(b.qids, b.qtext, strict=True))
    pairs = judged_pairs(b.store, b.store.embedder, queries, fit)
    lines = [f"{len(fit)} fit queries ({len(pairs)} pairs), {len(b.qrels['dev'])} dev queries", "",
             "| model | dense dev | hybrid dev |", "|---|---|---|", row(b, "stock all-MiniLM-L6-v2")]
    for epochs, lr in configs:
        folder = CACHE / f"tuned-{epochs}-{lr}"
        started = time.monotonic()
        fine_tune(resolve_model_path("all-MiniLM-L6-v2"), pairs, folder, TuneSettings(epochs=epochs, lr=lr))
        emb = load_embedder(EmbeddingSettings(model=str(folder), backend="onnx-int8"))
        b.pvecs = emb.embed(b.texts).astype(np.float32)
        b.qvecs = emb.embed(b.qtext).astype(np.float32)
        b.dense = b.qvecs @ b.pvecs.T
        lines.append(row(b, f"tuned, {epochs} epochs, lr {lr} ({time.monotonic() - started:.0f} s)"))
    write_generated(OUT, "\n".join(lines))  # the note above the table is hand-written
    print(f"wrote {OUT}")


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("configs", nargs="*", metavar="EPOCHS:LR", default=["3:5e-5"])
    cli.add_argument("--data", type=Path, default=SCIFACT, help="BEIR SciFact folder")
    args = cli.parse_args()
    main([(int(e), float(lr)) for e, lr in (a.split(":") for a in args.configs)], args.data)
