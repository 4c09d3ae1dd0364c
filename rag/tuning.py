"""Tune stage: fine-tune the embedding model on judged (query, passage) pairs, so that dense search
learns a corpus's own wording. Pairs come from relevance judgments: a BEIR train split, or a QA file's
questions and gold articles.

The loop is plain PyTorch with in-batch negatives (multiple-negatives ranking loss), so it needs
nothing beyond sentence-transformers; a few hundred pairs take minutes on a laptop CPU.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag.chunking import embedding_text
from rag.embedding import Embedder
from rag.errors import RagError
from rag.manifest import swap_in, temp_path
from rag.store import Store

TUNE_FILE = "tune.json"  # written beside the weights: what the model was tuned from, and how


@dataclass(frozen=True)
class Pair:
    query: str
    positive: str


@dataclass(frozen=True)
class TuneSettings:
    # epochs and lr: the best of 5 settings on a dev split of SciFact train
    # (eval/results/tune_embedder_dev.md); hybrid nDCG@10 there 0.691 -> 0.744.
    epochs: int = 6
    batch_size: int = 32
    lr: float = 5e-5
    warmup: float = 0.1  # share of the steps with a linearly rising learning rate
    scale: float = 20.0  # cosine similarities x scale are the logits (sentence-transformers' default)
    seed: int = 0


def judged_pairs(
    store: Store, embedder: Embedder, queries: Mapping[str, str], qrels: Mapping[str, Mapping[str, int]]
) -> list[Pair]:
    """One pair per judged (query, article): the article's passage closest to the query.

    An article spans several passages and the judgment does not say which one answers; the closest
    by the current model is the one the index would have to rank first.
    """
    rows_of: dict[str, list[int]] = {}
    passages = store.passages(range(len(store)))
    for row, passage in enumerate(passages):
        rows_of.setdefault(passage.article_id, []).append(row)
    vectors = store.vectors()
    ids = [q for q in qrels if q in queries and any(a in rows_of for a in qrels[q])]
    qvecs = embedder.embed([queries[q] for q in ids]) if ids else np.zeros((0, 1))
    pairs = []
    for qid, qvec in zip(ids, qvecs, strict=True):
        for article_id, grade in sorted(qrels[qid].items()):
            rows = rows_of.get(article_id)
            if grade <= 0 or not rows:
                continue
            best = rows[int(np.argmax(vectors[rows] @ qvec))]
            pairs.append(Pair(queries[qid], embedding_text(passages[best])))
    return pairs


def batches(pairs: Sequence[Pair], size: int, rng: random.Random) -> list[list[Pair]]:
    """Shuffled batches in which no positive passage and no query appears twice: a repeat would be
    scored as its own negative.

    >>> [len(b) for b in batches([Pair("q", "a"), Pair("q", "b"), Pair("r", "c")], 2, random.Random(0))]
    [2, 1]
    """
    pending = list(pairs)
    rng.shuffle(pending)
    out: list[list[Pair]] = []
    while pending:
        batch: list[Pair] = []
        seen: set[str] = set()
        rest = []
        for pair in pending:
            if len(batch) < size and pair.query not in seen and pair.positive not in seen:
                batch.append(pair)
                seen.update((pair.query, pair.positive))
            else:
                rest.append(pair)
        out.append(batch)
        pending = rest
    return out


def fine_tune(
    model_path: Path,
    pairs: Sequence[Pair],
    out: Path,
    settings: TuneSettings = TuneSettings(),
    source: str = "",
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Train a copy of the model at `model_path` on `pairs` and save it to `out` (written beside it,
    then renamed: an interrupted run leaves no half-written model)."""
    if len(pairs) < 2:
        raise RagError(f"Fine-tuning needs at least 2 training pairs; got {len(pairs)}.")
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    model = SentenceTransformer(str(model_path), device="cpu")
    model.train()
    plan = [batches(pairs, settings.batch_size, rng) for _ in range(settings.epochs)]
    steps = sum(len(p) for p in plan)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=0.01)
    warm = max(1, int(settings.warmup * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    losses: list[float] = []
    started = time.monotonic()
    for batch in (b for epoch in plan for b in epoch):
        q = model(model.preprocess([p.query for p in batch]))["sentence_embedding"]
        d = model(model.preprocess([p.positive for p in batch]))["sentence_embedding"]
        logits = settings.scale * (q @ d.T)
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        if progress:
            progress(len(losses), steps, losses[-1])
    model.eval()
    record = {
        "base_model": str(model_path), "source": source, "pairs": len(pairs), "steps": steps,
        "settings": asdict(settings), "loss_first": _mean(losses[:5]), "loss_last": _mean(losses[-5:]),
        "seconds": round(time.monotonic() - started, 1),
    }
    return _save(model, out, record)


def _mean(values: Iterable[float]) -> float:
    v = list(values)
    return round(sum(v) / len(v), 4) if v else 0.0


def _save(model: object, out: Path, record: dict[str, object]) -> Path:
    # The index's swap: a run killed between its two renames leaves OUT.old, put back (or dropped,
    # when the new model made it: TUNE_FILE is written last) by the next save.
    out = out.resolve()
    tmp = temp_path(out)
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))  # type: ignore[attr-defined]
    (tmp / TUNE_FILE).write_text(json.dumps(record, indent=2) + "\n")
    swap_in(tmp, out, marker=TUNE_FILE, carry=False)
    return out
