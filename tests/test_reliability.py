"""Reliability (issue 14): the cases that lost articles or crashed, replayed. Every case here failed
before the fix; eval/results/reliability.md lists them with how each is checked.

Data loss: after each case the index holds every article it held before plus the good new ones.
Bad records and legacy encodings (cases 2 and 10) are in test_reliability_records.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rag.cli import main
from rag.errors import IndexMismatch, RagError
from rag.indexer import build_index, remove_articles
from rag.manifest import MANIFEST, old_path
from rag.retrieval import Retriever
from rag.settings import Settings
from rag.store import Store


def _write(folder: Path, name: str, title: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three plain-text articles in two folders."""
    root = tmp_path / "corpus"
    _write(root, "news/a.txt", "Alpha headline", "Troops deployed to the Baltic states in June.")
    _write(root, "news/b.txt", "Beta headline", "Markets fell after the vote in Britain.")
    _write(root, "sport/c.txt", "Gamma headline", "The team won the cup final on Sunday.")
    return root


def _titles(index: Path, settings: Settings) -> list[str]:
    store = Store.open(index, settings)
    try:
        return sorted(a.title for a, _ in store.articles())
    finally:
        store.close()


ALL = ["Alpha headline", "Beta headline", "Gamma headline"]


# --- 1. updates never remove articles by accident ---------------------------------------------


def test_a_mistyped_path_beside_a_good_one_removes_nothing_and_exits_1(
    corpus: Path, tmp_path: Path, hash_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    build_index([corpus], index, hash_settings)
    new = _write(tmp_path / "more", "d.txt", "Delta headline", "A new bridge opened over the river.")
    args = ["index", str(new.parent), str(corpus / "nwes"), "--index", str(index), "--model", "hash",
            "--quiet"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert "1 added, 0 updated, 0 unchanged, 0 removed, 1 failed" in out
    assert f"{corpus / 'nwes'}: no such file or folder" in err
    assert _titles(index, hash_settings) == sorted([*ALL, "Delta headline"])
    # even with --prune: a PATH that failed means nothing is known about what it held
    assert main([*args, "--prune"]) == 1
    assert _titles(index, hash_settings) == sorted([*ALL, "Delta headline"])


def test_an_update_with_fewer_paths_keeps_the_others(
    corpus: Path, tmp_path: Path, hash_settings: Settings
) -> None:
    index = tmp_path / "index"
    build_index([corpus / "news" / "a.txt", corpus / "news" / "b.txt"], index, hash_settings)
    report = build_index([corpus / "sport" / "c.txt"], index, hash_settings)
    assert (report.added, report.kept, report.removed) == (1, 2, 0)  # before: "2 removed"
    assert "--prune removes them" in report.summary()
    assert _titles(index, hash_settings) == ALL
    rebuilt = build_index([corpus / "sport" / "c.txt"], index, hash_settings, rebuild=True)  # re-embeds
    assert rebuilt.kept == 2 and _titles(index, hash_settings) == ALL
    # the same files under another PATH argument have other ids: the earlier copies are replaced
    moved = build_index([corpus], index, hash_settings)
    assert (moved.added, moved.moved, moved.kept) == (3, 3, 0) and _titles(index, hash_settings) == ALL


def test_prune_never_removes_an_article_whose_file_could_not_be_read(
    corpus: Path, tmp_path: Path, hash_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.loaders as loaders

    index = tmp_path / "index"
    build_index([corpus], index, hash_settings)
    real = loaders._load

    def unreadable_b(path: Path, root: Path, origin: str):  # type: ignore[no-untyped-def]
        if path.name == "b.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, root, origin)

    monkeypatch.setattr(loaders, "_load", unreadable_b)
    (corpus / "sport" / "c.txt").unlink()  # really gone: --prune may remove this one
    report = build_index([corpus], index, hash_settings, prune=True)
    assert (report.removed, report.protected, report.failed) == (1, 1, 1)
    assert "news/b.txt: cannot read: Permission denied" in [str(p) for p in report.problems]
    assert _titles(index, hash_settings) == ["Alpha headline", "Beta headline"]


def test_prune_never_removes_the_articles_of_an_unreadable_folder(
    corpus: Path, tmp_path: Path, hash_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    build_index([corpus], index, hash_settings)
    real = os.scandir
    sport = corpus / "sport"

    def scandir(path: object = ".") -> object:
        if Path(str(path)) == sport:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    report = build_index([corpus], index, hash_settings, prune=True)
    assert "sport: cannot list the folder: Permission denied; its articles were not read" in [
        str(p) for p in report.problems]  # before: no message at all, and c.txt's article removed
    assert (report.removed, report.protected) == (0, 1)
    assert _titles(index, hash_settings) == ALL


def test_prune_removes_what_is_really_gone_and_remove_takes_out_by_origin(
    corpus: Path, tmp_path: Path, hash_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    build_index([corpus], index, hash_settings)
    (corpus / "news" / "a.txt").unlink()
    report = build_index([corpus], index, hash_settings, prune=True)
    assert (report.removed, report.unchanged) == (1, 2)
    assert _titles(index, hash_settings) == ["Beta headline", "Gamma headline"]
    gone = remove_articles(["news/b.txt", "no/such.txt"], index, hash_settings)
    assert (gone.removed, gone.embedded) == (1, 0) and "Not in the index: no/such.txt." in gone.summary()
    assert _titles(index, hash_settings) == ["Gamma headline"]
    with pytest.raises(RagError, match="is in the index"):
        remove_articles(["nothing"], index, hash_settings)


def test_strict_index_writes_nothing_when_the_input_has_a_problem(
    corpus: Path, tmp_path: Path, hash_settings: Settings
) -> None:
    index = tmp_path / "index"
    build_index([corpus / "news"], index, hash_settings)
    (corpus / "sport" / "empty.txt").write_text("")
    with pytest.raises(RagError, match="Nothing was written"):
        build_index([corpus], index, hash_settings, strict=True)
    assert _titles(index, hash_settings) == ["Alpha headline", "Beta headline"]
    assert main(["index", str(corpus), "--index", str(index), "--model", "hash", "--quiet", "--strict"]) == 1


def test_every_problem_is_listed_with_its_path(tmp_path: Path, hash_settings: Settings,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "many"
    _write(folder, "good.txt", "Good", "A real article body.")
    for i in range(14):
        (folder / f"empty{i:02}.txt").write_text("")
    assert main(["ingest", str(folder), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert all(f"empty{i:02}.txt: empty file" in out for i in range(14))  # before: 10, then a count
    assert main(["index", str(folder), "--index", str(tmp_path / "i"), "--model", "hash", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert all(f"empty{i:02}.txt: empty file" in err for i in range(14))  # before: 6


# --- 7. a symlinked --index --------------------------------------------------------------------


def test_a_symlinked_index_updates_its_target(corpus: Path, tmp_path: Path, hash_settings: Settings) -> None:
    target = tmp_path / "real" / "idx"
    build_index([corpus / "news"], target, hash_settings)
    link = tmp_path / "link"
    link.symlink_to(target)
    report = build_index([corpus / "sport"], link, hash_settings)
    assert report.added == 1 and link.is_symlink() and link.resolve() == target  # not replaced by a folder
    assert _titles(target, hash_settings) == ALL == _titles(link, hash_settings)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "link", "real"]  # no link.tmp-PID
    assert (tmp_path / "real" / ".idx.lock").exists()  # the lock is the target's, shared with its users


# --- 8. corrupt or foreign index files ---------------------------------------------------------


def _damage(index: Path, other: Path, case: str) -> None:
    def truncate(name: str) -> None:
        path = index / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    bm25_arrays = sorted(p.name for p in (index / "bm25").glob("*.npy"))
    actions = {
        "sqlite truncated": lambda: truncate("passages.sqlite"),
        "sqlite foreign": lambda: shutil.copy(other / "passages.sqlite", index / "passages.sqlite"),
        "sqlite not a database": lambda: (index / "passages.sqlite").write_bytes(b"hello" * 100),
        "faiss truncated": lambda: truncate("vectors.faiss"),
        "faiss foreign": lambda: shutil.copy(other / "vectors.faiss", index / "vectors.faiss"),
        "npy truncated": lambda: truncate("vectors.npy"),
        "npy foreign": lambda: shutil.copy(other / "vectors.npy", index / "vectors.npy"),
        "bm25 truncated": lambda: truncate(f"bm25/{bm25_arrays[0]}"),
        "bm25 foreign": lambda: [shutil.copy(p, index / "bm25" / p.name) for p in (other / "bm25").iterdir()],
        "bm25 meta garbage": lambda: (index / "bm25" / "rag_bm25.json").write_text("{not json"),
    }
    actions[case]()


CASES = ["sqlite truncated", "sqlite foreign", "sqlite not a database", "faiss truncated", "faiss foreign",
         "npy truncated", "npy foreign", "bm25 truncated", "bm25 foreign", "bm25 meta garbage"]


@pytest.fixture
def two_indexes(corpus: Path, tmp_path: Path, hash_settings: Settings) -> tuple[Path, Path]:
    index, other = tmp_path / "index", tmp_path / "other"
    build_index([corpus], index, hash_settings)
    build_index([corpus / "news"], other, hash_settings)
    return index, other


@pytest.mark.parametrize("checksums", [True, False], ids=["checksums", "older-index"])
@pytest.mark.parametrize("case", CASES)
def test_damaged_index_files_give_the_rebuild_sentence(
    two_indexes: tuple[Path, Path], corpus: Path, hash_settings: Settings, case: str, checksums: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index, other = two_indexes
    if not checksums:  # an index written before checksums were recorded: the readers must still refuse
        data = json.loads((index / MANIFEST).read_text())
        del data["files"]
        (index / MANIFEST).write_text(json.dumps(data))
    _damage(index, other, case)
    with pytest.raises(IndexMismatch, match="Rebuild it with"):
        Retriever.open(index, hash_settings)
    env = {"RAG_EMBEDDING__MODEL": "hash"}
    os.environ.update(env)
    try:
        assert main(["search", "troops", "--index", str(index)]) == 1
    finally:
        for key in env:
            del os.environ[key]
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1
    if checksums or not case.startswith("bm25"):  # an update refuses too, instead of "Nothing to do"
        with pytest.raises(IndexMismatch, match="--rebuild"):
            build_index([corpus], index, hash_settings)
    report = build_index([corpus], index, hash_settings, rebuild=True)  # the fix the sentence names
    assert Retriever.open(index, hash_settings).search("troops").hits
    assert case.startswith("sqlite") or report.kept == 0


def test_serve_shows_the_error_page_for_a_damaged_index(two_indexes: tuple[Path, Path],
                                                        hash_settings: Settings) -> None:
    from rag.ui.app import build_app

    index, other = two_indexes
    _damage(index, other, "faiss truncated")
    app = build_app(hash_settings, index)  # before: `rag serve` died at start with a faiss traceback
    page = " ".join(str(b.value) for b in app.blocks.values() if type(b).__name__ == "HTML")
    assert "damaged" in page and "--rebuild" in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("backend", "evil", "unknown embedding backend 'evil'"),
    ("dim", "384", "dim is '384', not a int"),
    ("passages", True, "passages is True"),
    ("index_kind", "ivf", "unknown index kind 'ivf'"),
    ("dim", -3, "damaged: dim -3"),
])
def test_a_manifest_with_wrong_values_is_refused(two_indexes: tuple[Path, Path], hash_settings: Settings,
                                                field: str, value: object, message: str) -> None:
    index, _ = two_indexes
    data = json.loads((index / MANIFEST).read_text())
    (index / MANIFEST).write_text(json.dumps({**data, field: value}))
    with pytest.raises(IndexMismatch, match=message.replace("(", r"\(")):
        Store.open(index, hash_settings)


@pytest.mark.parametrize("command", ["search", "ask"])
def test_a_leftover_old_folder_is_recovered_before_anyone_says_there_is_no_index(
    two_indexes: tuple[Path, Path], hash_settings: Settings, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    index, _ = two_indexes
    os.replace(index, old_path(index))  # a swap killed between its two renames
    os.environ["RAG_EMBEDDING__MODEL"] = "hash"
    try:
        assert main([command, "troops", "--index", str(index)]) == 0
    finally:
        del os.environ["RAG_EMBEDDING__MODEL"]
    assert "Troops" in capsys.readouterr().out and (index / MANIFEST).is_file()


# --- 9. disk full ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["store", "journal"])
def test_disk_full_leaves_no_temporary_folder_and_says_so(
    corpus: Path, tmp_path: Path, hash_settings: Settings, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    import rag.indexer as indexer
    import rag.store_write as store_write
    from rag.embedding.cache import EmbeddingJournal

    index = tmp_path / "index"
    gamma = (corpus / "sport" / "c.txt").read_text()
    (corpus / "sport" / "c.txt").unlink()
    build_index([corpus], index, hash_settings)
    (corpus / "sport" / "c.txt").write_text(gamma)

    def full(*args: object, **kwargs: object) -> None:
        if where == "journal":
            raise sqlite3.OperationalError("database or disk is full")
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "journal":
        monkeypatch.setattr(EmbeddingJournal, "put", full)
    else:
        monkeypatch.setattr(store_write.np, "save", full)
    with pytest.raises(RagError, match="The disk is full") as info:
        build_index([corpus], index, hash_settings)
    assert "Free some space" in str(info.value)
    assert not list(tmp_path.glob("index.tmp-*"))  # before: the partial folder kept the disk full
    assert _titles(index, hash_settings) == ["Alpha headline", "Beta headline"]  # the previous index
    monkeypatch.undo()
    assert indexer.build_index([corpus], index, hash_settings).added == 1
    assert np.isfinite(Store.open(index, hash_settings).vectors()).all()
