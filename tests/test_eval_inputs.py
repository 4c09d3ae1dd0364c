"""BEIR and QA loaders: the fixture folders, and malformed lines named by file and line number."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.errors import EvalInputError
from rag.evaluation.beir import load_beir, read_qrels
from rag.evaluation.qa import contains_answer, load_qa

FIXTURES = Path(__file__).parent / "fixtures" / "eval"


def test_load_beir_test_split(tiny_beir: Path) -> None:
    ds = load_beir(tiny_beir, "test")
    assert ds.name == "tiny-beir" and ds.split == "test" and ds.n_docs == 6
    assert ds.queries == {
        "q1": "volcano eruption lava Iceland",
        "q2": "central bank interest rate inflation",
        "q3": "malaria vaccine approval",
    }
    assert ds.qrels["q1"] == {"d1": 1, "d5": 1}
    assert ds.warnings == []
    assert len(ds.fingerprint) == 12 and ds.fingerprint != ds.corpus_fingerprint


def test_splits_share_the_corpus_fingerprint_not_the_dataset_one(tiny_beir: Path) -> None:
    test, train = load_beir(tiny_beir, "test"), load_beir(tiny_beir, "train")
    assert list(train.queries) == ["q4"]
    assert test.corpus_fingerprint == train.corpus_fingerprint
    assert test.fingerprint != train.fingerprint


def test_missing_split_lists_the_available_ones(tiny_beir: Path) -> None:
    with pytest.raises(EvalInputError, match="Splits available here: test, train"):
        load_beir(tiny_beir, "dev")


def test_qrels_trec_layout_and_no_header(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text("q1 0 d1 1\nq1 0 d2 0\nq2 Q0 d3 2\n")
    assert read_qrels(path) == {"q1": {"d1": 1, "d2": 0}, "q2": {"d3": 2}}


@pytest.mark.parametrize(
    ("body", "line", "why"),
    [
        ("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\n", 3, "expected 3 columns"),
        ("query-id\tcorpus-id\tscore\nq1\td1\tyes\n", 2, "not an integer"),
        ("q1\td1\t1\n\nq2\t\t1\n", 3, "expected 3 columns"),
        ("query-id\tcorpus-id\tscore\n", None, "no judgements"),
    ],
)
def test_malformed_qrels_name_the_line(
    tmp_path: Path, body: str, line: int | None, why: str, tiny_beir: Path
) -> None:
    folder = tmp_path / "beir"
    shutil.copytree(tiny_beir, folder)
    (folder / "qrels" / "test.tsv").write_text(body)
    with pytest.raises(EvalInputError, match=why) as info:
        load_beir(folder, "test")
    where = f"test.tsv:{line}:" if line else "test.tsv:"
    assert where in str(info.value)
    assert "query-id<TAB>corpus-id<TAB>score" in str(info.value)  # says how to fix it


def test_malformed_jsonl_and_unknown_queries(tmp_path: Path, tiny_beir: Path) -> None:
    folder = tmp_path / "beir"
    shutil.copytree(tiny_beir, folder)
    with (folder / "corpus.jsonl").open("a") as fh:
        fh.write('{"_id": "d7", "text": "unterminated\n')
    with pytest.raises(EvalInputError, match=r"corpus.jsonl:7: not valid JSON"):
        load_beir(folder)
    shutil.copy(tiny_beir / "corpus.jsonl", folder / "corpus.jsonl")
    (folder / "qrels" / "test.tsv").write_text("q9\td1\t1\n")
    with pytest.raises(EvalInputError, match=r"not in .*queries.jsonl .*q9"):
        load_beir(folder)


def test_unknown_judged_docs_are_a_warning(tmp_path: Path, tiny_beir: Path) -> None:
    folder = tmp_path / "beir"
    shutil.copytree(tiny_beir, folder)
    (folder / "qrels" / "test.tsv").write_text("q1\td1\t1\nq1\tnope\t1\n")
    assert "1 judged doc ids are not in the corpus" in load_beir(folder).warnings[0]


def test_load_qa_fixture() -> None:
    items = load_qa(FIXTURES / "tiny_qa.jsonl")
    assert [it.id for it in items] == ["lava", "q2", "q4"]  # default ids are the line numbers
    assert items[0].gold_article_ids == ("d5",) and items[0].answers == ("within a kilometre",)
    assert items[2].answers == ("two-nil victory",) and items[2].gold_article_ids == ()


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"question": "x", "answers": ["a"]', "not valid JSON"),
        ('["question"]', "expected a JSON object"),
        ('{"answers": ["a"]}', "missing 'question'"),
        ('{"question": "x"}', "nothing to score against"),
        ('{"question": "x", "answers": [""]}', "must be a list of non-empty strings"),
        ('{"question": "x", "answer": ["a"]}', "unknown field"),
    ],
)
def test_malformed_qa_lines(tmp_path: Path, line: str, why: str) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "fine", "answers": ["ok"]}\n' + line + "\n")
    with pytest.raises(EvalInputError, match=why) as info:
        load_qa(path)
    assert "qa.jsonl:2:" in str(info.value)


def test_contains_answer_ignores_case_spacing_and_curly_quotes() -> None:
    assert contains_answer("He said \u201cWe  will\nagree\u201d", ('"we will agree"',))
    assert not contains_answer("four battalions", ("five battalions", "six"))
