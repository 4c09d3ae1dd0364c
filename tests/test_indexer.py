"""Indexer: incremental updates by content hash, atomic swap, and resume after a real SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import HashEmbedder
from rag.indexer import build_index, index_articles
from rag.settings import SAMPLE_CORPUS, Settings
from rag.store import Store
from rag.types import Article


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, folder)
    return folder


def test_incremental_updates(corpus: Path, tmp_path: Path, hash_settings: Settings) -> None:
    index = tmp_path / "index"
    first = build_index([corpus], index, hash_settings)
    assert (first.added, first.embedded) == (2, first.passages) and first.passages > 2
    before = Store.open(index, hash_settings)
    by_article = before.rows_by_article()
    manifest_mtime = (index / "manifest.json").stat().st_mtime_ns

    second = build_index([corpus], index, hash_settings)
    assert second.nothing_to_do and second.embedded == 0 and "Nothing to do" in second.summary()
    assert (index / "manifest.json").stat().st_mtime_ns == manifest_mtime  # not rewritten

    files = sorted(corpus.iterdir())
    edited = files[0]
    blocks = edited.read_text().split("\n\n")  # insert a body paragraph (the footer is not article text)
    blocks.insert(4, "A new paragraph about submarines patrolling the Baltic Sea.")
    edited.write_text("\n\n".join(blocks))
    third = build_index([corpus], index, hash_settings)
    after = Store.open(index, hash_settings)
    changed_id = next(a for a in by_article if after.article(a) and after.article(a) != before.article(a))
    assert (third.changed, third.unchanged, third.added, third.removed) == (1, 1, 0, 0)
    assert 0 < third.embedded <= len(after.rows_by_article()[changed_id])
    untouched = next(a for a in by_article if a != changed_id)
    np.testing.assert_array_equal(before.vectors(by_article[untouched]),
                                  after.vectors(after.rows_by_article()[untouched]))
    new_text = [p for p in after.passages(after.rows_by_article()[changed_id]) if "submarines" in p.text]
    assert len(new_text) >= 1

    files[1].unlink()
    kept = build_index([corpus], index, hash_settings)  # an update never removes by itself
    assert kept.nothing_to_do and kept.kept == 1 and Store.open(index, hash_settings).stats()["articles"] == 2
    fourth = build_index([corpus], index, hash_settings, prune=True)
    final = Store.open(index, hash_settings)
    assert (fourth.removed, fourth.embedded, final.stats()["articles"]) == (1, 0, 1)
    assert list(final.rows_by_article()) == [changed_id]
    assert sorted(r for rows in final.rows_by_article().values() for r in rows) == list(range(len(final)))
    assert not list(tmp_path.glob("index.*")) and not list(tmp_path.glob(".index.journal*"))


def test_settings_change_reembeds_everything(corpus: Path, tmp_path: Path, hash_settings: Settings) -> None:
    build_index([corpus], tmp_path / "i", hash_settings)
    settings = hash_settings.model_copy(deep=True)
    settings.chunking.max_tokens = 120
    report = build_index([corpus], tmp_path / "i", settings)
    assert report.full_reason == "the chunking settings changed" and report.embedded == report.passages
    assert report.unchanged == 2 and "Re-embedded everything" in report.summary()
    assert build_index([corpus], tmp_path / "i", settings, rebuild=True).full_reason == "--rebuild"


def _articles(n: int, version: str = "") -> list[Article]:
    def text(i: int) -> str:
        return " ".join(f"Sentence {j} of report {i}{version} covers topic {i * 7 + j}." for j in range(12))

    return [Article(id=f"art{i:04d}", title=f"Report {i}", date="2020-01-01", text=text(i)) for i in range(n)]


_KILLED_BUILD = """
import sys, time
from rag.embedding import HashEmbedder
from rag.indexer import index_articles
from rag.settings import Settings
from tests.test_indexer import _articles

class Slow(HashEmbedder):
    def embed(self, texts):
        time.sleep(0.004 * len(texts))  # a slow model, so the kill lands mid-embedding
        return super().embed(texts)

settings = Settings.from_env({}, embedding={"model": "hash"})
index_articles(_articles(600, " v2"), sys.argv[1], settings, embedder=Slow(64))
"""


@pytest.mark.slow
def test_sigkill_mid_embedding_leaves_old_index_and_resumes(tmp_path: Path, hash_settings: Settings) -> None:
    index = tmp_path / "index"
    old = index_articles(_articles(50), index, hash_settings, embedder=HashEmbedder(64))
    journal = tmp_path / ".index.journal.sqlite"
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_KILLED_BUILD), str(index)], cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    saved = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists():
            try:
                with sqlite3.connect(journal, timeout=0.1) as con:
                    saved = con.execute("SELECT count(*) FROM vec").fetchone()[0]
            except sqlite3.Error:
                saved = 0
            if saved >= 256:
                break
        time.sleep(0.05)
    assert proc.poll() is None, f"the build ended before it could be killed: {proc.stderr.read()!r}"  # type: ignore[union-attr]
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    store = Store.open(index)  # the previous index, intact
    assert store.stats()["articles"] == 50 and store.stats()["passages"] == old.passages
    assert store.passages([0])[0].article_id == "art0000"
    resumed = index_articles(_articles(600, " v2"), index, hash_settings, embedder=HashEmbedder(64))
    assert resumed.resumed >= 256 and resumed.embedded + resumed.resumed == resumed.passages
    assert Store.open(index).stats()["articles"] == 600 and not journal.exists()
    assert not list(tmp_path.glob("index.tmp-*"))


def test_cli_builds_an_index_a_fresh_process_loads(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main

    index = tmp_path / "cli-index"
    args = ["index", str(corpus), "--index", str(index), "--model", "hash", "--quiet"]
    assert main(args) == 0
    assert "2 added" in capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("Nothing to do")
    check = "import sys; from rag.store import Store; print(Store.open(sys.argv[1]).stats()['articles'])"
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", check, str(index)], cwd=root, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(root)}, check=True).stdout
    assert out.strip() == "2"


def test_previous_index_is_closed_even_when_nothing_changes(
    corpus: Path, tmp_path: Path, hash_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    build_index([corpus], index, hash_settings)
    opened: list[Store] = []
    real_open = Store.open

    def tracking_open(*args: object, **kwargs: object) -> Store:
        store = real_open(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(store)
        return store

    monkeypatch.setattr(Store, "open", tracking_open)
    assert build_index([corpus], index, hash_settings).nothing_to_do
    assert opened
    for store in opened:  # the SQLite connection of the previous index was not leaked
        with pytest.raises(sqlite3.ProgrammingError):
            store._db.execute("SELECT 1")
