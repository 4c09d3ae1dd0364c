"""Reliability (issue 14), cases 2 and 10: one bad record never aborts a run, and short legacy-encoded
texts decode exactly. The index cases are in test_reliability.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_reliability import _write

from rag.indexer import build_index
from rag.ingest import ingest
from rag.loaders import load_file
from rag.settings import Settings

# --- 2. one bad record never aborts a run ------------------------------------------------------


@pytest.mark.parametrize("value", ["1e15", "Infinity", "-Infinity", "NaN", "1e20", "1e308", "-5e12"])
def test_a_json_date_no_calendar_holds_costs_nothing(tmp_path: Path, value: str) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(f'{{"title": "Odd", "text": "Body one.", "date": {value}}}\n'
                    '{"title": "Fine", "text": "Body two.", "date": "2016-06-14"}\n')
    result = load_file(path)
    assert [(a.title, a.date) for a in result.articles] == [("Odd", None), ("Fine", "2016-06-14")]
    assert "raw_date" in result.articles[0].metadata
    single = tmp_path / "one.json"
    single.write_text(f'[{{"title": "Odd", "text": "Body.", "date": {value}}}]')
    assert [a.title for a in load_file(single).articles] == ["Odd"]  # 1e20 dropped the whole file


def test_deep_nesting_and_huge_numbers_are_problems_of_their_line(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "feed.jsonl"
    path.write_text(f'{deep}\n{{"title": "x", "text": "y", "n": {"9" * 5000}}}\n'
                    '{"title": "Fine", "text": "Body."}\n')
    result = load_file(path)
    assert [a.title for a in result.articles] == ["Fine"]
    assert [(p.path, p.line) for p in result.problems] == [("feed.jsonl", 1), ("feed.jsonl", 2)]
    assert "nested too deeply" in result.problems[0].reason
    whole = tmp_path / "deep.json"
    whole.write_text(deep)
    assert [p.reason for p in load_file(whole).problems] == ["unreadable JSON: nested too deeply"]


def test_a_symlink_loop_in_a_folder_is_one_problem(tmp_path: Path, hash_settings: Settings) -> None:
    folder = tmp_path / "c"
    _write(folder, "good.txt", "Good", "A real article body.")
    os.symlink(folder / "loop1", folder / "loop2")
    os.symlink(folder / "loop2", folder / "loop1")
    os.symlink(folder, folder / "self")  # a folder link is not followed: no endless walk
    report = ingest([folder])
    assert [a.title for a in report.articles] == ["Good"]
    assert sorted(p.path for p in report.problems) == ["loop1", "loop2"]
    assert all("symbolic links" in p.reason for p in report.problems)
    assert build_index([folder], tmp_path / "i", hash_settings).added == 1  # before: nothing indexed


def test_a_loader_exception_is_a_problem_of_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.loaders import html

    def broken(text: str, origin: str) -> object:
        raise KeyError("surprise")

    monkeypatch.setattr(html, "load", broken)
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>hi</p></body></html>")
    _write(tmp_path, "ok.txt", "Fine", "Body.")
    report = ingest([tmp_path])
    assert [a.title for a in report.articles] == ["Fine"]
    assert [str(p) for p in report.problems] == ["page.html: could not be read (KeyError: 'surprise')"]


def test_a_ragged_csv_row_is_skipped_not_indexed_shifted(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text("title,text,date\nGood,Body one.,2016-06-14\nBad,Body, with a comma,2016-06-15\n"
                    "Fine,Body three.,2016-06-16\n")
    result = load_file(path)
    assert [a.title for a in result.articles] == ["Good", "Fine"]
    assert [(p.line, p.reason) for p in result.problems] == [
        (3, "row 2 has 1 more fields than the header; the row was skipped")]


# --- 10. legacy encodings of short Western and Central European texts ----------------------------

LEGACY = [
    ("French", "latin-1", "La crème brûlée du café où l'été déçoit à peine"),
    ("French", "cp1252", "Les élèves reçoivent « œuvres » — déjà à Noël"),
    ("German", "latin-1", "Größere Übungen für schöne Mädchen auf der Straße"),
    ("German", "cp1252", "Die Bürger wählten „früh“ im März"),
    ("Spanish", "latin-1", "¿Qué año? El niño comió piña en la canción"),
    ("Spanish", "cp1252", "¡Señor! La organización está en España"),
    ("Polish", "cp1250", "Zażółć gęślą jaźń; Łódź i Kraków w środę"),
    ("Polish", "iso-8859-2", "Żółw idzie przez łąkę, a ćma śpi w źródle"),
    ("Czech", "cp1250", "Příliš žluťoučký kůň úpěl ďábelské ódy"),
    ("Czech", "iso-8859-2", "Česká republika: řeka Vltava teče přes město"),
    ("Czech", "cp1250", "Vláda schválila nový zákon o daních v pondělí"),
]


@pytest.mark.parametrize(("language", "encoding", "text"), LEGACY,
                         ids=[f"{lang}-{enc}-{i}" for i, (lang, enc, _) in enumerate(LEGACY)])
def test_short_legacy_texts_decode_exactly(tmp_path: Path, language: str, encoding: str, text: str) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(f"{text[:20]}\n\n{text}.\n".encode(encoding))
    result = load_file(path)
    assert result.articles[0].text == f"{text}." , language  # before: "crčme", "ą" for "à" (cp1257)
    assert "not valid UTF-8" in result.problems[0].reason
