"""Ingest and `rag ingest`: the real sample corpus, real BBC/Reuters data, duplicates, skips, the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.chunking import chunk_articles, embedding_text, word_piece_tokenizer
from rag.cli import main
from rag.ingest import ingest
from rag.settings import SAMPLE_CORPUS, ChunkSettings

DATA = Path("/work/shared/data")
FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def test_sample_corpus_fields_footer_and_joined_sentences() -> None:
    report = ingest([SAMPLE_CORPUS])
    assert (report.files, report.problems, report.duplicates) == (2, [], [])
    by_date = {a.date: a for a in report.articles}
    assert sorted(by_date) == ["2016-06-14", "2021-11-15"]
    nato, escalation = by_date["2016-06-14"], by_date["2021-11-15"]
    assert (nato.author, escalation.author) == ("Thomas Gaist", "Clara Weiss")
    assert nato.title == "NATO orders four additional battalions to Russian border"
    assert escalation.title == "NATO push for dangerous escalation along its European border with Russia"
    assert {nato.source, escalation.source} == {"WSWS"}
    joined = [
        (nato, "The continued massing of Western troops along Russia's border makes good on"),
        (nato, 'The charge of "Russian aggression" against Europe is among the central lies'),
        (escalation, "The Kremlin has backed the Belarusian president"),
        (escalation, "far-right coup in February 2014, has been heavily promoting"),
    ]
    for article, sentence in joined:
        assert sentence in article.text
    assert "$3 billion" in nato.text and "\\$" not in nato.text
    assert "the UK's Daily Express that" in nato.text
    for article in report.articles:
        for footer in ("To contact", "Socialist Equality Party visit", "wsws.org", "**", "#"):
            assert footer not in article.text
        assert article.text.endswith(('again."', "imperialist war."))
        assert "\n\n\n" not in article.text and "  " not in article.text


def test_sample_passages_are_exact_and_fit_the_embedder() -> None:
    articles = {a.id: a for a in ingest([SAMPLE_CORPUS]).articles}
    cfg = ChunkSettings()
    passages = chunk_articles(articles.values(), cfg)
    assert len(passages) >= 10
    tok = word_piece_tokenizer()
    for p in passages:
        assert articles[p.article_id].text[p.start : p.end] == p.text
        assert len(tok.encode(embedding_text(p)).ids) <= cfg.model_max_tokens
        assert p.n_tokens > 0 and p.date in ("2016-06-14", "2021-11-15")


def test_ids_are_stable_across_runs_and_locations(tmp_path: Path) -> None:
    first = [a.id for a in ingest([SAMPLE_CORPUS]).articles]
    moved = tmp_path / "elsewhere"
    shutil.copytree(SAMPLE_CORPUS, moved)
    assert (
        [a.id for a in ingest([moved]).articles] == first == [a.id for a in ingest([SAMPLE_CORPUS]).articles]
    )


def test_duplicates_skips_and_problems(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "bbc_style.txt", tmp_path / "a.txt")
    shutil.copy(FIXTURES / "bbc_style.txt", tmp_path / "b.txt")
    (tmp_path / "README.md").write_text("# About this folder\n\nNot an article at all, just notes.\n")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / "empty.txt").write_bytes(b"")
    report = ingest([tmp_path, tmp_path / "missing"])
    assert [a.origin for a in report.articles] == ["a.txt"]
    assert report.duplicates == [(report.articles[0].id, "b.txt")]
    assert sorted(Path(p.path).name for p in report.skipped) == [".DS_Store", "README.md"]
    assert sorted((Path(p.path).name, p.reason) for p in report.problems) == [
        ("empty.txt", "empty file"),
        ("missing", "no such file or folder"),
    ]


def test_json_ids_are_kept_for_beir(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps(
            {"_id": "4983", "title": "Microstructural development", "text": "Alterations of white matter."}
        )
        + "\n"
        + json.dumps(
            {"_id": "5836", "title": "Induction of myelodysplasia", "text": "Myelodysplastic syndromes."}
        )
        + "\n"
    )
    assert [a.id for a in ingest([corpus]).articles] == ["4983", "5836"]


@pytest.mark.skipif(not (DATA / "bbc-news").is_dir(), reason="shared BBC data not present")
def test_real_bbc_set() -> None:
    report = ingest([DATA / "bbc-news"])
    assert report.files == 2225 and len(report.duplicates) == 98
    assert len(report.articles) == 2225 - 98
    assert [(p.path, "cp1252" in p.reason) for p in report.problems] == [("sport/199.txt", True)]
    mutu = next(a for a in report.articles if a.origin == "sport/199.txt")
    assert "£15.8m" in mutu.text and mutu.source == "BBC News" and mutu.metadata == {"category": "sport"}


@pytest.mark.skipif(not (DATA / "reuters21578").is_dir(), reason="shared Reuters data not present")
def test_real_reuters_file() -> None:
    report = ingest([DATA / "reuters21578" / "reut2-000.sgm"])
    stories = len(report.articles) + len(report.duplicates) + len(report.problems)
    assert stories == 1000
    assert all(a.date and a.date.startswith("1987-") and a.source == "Reuters" for a in report.articles)
    assert all("&#" not in a.text and "&lt;" not in a.text for a in report.articles)
    assert not any(a.text.rstrip().endswith(("Reuter", "REUTER")) for a in report.articles)
    assert all("brief" in p.reason for p in report.problems)


def test_cli_writes_articles_and_passages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_a, out_p = tmp_path / "a.jsonl", tmp_path / "p.jsonl"
    assert main(["ingest", str(SAMPLE_CORPUS), "--articles", str(out_a), "--passages", str(out_p)]) == 0
    printed = capsys.readouterr().out
    assert "articles:    2" in printed and "problems:    0" in printed
    articles = {a["id"]: a for a in map(json.loads, out_a.read_text().splitlines())}
    assert set(next(iter(articles.values()))) == {"id", "title", "author", "date", "source", "url", "text"}
    passages = [json.loads(line) for line in out_p.read_text().splitlines()]
    assert passages and all(
        articles[p["article_id"]]["text"][p["start"] : p["end"]] == p["text"] for p in passages
    )
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.jsonl", "p.jsonl"]  # no temporary files left


def test_cli_reports_problems_and_strict_makes_them_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(FIXTURES / "articles.jsonl", tmp_path)
    assert main(["ingest", str(tmp_path)]) == 0  # something was ingested
    printed = capsys.readouterr().out
    assert "articles.jsonl:3: malformed JSON line" in printed
    assert main(["ingest", "--strict", str(tmp_path)]) == 1
    assert "3 problem(s)" in capsys.readouterr().err
    (tmp_path / "articles.jsonl").unlink()
    (tmp_path / "empty.txt").write_text("")
    assert main(["ingest", str(tmp_path)]) == 1  # nothing ingested


def test_a_mixed_folder_beside_an_sgml_collection_reads_every_article_file(tmp_path: Path) -> None:
    for name in ("reuters_mini.sgm", "articles.json", "bbc_style.txt", "page.html"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "lewis.dtd").write_text("<!ELEMENT LEWIS (REUTERS*)>\n")
    (tmp_path / "all-topics-strings.lc.txt").write_text("acq\nalum\nbarley\n")
    report = ingest([tmp_path])
    origins = {a.origin.split("#")[0] for a in report.articles}
    assert origins == {"reuters_mini.sgm", "articles.json", "bbc_style.txt", "page.html"}
    assert sorted(Path(p.path).name for p in report.skipped) == ["all-topics-strings.lc.txt", "lewis.dtd"]


def test_cli_says_a_file_read_with_a_fallback_encoding_was_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_bytes("Caf\xe9 owners cheer\n\nThe caf\xe9 on the corner reopened.\n"
                                     .encode("cp1252"))
    assert main(["ingest", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "decoded:     1 file(s) with a fallback encoding, articles kept" in printed
    assert "a.txt" in printed and "problems:    0 (not ingested)" in printed
