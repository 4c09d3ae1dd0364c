"""rag eval end to end on the tiny BEIR fixture (hash embedder): index once, every mode, QA checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main
from rag.evaluation.beir import load_beir
from rag.evaluation.qa import load_qa
from rag.evaluation.runner import beir_index_dir, doc_ranking, ensure_beir_index, evaluate_qa
from rag.settings import Settings
from rag.types import Hit, Passage

FIXTURES = Path(__file__).parent / "fixtures" / "eval"
HASH = Settings.from_env(environ={}, embedding={"model": "hash"})


def _hit(article: str, rank: int, also_in: tuple[str, ...] = ()) -> Hit:
    p = Passage(f"{article}:{rank}", article, "t", 0, 1, "", None, None, None, 1)
    return Hit(p, 1.0 / rank, rank, also_in)


def test_doc_ranking_is_maxp_and_credits_collapsed_copies() -> None:
    hits = [_hit("a", 3), _hit("b", 1), _hit("a", 2, also_in=("c:0",)), _hit("b", 4)]
    assert doc_ranking(hits, depth=10) == ["b", "a"]
    assert doc_ranking(hits, depth=10, article_of={"c:0": "c"}) == ["b", "a", "c"]
    assert doc_ranking(hits, depth=1) == ["b"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, tiny_beir: Path) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("eval")
    argv = ["eval", "--beir", str(tiny_beir), "--index-root", str(tmp / "index"), "--out", str(tmp / "tiny")]
    assert main([*argv, "--set", "embedding.model=hash", "--quiet"]) == 0
    return tmp, beir_index_dir(load_beir(tiny_beir), HASH.model_copy(), tmp / "index")


def test_beir_cli_writes_reports_for_every_mode(tiny_run: tuple[Path, Path]) -> None:
    tmp, _ = tiny_run
    report = json.loads((tmp / "tiny.json").read_text())
    assert list(report["modes"]) == ["bm25", "dense", "hybrid"]
    assert report["dataset"]["split"] == "test" and report["dataset"]["n_queries"] == 3
    assert report["stamp"]["model"] == "hash" and report["stamp"]["versions"]["ir-measures"]
    # The queries share their key words with the judged documents only: BM25 must rank them first.
    bm25 = report["modes"]["bm25"]["metrics"]
    assert bm25["Hits@1"] == 1.0 and bm25["Recall@10"] == 1.0
    for mode in report["modes"].values():
        assert 0.0 < mode["metrics"]["nDCG@10"] <= 1.0 and mode["latency"]["p95_ms"] > 0
        assert set(mode["recall_curve"]) == {"1", "2", "3", "5", "10", "20", "50", "100"}
    assert (tmp / "tiny.png").stat().st_size > 5000
    assert "| bm25 | 1.0000 |" in (tmp / "tiny.md").read_text()


def test_beir_index_is_reused_and_retrieval_settings_do_not_key_it(
    tiny_run: tuple[Path, Path], tiny_beir: Path
) -> None:
    tmp, index_dir = tiny_run
    assert (index_dir / "manifest.json").is_file()
    before = (index_dir / "manifest.json").stat().st_mtime_ns
    argv = [
        "eval",
        "--beir",
        str(tiny_beir),
        "--split",
        "train",
        "--modes",
        "bm25",
        "--index-root",
        str(tmp / "index"),
    ]
    argv += [
        "--out",
        str(tmp / "train"),
        "--set",
        "embedding.model=hash",
        "--set",
        "retrieval.rrf_k=10",
        "--quiet",
    ]
    assert main(argv) == 0
    assert (index_dir / "manifest.json").stat().st_mtime_ns == before
    assert [p.name for p in (tmp / "index").iterdir() if not p.name.startswith(".")] == [index_dir.name]
    train = json.loads((tmp / "train.json").read_text())
    assert train["dataset"]["split"] == "train" and train["settings"]["retrieval"]["rrf_k"] == 10


def test_qa_file_against_an_index(tiny_run: tuple[Path, Path]) -> None:
    _, index_dir = tiny_run
    items = load_qa(FIXTURES / "tiny_qa.jsonl")
    report = evaluate_qa(items, index_dir, HASH, ["bm25"], k=3, answers=False, progress=False)
    scores = report.modes["bm25"]
    assert scores.metrics["Hits@3"] == 1.0  # gold articles d5 and d2 within the top 3 documents
    assert scores.extra["answer Hits@3"] == 1.0  # every answer string is in a top-3 passage
    assert report.dataset["n_queries"] == 3 and report.kind == "qa"


def test_bad_inputs_exit_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--beir", str(tmp_path)]) == 1
    assert "corpus.jsonl not found" in capsys.readouterr().err
    assert main(["eval"]) == 1
    assert "nothing to evaluate" in capsys.readouterr().err
    assert main(["eval", "--qa", str(FIXTURES / "tiny_qa.jsonl"), "--set", "retrieval"]) == 1
    assert "GROUP.FIELD=VALUE" in capsys.readouterr().err


def test_a_beir_index_no_longer_valid_is_rebuilt_in_place(
    tmp_path: Path, tiny_beir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = load_beir(tiny_beir)
    index_dir = ensure_beir_index(dataset, HASH, tmp_path, progress=False)
    assert ensure_beir_index(dataset, HASH, tmp_path, progress=False) == index_dir
    assert capsys.readouterr().err.count("Indexing") == 1  # valid: reused
    manifest = index_dir / "manifest.json"
    data = json.loads(manifest.read_text())
    data["model_weights"] = "0" * 16  # as if the model folder had been tuned again since
    manifest.write_text(json.dumps(data))
    assert ensure_beir_index(dataset, HASH, tmp_path, progress=False) == index_dir
    assert "(the weights of the model hash changed)" in capsys.readouterr().err
    assert "model_weights" not in json.loads(manifest.read_text())
