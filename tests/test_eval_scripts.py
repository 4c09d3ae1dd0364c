"""Every script under eval/ still starts: `--help` exits 0 with its usage (a script that no longer
imports, or runs its whole benchmark on --help, fails here instead of on the next person to run it)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

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
