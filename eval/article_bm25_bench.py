"""Round 3 experiment on SciFact: a BM25 index over whole articles (title + body) as a third list in
article-level z-score fusion, beside passage BM25 (MaxP) and dense search with BM25-seeded feedback.

Reuses eval/fusion_bench.py's precomputed scores and the product's own `rag.retrieval.fusion` code;
lists are as deep as in `rag eval --beir` (200 passages x 3 = 600), z-statistics from the first 100.

    .venv/bin/python eval/article_bm25_bench.py            # train grid; test only for the chosen row
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fusion_bench import SCIFACT, Bench, rocchio  # noqa: E402

from rag.retrieval.bm25 import build_bm25, load_bm25, top_k  # noqa: E402
from rag.retrieval.fusion import per_article, weighted  # noqa: E402

DEPTH, HEAD = 600, 100


def article_scores(b: Bench) -> np.ndarray:
    """BM25 over title + body of every article, (queries, articles) in `b.art_names` order."""
    texts = []
    for name in b.art_names:
        article = b.store.article(name)
        texts.append(f"{article.title}\n{article.text}" if article else "")
    with tempfile.TemporaryDirectory() as tmp:
        build_bm25(texts, Path(tmp))
        index = load_bm25(Path(tmp))
        return np.stack([index.scores(t) for t in b.qtext])


def fused(b: Bench, bm: np.ndarray, dn: np.ndarray, art: np.ndarray, w_art: float, w_bm: float,
          w_dense: float) -> np.ndarray:
    """(queries, articles) fused scores; -inf where no list found the article."""
    out = np.full(art.shape, -np.inf)
    weights = {"bm25_article": w_art, "bm25": w_bm, "dense": w_dense}
    of = b.art.__getitem__
    for i in range(len(bm)):
        # keyed by article index (int), not name: per_article's str annotation does not apply here
        lists: dict[str, list[tuple[Any, float]]] = {"bm25": per_article(top_k(bm[i], DEPTH), of),
                                                     "dense": per_article(top_k(dn[i] + 2.0, DEPTH), of)}
        if w_art > 0:
            lists["bm25_article"] = [(int(a), s) for a, s in top_k(art[i], DEPTH)]
        for f in weighted(lists, weights, "zscore", HEAD):
            out[i, f.row] = f.score
    return out


def main(data: Path) -> None:
    b = Bench(data)
    art = article_scores(b)
    dn = rocchio(b, b.bm, beta=0.25, top=3)
    print("article BM25 alone", round(b.ndcg("train", np.where(art > 0, art, -np.inf)), 4))
    base = fused(b, b.bm, dn, art, 0.0, 0.4, 0.6)
    print("baseline (today's default) train", round(b.ndcg("train", base), 4))
    rows = []
    for w_dense, share in itertools.product((0.4, 0.5, 0.6), (0.25, 0.5, 0.75, 1.0)):
        w_bm = 1 - w_dense
        s = fused(b, b.bm, dn, art, share * w_bm, (1 - share) * w_bm, w_dense)
        rows.append((b.ndcg("train", s), w_dense, share))
        print(f"dense {w_dense} article share of BM25 {share}: train {rows[-1][0]:.4f}", flush=True)
    # Two more ideas on train: a higher dense weight, and the dense feedback seeded from the best
    # passage of each of the top-3 articles by article BM25 instead of the top-3 BM25 passages.
    for w_dense, share in itertools.product((0.7,), (0.0, 0.5, 0.75)):
        w_bm = 1 - w_dense
        s = fused(b, b.bm, dn, art, share * w_bm, (1 - share) * w_bm, w_dense)
        rows.append((b.ndcg("train", s), w_dense, share))
        print(f"dense {w_dense} article share of BM25 {share}: train {rows[-1][0]:.4f}", flush=True)
    seed = art[:, b.art] * 1000 + b.bm  # article order first, its best passage by passage BM25
    dn_art = rocchio(b, seed, beta=0.25, top=3)
    for share in (0.0, 0.75):
        s = fused(b, b.bm, dn_art, art, share * 0.4, (1 - share) * 0.4, 0.6)
        print(f"feedback from article BM25, dense 0.6, share {share}: train {b.ndcg('train', s):.4f}",
              flush=True)
    best = max(rows)
    print("best on train", best)
    if "--test" in sys.argv:
        _, w_dense, share = best
        w_bm = 1 - w_dense
        s = fused(b, b.bm, dn, art, share * w_bm, (1 - share) * w_bm, w_dense)
        print("test: baseline", round(b.ndcg("test", base), 4), "chosen", round(b.ndcg("test", s), 4))
        print("test: article BM25 alone", round(b.ndcg("test", np.where(art > 0, art, -np.inf)), 4))


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--test", action="store_true", help="also score the chosen row on test (once)")
    cli.add_argument("--data", type=Path, default=SCIFACT, help="BEIR SciFact folder")
    main(cli.parse_args().data)
