"""The benchmark harness: results files and the peak memory figure the eval/ scripts record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.evaluation.harness import cpu_line, peak_rss_mb, write_results

ROOT = Path(__file__).resolve().parent.parent


def test_write_results_writes_both_files_and_keeps_a_dotted_prefix(tmp_path: Path) -> None:
    prefix = tmp_path / "new" / "run.v2"
    json_path, md_path = write_results(prefix, {"p50_ms": 1.5, "rows": [1, 2]}, "# Run\n\n| a |")
    assert (json_path.name, md_path.name) == ("run.v2.json", "run.v2.md")
    assert json.loads(json_path.read_text()) == {"p50_ms": 1.5, "rows": [1, 2]}
    assert json_path.read_text().endswith("}\n") and md_path.read_text() == "# Run\n\n| a |\n"


def test_peak_rss_is_in_mib_and_at_least_the_current_rss() -> None:
    status = Path("/proc/self/status").read_text()
    current_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    # the kernel updates the peak lazily, so it may trail the current figure by a few pages
    assert 0.9 * current_kib / 1024 <= peak_rss_mb() < 100_000
    assert "cores" in cpu_line()


BENCHMARKS = ["bench_index", "quant_quality", "bench_answer", "bench_retrieval", "load_ui"]


@pytest.mark.parametrize("script", BENCHMARKS)
def test_benchmarks_on_the_harness_still_start(script: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "eval" / f"{script}.py"), "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr
