"""Ingest stage: paths -> loaded, normalised, de-duplicated articles, with every problem reported.

Folders are read recursively in sorted order so the same input gives the same articles in the
same order. Some files in a folder are skipped, with a reason, rather than read as articles:
  - hidden files and folders (.DS_Store, .git);
  - documentation named README*, PROVENANCE*, LICENSE*, CHANGELOG* (the BBC set's README.TXT
    would otherwise become an "article" titled "Consists of 2225 documents ...");
  - the auxiliary files beside .sgm files (Reuters-21578 ships lewis.dtd, category lists and
    its README in the data folder: lists of names, not news).
A file passed by name is always read. Skipped files are not problems, so --strict accepts them.

Nothing in one file can stop the run: whatever goes wrong while reading it (a symlink loop, an
unreadable folder, a loader bug) becomes a `Problem` naming that file or folder. The report also
says which inputs were not read completely (`partial`, `failed_paths`), so an index update can
tell "this article is gone" from "this article's file could not be read" and never prune the latter.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.loaders import LoadResult, load_file
from rag.loaders.base import relative_origin
from rag.loaders.reader import NOT_UTF8
from rag.types import Article, Problem

_DOC_NAME = re.compile(r"^(readme|provenance|license|licence|changelog|copying)\b", re.IGNORECASE)
_COLLECTION_SUFFIXES = {".sgm", ".sgml"}
# The Reuters-21578 distribution's own side files, by name: other files in the same folder (a
# mixed folder of .sgm, .json, .csv ...) are articles and must be read.
_COLLECTION_AUX = re.compile(
    r"(?:.*\.dtd|.*\.lc\.txt|cat-descriptions.*\.txt|feldman-cia-worldfactbook.*\.txt)$", re.IGNORECASE
)


@dataclass
class IngestReport:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (kept article id, dropped origin)
    files: int = 0  # files read (skipped ones not counted)
    skipped: list[Problem] = field(default_factory=list)  # files deliberately not read, with why
    seconds: float = 0.0
    # origins (as in Article.origin, without "#key") of files that had any problem, and origin
    # prefixes ("sub/folder/") of folders that could not be listed: their articles may be missing
    partial: set[str] = field(default_factory=set)
    # PATH arguments that failed as a whole: missing, unreadable, or a named file that gave no article
    failed_paths: list[str] = field(default_factory=list)
    unknown_extent: bool = False  # a PATH failed whose contents are unknown: prune nothing

    def may_be_missing(self, origin: str) -> bool:
        """True when the article with this origin could be absent only because reading failed."""
        if self.unknown_extent:
            return True
        names = {origin, origin.rsplit("#", 1)[0]}  # a record's origin is "file#key"
        return bool(names & self.partial) or any(
            p.endswith("/") and n.startswith(p) for p in self.partial for n in names)


def discover(
    path: Path, errors: list[OSError] | None = None
) -> Iterator[tuple[Path, Path | None, str | None]]:
    """(file, root, None) to read, or (file, None, reason) to skip, in sorted order. Folders that
    cannot be listed are appended to `errors` (os.walk would otherwise skip them silently)."""
    if path.is_file():
        yield path, path.parent, None
        return
    for folder, dirs, files in os.walk(path, onerror=None if errors is None else errors.append):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        names = sorted(files)
        is_collection = any(Path(n).suffix.lower() in _COLLECTION_SUFFIXES for n in names)
        for name in names:
            file = Path(folder) / name
            if name.startswith("."):
                yield file, None, "hidden file"
            elif _DOC_NAME.match(name):
                yield file, None, "documentation file (README/PROVENANCE/LICENSE), not an article"
            elif is_collection and _COLLECTION_AUX.match(name):
                yield file, None, "auxiliary file beside an SGML collection (lists, DTD, docs), not news"
            else:
                yield file, path, None


# Reads the listed (file, root) pairs somewhere else (the Ray engine's workers), giving each file's
# LoadResult in the order listed, so the report is the same as when the files are read here.
Reader = Callable[[list[tuple[Path, Path]]], Iterable[LoadResult]]


def ingest(paths: Sequence[str | Path], progress: bool = False, read: Reader | None = None) -> IngestReport:
    """Load every article under `paths`; exact duplicates (same normalised title and text) are kept once.
    `read` loads the listed files instead of load_file in this process (only paths are listed here)."""
    started = time.perf_counter()
    report = IngestReport()
    todo: list[tuple[Path, Path]] = []
    named: dict[Path, str] = {}  # files given by name -> the PATH argument
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            why = "a symlink whose target is missing" if path.is_symlink() else "no such file or folder"
            _fail(report, str(raw), why)
            continue
        if path.is_file():
            named[path] = str(raw)
        elif not path.is_dir():
            _fail(report, str(raw), "not a regular file or folder")
            continue
        errors: list[OSError] = []
        try:
            for file, root, reason in discover(path, errors):
                if root is None:
                    report.skipped.append(Problem(str(file), reason or "skipped"))
                else:
                    todo.append((file, root))
        except (OSError, RuntimeError) as exc:  # a symlink loop, a folder removed while listed
            _fail(report, str(raw), f"cannot list: {exc}")
        for err in errors:
            where = Path(err.filename or path)
            if where == path:
                _fail(report, str(raw), f"cannot list the folder: {err.strerror or err}")
                continue
            rel = relative_origin(where, path)
            report.problems.append(Problem(rel, f"cannot list the folder: {err.strerror or err}; "
                                                "its articles were not read"))
            report.partial.add(rel.rstrip("/") + "/")
    seen_text: dict[str, str] = {}  # title+text hash -> kept article id
    seen_id: dict[str, Article] = {}
    bar = tqdm(todo, desc="ingest", unit="file", disable=not progress or len(todo) < 50, leave=False)
    results = read(todo) if read is not None else (load_file(file, root) for file, root in todo)
    for (file, root), result in zip(bar, results, strict=True):
        report.files += 1
        report.problems.extend(result.problems)
        if result.problems:
            report.partial.add(relative_origin(file, root))
            if file in named and not result.articles:
                report.failed_paths.append(named[file])
        for article in result.articles:
            # exact duplicate = same title and text; a re-titled copy (35 in BBC) is a near
            # duplicate, kept here and collapsed at retrieval time
            digest = hashlib.sha1(f"{article.title}\n{article.text}".encode()).hexdigest()
            if digest in seen_text:
                report.duplicates.append((seen_text[digest], article.origin))
                continue
            other = seen_id.get(article.id)
            if other is not None:
                reason = f"article id {article.id!r} is already used by {other.origin}; this copy is skipped"
                report.problems.append(Problem(article.origin, reason))
                continue
            seen_text[digest] = article.id
            seen_id[article.id] = article
            report.articles.append(article)
    report.seconds = time.perf_counter() - started
    return report


def is_note(problem: Problem) -> bool:
    """A problem that cost nothing: the file was read, only not as UTF-8 (its encoding is named)."""
    return problem.reason.startswith(NOT_UTF8)


def _fail(report: IngestReport, path: str, reason: str) -> None:
    """A PATH argument that could not be read at all: which articles it holds is unknown."""
    report.problems.append(Problem(path, reason))
    report.failed_paths.append(path)
    report.unknown_extent = True
