"""Read stage: one loader per file format, chosen by extension and then by content.

`load_file(path, root)` never raises for bad input: what cannot be used comes back as a
`Problem` (path, reason, line) next to the articles that could. That holds for every exception,
not just the expected ones: one file (or one record in it) must never stop a run over thousands
(tests/test_loaders_fuzz.py feeds the loaders random bytes, JSON, CSV and HTML to keep it so).
"""

from __future__ import annotations

from pathlib import Path

from rag.loaders import csvfile, html, jsonl, plaintext, reuters, sample
from rag.loaders.base import LoadResult, article_id, relative_origin
from rag.loaders.reader import read_text
from rag.types import Problem

__all__ = ["LoadResult", "article_id", "load_file", "format_of", "TEXT_FORMATS"]

_BY_EXTENSION = {
    ".sgm": "reuters", ".sgml": "reuters",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
    ".csv": "csv", ".tsv": "csv",
    ".html": "html", ".htm": "html", ".xhtml": "html",
}  # fmt: skip
TEXT_FORMATS = ("sample", "plaintext")


def format_of(path: Path) -> str | None:
    """The format named by the extension, or None when the content must decide."""
    return _BY_EXTENSION.get(path.suffix.lower())


def sniff(text: str) -> str:
    """The format of decoded text whose extension said nothing (.txt, .md, none)."""
    head = text.lstrip()[:512]
    if reuters.matches(text):
        return "reuters"
    low = head.lower()
    if low.startswith(("<!doctype html", "<html")) or ("<html" in low and "<body" in text.lower()):
        return "html"
    if sample.matches(text):
        return "sample"
    return "plaintext"


def load_file(path: str | Path, root: str | Path | None = None) -> LoadResult:
    """Articles and problems of one file. `root` is the PATH argument it was found under; ids and
    origins are relative to it, so they do not change when the corpus folder moves."""
    path = Path(path)
    root_path = Path(root) if root is not None else path.parent
    origin = relative_origin(path, root_path)
    try:
        return _load(path, root_path, origin)
    except OSError as exc:
        return LoadResult(problems=[Problem(origin, f"cannot read: {exc.strerror or exc}")])
    except RecursionError:
        return LoadResult(problems=[Problem(origin, "nested too deeply to read")])
    except Exception as exc:  # a loader bug or a library's surprise: this file fails, the run goes on
        return LoadResult(problems=[Problem(origin, f"could not be read ({type(exc).__name__}: {exc})")])


def _load(path: Path, root: Path, origin: str) -> LoadResult:
    fmt = format_of(path)
    if fmt == "jsonl":
        return jsonl.load_jsonl(path, origin)
    if fmt == "json":
        return jsonl.load_json(path, origin)
    decoded = read_text(path, origin)
    if decoded.text is None:
        return LoadResult(problems=list(decoded.problems))
    text = decoded.text
    fmt = fmt or sniff(text)
    if fmt == "reuters":
        result = reuters.load(text, origin)
    elif fmt == "csv":
        result = csvfile.load(text, origin)
    elif fmt == "html":
        result = html.load(text, origin)
    elif fmt == "sample":
        result = sample.load(text, origin)
    else:
        result = plaintext.load(text, origin, source=_known_source(path, root), category=_category(origin))
    if decoded.problems:
        result = LoadResult(result.articles, [*decoded.problems, *result.problems])
    return result


def _known_source(path: Path, root: Path) -> str | None:
    for part in (*reversed(path.resolve().parent.parts), root.resolve().name):
        source = plaintext.KNOWN_SOURCES.get(part.lower())
        if source:
            return source
    return None


def _category(origin: str) -> str | None:
    """The folder between the PATH argument and the file (BBC: business, sport, ...)."""
    parts = origin.split("/")
    return parts[-2] if len(parts) > 1 else None
