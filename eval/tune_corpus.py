"""Does fine-tuning on the corpus alone (no judgments) help? `corpus_pairs` below makes one
(sentence, rest of its passage) pair per article of the SciFact index (the inverse cloze task); the
stock model is tuned on them with the product's own loop (rag.tuning), every passage and query is
re-embedded (onnx-int8), and dense and default-hybrid nDCG@10 are scored on all 809 train queries (no
judgment was used to train, so train is fair to choose on). `--test` also prints test; run it once,
for the setting chosen on train.

Result (eval/results/tune_corpus.md): 1 epoch at lr 2e-5 lowered train hybrid 0.7446 -> 0.7420 and
dense 0.6843 -> 0.6801, so `rag tune` does not offer it and test was not looked at.

    .venv/bin/python eval/tune_corpus.py 1:2e-5:1 [EPOCHS:LR:PAIRS_PER_ARTICLE ...] [--test]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fusion_bench import CACHE, SCIFACT, Bench  # noqa: E402
from tune_embedder import hybrid  # noqa: E402

from rag.chunking import embedding_text, sentence_spans  # noqa: E402
from rag.embedding import load_embedder  # noqa: E402
from rag.models import resolve_model_path  # noqa: E402
from rag.settings import EmbeddingSettings  # noqa: E402
from rag.store import Store  # noqa: E402
from rag.tuning import Pair, TuneSettings, fine_tune  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "tune_corpus.md"


def corpus_pairs(store: Store, per_article: int = 1, min_words: int = 6, seed: int = 0) -> list[Pair]:
    """A sentence of a passage is the query, the passage without it the positive. The sentence is cut
    out so that the model cannot match it word for word."""
    rng = random.Random(seed)
    by_article: dict[str, list[int]] = {}
    passages = store.passages(range(len(store)))
    for row, passage in enumerate(passages):
        by_article.setdefault(passage.article_id, []).append(row)
    pairs = []
    for article_id in sorted(by_article):
        rows = by_article[article_id]
        for row in rng.sample(rows, min(per_article, len(rows))):
            passage = passages[row]
            spans = sentence_spans(passage.text)
            usable = [(s, e) for s, e in spans if len(passage.text[s:e].split()) >= min_words]
            if len(spans) < 2 or not usable:
                continue  # a passage of one sentence has nothing left to be the positive
            s, e = rng.choice(usable)
            rest = (passage.text[:s].rstrip() + " " + passage.text[e:].lstrip()).strip()
            pairs.append(Pair(passage.text[s:e], embedding_text(replace(passage, text=rest))))
    return pairs


def row(b: Bench, label: str, splits: list[str]) -> str:
    cells = [f"{b.ndcg(s, b.maxp(b.dense)):.4f} | {b.ndcg(s, hybrid(b)):.4f}" for s in splits]
    line = f"| {label} | " + " | ".join(cells) + " |"
    print(line, flush=True)
    return line


def main(configs: list[tuple[int, float, int]], test: bool, data: Path) -> None:
    splits = ["train", "test"] if test else ["train"]
    b = Bench(data)
    head = " | ".join(f"dense {s} | hybrid {s}" for s in splits)
    lines = ["| model | " + head + " |", "|---" * (1 + 2 * len(splits)) + "|",
             row(b, "stock all-MiniLM-L6-v2", splits)]
    for epochs, lr, per in configs:
        pairs = corpus_pairs(b.store, per_article=per)
        print(f"{len(pairs)} pairs, e.g. {pairs[0].query!r} -> {pairs[0].positive[:120]!r}", flush=True)
        folder = CACHE / f"corpus-{epochs}-{lr}-{per}"
        started = time.monotonic()

        def show(step: int, steps: int, loss: float, started: float = started) -> None:
            if step % 20 == 0 or step == steps:
                print(f"step {step}/{steps} loss {loss:.3f} {time.monotonic() - started:.0f} s", flush=True)

        fine_tune(resolve_model_path("all-MiniLM-L6-v2"), pairs, folder,
                  TuneSettings(epochs=epochs, lr=lr), source="scifact corpus (ICT)", progress=show)
        emb = load_embedder(EmbeddingSettings(model=str(folder), backend="onnx-int8"))
        b.pvecs = emb.embed(b.texts).astype(np.float32)
        b.qvecs = emb.embed(b.qtext).astype(np.float32)
        b.dense = b.qvecs @ b.pvecs.T
        label = f"corpus ICT, {len(pairs)} pairs, {epochs} ep, lr {lr} ({time.monotonic() - started:.0f} s)"
        lines.append(row(b, label, splits))
    with OUT.open("a") as f:
        f.write("\n".join(lines) + "\n\n")
    print(f"appended to {OUT}")


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("configs", nargs="*", metavar="EPOCHS:LR:PAIRS_PER_ARTICLE", default=["1:2e-5:1"])
    cli.add_argument("--test", action="store_true", help="also print test (once, for the chosen setting)")
    cli.add_argument("--data", type=Path, default=SCIFACT, help="BEIR SciFact folder")
    args = cli.parse_args()
    configs = [(int(e), float(lr), int(p)) for e, lr, p in (a.split(":") for a in args.configs)]
    main(configs, args.test, args.data)
