"""The index folder's self-description (manifest.json) and the atomic folder swap.

A build writes a sibling temporary folder and swaps it in with two renames; a process
killed between them leaves `NAME.old`, which `recover()` puts back on the next open.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rag.errors import IndexMismatch, IndexNotFound

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in ("faiss-cpu", "sentence-transformers", "onnxruntime", "torch", "numpy", "bm25s"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


@dataclass(frozen=True)
class Manifest:
    """What an index was built from; `extra` keeps fields a newer minor version may add."""

    format_version: int
    model: str
    dim: int
    backend: str
    normalized: bool
    chunking: dict[str, Any]
    libraries: dict[str, str | None]
    corpus_fingerprint: str
    articles: int
    passages: int
    built_at: str
    index_kind: str
    extra: dict[str, Any]

    @classmethod
    def new(cls, **fields: Any) -> Manifest:
        fields.setdefault("format_version", FORMAT_VERSION)
        fields.setdefault("normalized", True)
        fields.setdefault("libraries", library_versions())
        fields.setdefault("built_at", datetime.now(UTC).isoformat(timespec="seconds"))
        fields.setdefault("extra", {})
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "extra"}
        return {**self.extra, **d}

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        if not path.is_file():
            raise IndexNotFound(f"No index at {folder} (there is no {MANIFEST}).")
        try:
            data = json.loads(path.read_text())
            version = int(data["format_version"])
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexMismatch(f"The manifest of {folder} is unreadable ({exc}).") from exc
        if version > FORMAT_VERSION:
            raise IndexMismatch(
                f"The index at {folder} has format version {version}, newer than this program's "
                f"{FORMAT_VERSION}.",
                help="Upgrade rag, or rebuild it with: rag index PATH --index DIR --rebuild.",
            )
        known = set(cls.__dataclass_fields__) - {"extra"}
        missing = known - set(data) - {"format_version"}
        if missing:
            raise IndexMismatch(f"The manifest of {folder} lacks {', '.join(sorted(missing))}.")
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**{k: data[k] for k in known}, extra=extra)


def old_path(final: Path) -> Path:
    return final.with_name(final.name + ".old")


def temp_path(final: Path) -> Path:
    return final.with_name(f"{final.name}.tmp-{os.getpid()}")


def recover(final: Path) -> None:
    """Finish or undo a swap that a killed process left half done."""
    old = old_path(final)
    if old.is_dir():
        if (final / MANIFEST).is_file():
            shutil.rmtree(old, ignore_errors=True)  # the new index made it; the old one is garbage
        else:
            if final.exists():
                shutil.rmtree(final)
            os.replace(old, final)


def swap_in(tmp: Path, final: Path) -> None:
    """Make `tmp` the index at `final`; at every instant one complete index exists on disk."""
    recover(final)
    old = old_path(final)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    _fsync_dir(final.parent)
    shutil.rmtree(old, ignore_errors=True)


def remove_stale_temps(final: Path) -> None:
    """Delete temporary build folders of processes that no longer run."""
    for tmp in final.parent.glob(f"{final.name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
