"""Metrics wiring checked against hand-computed values; report files; compare; the CLI's compare path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag.cli import main
from rag.errors import EvalInputError
from rag.evaluation.metrics import evaluate_run, latency_summary, ranked_run, recall_curve
from rag.evaluation.report import EvalReport, ModeScores, compare, load_report, write_report

QRELS = {"q1": {"d1": 1, "d2": 1}, "q2": {"d3": 1}}
RUN = ranked_run({"q1": ["d1", "dx", "d2"], "q2": ["dx", "d3"]})


def test_metrics_match_hand_computation() -> None:
    m = evaluate_run(QRELS, RUN, k=10)
    # q1: DCG = 1/log2(2) + 1/log2(4) = 1.5, ideal = 1 + 1/log2(3); q2: 1/log2(3), ideal 1.
    ndcg_q1 = 1.5 / (1 + 1 / math.log2(3))
    assert m["nDCG@10"] == pytest.approx((ndcg_q1 + 1 / math.log2(3)) / 2)
    assert m["MRR@10"] == pytest.approx((1 + 0.5) / 2)
    assert m["Hits@1"] == pytest.approx(0.5)
    assert m["Hits@5"] == m["Hits@10"] == m["Recall@10"] == m["Recall@100"] == pytest.approx(1.0)
    assert recall_curve(QRELS, RUN, ks=(1, 3)) == pytest.approx({1: 0.25, 3: 1.0})


def test_cutoff_and_empty_results_count_as_misses() -> None:
    # k=2 cuts d2 from q1; a judged query with no results must count 0, not vanish from the mean.
    m = evaluate_run({**QRELS, "q3": {"d9": 1}}, {**RUN, "q3": {}}, k=2)
    assert m["Recall@2"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["Hits@2"] == pytest.approx(2 / 3)


def test_latency_percentiles() -> None:
    lat = latency_summary([0.001 * i for i in range(1, 101)])
    assert lat["p50_ms"] == pytest.approx(50.5) and lat["p95_ms"] == pytest.approx(95.05)


def _report(ndcg: float, date: str = "2025-01-01T00:00:00+00:00", rrf_k: int = 60) -> EvalReport:
    modes = {
        mode: ModeScores(
            metrics={"nDCG@10": ndcg + i / 10, "Recall@100": 0.9},
            latency={"p50_ms": 3.0, "p95_ms": 9.0},
            recall_curve={1: 0.3, 10: 0.7, 100: 0.9},
        )
        for i, mode in enumerate(("bm25", "dense"))
    }
    return EvalReport(
        kind="beir",
        dataset={
            "name": "toy",
            "path": "/x",
            "split": "test",
            "fingerprint": "abc",
            "n_queries": 2,
            "n_docs": 3,
        },
        stamp={
            "settings_hash": f"h{rrf_k}",
            "model": "m",
            "index": "i",
            "date": date,
            "versions": {"rag": "0"},
        },
        settings={"retrieval": {"rrf_k": rrf_k}},
        k=10,
        modes=modes,
    )


def test_write_report_round_trip(tmp_path: Path) -> None:
    paths = write_report(_report(0.5), tmp_path / "out" / "toy.json")
    assert sorted(p.name for p in paths.values()) == ["toy.json", "toy.md", "toy.png"]
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths["png"].stat().st_size > 5000
    md = paths["md"].read_text()
    assert "| bm25 | 0.5000 | 0.9000 | 3.0 | 9.0 |" in md
    assert "**test** split" in md and "settings hash `h60`" in md and "![Recall@k per mode](toy.png)" in md
    assert load_report(paths["json"]) == _report(0.5)


def test_compare_prints_differences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_report(_report(0.5), tmp_path / "a")["json"]
    b = write_report(_report(0.55, rrf_k=30), tmp_path / "b")["json"]
    assert "retrieval.rrf_k 60 -> 30" in compare(load_report(a), load_report(b))
    assert main(["eval", "compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "  nDCG@10             0.5000    0.5500   +0.0500" in out
    assert "  nDCG@10             0.6000    0.6500   +0.0500" in out  # the dense block
    assert "Recall@100          0.9000    0.9000   +0.0000" in out


def test_compare_rejects_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(EvalInputError, match="not a rag eval result"):
        load_report(bad)
    assert main(["eval", "compare", str(bad)]) == 1
    assert "compare takes two result files" in capsys.readouterr().err
