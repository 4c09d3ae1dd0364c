"""Index stage: article files -> passages -> vectors -> an index folder, incremental and atomic.

An article is re-chunked and re-embedded only when its content hash changed; vectors of
unchanged passages are copied from the previous index. New vectors go to a journal first
(`.NAME.journal.sqlite` beside the index), so a killed build resumes where it stopped. The
new index is written to a sibling folder and swapped in, so readers never see half an index.

An update adds and updates; it never removes by accident. Articles of the previous index that
are not among this run's inputs are carried over as they are. Removing is explicit: `prune`
removes the ones no longer found under the given paths, except those whose file or folder could
not be read this time (`may_be_missing`), and `remove` names articles to drop.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.build_report import BuildReport
from rag.embedding import Embedder, backend_of, export_recipe, resolve_backend
from rag.embedding.cache import text_key
from rag.errors import IndexMismatch, IngestError, RagError
from rag.index_vectors import journal_path, passage_vectors
from rag.loaders import LoadResult
from rag.manifest import (
    Manifest,
    real_index_path,
    record_files,
    recover,
    remove_stale_temps,
    stale_reason,
    swap_in,
    temp_path,
)
from rag.models import DEFAULT_MODEL, local_weights
from rag.settings import ChunkSettings, Settings
from rag.store import DB, Store, read_articles
from rag.store_write import choose_kind, write_store
from rag.types import Article, Passage, Problem

log = logging.getLogger(__name__)

Chunks = dict[str, list[tuple[Passage, str]]]  # content hash -> the article's passages and embedding texts
ReadAndChunk = Callable[[list[tuple[Path, Path]], ChunkSettings, str], Iterable[tuple[LoadResult, Chunks]]]


def content_hash(article: Article) -> str:
    """Changes whenever anything stored about the article changes (text or metadata)."""
    blob = json.dumps(article.to_dict(), sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def corpus_fingerprint(hashes: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{k} {v}" for k, v in sorted(hashes.items())).encode()).hexdigest()[:16]


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    lock = index_dir.with_name(f".{index_dir.name}.lock")
    with lock.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RagError(f"Another `rag index` is writing {index_dir}.",
                           help="Wait for it to finish, or use another --index folder.") from exc
        yield  # the kernel drops the lock if the process dies, so a killed build never blocks the next


def identity(
    settings: Settings, embedder: Embedder | None = None
) -> tuple[str, str | None, str, dict[str, Any]]:
    """What a build with these settings records and `stale_reason` compares: model, its weights,
    backend and chunking settings. An embedder from settings (ours, or the Ray engine's actors)
    records the weights of a model folder; a caller's own embedder is taken as it is."""
    model = embedder.name if embedder else settings.embedding.model
    weights = local_weights(model) if embedder is None or getattr(embedder, "from_settings", False) else None
    backend = backend_of(embedder) if embedder else resolve_backend(settings.embedding)
    return model, weights, backend, settings.chunking.model_dump()


def stale_index(index_dir: Path, settings: Settings, embedder: Embedder | None = None) -> str | None:
    """Why the index at `index_dir` would be rebuilt in full for these settings; None when it is valid."""
    return stale_reason(Manifest.read(index_dir), *identity(settings, embedder))


def ensure_index(
    paths: Sequence[str | Path], index_dir: str | Path, settings: Settings, progress: bool = False
) -> BuildReport | None:
    """Build the index only when `index_dir` holds none yet (a first start); None when it exists."""
    if (Path(index_dir) / "manifest.json").is_file():
        return None
    return build_index(paths, index_dir, settings, progress=progress)


def build_index(
    paths: Sequence[str | Path],
    index_dir: str | Path,
    settings: Settings,
    rebuild: bool = False,
    progress: bool = False,
    embedder: Embedder | None = None,
    prune: bool = False, strict: bool = False,
    read_and_chunk: ReadAndChunk | None = None,
    keep: Callable[[Article], bool] | None = None,
) -> BuildReport:
    """Build or update the index at `index_dir` from article files under `paths` (those `keep` accepts).

    `embedder` overrides the one from settings (tests pass a fake); its `name` is then the model
    recorded in the manifest. `prune` removes earlier articles no longer found under `paths` (never
    ones whose file failed to read); `strict` refuses to write anything when the input has any
    problem. `read_and_chunk` (the Ray engine's) reads and chunks the listed files elsewhere;
    listing, de-duplication and the problem report stay here, as without it."""
    from rag.ingest import ingest, is_note

    t0 = time.perf_counter()
    chunked: Chunks = {}
    reader = None
    if read_and_chunk is not None:
        tokenizer = _tokenizer_model(settings, identity(settings, embedder)[2])

        def reader(todo: list[tuple[Path, Path]]) -> Iterator[LoadResult]:
            for result, found in read_and_chunk(todo, settings.chunking, tokenizer):
                chunked.update(found)
                yield result
    report = ingest([Path(p) for p in paths], progress=progress, read=reader)
    if strict and report.problems:
        raise IngestError(f"{len(report.problems)} problem(s) in the input, first: {report.problems[0]}. "
                          "Nothing was written.",
                          help="Fix or remove those files, or run without --strict to index the rest.")
    if not report.articles and not (Path(index_dir) / "manifest.json").is_file():
        raise IngestError(f"No articles found in {', '.join(map(str, paths))}.",
                          help="Point rag index at a folder of article files (see rag ingest --help).")
    articles = report.articles if keep is None else [a for a in report.articles if keep(a)]
    built = index_articles(articles, index_dir, settings, rebuild, progress, embedder,
                           problems=list(report.problems), started=t0, prune=prune,
                           may_be_missing=report.may_be_missing, chunked=chunked)
    return replace(built, failed=sum(1 for p in report.problems if not is_note(p)),
                   failed_paths=list(report.failed_paths))


def index_articles(
    articles: Sequence[Article],
    index_dir: str | Path,
    settings: Settings,
    rebuild: bool = False,
    progress: bool = False,
    embedder: Embedder | None = None,
    problems: Sequence[Problem] = (),
    started: float | None = None,
    prune: bool = False,
    may_be_missing: Callable[[str], bool] | None = None,
    remove: Collection[str] = (),
    chunked: Chunks | None = None,
) -> BuildReport:
    """build_index without reading files: for callers that already hold `Article`s (BEIR, tests).

    Earlier articles not in `articles` are kept unless `prune` (and `may_be_missing(origin)` is
    false for them) or their id is in `remove`. `chunked` holds passages chunked elsewhere.
    """
    t0 = time.perf_counter() if started is None else started
    index_dir = real_index_path(Path(index_dir))  # a symlinked --index: build beside the target
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(index_dir), ExitStack() as cleanup:
        remove_stale_temps(index_dir)
        recover(index_dir)
        old, previous, notes = _previous(index_dir, rebuild)
        if old is not None:
            cleanup.callback(old.close)  # also on the early return and on errors
        given = {a.id for a in articles}
        # Ids come from paths relative to the PATH argument, so `rag index corpus/news` after `rag index
        # corpus` reads the same files under new ids: an earlier copy with the very same title and text
        # is replaced, not kept twice (nothing is lost: the text is in the new copy).
        same_text = {_text_digest(a) for a in articles}
        carried: list[tuple[Article, str]] = []
        removed = protected = moved = 0
        for a, h in previous:
            if a.id in given:
                continue
            if _text_digest(a) in same_text:
                moved += 1
                continue
            if a.id in remove or (prune and not (may_be_missing and may_be_missing(a.origin))):
                removed += 1
                continue
            protected += prune
            carried.append((a, h))
        if not articles and not carried and not removed:
            raise IngestError("No articles to index.", help="Point rag index at a folder of article files.")
        return _build(index_dir, settings, list(articles), carried, old, rebuild, progress, embedder,
                      BuildReport(index_dir=index_dir, removed=removed, kept=len(carried), moved=moved,
                                  protected=protected, problems=list(problems), notes=notes), t0,
                      chunked or {})


def _text_digest(a: Article) -> str:
    return hashlib.sha1(f"{a.title}\n{a.text}".encode()).hexdigest()


def remove_articles(names: Collection[str], index_dir: str | Path, settings: Settings) -> BuildReport:
    """Take articles out of an index: each name is an article id or an origin (a file's path as
    `rag ingest` shows it, which names every article read from that file). Nothing is re-embedded."""
    index_dir = real_index_path(Path(index_dir))
    store = Store.open(index_dir)
    try:
        m = store.manifest
        wanted = set(names)
        found: set[str] = set()
        ids = set()
        for a, _ in store.articles():
            hit = {a.id, a.origin, a.origin.rsplit("#", 1)[0]} & wanted
            if hit:
                ids.add(a.id)
                found |= hit
    finally:
        store.close()
    if not ids:
        raise IngestError(f"None of {', '.join(sorted(wanted))} is in the index at {index_dir}.",
                          help="Name articles by id (rag search --json shows article_id) or by origin.")
    requested = str(m.extra.get("backend_requested", m.backend))
    backend = requested if requested in ("onnx-int8", "onnx", "torch") else "auto"
    same = settings.model_copy(update={  # the index's own model and chunking: nothing is re-embedded
        "embedding": settings.embedding.model_copy(update={"model": m.model, "backend": backend}),
        "chunking": ChunkSettings(**m.chunking)})
    report = index_articles([], index_dir, same, remove=ids)
    missing = sorted(wanted - found)
    return replace(report, notes=[*report.notes, f"Not in the index: {', '.join(missing)}."] if missing
                   else report.notes)


def _previous(index_dir: Path, rebuild: bool) -> tuple[Store | None, list[tuple[Article, str]], list[str]]:
    """The previous index (None for --rebuild) and its articles with their content hashes."""
    if not (index_dir / "manifest.json").is_file():
        return None, [], []
    if not rebuild:
        try:
            old = Store.open(index_dir)
            try:
                old.manifest.verify_files(index_dir, ("bm25/",))  # the update copies its store, not its BM25
            except RagError:
                old.close()
                raise
        except RagError as exc:
            raise IndexMismatch(f"The index at {index_dir} cannot be updated: {exc}".rstrip(),
                                help=f"Rebuild it with: rag index PATH --index {index_dir} --rebuild "
                                     "(it keeps the articles that can still be read from it).") from exc
        return old, old.articles(), []
    try:  # --rebuild re-embeds everything, but the articles it holds are still carried over
        return None, read_articles(index_dir / DB), []
    except (sqlite3.Error, OSError, ValueError) as exc:
        return None, [], [f"The previous index's articles could not be read ({exc}); "
                          "it was rebuilt from the given paths only."]


def _build(
    index_dir: Path, settings: Settings, articles: list[Article], carried: list[tuple[Article, str]],
    old: Store | None, rebuild: bool, progress: bool, embedder: Embedder | None, base: BuildReport,
    t0: float, chunked: Chunks,
) -> BuildReport:
    from rag.chunking import chunk_article, embedding_text

    hashes = {a.id: h for a, h in carried}  # stored hashes: metadata need not survive a round trip
    hashes.update({a.id: content_hash(a) for a in articles})
    model, weights, backend, chunking = identity(settings, embedder)
    tokenizer_model = _tokenizer_model(settings, backend)

    full_reason = "--rebuild" if rebuild else None
    old_hashes: dict[str, str] = {}
    if old is not None:
        old_hashes = old.article_hashes()
        full_reason = stale_reason(old.manifest, model, weights, backend, chunking)
        if full_reason:
            old.close()
            old = None
    unchanged = [a.id for a in articles if old_hashes.get(a.id) == hashes[a.id]]
    keep = set(unchanged) | {a.id for a, _ in carried} if old is not None else set()
    added = sum(1 for a in articles if a.id not in old_hashes)
    changed = len(articles) - len(unchanged) - added
    base = replace(base, added=added, changed=changed, unchanged=len(unchanged), full_reason=full_reason)
    if old is not None and not added and not changed and not base.removed and not base.moved:
        kind = choose_kind(settings.index.kind, len(old), settings.index.hnsw_threshold,
                           settings.index.ivfpq_threshold)
        if kind == old.manifest.index_kind:
            return replace(base, passages=len(old), seconds=time.perf_counter() - t0, nothing_to_do=True)
    every = [a for a, _ in carried] + articles  # earlier articles first, in their old order

    # passages: copied from the old index for unchanged articles, chunked for the rest
    old_rows = old.rows_by_article() if old else {}
    old_keys = old.embed_hashes() if old else []
    passages: list[Passage] = []
    keys: list[str] = []
    texts: dict[str, str] = {}
    reuse: dict[str, int] = {}  # embed key -> row in the old index
    for a in tqdm(every, desc="chunk", unit="article", disable=not progress, leave=False):
        if old is not None and a.id in keep:
            rows = old_rows.get(a.id, [])
            passages += old.passages(rows)
            for r in rows:
                keys.append(old_keys[r])
                reuse[old_keys[r]] = r
            continue
        found = chunked.get(hashes[a.id])  # chunked on a Ray worker: same function, same settings
        for p, text in found if found is not None else (
                (p, embedding_text(p, settings.chunking.header_tokens, tokenizer_model))
                for p in chunk_article(a, settings.chunking, tokenizer_model)):
            key = text_key(text)
            passages.append(p)
            keys.append(key)
            texts[key] = text
    if old is not None:  # an edited article may still contain passages embedded before
        for key, r in zip(old_keys, range(len(old_keys)), strict=True):
            if key in texts:
                reuse.setdefault(key, r)

    with _disk_full_is_an_error(index_dir):
        vectors, embedded, resumed, emb = passage_vectors(
            # a model folder's journal entries are keyed by its weights too: tuned again, it starts afresh
            keys, texts, reuse, old, embedder, settings, f"{model}#{weights}" if weights else model, backend,
            index_dir, progress)
    kind = choose_kind(settings.index.kind, len(passages), settings.index.hnsw_threshold,
                       settings.index.ivfpq_threshold)
    tmp = temp_path(index_dir)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with _disk_full_is_an_error(index_dir):
            vector_info = write_store(tmp, [(a, hashes[a.id]) for a in every],
                                      list(zip(passages, keys, strict=True)), vectors, kind)
            _write_bm25(tmp, [texts.get(k) or _header_text(p, settings, tokenizer_model)
                              for p, k in zip(passages, keys, strict=True)])
            extra: dict[str, object] = {"backend_requested": backend, "tokenizer_model": tokenizer_model,
                                        **vector_info}
            if weights:
                extra["model_weights"] = weights
            runtime = getattr(emb, "runtime", None)  # how this machine ran it: speed only, not the vectors
            if runtime:
                extra["embedding_runtime"] = runtime
            actual = backend_of(emb) if emb else (old.manifest.backend if old is not None else backend)
            Manifest.new(model=model, dim=int(vectors.shape[1]), backend=actual,
                         export_recipe=export_recipe(actual), chunking=chunking,
                         corpus_fingerprint=corpus_fingerprint(hashes), articles=len(every),
                         passages=len(passages), index_kind=kind, files=record_files(tmp),
                         extra=extra).write(tmp)
            if old is not None:
                old.close()
            swap_in(tmp, index_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after a failure: never leave a half-written folder behind
    journal_path(index_dir).unlink(missing_ok=True)
    return replace(base, passages=len(passages), embedded=embedded, resumed=resumed,
                   seconds=time.perf_counter() - t0)


@contextmanager
def _disk_full_is_an_error(index_dir: Path) -> Iterator[None]:
    """A full disk (or quota) becomes one sentence instead of a traceback; the caller removes its
    temporary folder, and the journal keeps the vectors computed so far for the next run."""
    try:
        yield
    except (OSError, sqlite3.OperationalError, RuntimeError) as exc:
        full = getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or any(
            s in str(exc).lower() for s in ("disk is full", "no space left", "quota exceeded"))
        if not full:
            raise
        journal = journal_path(index_dir)
        raise RagError(
            f"The disk is full ({exc}). Nothing was changed: the index at {index_dir} is the previous one, "
            "and the partly written new one was removed.",
            help="Free some space and run the same command again; it resumes from the vectors saved in "
                 f"{journal} (delete that file to free its space instead).") from exc


def _tokenizer_model(settings: Settings, backend: str) -> str:
    return DEFAULT_MODEL if backend in ("hash", "custom") else settings.embedding.model


def _header_text(p: Passage, settings: Settings, tokenizer_model: str) -> str:
    from rag.chunking import embedding_text

    return embedding_text(p, settings.chunking.header_tokens, tokenizer_model)


def _write_bm25(folder: Path, texts: list[str]) -> None:
    try:
        from rag.retrieval.bm25 import build_bm25
    except ImportError as exc:
        log.warning("BM25 index not built (%s); keyword search will be unavailable", exc)
        return
    build_bm25(texts, folder / "bm25")
