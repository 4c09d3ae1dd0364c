"""Chunking study: sweep passage size and sentence overlap on SciFact (test) and the sample-corpus QA file.

Each configuration gets its own index (kept under index/, keyed by the chunk settings, so a re-run
only re-scores). To stay within minutes on 2 cores the SciFact part uses a fixed corpus subset: every
document judged for the test queries plus a seeded random sample of the rest (--docs). The absolute
numbers are therefore higher than on the full corpus; the comparison between configurations is the point.

    .venv/bin/python eval/chunking_study.py            # writes eval/results/chunking_study.{md,json}
    .venv/bin/python eval/chunking_study.py --docs 800 --sizes 128,200 --overlaps 0,1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.evaluation.beir import iter_jsonl, load_beir  # noqa: E402
from rag.evaluation.harness import SHARED_DATA, write_generated  # noqa: E402
from rag.evaluation.qa import load_qa, qa_fingerprint  # noqa: E402
from rag.evaluation.runner import evaluate_beir, evaluate_qa  # noqa: E402
from rag.settings import SAMPLE_CORPUS, Settings  # noqa: E402

SAMPLE_QA = ROOT / "eval" / "sample_qa.jsonl"
WORK = ROOT / "index" / "chunking-study"
RESULTS = ROOT / "eval" / "results"
CACHE = ROOT / "cache" / "chunking_study"


class CachedEmbedder:
    """Wraps the real embedder with a text-keyed vector cache on disk, shared by every configuration.

    Short documents give the same passages under every setting, and re-running the study embeds nothing.
    Stored as .npy arrays (keys as fixed-width unicode), no pickle.
    """

    def __init__(self, inner: Any, folder: Path) -> None:
        from rag.embedding import backend_of

        self.inner, self.name, self.dim, self.backend = inner, inner.name, inner.dim, backend_of(inner)
        self.folder = folder / f"{self.name}-{self.backend}".replace("/", "_")
        self.cache: dict[str, np.ndarray] = {}
        if (self.folder / "keys.npy").is_file():
            keys, vecs = np.load(self.folder / "keys.npy"), np.load(self.folder / "vectors.npy")
            self.cache = dict(zip(keys.tolist(), vecs, strict=True))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.cache}
        if todo:
            self.cache.update(zip(todo, self.inner.embed(list(todo.values())), strict=True))
        return np.stack([self.cache[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        np.save(self.folder / "keys.npy", np.array(list(self.cache), dtype="<U64"))
        np.save(self.folder / "vectors.npy", np.stack(list(self.cache.values())).astype(np.float32))


def subset_beir(src: Path, dst: Path, n_docs: int, split: str, n_queries: int = 0, seed: int = 13) -> Path:
    """A BEIR folder with the first `n_queries` judged queries of `split` (0 = all), their judged
    documents, and seeded random other documents up to `n_docs` in all."""
    full = load_beir(src, split)
    qids = list(full.qrels)[: n_queries or None]
    judged = {d for q in qids for d in full.qrels[q]}
    records = [obj for _, obj in iter_jsonl(src / "corpus.jsonl")]
    others = [r for r in records if str(r["_id"]) not in judged]
    keep_ids = judged | {
        str(r["_id"]) for r in random.Random(seed).sample(others, max(0, n_docs - len(judged)))
    }
    (dst / "qrels").mkdir(parents=True, exist_ok=True)
    with (dst / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for r in records:  # file order, so the subset (and its fingerprint) is the same every run
            if str(r["_id"]) in keep_ids:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    shutil.copy(src / "queries.jsonl", dst / "queries.jsonl")
    rows = [f"{q}\t{d}\t{rel}\n" for q in qids for d, rel in full.qrels[q].items()]
    (dst / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(rows))
    return dst


def sample_index(work: Path, settings: Settings, tag: str, embedder: CachedEmbedder) -> Path:
    from rag.indexer import build_index

    index_dir = work / f"sample-{tag}"
    build_index([SAMPLE_CORPUS], index_dir, settings, embedder=embedder)  # a no-op when already built
    return index_dir


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", "--beir", dest="beir", type=Path, default=SHARED_DATA / "beir-scifact",
                    help="BEIR folder")
    ap.add_argument("--sizes", default="64,128,200")
    ap.add_argument("--overlaps", default="0,1,2")
    ap.add_argument("--configs", help="explicit SIZE:OVERLAP list instead of the grid, e.g. 64:1,200:0")
    ap.add_argument("--docs", type=int, default=1500, help="SciFact corpus subset size (0 = full corpus)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--queries", type=int, default=0, help="only the first N queries of the split (0 = all)")
    ap.add_argument("--modes", default="bm25,dense,hybrid")
    ap.add_argument("--out", type=Path, default=RESULTS / "chunking_study")
    ap.add_argument("--render", action="store_true", help="only rewrite OUT.md from OUT.json")
    ap.add_argument("--work", type=Path, default=WORK, help="where the study's indexes are built and kept")
    ap.add_argument("--cache", type=Path, default=CACHE, help="the embedding cache (vectors keyed by text)")
    args = ap.parse_args()
    if args.render:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        meta = saved.get("dataset", {})
        args.command = saved.get("command", "")  # the command that produced the rows, not --render
        write(
            saved["rows"], args, meta.get("fingerprint", "?"), meta.get("n_queries", 0), meta.get("n_docs", 0)
        )
        return 0
    modes = args.modes.split(",")
    if args.docs:
        name = f"{args.beir.name}-{args.queries or 'all'}q-{args.docs}"
        data = subset_beir(args.beir, args.work / name, args.docs, args.split, args.queries)
    else:
        data = args.beir
    dataset = load_beir(data, args.split)
    if args.queries and not args.docs:
        dataset = replace(dataset, queries=dict(list(dataset.queries.items())[: args.queries]))
        dataset = replace(dataset, qrels={q: dataset.qrels[q] for q in dataset.queries})
    qa_items = load_qa(SAMPLE_QA)
    from rag.embedding import load_embedder

    embedder = CachedEmbedder(load_embedder(Settings.from_env().embedding), args.cache)
    rows = []
    if args.configs:
        grid = [tuple(int(x) for x in c.split(":")) for c in args.configs.split(",")]
    else:
        grid = [(int(s), int(o)) for s in args.sizes.split(",") for o in args.overlaps.split(",")]
    for size, overlap in grid:
        settings = Settings.from_env(chunking={"max_tokens": size, "overlap_sentences": overlap})
        t0 = time.time()
        beir = evaluate_beir(dataset, settings, modes, index_root=args.work, progress=False,
                             embedder=embedder)
        embedder.save()
        sample_dir = sample_index(args.work, settings, f"{size}-{overlap}", embedder)
        qa = evaluate_qa(
            qa_items,
            sample_dir,
            settings,
            ["hybrid"],
            k=3,
            name="sample_qa",
            fingerprint=qa_fingerprint(SAMPLE_QA),
            answers=False,
            progress=False,
        )
        from rag.store import Store

        passages = Store.open(args.work / beir.stamp["index"]).stats()["passages"]
        row = {
            "max_tokens": size,
            "overlap": overlap,
            "passages": passages,
            **{f"{m} nDCG@10": beir.modes[m].metrics["nDCG@10"] for m in modes},
            **{f"{m} R@100": beir.modes[m].metrics["Recall@100"] for m in modes},
            "sample passages": Store.open(sample_dir).stats()["passages"],
            "QA answer Hits@1": qa.modes["hybrid"].extra["answer Hits@1"],
            "QA answer Hits@3": qa.modes["hybrid"].extra["answer Hits@3"],
            "seconds": round(time.time() - t0, 1),
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    write(rows, args, dataset.fingerprint, len(dataset.queries), dataset.n_docs)
    return 0


def write(rows: list[dict], args: argparse.Namespace, fingerprint: str, n_queries: int, n_docs: int) -> None:
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                "rows": rows,
                "command": command(args),
                "args": {k: str(v) for k, v in vars(args).items()},
                "dataset": {"fingerprint": fingerprint, "n_queries": n_queries, "n_docs": n_docs},
            },
            indent=2,
        )
    )
    cols = list(rows[0])
    lines = [
        "# Chunking study",
        "",
        f"{args.beir.name} {args.split} split, {n_queries} queries, corpus subset of {n_docs} documents "
        f"(fingerprint `{fingerprint}`: every judged document plus a seeded random sample), and the "
        "sample-corpus QA file (`eval/sample_qa.jsonl`, hybrid mode: the answer string is inside "
        "the top-1 / a top-3 passage).",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for r in rows:
        cells = [
            f"{v:.1f}" if k == "seconds" else f"{v:.4f}" if isinstance(v, float) else str(v)
            for k, v in r.items()
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *summary(rows)]
    lines += ["", f"Command: `{command(args)}`", ""]
    write_generated(out.with_suffix(".md"), "\n".join(lines))  # keeps the hand-written reading


def command(args: argparse.Namespace) -> str:
    return getattr(args, "command", "") or ".venv/bin/python eval/chunking_study.py " + " ".join(sys.argv[1:])


def summary(rows: list[dict]) -> list[str]:
    """Where the shipped default (ChunkSettings) stands against the best configuration per column."""
    from rag.settings import ChunkSettings

    d = ChunkSettings()
    default = next(
        (r for r in rows if (r["max_tokens"], r["overlap"]) == (d.max_tokens, d.overlap_sentences)), None
    )
    if default is None:
        return [f"The default ({d.max_tokens} tokens, overlap {d.overlap_sentences}) was not in this sweep."]
    out = [f"Default in rag/settings.py: max_tokens={d.max_tokens}, overlap_sentences={d.overlap_sentences}."]
    for col in [c for c in rows[0] if "nDCG" in c or "QA" in c]:
        best = max(rows, key=lambda r: r[col])
        out.append(
            f"- {col}: default {default[col]:.4f}; best {best[col]:.4f} at "
            f"{best['max_tokens']}/{best['overlap']} ({default[col] - best[col]:+.4f})"
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
