"""Every script under eval/ still starts: `--help` exits 0 with its usage (a script that no longer
imports, or runs its whole benchmark on --help, fails here instead of on the next person to run it).
The scripts with a tiny mode also run for real on a few documents, writing to tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rag.evaluation.harness import GENERATED_END, GENERATED_START

EVAL = Path(__file__).resolve().parent.parent / "eval"
SCRIPTS = sorted(EVAL.glob("*.py"))


def _help(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=EVAL.parent)


def test_there_are_scripts() -> None:
    assert len(SCRIPTS) >= 10


@pytest.fixture(scope="module")
def helps() -> dict[str, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=2) as pool:  # 2 cores: most of the time is imports
        return dict(zip((s.name for s in SCRIPTS), pool.map(_help, SCRIPTS), strict=True))


@pytest.mark.parametrize("name", [s.name for s in SCRIPTS])
def test_script_help(name: str, helps: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = helps[name]
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"usage: {name}"), done.stdout[:500]


# Real runs of the scripts that have a tiny mode, on tests/fixtures/eval/tiny-beir, writing to tmp_path.
# (bench_index, quant_quality and the tune_* scripts on fusion_bench load torch or need the full SciFact
# index: over a minute even on three articles, so only --help covers them.)

def _run(*args: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=300,
                          cwd=EVAL.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_figures_check_on_tiny_data_keeps_the_hand_written_reading(tmp_path: Path) -> None:
    data = tmp_path / "data"
    scifact = data / "beir-scifact"
    (scifact / "qrels").mkdir(parents=True)
    (scifact / "corpus.jsonl").write_text(json.dumps(
        {"_id": "d1", "title": "Trial", "text": "Of 120 patients, 45 improved within 12 weeks."}) + "\n")
    claim = {"_id": "q1", "text": "45 of 120 patients improved."}
    (scifact / "queries.jsonl").write_text(json.dumps(claim) + "\n")
    for split in ("train", "test"):
        (scifact / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + (
            "q1\td1\t1\n" if split == "train" else ""))
    (data / "bbc-news" / "business").mkdir(parents=True)
    (data / "bbc-news" / "business" / "001.txt").write_text(
        "Profits rise 30% in 2004\n\nShares rose after the firm said profits were up 30% in 2004.\n")
    (data / "bbc-news" / "business" / "002.txt").write_text(
        "Sales reach 5m units\n\nThe company sold four million units last year.\n")
    out = tmp_path / "results" / "figures"
    _run(EVAL / "figures_check.py", "--data", data, "--out", out)
    md = Path(f"{out}.md").read_text()
    assert md.startswith(GENERATED_START) and "# Figures check" in md
    # the BBC row: 2 headlines with figures, the '5m' one flagged (the body says 'four million')
    assert "| BBC headline vs its article body | 2 | 1 (50.0%) |" in md
    rows = json.loads(Path(f"{out}.json").read_text())
    assert [(r["sentences"], r["flagged"], r["caught"]) for r in rows] == [(2, 1, 2), (1, 0, 1)]

    Path(f"{out}.md").write_text(md + "\n## Reading\n\nwritten by hand\n")
    _run(EVAL / "figures_check.py", "--data", data, "--out", out)
    assert Path(f"{out}.md").read_text().endswith("\n## Reading\n\nwritten by hand\n")


def test_chunking_study_then_tune_retrieval_on_tiny_beir(tmp_path: Path, tiny_beir: Path) -> None:
    work = tmp_path / "work"
    _run(EVAL / "chunking_study.py", "--data", tiny_beir, "--docs", 0, "--configs", "64:1",
         "--modes", "bm25,hybrid", "--out", tmp_path / "chunking",
         "--work", work, "--cache", tmp_path / "cache")
    md = (tmp_path / "chunking.md").read_text()
    assert "# Chunking study" in md and "| 64 | 1 |" in md and GENERATED_END in md
    assert json.loads((tmp_path / "chunking.json").read_text())["rows"][0]["max_tokens"] == 64

    # tune_retrieval reads the index chunking_study built (the product's own BEIR index of the same data)
    index = next(p for p in work.iterdir() if p.name.startswith("beir-"))
    out = tmp_path / "tune"
    Path(f"{out}.md").write_text(f"{GENERATED_START}\nold table\n{GENERATED_END}\n\n## Round 2 (by hand)\n")
    _run(EVAL / "tune_retrieval.py", "--data", tiny_beir, "--index", index, "--out", out)
    md = Path(f"{out}.md").read_text()
    assert "old table" not in md and md.endswith(f"{GENERATED_END}\n\n## Round 2 (by hand)\n")
    assert "| plain RRF (k=60, 100 candidates each) |" in md
    assert "the shipped default is zscore fusion at the article level" in md  # from RetrievalSettings
    assert json.loads(Path(f"{out}.json").read_text())["rows"][0]["step"].startswith("BM25")


def test_fit_lead_on_the_sample_index_writes_where_it_is_told(tmp_path: Path, sample_index: Path) -> None:
    """A real fit on the sample corpus's questions (as a dev split), written beside the test: the
    committed model is not touched."""
    from rag.answer.lead import LEAD_FEATURES, MODEL_FILE

    committed = MODEL_FILE.read_bytes()
    qa = tmp_path / "qa.jsonl"
    lines = (EVAL / "sample_qa.jsonl").read_text().splitlines()
    qa.write_text("".join(json.dumps({**json.loads(line), "split": "dev"}) + "\n" for line in lines if line))
    _run(EVAL / "fit_lead.py", "--index", sample_index, "--qa", qa, "--model", tmp_path / "lead.json",
         "--results", tmp_path)
    model = json.loads((tmp_path / "lead.json").read_text())
    assert model["features"] == list(LEAD_FEATURES) and len(model["coef"]) == len(LEAD_FEATURES)
    assert "| show at | shown | right |" in (tmp_path / "lead_fit.md").read_text()
    assert MODEL_FILE.read_bytes() == committed
