"""The benchmark harness: results files and the peak memory figure the eval/ scripts record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.harness import (
    GENERATED_END,
    GENERATED_START,
    SHARED_DATA,
    cpu_line,
    peak_rss_mb,
    write_generated,
    write_results,
)

ROOT = Path(__file__).resolve().parent.parent


def test_write_results_writes_both_files_and_keeps_a_dotted_prefix(tmp_path: Path) -> None:
    prefix = tmp_path / "new" / "run.v2"
    json_path, md_path = write_results(prefix, {"p50_ms": 1.5, "rows": [1, 2]}, "# Run\n\n| a |")
    assert (json_path.name, md_path.name) == ("run.v2.json", "run.v2.md")
    assert json.loads(json_path.read_text()) == {"p50_ms": 1.5, "rows": [1, 2]}
    assert json_path.read_text().endswith("}\n") and md_path.read_text() == "# Run\n\n| a |\n"


def test_write_generated_rewrites_only_between_the_markers(tmp_path: Path) -> None:
    md = tmp_path / "deep" / "tune.md"
    write_generated(md, "# Round 1\n\n| a |\n| 1 |\n")
    assert md.read_text() == f"{GENERATED_START}\n# Round 1\n\n| a |\n| 1 |\n{GENERATED_END}\n"
    # people write above and below the table; the next run replaces the table and nothing else
    md.write_text("Note by hand.\n\n" + md.read_text() + "\n## Round 2 (by hand)\n\nkept\n")
    write_generated(md, "# Round 1\n\n| a |\n| 2 |")
    assert md.read_text() == (f"Note by hand.\n\n{GENERATED_START}\n# Round 1\n\n| a |\n| 2 |\n"
                              f"{GENERATED_END}\n\n## Round 2 (by hand)\n\nkept\n")


def test_write_generated_refuses_a_file_without_markers_and_leaves_it_alone(tmp_path: Path) -> None:
    md = tmp_path / "old.md"
    md.write_text("# Old table\n\n## Reading (by hand)\n")
    with pytest.raises(SystemExit, match="markers"):
        write_generated(md, "# New table")
    assert md.read_text() == "# Old table\n\n## Reading (by hand)\n"


def test_results_files_with_hand_written_parts_carry_the_markers() -> None:
    """The committed files that scripts rewrite through write_generated: a rerun must find the markers."""
    names = ("tune_retrieval", "figures_check", "chunking_study", "chunking_study_small", "tune_embedder_dev")
    for name in names:
        text = (ROOT / "eval" / "results" / f"{name}.md").read_text()
        assert text.count(GENERATED_START) == 1, name
        assert text.index(GENERATED_START) < text.index(GENERATED_END), name


def test_shared_data_is_beside_the_checkout_not_a_machine_path() -> None:
    assert ROOT.parent / "shared" / "data" == SHARED_DATA


def test_peak_rss_is_in_mib_and_at_least_the_current_rss() -> None:
    status = Path("/proc/self/status").read_text()
    current_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    # the kernel updates the peak lazily, so it may trail the current figure by a few pages
    assert 0.9 * current_kib / 1024 <= peak_rss_mb() < 100_000
    assert "cores" in cpu_line()

