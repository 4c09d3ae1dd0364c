"""What the benchmarks under eval/ share: peak memory, the machine they ran on, and their results files.

The machine stamp lives in `rag.embedding.machine` (cached embedder calibrations record it too); it is
re-exported here so a benchmark takes everything it records about a run from one place.
"""

from __future__ import annotations

import json
import resource
from pathlib import Path
from typing import Any

from rag.embedding.machine import cpu_line, machine_stamp, stamp_lines

__all__ = ["cpu_line", "machine_stamp", "peak_rss_mb", "stamp_lines", "write_results"]


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
