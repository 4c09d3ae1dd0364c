"""Loaders under random input (hypothesis): no exception escapes `load_file`, and every problem names
its file. One bad file or record must never stop a run over thousands (issue 14, item 2)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.loaders import load_file
from rag.loaders.base import LoadResult

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
EXTENSIONS = [".txt", ".json", ".jsonl", ".csv", ".html", ".sgm", ".md", ""]
KEYS = ["title", "text", "body", "date", "published_at", "author", "authors", "source", "url", "id", "_id",
        "timestamp", "metadata", "content"]

scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8),
                                                                 inner, max_size=6),
    max_leaves=20,
)
records = st.dictionaries(st.sampled_from(KEYS), json_values, min_size=1, max_size=7)


def _check(path: Path) -> LoadResult:
    result = load_file(path, path.parent)  # must not raise, whatever the bytes
    for problem in result.problems:
        assert problem.path == path.name or problem.path.startswith(path.name + "#"), problem
        assert problem.reason
    for article in result.articles:
        assert article.text.strip() and article.id
        assert article.origin == path.name or article.origin.startswith(path.name + "#")
    return result


def _dump(value: object) -> str:
    return json.dumps(value, allow_nan=True)  # Infinity and NaN as Python writes them: seen in real feeds


@pytest.mark.parametrize("ext", EXTENSIONS)
@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes(tmp_path: Path, ext: str, data: bytes) -> None:
    path = tmp_path / f"f{ext}"
    path.write_bytes(data)
    _check(path)


@FUZZ
@given(value=json_values | st.lists(records, max_size=5))
def test_random_json_documents(tmp_path: Path, value: object) -> None:
    path = tmp_path / "doc.json"
    path.write_text(_dump(value), encoding="utf-8")
    _check(path)


@FUZZ
@given(lines=st.lists(records | json_values, min_size=1, max_size=6), broken=st.integers(0, 5))
def test_random_json_lines_account_for_every_line(tmp_path: Path, lines: list[object], broken: int) -> None:
    texts = [_dump(v) for v in lines]
    if broken < len(texts):
        texts[broken] = texts[broken][: len(texts[broken]) // 2] + "{"  # one malformed line
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    result = _check(path)
    # nothing is dropped silently: each line is an article or a problem that names the line
    seen = {int(a.origin.rsplit("#", 1)[1]) for a in result.articles} | {p.line for p in result.problems}
    assert seen >= set(range(1, len(texts) + 1))


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=5), min_size=1, max_size=8),
       header=st.lists(st.sampled_from(KEYS) | st.text(max_size=6), min_size=1, max_size=5))
def test_random_csv(tmp_path: Path, rows: list[list[str]], header: list[str]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "feed.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    _check(path)


tags = st.sampled_from(["p", "div", "h1", "title", "article", "span", "script", "meta", "time", "a", "table"])
html_nodes = st.recursive(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
    lambda inner: st.tuples(tags, st.lists(inner, max_size=3)).map(
        lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"),
    max_leaves=12,
)


@FUZZ
@given(body=html_nodes, wrap=st.booleans())
def test_random_html(tmp_path: Path, body: str, wrap: bool) -> None:
    path = tmp_path / "page.html"
    path.write_text(f"<html><head><title>t</title></head><body>{body}</body></html>" if wrap else body,
                    encoding="utf-8")
    _check(path)


@FUZZ
@given(date=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**40), 10**40))
def test_any_numeric_date_is_kept_or_set_aside(tmp_path: Path, date: float) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(_dump({"title": "T", "text": "Body.", "date": date}) + "\n", encoding="utf-8")
    result = _check(path)
    assert len(result.articles) == 1
    got = result.articles[0].date
    if got is None and not (isinstance(date, float) and math.isnan(date)) and date > 10**8:
        assert "raw_date" in result.articles[0].metadata
