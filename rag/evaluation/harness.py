"""What the benchmarks under eval/ share: peak memory, the machine they ran on, their results files
and where their data sets are.

The machine stamp lives in `rag.embedding.machine` (cached embedder calibrations record it too); it is
re-exported here so a benchmark takes everything it records about a run from one place.
"""

from __future__ import annotations

import json
import resource
from pathlib import Path
from typing import Any

from rag.embedding.machine import cpu_line, machine_stamp, stamp_lines

__all__ = ["GENERATED_END", "GENERATED_START", "SHARED_DATA", "cpu_line", "machine_stamp", "peak_rss_mb",
           "stamp_lines", "write_generated", "write_results"]

# The data sets sit beside the checkout (../shared/data), wherever the checkout is: found from this
# file's place, so no script carries a machine's absolute path. Each script takes --data to override.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

GENERATED_START = "<!-- generated: the script rewrites the text between these markers; write outside them -->"
GENERATED_END = "<!-- /generated -->"


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_results(prefix: Path, data: Any, markdown: str, indent: int = 2) -> tuple[Path, Path]:
    """Write PREFIX.json (the figures) and PREFIX.md (the table people read), making the folder.

    The suffixes are appended, not substituted, so a prefix with a dot in its name keeps it.
    """
    prefix.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = Path(f"{prefix}.json"), Path(f"{prefix}.md")
    json_path.write_text(json.dumps(data, indent=indent) + "\n", encoding="utf-8")
    md_path.write_text(markdown if markdown.endswith("\n") else markdown + "\n", encoding="utf-8")
    return json_path, md_path


def write_generated(path: Path, markdown: str) -> Path:
    """Write a script's markdown between the generated markers of PATH, keeping everything outside them.

    Results files gather hand-written readings and later rounds around a script's table, and a rerun
    must not delete them. A new file gets the markers around the text. An existing file without the
    markers is refused (SystemExit): the script cannot tell its old output from what people wrote.
    """
    block = f"{GENERATED_START}\n{markdown.rstrip(chr(10))}\n{GENERATED_END}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block + "\n", encoding="utf-8")
        return path
    old = path.read_text(encoding="utf-8")
    start, end = old.find(GENERATED_START), old.find(GENERATED_END)
    if start < 0 or end < start:
        raise SystemExit(f"{path} has no '{GENERATED_START}' ... '{GENERATED_END}' markers; put them around "
                         "the part this script writes (or write elsewhere with --out) so the rest is kept")
    path.write_text(old[:start] + block + old[end + len(GENERATED_END):], encoding="utf-8")
    return path
