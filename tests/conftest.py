"""Shared fixtures: settings with the deterministic hash embedder, and indexes of corpus/sample.

- `hash_settings`: Settings whose embedder is HashEmbedder(64) (embedding.model = "hash"); instant.
- `hash_index`: corpus/sample indexed with those settings (session-scoped; do not modify it).
- `model_cache`: the ONNX export cache. The project's own cache/models (keyed by the model's
  weight hash, so sharing it is safe): exporting takes 20-60 s, which the suite should pay once
  per checkout, not once per run. RAG_TEST_MODEL_CACHE=DIR points it elsewhere (e.g. empty).
- `sample_settings`: default settings (real all-MiniLM-L6-v2, backend auto) using that cache.
- `sample_index`: corpus/sample indexed with the real default model (session-scoped, read-only).
- `make_hash_index(articles, name)`: a fresh hash-embedder index of `Article`s in tmp_path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download in tests
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from rag.settings import SAMPLE_CORPUS, Settings  # noqa: E402
from rag.types import Article  # noqa: E402


@pytest.fixture(scope="session")
def model_cache() -> Path:
    folder = Path(os.environ.get("RAG_TEST_MODEL_CACHE") or Settings().embedding.cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def hash_settings_session(model_cache: Path) -> Settings:
    return Settings.from_env({}, embedding={"model": "hash", "cache_dir": str(model_cache)})


@pytest.fixture
def hash_settings(hash_settings_session: Settings) -> Settings:
    return hash_settings_session.model_copy(deep=True)


@pytest.fixture(scope="session")
def hash_index(tmp_path_factory: pytest.TempPathFactory, hash_settings_session: Settings) -> Path:
    from rag.indexer import build_index

    folder = tmp_path_factory.mktemp("hash-index") / "index"
    build_index([SAMPLE_CORPUS], folder, hash_settings_session)
    return folder


@pytest.fixture(scope="session")
def sample_settings(model_cache: Path) -> Settings:
    return Settings.from_env({}, embedding={"cache_dir": str(model_cache)})


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, sample_settings: Settings) -> Path:
    from rag.indexer import build_index

    folder = tmp_path_factory.mktemp("sample-index") / "index"
    build_index([SAMPLE_CORPUS], folder, sample_settings)
    return folder


@pytest.fixture
def make_hash_index(tmp_path: Path, hash_settings: Settings) -> Callable[..., Path]:
    from rag.indexer import index_articles

    def make(articles: Sequence[Article], name: str = "index") -> Path:
        folder = tmp_path / name
        index_articles(articles, folder, hash_settings)
        return folder

    return make


@pytest.fixture(scope="session")
def tiny_beir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-document BEIR folder assembled from tests/fixtures/eval/tiny-beir.

    The hand-written documents are kept as docs.jsonl so the repository holds no file that
    looks like a copied BEIR corpus; the loader's required name is given here.
    """
    folder = tmp_path_factory.mktemp("beir") / "tiny-beir"
    shutil.copytree(Path(__file__).parent / "fixtures" / "eval" / "tiny-beir", folder)
    (folder / "docs.jsonl").rename(folder / "corpus.jsonl")
    return folder
