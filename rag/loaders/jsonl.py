"""Loader for JSON (an array of article objects, {"articles": [...]}, or one object) and JSON Lines.

JSON Lines are streamed a line at a time with a cap on the line length, so a 50 MB single-line
file is reported, not loaded into memory; a malformed line is reported by number and skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from rag.loaders.base import LoadResult
from rag.loaders.reader import MAX_FILE_BYTES, WIDE_BOMS, decode, read_text
from rag.loaders.records import record_to_article
from rag.types import Article, Problem

MAX_LINE_BYTES = 4 * 1024 * 1024  # one article; the longest BEIR scifact line is under 10 KB
_LIST_KEYS = ("articles", "data", "documents", "docs", "items", "records", "results")


def load_json(path: Path, origin: str) -> LoadResult:
    decoded = read_text(path, origin, MAX_FILE_BYTES)
    problems = list(decoded.problems)
    if decoded.text is None:
        return LoadResult(problems=problems)
    try:
        data = json.loads(decoded.text)
    except json.JSONDecodeError as exc:
        if _looks_like_lines(decoded.text):
            return load_jsonl(path, origin)
        return LoadResult(problems=[*problems, Problem(origin, f"malformed JSON: {exc.msg}", exc.lineno)])
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number; 100k nested brackets
        return LoadResult(problems=[*problems, Problem(origin, f"unreadable JSON: {_why(exc)}")])
    records = _records(data)
    if records is None:
        return LoadResult(problems=[*problems, Problem(origin, "JSON holds no article objects")])
    articles: list[Article] = []
    for i, record in enumerate(records):
        _add(record, origin, i, None, articles, problems)
    return LoadResult(articles, problems)


def load_jsonl(path: Path, origin: str) -> LoadResult:
    articles: list[Article] = []
    problems: list[Problem] = []
    with path.open("rb") as fh:
        if fh.read(4).startswith(WIDE_BOMS):
            # UTF-16/32: a b"\n" is not a line end there, so decode the whole file (size-capped)
            return _load_wide_lines(path, origin)
        fh.seek(0)
        for number, raw in _lines(fh, origin, problems):
            if not raw.strip():
                continue
            decoded = decode(raw, origin)
            if decoded.text is None:
                problems.append(Problem(origin, "line is not text", number))
                continue
            problems.extend(Problem(p.path, p.reason, number) for p in decoded.problems)
            record = _parse_line(decoded.text, origin, number, problems)
            if record is _BAD:
                continue
            _add(record, origin, number, number, articles, problems)
    if not articles and not problems:
        problems.append(Problem(origin, "empty file"))
    return LoadResult(articles, problems)


def _load_wide_lines(path: Path, origin: str) -> LoadResult:
    decoded = read_text(path, origin, MAX_FILE_BYTES)
    problems = list(decoded.problems)
    articles: list[Article] = []
    for number, line in enumerate((decoded.text or "").split("\n"), start=1):
        if not line.strip():
            continue
        record = _parse_line(line, origin, number, problems)
        if record is _BAD:
            continue
        _add(record, origin, number, number, articles, problems)
    return LoadResult(articles, problems)


_BAD = object()  # _parse_line's "this line was reported, skip it"


def _parse_line(text: str, origin: str, number: int, problems: list[Problem]) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(origin, f"malformed JSON line: {exc.msg} (column {exc.colno})", number))
    except (ValueError, RecursionError) as exc:
        problems.append(Problem(origin, f"unreadable JSON line: {_why(exc)}", number))
    return _BAD


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).split("; use sys.set_int_max_str_digits")[0]


def _lines(fh: IO[bytes], origin: str, problems: list[Problem]) -> Any:
    """(line number, bytes) pairs; over-long lines are skipped in pieces and reported."""
    number = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            size = len(raw)
            while raw and not raw.endswith(b"\n"):  # drain the rest of the line without keeping it
                raw = fh.readline(MAX_LINE_BYTES)
                size += len(raw)
            reason = (
                f"line is {size / 2**20:.1f} MB, over the {MAX_LINE_BYTES // 2**20} MB limit for one record"
            )
            problems.append(Problem(origin, reason, number))
            continue
        yield number, raw


def _add(
    record: Any, origin: str, key: int, line: int | None, out: list[Article], problems: list[Problem]
) -> None:
    if not isinstance(record, dict):
        problems.append(Problem(origin, f"expected a JSON object, got {type(record).__name__}", line))
        return
    try:
        article, reason = record_to_article(record, origin, key)
    except Exception as exc:  # one odd record (a value no converter expected) never costs the file
        article, reason = None, f"unusable record ({type(exc).__name__}: {exc})"
    if article is None:
        where = line if line is not None else None
        problems.append(Problem(origin if line else f"{origin}#{key}", reason or "unusable record", where))
    else:
        out.append(article)


def _records(data: Any) -> list[Any] | None:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in _LIST_KEYS:
            if isinstance(data.get(key), list):
                return list(data[key])
        return [data]
    return None


def _looks_like_lines(text: str) -> bool:
    lines = [line for line in text.splitlines()[:3] if line.strip()]
    return len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines)
