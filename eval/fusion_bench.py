"""Fusion experiments on SciFact: every BM25 and dense score of every query, computed once from the
product's own index, then re-ranked in numpy per configuration (train and test scored alike).

    .venv/bin/python -i eval/fusion_bench.py   # loads the bench; call the functions below
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.chunking import embedding_text  # noqa: E402
from rag.evaluation.harness import SHARED_DATA  # noqa: E402
from rag.retrieval.bm25 import build_bm25, load_bm25, tokenize  # noqa: E402
from rag.store import Store  # noqa: E402

SCIFACT = SHARED_DATA / "beir-scifact"
INDEX = ROOT / "index" / "beir-beir-scifact-0799aae2c3"
CACHE = ROOT / "cache" / "fusion_bench"


def load_qrels(data: Path, split: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for line in (data / "qrels" / f"{split}.tsv").read_text().splitlines()[1:]:
        qid, doc, score = line.split("\t")
        if int(score) > 0:
            out.setdefault(qid.strip(), {})[doc.strip()] = int(score)
    return out


class Bench:
    def __init__(self, data: Path = SCIFACT) -> None:
        self.store = Store.open(INDEX)
        n = len(self.store)
        self.passages = self.store.passages(range(n))
        self.texts = [embedding_text(p) for p in self.passages]
        self.pvecs = self.store.vectors()
        arts = [p.article_id for p in self.passages]
        self.art_names = sorted(set(arts))
        index = {a: i for i, a in enumerate(self.art_names)}
        self.art = np.array([index[a] for a in arts])
        self.bm25 = load_bm25(INDEX / "bm25")
        queries = {}
        for line in (data / "queries.jsonl").read_text().splitlines():
            d = json.loads(line)
            queries[d["_id"]] = d["text"]
        self.qrels = {s: load_qrels(data, s) for s in ("train", "test")}
        self.qids = sorted(set(self.qrels["train"]) | set(self.qrels["test"]))
        self.qtext = [queries[q] for q in self.qids]
        self.qpos = {q: i for i, q in enumerate(self.qids)}
        CACHE.mkdir(parents=True, exist_ok=True)
        qpath = CACHE / "qvecs.npy"
        if qpath.exists():
            self.qvecs = np.load(qpath)
        else:
            self.qvecs = self.store.embedder.embed(self.qtext).astype(np.float32)
            np.save(qpath, self.qvecs)
        self.dense = self.qvecs @ self.pvecs.T
        self.bm = np.stack([self.bm25.scores(t) for t in self.qtext])

    # --- metrics ---------------------------------------------------------------------------
    def ndcg(self, split: str, doc_scores: np.ndarray) -> float:
        """doc_scores: (queries, articles), higher better; -inf = not retrieved."""
        vals = self.per_query(split, doc_scores)
        return float(np.mean(vals))

    def per_query(self, split: str, doc_scores: np.ndarray) -> np.ndarray:
        out = []
        for q, rel in self.qrels[split].items():
            s = doc_scores[self.qpos[q]]
            top = np.lexsort((np.arange(len(s)), -s))[:10]
            dcg = sum(1 / np.log2(r + 2) for r, d in enumerate(top) if np.isfinite(s[d])
                      and self.art_names[d] in rel)
            idcg = sum(1 / np.log2(r + 2) for r in range(min(10, len(rel))))
            out.append(dcg / idcg)
        return np.array(out)

    def maxp(self, pscores: np.ndarray) -> np.ndarray:
        """Passage scores (queries, rows) -> article scores by the best passage."""
        out = np.full((pscores.shape[0], len(self.art_names)), -np.inf)
        for i in range(pscores.shape[0]):
            np.maximum.at(out[i], self.art, pscores[i])
        return out


def topk_mask(scores: np.ndarray, depth: int) -> np.ndarray:
    """Ranks from 1 for each query's top-`depth` positive entries, 0 elsewhere."""
    ranks = np.zeros(scores.shape, dtype=np.int64)
    for i, s in enumerate(scores):
        pos = np.flatnonzero(s > 0) if s.min() >= 0 else np.arange(len(s))
        order = pos[np.lexsort((pos, -s[pos]))][:depth]
        ranks[i, order] = np.arange(1, len(order) + 1)
    return ranks


def rrf_passage(b: Bench, bm: np.ndarray, dn: np.ndarray, k: int = 60, depth: int = 100,
                w: float = 0.5) -> np.ndarray:
    rb, rd = topk_mask(bm, depth), topk_mask(dn + 2.0, depth)
    s = np.where(rb > 0, 2 * (1 - w) / (k + rb), 0.0) + np.where(rd > 0, 2 * w / (k + rd), 0.0)
    return np.where((rb > 0) | (rd > 0), s, -np.inf)


def article_ranks(b: Bench, ranks: np.ndarray) -> np.ndarray:
    """Passage ranks -> article ranks (an article ranks where its best passage is, among articles)."""
    out = np.zeros((ranks.shape[0], len(b.art_names)), dtype=np.int64)
    for i, r in enumerate(ranks):
        rows = np.flatnonzero(r)
        rows = rows[np.argsort(r[rows])]
        seen: set[int] = set()
        for row in rows:
            a = int(b.art[row])
            if a not in seen:
                seen.add(a)
                out[i, a] = len(seen)
    return out


def rrf_article(b: Bench, bm: np.ndarray, dn: np.ndarray, k: int = 60, depth: int = 100,
                w: float = 0.5) -> np.ndarray:
    rb = article_ranks(b, topk_mask(bm, depth))
    rd = article_ranks(b, topk_mask(dn + 2.0, depth))
    s = np.where(rb > 0, 2 * (1 - w) / (k + rb), 0.0) + np.where(rd > 0, 2 * w / (k + rd), 0.0)
    return np.where((rb > 0) | (rd > 0), s, -np.inf)


def norm_fusion(b: Bench, bm: np.ndarray, dn: np.ndarray, w: float = 0.5, how: str = "z",
                depth: int = 100, article: bool = False, head: int | None = None) -> np.ndarray:
    """Per-query normalised scores over each retriever's top `depth`; missing = that list's minimum."""
    parts = []
    for s in (bm, dn):
        if article:
            s = b.maxp(s)
        ranks = topk_mask(s + (0 if s is bm else 2.0), depth) if not article else topk_mask(
            np.where(np.isfinite(s), s + 2.0 * (s is not bm), -np.inf), depth)
        out = np.zeros(s.shape)
        for i in range(len(s)):
            sel = ranks[i] > 0
            v = s[i, sel]
            if how == "z":
                mu, sd = v.mean(), v.std() + 1e-9
                z = (s[i] - mu) / sd
                low = (v.min() - mu) / sd
            else:
                z = (s[i] - v.min()) / (v.max() - v.min() + 1e-9)
                low = 0.0
            out[i] = np.where(sel, z, low)
        parts.append(out)
    return (1 - w) * parts[0] + w * parts[1]


def bm25_weighted(b: Bench, weights: dict[int, float]) -> np.ndarray:
    idx = b.bm25
    out = np.zeros(len(b.passages))
    for t, wt in weights.items():
        sl = slice(int(idx._indptr[t]), int(idx._indptr[t + 1]))
        out += wt * np.bincount(idx._indices[sl], weights=idx._data[sl], minlength=len(out))
    return out


_doc_terms: list[dict[int, int]] = []


def doc_terms(b: Bench) -> list[dict[int, int]]:
    if not _doc_terms:
        vocab = b.bm25._vocab
        for t in b.texts:
            d: dict[int, int] = {}
            for tok in tokenize(t):
                if tok in vocab:
                    d[vocab[tok]] = d.get(vocab[tok], 0) + 1
            _doc_terms.append(d)
    return _doc_terms


def rm3(b: Bench, fb_docs: int = 10, fb_terms: int = 10, lam: float = 0.5,
        seed: np.ndarray | None = None) -> np.ndarray:
    """RM3 on BM25: relevance model from the top `fb_docs` passages, `fb_terms` terms, mixed with the
    original query at weight 1 - lam. The feedback passages are BM25's own top, weighted by
    exp(score), unless `seed` (queries x rows, e.g. dense scores) picks them, each weighing the same."""
    dt = doc_terms(b)
    vocab = b.bm25._vocab
    out = np.zeros_like(b.bm)
    for i, text in enumerate(b.qtext):
        s = b.bm[i] if seed is None else seed[i]
        top = np.argsort(-s)[:fb_docs]
        if seed is None:
            top = top[s[top] > 0]
        q = [vocab[t] for t in tokenize(text) if t in vocab]
        if len(top) == 0 or not q:
            out[i] = b.bm[i]
            continue
        w = np.exp(s[top] - s[top].max()) if seed is None else np.ones(len(top))
        rel: dict[int, float] = {}
        for row, wt in zip(top, w, strict=True):
            tot = sum(dt[row].values()) or 1
            for t, c in dt[row].items():
                rel[t] = rel.get(t, 0.0) + wt * c / tot
        best = sorted(rel.items(), key=lambda x: -x[1])[:fb_terms]
        z = sum(v for _, v in best)
        weights: dict[int, float] = {}
        for t in q:
            weights[t] = weights.get(t, 0.0) + (1 - lam) / len(q)
        for t, v in best:
            weights[t] = weights.get(t, 0.0) + lam * v / z
        out[i] = bm25_weighted(b, weights)
    return out


def default_fusion(b: Bench, bm: np.ndarray, dn: np.ndarray, dense_weight: float = 0.6) -> np.ndarray:
    """The product's default fusion on the bench's scores: lists 600 deep reduced to articles, z-scored
    with statistics from the top 100, weighted sum (rag.retrieval.fusion). Returns article scores."""
    from rag.retrieval.bm25 import top_k
    from rag.retrieval.fusion import per_article, weighted

    out = np.full((len(b.qids), len(b.art_names)), -np.inf)
    of = b.art.__getitem__
    for i in range(len(b.qids)):
        lists = {"bm25": per_article(top_k(bm[i], 600), of),
                 "dense": per_article(top_k(dn[i] + 2.0, 600), of)}
        weights = {"bm25": 1 - dense_weight, "dense": dense_weight}
        for f in weighted(lists, weights, "zscore", 100):  # type: ignore[arg-type]  # rows keyed by article index
            out[i, f.row] = f.score
    return out


def bm25_variant(b: Bench, texts: list[str], k1: float = 1.5, bb: float = 0.75) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        build_bm25(texts, Path(tmp), k1=k1, b=bb)
        idx = load_bm25(Path(tmp))
        return np.stack([idx.scores(t) for t in b.qtext])


def rocchio(b: Bench, seed: np.ndarray, beta: float = 0.5, top: int = 3) -> np.ndarray:
    """Dense PRF: q + beta * mean of the vectors of the `top` rows by `seed` scores."""
    out = np.zeros_like(b.dense)
    for i in range(len(b.qids)):
        rows = np.argsort(-seed[i])[:top]
        v = b.qvecs[i] + beta * b.pvecs[rows].mean(axis=0)
        out[i] = b.pvecs @ (v / np.linalg.norm(v))
    return out


def both(b: Bench, f: Callable[[], np.ndarray], article_level: bool = False) -> tuple[float, float]:
    s = f()
    d = s if article_level else b.maxp(s)
    return round(b.ndcg("train", d), 4), round(b.ndcg("test", d), 4)


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--data", type=Path, default=SCIFACT, help="BEIR SciFact folder")
    B = Bench(cli.parse_args().data)
    print("bm25", both(B, lambda: np.where(B.bm > 0, B.bm, -np.inf)))
    print("dense", both(B, lambda: B.dense))
    print("rrf passage 60/100", both(B, lambda: rrf_passage(B, B.bm, B.dense)))
    print("rrf passage 60/600", both(B, lambda: rrf_passage(B, B.bm, B.dense, depth=600)))


def real(b: Bench, bm: np.ndarray, dn: np.ndarray, method: str = "rrf", w: float = 0.5, k: int = 60,
         depth: int = 100, article: bool = False, head: int | None = None) -> np.ndarray:
    """The product's fusion code (rag.retrieval.fusion) on each query's top-`depth` lists."""
    from rag.retrieval.bm25 import top_k
    from rag.retrieval.fusion import fuse, fuse_articles

    names = b.art_names
    out = np.full(bm.shape, -np.inf)
    for i in range(len(bm)):
        lists = {"bm25": top_k(bm[i], depth), "dense": top_k(dn[i] + 2.0, depth)}
        if article:
            fused = fuse_articles(lists, lambda r: names[b.art[r]], method, w, k, head)
        else:
            fused = fuse(lists, method, w, k, head)
        for f in fused:
            out[i, f.row] = f.score
    return out
