"""Loaders: one table of fixture files (one per format) and one table of bad inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag.loaders import load_file
from rag.loaders.base import article_id
from rag.loaders.reader import MAX_FILE_BYTES, decode

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"

# file -> (number of articles, fields of the first article, problem (line, reason fragment) pairs)
CASES: dict[str, tuple[int, dict[str, Any], list[tuple[int | None, str]]]] = {
    "bbc_style.txt": (1, {"title": "Ad sales boost Time Warner profit", "author": None, "date": None}, []),
    "articles.jsonl": (
        2,
        {
            "id": "n-1",  # an explicit id is kept as-is
            "title": "Rates held",
            "author": "Sam Lee",
            "date": "2024-01-31T09:00:00",
            "source": "Wire",
            "url": "https://example.org/1",
            "metadata": {"section": "economy"},  # unknown keys are kept
            "text": "The central bank held rates at 4%.\n\nMarkets had expected the move.",
        },
        [(3, "malformed JSON line"), (5, "no body"), (6, "expected a JSON object")],
    ),
    "articles.json": (
        2,
        {
            "title": "Storm closes schools",
            "author": "Mia Chen",
            "date": "2022-12-09",
            "origin": "articles.json#0",
        },
        [],
    ),
    "articles.csv": (
        2,
        {"title": "Team wins cup", "author": "Lee Park", "date": "2021-05-29", "source": "Sports Daily"},
        [(5, "no body")],
    ),
    "page.html": (
        1,
        {
            "title": "Harbour bridge reopens after repairs",
            "author": "Ana Ruiz",
            "date": "2023-05-02",
            "source": "The Coastal Times",
        },
        [],
    ),
    "reuters_mini.sgm": (
        2,
        {
            "title": "BAHIA COCOA REVIEW",
            "author": "Jane Doe",
            "date": "1987-02-26T15:01:01",
            "source": "Reuters",
            "origin": "reuters_mini.sgm#1",
            "text": "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought "
            "since early January, Comissaria Smith said in its weekly review.\n\nThe dry period means the "
            "temporao will be late this year, said <BAC> analysts.",
        },
        [(25, "title-only brief")],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loader_table(name: str) -> None:
    count, fields, problems = CASES[name]
    result = load_file(FIXTURES / name, FIXTURES)
    assert len(result.articles) == count
    first = result.articles[0].to_dict()
    for key, value in fields.items():
        assert first[key] == value, key
    assert [p.line for p in result.problems] == [line for line, _ in problems]
    for problem, (_, fragment) in zip(result.problems, problems, strict=True):
        assert fragment in problem.reason
    for article in result.articles:
        assert article.text == article.text.strip() and "\n\n\n" not in article.text
        assert article.id and article.title


def test_ids_are_stable_and_path_relative(tmp_path: Path) -> None:
    a = load_file(FIXTURES / "reuters_mini.sgm", FIXTURES).articles
    b = load_file(FIXTURES / "reuters_mini.sgm", FIXTURES).articles
    assert [x.id for x in a] == [x.id for x in b]
    assert a[0].id == article_id("reuters_mini.sgm", "1")
    # an edited copy elsewhere keeps its id: ids come from the relative path, not the content
    copy = tmp_path / "reuters_mini.sgm"
    copy.write_text((FIXTURES / "reuters_mini.sgm").read_text().replace("Showers", "Rain"))
    edited = load_file(copy, tmp_path).articles
    assert edited[0].id == a[0].id and edited[0].text != a[0].text


def test_reuters_unproc_story_and_malformed_date() -> None:
    articles = load_file(FIXTURES / "reuters_mini.sgm", FIXTURES).articles
    unproc = articles[1]
    assert unproc.title == "LAWSON SAYS ACCORD SATISFACTORY"
    assert unproc.text == "Chancellor Lawson said the accord was working and growth would follow."
    assert unproc.date == "1987-03-03T09:15:05"
    assert articles[0].metadata["places"] == ["el-salvador", "usa"]


def test_category_and_known_source_from_folder(tmp_path: Path) -> None:
    folder = tmp_path / "bbc-news" / "tech"
    folder.mkdir(parents=True)
    (folder / "001.txt").write_text("A title\n\nA body sentence.\n")
    article = load_file(folder / "001.txt", tmp_path / "bbc-news").articles[0]
    assert (article.source, article.metadata, article.origin) == (
        "BBC News",
        {"category": "tech"},
        "tech/001.txt",
    )


BAD: list[tuple[str, bytes, str]] = [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n \n", "empty file"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file"),
    ("title_only.txt", b"Just a title\n", "no body"),
    ("empty.jsonl", b"\n\n", "empty file"),
    ("bad.json", b'{"title": "x", ', "malformed JSON"),
    ("list.json", b"42", "no article objects"),
    ("nobody.md", b"# A heading\n\nJane Roe\n\n", "no body"),
    ("notreuters.sgm", b"<html>nothing</html>", "no <REUTERS> stories"),
    ("header.csv", b"title,text\n", ""),  # a header and no rows: nothing, and nothing wrong
]


@pytest.mark.parametrize(("name", "data", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_reported_not_raised(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = load_file(path, tmp_path)
    assert result.articles == []
    if reason:
        assert [p.path for p in result.problems] == [name]
        assert reason in result.problems[0].reason
    else:
        assert result.problems == []


def test_csv_with_an_unclosed_quote_keeps_the_good_rows_and_names_the_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text('title,text\nGood,"A complete body, quoted."\nBad,"The quote never closes\n'
                    'Later,rows swallowed by it\n')
    result = load_file(path, tmp_path)
    assert [a.title for a in result.articles] == ["Good"]
    assert [(p.path, p.line) for p in result.problems] == [("feed.csv", 3)]
    assert "row 2: a quoted field is never closed" in result.problems[0].reason
    path.write_text('title,text\nScreens,A 5" screen is a literal quote in an unquoted field.\n')
    assert load_file(path, tmp_path).problems == []  # not an unclosed quote


def test_latin1_text_is_decoded_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "199.txt"
    path.write_bytes("Mutu sacked\n\nA £15.8m signing from Parma.\n".encode("latin-1"))
    result = load_file(path, tmp_path)
    assert result.articles[0].text == "A £15.8m signing from Parma."
    assert "not valid UTF-8" in result.problems[0].reason and "cp1252" in result.problems[0].reason


def test_detects_a_non_latin_encoding() -> None:
    text = "Москва объявила о новых мерах поддержки экономики. " * 20
    decoded = decode(text.encode("cp1251"), "ru.txt")
    assert decoded.text == text and decoded.encoding is not None


def test_huge_single_line_files_are_refused_without_reading(tmp_path: Path) -> None:
    size = 50 * 1024 * 1024
    big_txt = tmp_path / "huge.txt"
    with big_txt.open("wb") as fh:  # sparse: 50 MB on paper, nothing written to disk
        fh.truncate(size)
    result = load_file(big_txt, tmp_path)
    assert result.articles == [] and "limit" in result.problems[0].reason
    assert size > MAX_FILE_BYTES

    big_jsonl = tmp_path / "huge.jsonl"
    with big_jsonl.open("wb") as fh:
        fh.write(b'{"title": "ok", "text": "A fine first record."}\n')
        fh.write(b'{"title": "huge", "text": "' + b"x" * size + b'"}\n')
        fh.write(b'{"title": "ok too", "text": "A fine last record."}\n')
    result = load_file(big_jsonl, tmp_path)
    assert [a.title for a in result.articles] == ["ok", "ok too"]
    assert [(p.line, "limit" in p.reason) for p in result.problems] == [(2, True)]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    bom = "\ufeff" if encoding.endswith("-be") else ""  # the plain codecs write their own
    text = "Caf\u00e9 owners protest\r\n\r\nThe body of the article, in a wide encoding.\r\n"
    txt = tmp_path / "wide.txt"
    txt.write_bytes((bom + text).encode(encoding))
    result = load_file(txt, tmp_path)
    assert [(a.title, a.text) for a in result.articles] == [
        ("Caf\u00e9 owners protest", "The body of the article, in a wide encoding.")
    ]
    lines = tmp_path / "wide.jsonl"
    records = '{"title": "A", "body": "Alpha."}\n{"title": "B", "body": "Beta."}\n'
    lines.write_bytes((bom + records).encode(encoding))
    assert [a.title for a in load_file(lines, tmp_path).articles] == ["A", "B"]
