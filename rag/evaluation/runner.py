"""Run the evaluation: index a BEIR corpus (or open the user's index), retrieve per mode, score, stamp."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.evaluation.answers import answer_checks
from rag.evaluation.beir import BeirDataset, corpus_articles
from rag.evaluation.metrics import (
    latency_summary,
    measures_for,
    per_query,
    ranked_run,
    recall_curve,
)
from rag.evaluation.qa import QAItem, contains_answer
from rag.evaluation.report import EvalReport, ModeScores
from rag.settings import PROJECT_ROOT, Settings
from rag.types import Hit

DEFAULT_MODES = ("bm25", "dense", "hybrid")
INDEX_ROOT = PROJECT_ROOT / "index"
_VERSIONED = ("rag", "sentence-transformers", "torch", "onnxruntime", "faiss-cpu", "bm25s", "ir-measures")


def beir_index_dir(dataset: BeirDataset, settings: Settings, root: Path = INDEX_ROOT) -> Path:
    """index/beir-NAME-HASH, keyed by the corpus file and the settings that shape an index.

    Retrieval settings are not in the key, so tuning them reuses one index. What changes vectors
    without changing a setting (a model folder's weights, the ONNX export recipe) is not in the key
    either: `ensure_beir_index` rebuilds such an index in place.
    """
    shape = settings.fingerprint("chunking", "embedding", "index")
    key = f"{dataset.corpus_fingerprint}:{shape}"
    return root / f"beir-{dataset.name}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def ensure_beir_index(
    dataset: BeirDataset,
    settings: Settings,
    root: Path = INDEX_ROOT,
    progress: bool = True,
    embedder: Any = None,
) -> Path:
    """The BEIR corpus's index for these settings, built when absent or no longer valid (`stale_index`)."""
    from rag.indexer import index_articles, stale_index

    index_dir = beir_index_dir(dataset, settings, root)
    exists = (index_dir / "manifest.json").is_file()
    reason = stale_index(index_dir, settings, embedder) if exists else None
    if not exists or reason:
        why = f" ({reason})" if reason else ""
        print(f"Indexing {dataset.corpus_path} into {index_dir}{why} ...", file=sys.stderr)
        articles = list(corpus_articles(dataset.corpus_path))
        index_articles(articles, index_dir, settings, progress=progress, embedder=embedder)
    return index_dir


def doc_ranking(hits: Sequence[Hit], depth: int, article_of: dict[str, str] | None = None) -> list[str]:
    """MaxP: a document ranks where its best passage ranks; collapsed copies (also_in) count too."""
    ranked: list[str] = []
    seen: set[str] = set()
    for hit in sorted(hits, key=lambda h: h.rank):
        ids = [hit.passage.article_id]
        if article_of is not None:
            ids += [article_of[p] for p in hit.also_in if p in article_of]
        for doc in ids:
            if doc not in seen:
                seen.add(doc)
                ranked.append(doc)
    return ranked[:depth]


def retrieve(
    retriever: Any, queries: dict[str, str], mode: str, passages: int, progress: bool = True, batch: int = 1
) -> tuple[dict[str, list[Hit]], list[float]]:
    """Hits per query id and seconds per query.

    batch=1 times each search call on its own (the latency a user sees); batch>1 embeds that many
    queries at once through `search_many` (faster for tuning runs) and reports the per-query average.
    """
    hits: dict[str, list[Hit]] = {}
    seconds: list[float] = []
    items = list(queries.items())
    bar = tqdm(total=len(items), desc=f"{mode:>7}", unit="q", disable=not progress, file=sys.stderr)
    for i in range(0, len(items), batch):
        chunk = items[i : i + batch]
        start = time.perf_counter()
        if batch == 1:
            results = [retriever.search(chunk[0][1], k=passages, mode=mode)]
        else:
            results = retriever.search_many([text for _, text in chunk], k=passages, mode=mode)
        elapsed = time.perf_counter() - start
        seconds += [elapsed / len(chunk)] * len(chunk)
        for (qid, _), result in zip(chunk, results, strict=True):
            hits[qid] = list(result.hits)
        bar.update(len(chunk))
    bar.close()
    return hits, seconds


def _also_in_articles(retriever: Any, runs: Iterable[list[Hit]]) -> dict[str, str]:
    ids = {p for hits in runs for h in hits for p in h.also_in}
    out = {}
    for pid in ids:
        try:
            out[pid] = retriever.store.passage(pid).article_id
        except KeyError:  # a copy dropped by an incremental rebuild: nothing to credit
            continue
    return out


def _mean(values: Iterable[float]) -> float:
    vals = list(values)
    return float(sum(vals) / len(vals)) if vals else 0.0


def _manifest_value(manifest: Any, *keys: str) -> Any:
    for key in keys:
        value = manifest.get(key) if isinstance(manifest, dict) else getattr(manifest, key, None)
        if value:
            return value
    return None


def stamp(settings: Settings, retriever: Any, index_dir: Path) -> dict[str, Any]:
    versions = {}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    manifest = getattr(retriever.store, "manifest", {}) or {}
    model = _manifest_value(manifest, "model", "model_name", "embedder") or settings.embedding.model
    return {
        "settings_hash": settings.fingerprint(),
        "model": str(model),
        "index": index_dir.name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions,
    }


def public_settings(settings: Settings) -> dict[str, Any]:
    dump = settings.model_dump()
    dump["llm"].pop("api_key", None)
    dump.pop("ui", None)
    return dump


def evaluate_beir(
    dataset: BeirDataset,
    settings: Settings,
    modes: Sequence[str] = DEFAULT_MODES,
    k: int = 10,
    depth: int = 100,
    index_root: Path = INDEX_ROOT,
    limit: int | None = None,
    progress: bool = True,
    batch: int = 1,
    embedder: Any = None,
) -> EvalReport:
    """Every mode on one index. `limit` takes the first N queries (quick tuning runs; the report says so).

    `embedder` only matters when the index is built (a study may pass a caching wrapper).
    """
    from rag.retrieval import Retriever

    # BEIR documents have no dates, and a query word like "recent" must not turn into a date filter here.
    settings = settings.model_copy(deep=True)
    settings.retrieval.time_aware = False
    index_dir = ensure_beir_index(dataset, settings, index_root, progress, embedder)
    retriever = Retriever.open(index_dir, settings)
    queries = dict(list(dataset.queries.items())[:limit]) if limit else dataset.queries
    qrels = {q: dataset.qrels[q] for q in queries}
    notes = list(dataset.warnings)
    if limit and limit < len(dataset.queries):
        notes.append(f"only the first {len(queries)} of {len(dataset.queries)} queries")
    # MaxP needs more passages than documents: 2 x depth passages leave ~depth distinct documents.
    notes.append(
        f"each mode retrieved {2 * depth} passages per query; documents scored by their best passage"
    )
    if batch > 1:
        notes.append(f"queries were searched in batches of {batch}: latency is the per-query average")
    scores = {}
    for mode in modes:
        hits, seconds = retrieve(retriever, queries, mode, 2 * depth, progress, batch)
        article_of = _also_in_articles(retriever, hits.values())
        run = ranked_run({q: doc_ranking(h, depth, article_of) for q, h in hits.items()})
        measures = measures_for(k)
        pq = per_query(qrels, run, measures)
        scores[mode] = ModeScores(
            metrics={name: _mean(v.values()) for name, v in pq.items()},
            latency=latency_summary(seconds),
            recall_curve=recall_curve(qrels, run),
        )
    ds = {
        "name": dataset.name,
        "path": str(dataset.folder),
        "split": dataset.split,
        "fingerprint": dataset.fingerprint,
        "n_queries": len(queries),
        "n_docs": dataset.n_docs,
    }
    return EvalReport(
        "beir", ds, stamp(settings, retriever, index_dir), public_settings(settings), k, scores, notes
    )


def evaluate_qa(
    items: Sequence[QAItem],
    index_dir: Path,
    settings: Settings,
    modes: Sequence[str] = DEFAULT_MODES,
    k: int = 10,
    depth: int = 100,
    name: str = "qa",
    fingerprint: str = "",
    answers: bool = True,
    progress: bool = True,
    split: str = "all (QA file)",
) -> EvalReport:
    """Article-level IR metrics (MaxP) where gold articles are given; passage and answer checks as extras."""
    from rag.retrieval import Retriever

    retriever = Retriever.open(index_dir, settings)
    queries = {it.id: it.question for it in items}
    article_qrels = {it.id: dict.fromkeys(it.gold_article_ids, 1) for it in items if it.gold_article_ids}
    passage_qrels = {it.id: dict.fromkeys(it.gold_passage_ids, 1) for it in items if it.gold_passage_ids}
    with_answers = [it for it in items if it.answers]
    scores = {}
    for mode in modes:
        hits, seconds = retrieve(retriever, queries, mode, passages=depth, progress=progress)
        metrics, extra = {}, {}
        if article_qrels:
            run = ranked_run({q: doc_ranking(h, depth) for q, h in hits.items()})
            pq = per_query(article_qrels, run, measures_for(k))
            metrics = {n: _mean(v.values()) for n, v in pq.items()}
            curve = recall_curve(article_qrels, run)
        if passage_qrels:
            prun = ranked_run(
                {q: [h.passage.id for h in sorted(hs, key=lambda h: h.rank)] for q, hs in hits.items()}
            )
            pq = per_query(passage_qrels, prun, measures_for(k))
            extra.update({f"passage {n}": _mean(pq[n].values()) for n in (f"MRR@{k}", f"Hits@{k}")})
            if not article_qrels:
                curve = recall_curve(passage_qrels, prun)
        if with_answers:
            # Judged from what was retrieved: enough for MRR and Hits, which only need the first relevant.
            top = {it.id: sorted(hits[it.id], key=lambda h: h.rank)[:k] for it in with_answers}
            aqrels = {
                it.id: {h.passage.id: int(contains_answer(h.passage.text, it.answers)) for h in top[it.id]}
                for it in with_answers
            }
            arun = ranked_run({q: [h.passage.id for h in hs] for q, hs in top.items()})
            # "answer Hits@k": some top-k passage contains a gold answer string.
            names = {
                "answer Hits@1": "Hits@1",
                f"answer Hits@{k}": f"Hits@{k}",
                f"answer MRR@{k}": f"MRR@{k}",
            }
            measures = measures_for(k)
            pq = per_query(aqrels, arun, {n: measures[m] for n, m in names.items()})
            extra.update({n: sum(v.values()) / len(with_answers) for n, v in pq.items()})
        if not article_qrels and not passage_qrels:
            curve = {}
        scores[mode] = ModeScores(metrics, latency_summary(seconds), curve, extra)
    answer, records = answer_checks(items, retriever, settings, progress) if answers else ({}, [])
    notes = []
    if answers and not answer:
        notes.append("answer-level checks skipped: rag.answer is not available")
    ds = {
        "name": name,
        "path": str(index_dir),
        "split": split,
        "fingerprint": fingerprint,
        "n_queries": len(items),
        "n_docs": retriever.store.stats().get("articles", "?"),
    }
    st = stamp(settings, retriever, index_dir)
    return EvalReport("qa", ds, st, public_settings(settings), k, scores, notes, answer, records)
