"""The index folder's self-description (manifest.json) and the atomic folder swap.

A build writes a sibling temporary folder and swaps it in with two renames; a process
killed between them leaves `NAME.old`, which `recover()` puts back on the next open.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rag.embedding import export_recipe
from rag.errors import IndexMismatch, IndexNotFound

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_OPTIONAL = {"format_version", "export_recipe", "files"}  # fields a version-1 manifest may lack
BACKENDS = ("onnx-int8", "onnx", "torch", "hash", "custom")  # what rag.embedding.backend_of reports
KINDS = ("flat", "hnsw", "ivfpq")
# field -> the JSON types it may hold (bool is excluded from the int fields by _check_types)
_TYPES: dict[str, tuple[type, ...]] = {
    "format_version": (int,), "model": (str,), "dim": (int,), "backend": (str,), "normalized": (bool,),
    "chunking": (dict,), "libraries": (dict,), "corpus_fingerprint": (str,), "articles": (int,),
    "passages": (int,), "built_at": (str,), "index_kind": (str,), "export_recipe": (int, type(None)),
    "files": (dict, type(None)),
}  # fmt: skip
REBUILD = "Rebuild it with: rag index PATH --index DIR --rebuild."


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
    # ONNX export recipe of the vectors (rag.embedding.onnx_export.EXPORT_VERSION); None for backends
    # without one (torch, hash) and for indexes written before it was recorded
    export_recipe: int | None = None
    # sha256 and size of every file the build wrote (relative path -> [size, sha256]); None for
    # indexes written before they were recorded. Checked on open: a truncated, foreign or damaged
    # file is named in one sentence instead of surfacing as a library's traceback.
    files: dict[str, list[Any]] | None = None

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
        if not isinstance(data, dict):
            raise IndexMismatch(f"The manifest of {folder} is not a JSON object.")
        known = set(cls.__dataclass_fields__) - {"extra"}
        missing = known - set(data) - _OPTIONAL
        if missing:
            raise IndexMismatch(f"The manifest of {folder} lacks {', '.join(sorted(missing))}.")
        _check_types(data, folder)
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**{k: data[k] for k in known if k in data}, extra=extra)

    def verify_files(self, folder: Path, names: tuple[str, ...] | None = None) -> None:
        """Refuse an index whose files are not the ones its build wrote (size, then sha256).

        Reading every byte costs ~0.1 s per 100 MB; a damaged index otherwise fails later, in a
        library, with a traceback (or, for BM25, silently: an update saw "Nothing to do")."""
        if not self.files:
            return
        for name, (size, digest) in sorted(self.files.items()):
            if names is not None and not name.startswith(names):
                continue
            path = folder / name
            try:
                actual = path.stat().st_size
                ok = actual == size and file_digest(path) == digest
            except OSError as exc:
                raise IndexMismatch(f"The index at {folder} is damaged: {name} cannot be read "
                                    f"({exc.strerror or exc}).", help=REBUILD) from exc
            if not ok:
                raise IndexMismatch(f"The index at {folder} is damaged: {name} is not the file its build "
                                    "wrote (truncated, replaced or changed since).", help=REBUILD)


UNRECORDED_RECIPE = "the index does not record its ONNX export recipe (built before recipes were recorded)"


def stale_reason(
    m: Manifest, model: str, weights: str | None, backend: str | None = None,
    chunking: dict[str, Any] | None = None,
) -> str | None:
    """Why the index `m` describes is not valid for these settings, None when it is: the one rule
    behind the indexer's full rebuild, the store's refusal to embed queries and the evaluation's
    reuse of a cached index.

    Vectors are a function of the model, its weights (a model folder can be tuned again under the same
    name), the backend and the ONNX export recipe, which moves vectors (cosine ~0.996 between recipes 1
    and 2) with every setting unchanged; passages are a function of the chunking settings. `weights` is
    compared as given (None: a packaged model); `backend` and `chunking` are compared only when given,
    because a query may use any backend (the index decides) and does not chunk.
    """
    if m.model != model:
        return f"the model changed ({m.model} -> {model})"
    if m.extra.get("model_weights") != weights:
        return f"the weights of the model {model} changed"
    if backend is not None and m.extra.get("backend_requested", m.backend) != backend:
        return f"the embedding backend changed ({m.backend} -> {backend})"
    recipe = export_recipe(m.backend)  # what this code would export for the index's own backend
    if recipe is not None and m.export_recipe != recipe:
        return UNRECORDED_RECIPE if m.export_recipe is None else (
            f"the ONNX export recipe changed (x{m.export_recipe} -> x{recipe})")
    if chunking is not None and m.chunking != chunking:
        return "the chunking settings changed"
    return None


def _check_types(data: dict[str, Any], folder: Path) -> None:
    for name, types in _TYPES.items():
        if name in data and (not isinstance(data[name], types) or (
                isinstance(data[name], bool) and bool not in types)):
            raise IndexMismatch(f"The manifest of {folder} is damaged: {name} is {data[name]!r}, "
                                f"not a {' or '.join(t.__name__ for t in types if t is not type(None))}.",
                                help=REBUILD)
    if data["backend"] not in BACKENDS:
        raise IndexMismatch(f"The manifest of {folder} names an unknown embedding backend "
                            f"{data['backend']!r} (known: {', '.join(BACKENDS)}).", help=REBUILD)
    if data["index_kind"] not in KINDS:
        raise IndexMismatch(f"The manifest of {folder} names an unknown index kind {data['index_kind']!r}.",
                            help=REBUILD)
    if data["dim"] <= 0 or data["passages"] < 0 or data["articles"] < 0:
        raise IndexMismatch(f"The manifest of {folder} is damaged: dim {data['dim']}, "
                            f"{data['passages']} passages, {data['articles']} articles.", help=REBUILD)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def record_files(folder: Path) -> dict[str, list[Any]]:
    """[size, sha256] of every file under `folder` (what Manifest.files holds), by relative path."""
    return {p.relative_to(folder).as_posix(): [p.stat().st_size, file_digest(p)]
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}


def real_index_path(final: Path) -> Path:
    """The folder an index path names: a symlinked `--index` is resolved, so an update swaps the
    target (instead of replacing the link with a real folder) and takes the target's lock."""
    return final.resolve() if final.is_symlink() else final


def old_path(final: Path) -> Path:
    return final.with_name(final.name + ".old")


def temp_path(final: Path) -> Path:
    return final.with_name(f"{final.name}.tmp-{os.getpid()}")


def recover(final: Path, marker: str = MANIFEST) -> None:
    """Finish or undo a swap that a killed process left half done (`marker`: the file written last,
    whose presence means the new folder is complete)."""
    old = old_path(final)
    if old.is_dir():
        if (final / marker).is_file():
            shutil.rmtree(old, ignore_errors=True)  # the new index made it; the old one is garbage
        else:
            if final.exists():
                shutil.rmtree(final)
            os.replace(old, final)


def swap_in(tmp: Path, final: Path, marker: str = MANIFEST, carry: bool = True) -> None:
    """Make `tmp` the index at `final`; at every instant one complete index exists on disk.

    Files in `final` that the build did not write (the UI's feedback.jsonl, anything a user put
    there) are carried into the new folder as hard links before the swap, so they are the same
    files: a line appended through either path, before or after the swap, is in the new index.
    Other folders (a tuned model: `marker` its record file, `carry=False`) are swapped whole.
    """
    recover(final, marker)
    carried = _carry_over(final, tmp) if carry else frozenset()
    if final.exists() and _exchange(tmp, final):
        # `tmp` now holds the old index: catch anything created in it since the first pass
        if carry:
            _carry_over(tmp, final, skip=carried)
        old = tmp
    else:
        old = old_path(final)
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
    _fsync_dir(final.parent)
    shutil.rmtree(old, ignore_errors=True)


def _carry_over(src: Path, dst: Path, skip: frozenset[str] = frozenset()) -> frozenset[str]:
    """Hard-link (folders: move) each entry of `src` that `dst` lacks into `dst`; returns their names."""
    if not src.is_dir():
        return frozenset()
    names = []
    for entry in sorted(src.iterdir()):
        target = dst / entry.name
        if entry.name in skip or target.exists() or target.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            os.replace(entry, target)
        else:
            try:
                os.link(entry, target, follow_symlinks=False)
            except OSError:  # a file system without hard links: a copy (a line appended meanwhile is lost)
                shutil.copy2(entry, target, follow_symlinks=False)
        names.append(entry.name)
    return frozenset(names)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2 RENAME_EXCHANGE): `b` never goes missing, so a
    writer appending to b/feedback.jsonl at that moment cannot recreate an empty `b`. False where
    the call is unavailable (another OS, an old kernel or file system); the caller then renames twice."""
    libc = _libc()
    if libc is None or not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _libc() -> ctypes.CDLL | None:
    if sys.platform != "linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


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
