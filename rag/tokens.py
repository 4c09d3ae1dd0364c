"""Token counting: tiktoken's cl100k_base (prompt budgets), offline, from files shipped in a wheel."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import tiktoken


def _bundled_cache_dir() -> Path | None:
    # litellm's wheel carries tiktoken's cache files (named by the sha1 of their URL).
    # find_spec locates the package without importing it (importing litellm takes seconds).
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


@lru_cache(maxsize=1)
def cl100k() -> tiktoken.Encoding:
    """The cl100k_base encoding, read from the bundled files so nothing is downloaded."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        folder = _bundled_cache_dir()
        if folder is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Tokens of `text` in cl100k_base (what prompt budgets are counted in).

    >>> count_tokens("hello world")
    2
    """
    return len(cl100k().encode(text, disallowed_special=()))
