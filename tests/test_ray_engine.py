"""`--engine ray` builds the same index folder as the single-process path (local Ray, 2 CPUs)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rag.indexer import build_index
from rag.settings import Settings

ray = pytest.importorskip("ray")
BBC = Path("/work/shared/data/bbc-news")


def _rows(folder: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(folder / "passages.sqlite")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_ray_index_equals_single_process(tmp_path: Path, hash_settings: Settings,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if not BBC.is_dir():
        pytest.skip("BBC data not present")
    from rag.ray_engine import RayEmbedder

    src = tmp_path / "src"
    src.mkdir()
    for f in sorted((BBC / "business").glob("*.txt"))[:25]:
        (src / f.name).write_bytes(f.read_bytes())
    (src / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")  # a bad file, reported by both
    first = sorted(src.glob("*.txt"))[0]
    (src / "zz-copy.txt").write_bytes(first.read_bytes())  # an exact duplicate: dropped by both
    (src / "zz-notes.csv").write_text("title,text\nHalf a row\n")  # a CSV without its columns
    missing = tmp_path / "no-such-folder"  # a PATH that fails as a whole
    single, distributed = tmp_path / "single", tmp_path / "ray"
    one = build_index([src, missing], single, hash_settings)
    embedder = RayEmbedder(hash_settings.embedding, workers=2)

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("the driver read or chunked a file")

    # the Ray workers are other processes: these stand-ins only stop the driver doing the work itself
    monkeypatch.setattr("rag.ingest.load_file", not_here)
    monkeypatch.setattr("rag.chunking.chunk_article", not_here)
    try:  # reading and chunking on Ray tasks, embedding on the actors: as `rag index --engine ray`
        two = build_index([src, missing], distributed, hash_settings, embedder=embedder,
                          read_and_chunk=embedder.read_and_chunk)
    finally:
        embedder.close()
        ray.shutdown()
    assert [str(p) for p in two.problems] == [str(p) for p in one.problems] and len(one.problems) >= 2
    assert (two.added, two.passages, two.failed) == (one.added, one.passages, one.failed)
    assert two.failed_paths == one.failed_paths == [str(missing)]
    for sql in ("SELECT id, text, content_hash FROM articles ORDER BY row",
                "SELECT id, article_id, start, end, embed_hash FROM passages ORDER BY row"):
        assert _rows(distributed, sql) == _rows(single, sql)
    a, b = (np.load(f / "vectors.npy") for f in (single, distributed))
    assert a.shape == b.shape and np.allclose(a, b, atol=1e-6)
    ma, mb = (json.loads((f / "manifest.json").read_text()) for f in (single, distributed))
    assert set(ma) == set(mb)
    for key in set(ma) - {"built_at", "files"}:
        assert ma[key] == mb[key], key


def test_kill_9_during_a_ray_build_keeps_the_previous_index(tmp_path: Path, hash_settings: Settings) -> None:
    """The Ray engine runs the same journalled, swapped build: killed mid-way, the old index opens."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from rag.store import Store

    if not BBC.is_dir():
        pytest.skip("BBC data not present")
    files = sorted((BBC / "sport").glob("*.txt"))
    old_src, new_src = tmp_path / "old", tmp_path / "new"
    for folder, chosen in ((old_src, files[:5]), (new_src, files[:300])):
        folder.mkdir()
        for f in chosen:
            (folder / f.name).write_bytes(f.read_bytes())
    index = tmp_path / "index"
    build_index([old_src], index, hash_settings)
    env = {**os.environ, "RAG_EMBEDDING__MODEL": "hash", "RAG_EMBEDDING__BATCH_SIZE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rag", "index", str(new_src), "--index", str(index),
                             "--engine", "ray", "--quiet"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    journal = index.with_name(f".{index.name}.journal.sqlite")
    deadline = time.monotonic() + 60
    while proc.poll() is None and not journal.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    killed = proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started
    proc.wait()
    store = Store.open(index)
    try:
        assert len(store.article_hashes()) == (5 if killed else 300)
    finally:
        store.close()


def test_an_actor_embeds_with_one_thread_and_the_same_vectors(sample_settings: Settings) -> None:
    """Ray gives each actor one CPU; the calibrated layout (runs over all cores) is not for it."""
    from rag.embedding import load_embedder
    from rag.ray_engine import _Worker

    shared = load_embedder(sample_settings.embedding)
    calibrated = shared.layout  # type: ignore[attr-defined]
    worker = _Worker(sample_settings.embedding.model_dump())  # in this process, as an actor runs it
    runtime = worker.describe()[3]
    assert (runtime["workers"], runtime["threads"], runtime["max_tokens"]) == (1, 1, 0)
    assert shared.layout == calibrated  # type: ignore[attr-defined]
    texts = ["Shares in the bank fell 4% on Tuesday.", "The striker scored twice in the second half " * 5,
             "Ministers will publish the report next week."]
    assert np.allclose(worker.embed(texts), shared.embed(texts), atol=1e-6)
