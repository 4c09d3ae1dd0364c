"""One settings object, in groups, read from defaults, the environment (RAG_GROUP__FIELD) and the CLI
(`--set GROUP.FIELD=VALUE` on every command); `rag settings` lists each value and where it came from."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = PROJECT_ROOT / "index" / "default"
SAMPLE_CORPUS = PROJECT_ROOT / "corpus" / "sample"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ChunkSettings(_Group):
    # all-MiniLM-L6-v2 reads 256 word pieces; 200 leaves room for the title/date header
    # and [CLS]/[SEP]. The chunking study in eval/ picks size and overlap.
    max_tokens: int = Field(200, ge=16, le=2048)
    overlap_sentences: int = Field(1, ge=0, le=5)
    model_max_tokens: int = Field(256, ge=32)  # hard limit of the embedder, header included
    header_tokens: int = Field(40, ge=0)  # budget reserved for the embedded header


class EmbeddingSettings(_Group):
    model: str = "all-MiniLM-L6-v2"  # name, hub id or local path of a sentence-transformers model
    backend: Literal["auto", "onnx-int8", "onnx", "torch"] = "auto"
    batch_size: int = Field(32, ge=1)
    cache_dir: str = str(PROJECT_ROOT / "cache" / "models")


class IndexSettings(_Group):
    kind: Literal["auto", "flat", "hnsw", "ivfpq"] = "auto"
    hnsw_threshold: int = Field(50_000, ge=0)  # exact search stays fast up to here
    # past here auto picks IVF-PQ on disk: HNSW's fp32 vectors + graph cost ~2.3 KB of RAM per passage
    # (eval/results/bench_scale.md), the IVF-PQ index ~0 (memory-mapped); below it HNSW is faster
    ivfpq_threshold: int = Field(1_000_000, ge=0)


class RetrievalSettings(_Group):
    mode: Literal["bm25", "dense", "hybrid"] = "hybrid"
    # 12 passages: the answer stage finds the answer sentence among them more often than among 8 and
    # refuses near misses better (eval/results/answerhood_fit.md); still ~0.2 s per answer
    k: int = Field(12, ge=1, le=200)
    # Defaults chosen on SciFact train, checked once on test (eval/results/tune_retrieval.md): z-scored
    # article-level fusion with BM25-seeded dense feedback. nDCG@10 train 0.725 -> 0.743, test 0.725 ->
    # 0.730 (within noise on test: kept because it does not hurt there; issue 4's 0.74 is not reached).
    fusion: Literal["rrf", "weighted", "zscore"] = "zscore"
    # "article": fuse per article (best passage per list); an article's passages share its fused score,
    # less their passage-level gap to its best one (rag.retrieval.fusion.fuse_articles). "passage":
    # fuse the passage lists as they are.
    fusion_level: Literal["passage", "article"] = "article"
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.6, ge=0.0, le=1.0)
    candidates: int = Field(100, ge=1)  # per retriever, before fusion
    # Hybrid only: the dense query vector is q + dense_prf * mean(vectors of the top dense_prf_top
    # BM25 passages), re-normalised (Rocchio feedback from the lexical side). 0 disables it.
    dense_prf: float = Field(0.25, ge=0.0)
    dense_prf_top: int = Field(3, ge=1)
    collapse_duplicates: bool = True
    mmr: bool = False
    mmr_lambda: float = Field(0.7, ge=0.0, le=1.0)
    time_aware: bool = True
    reranker: str | None = None  # cross-encoder name or local path; None disables reranking
    rerank_top: int = Field(30, ge=1)


class AnswerSettings(_Group):
    answerer: Literal["extractive", "local", "llm"] = "extractive"
    max_sentences: int = Field(4, ge=1, le=20)
    # Refusal threshold on the best sentence's probability of answering (rag.answer.answerhood). None:
    # the threshold calibrated with the model on the BBC QA dev split (eval/fit_answerhood.py).
    min_support: float | None = Field(None, ge=0.0, le=1.0)
    context_tokens: int = Field(3000, ge=256)


class LLMSettings(_Group):
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout_s: float = Field(30.0, gt=0)
    temperature: float = Field(0.1, ge=0.0, le=2.0)


class LocalSettings(_Group):
    """The in-process model of the "local" answerer (rag.answer.local); see eval/results/bench_local.md."""

    model_path: str | None = None  # a GGUF to load instead of the installed Qwen2.5-Coder-1.5B weights
    sha256: str | None = None  # the hash model_path must have (default: the installed weights' hash)
    threads: int = Field(0, ge=0)  # 0: one per core
    n_ctx: int = Field(2048, ge=512)
    # The prompt is the latency (about 60 prompt tokens/s on 2 cores): few passages, each cut to the
    # sentences around the question's terms (rag.answer.local_prompt.trim).
    passages: int = Field(3, ge=1, le=9)
    passage_tokens: int = Field(120, ge=16)
    max_tokens: int = Field(160, ge=16)
    # Refuse when the judge's confidence that the extractive quotes answer (the model's "yes" weighed
    # with the extractive answer's probability, rag.answer.local_judge) is below this. None: the
    # threshold calibrated on dev with the weights (rag/answer/local_judge.json); 0 turns the judge off.
    judge_threshold: float | None = Field(None, ge=0.0, le=1.0)


class UISettings(_Group):
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)
    auth: str | None = None  # "user:pass"


class Settings(_Group):
    chunking: ChunkSettings = ChunkSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    index: IndexSettings = IndexSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()
    local: LocalSettings = LocalSettings()
    ui: UISettings = UISettings()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then RAG_GROUP__FIELD variables, then the command's `--set GROUP.FIELD=VALUE`, then
        keyword overrides {group: {field: v}} (a command's own flags, such as `search --mode`).

        The OpenAI-style variables OPENAI_BASE_URL / OPENAI_API_KEY fill the LLM group too.
        """
        data: dict[str, dict[str, Any]] = {g: dict(v) for g, v in _env_layer(environ)[0].items()}
        for layer in (_cli_sets, overrides):
            for group, values in layer.items():
                data.setdefault(group, {}).update({k: v for k, v in values.items() if v is not None})
        try:
            return cls.model_validate(data)
        except Exception as exc:  # pydantic's message names the field and the problem
            raise SettingsError(f"Invalid settings: {exc}") from exc

    def fingerprint(self, *groups: str) -> str:
        """A short hash of the named groups (all when none), stored with indexes and results."""
        dump = self.model_dump()
        if groups:
            dump = {g: dump[g] for g in groups}
        dump.get("llm", {}).pop("api_key", None)
        blob = json.dumps(dump, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


# The running command's `--set GROUP.FIELD=VALUE` (rag.cli.main sets them once per command).
_cli_sets: dict[str, dict[str, str]] = {}


def _env_layer(environ: Mapping[str, str] | None) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Settings named by the environment, and for each "group.field" the variable that named it."""
    env = os.environ if environ is None else environ
    data: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for key, value in env.items():
        if not key.startswith("RAG_") or "__" not in key:
            continue
        group, _, name = key[4:].lower().partition("__")
        data.setdefault(group, {})[name] = value
        origin[f"{group}.{name}"] = f"env {key}"
    for key, name in (("OPENAI_BASE_URL", "base_url"), ("OPENAI_API_KEY", "api_key")):
        if key in env and name not in data.get("llm", {}):
            data.setdefault("llm", {})[name] = env[key]
            origin[f"llm.{name}"] = f"env {key}"
    return data, origin


def parse_sets(pairs: Sequence[str]) -> dict[str, dict[str, str]]:
    """['retrieval.rrf_k=30'] -> {'retrieval': {'rrf_k': '30'}} (pydantic converts the types)."""
    out: dict[str, dict[str, str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        group, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise SettingsError(f"--set {pair!r} is not GROUP.FIELD=VALUE (e.g. retrieval.rrf_k=30).")
        field = Settings.model_fields.get(group)
        model = field.annotation if field else None
        if not (isinstance(model, type) and issubclass(model, _Group) and name in model.model_fields):
            raise SettingsError(f"--set {pair!r}: there is no setting {group}.{name}.",
                                help="`rag settings` lists them all.")
        out.setdefault(group, {})[name] = value
    return out


def use_cli_sets(pairs: Sequence[str]) -> None:
    """Make `--set` pairs a layer of every `Settings.from_env` in this process (one command)."""
    sets = parse_sets(pairs)
    _cli_sets.clear()
    _cli_sets.update(sets)


SECRETS = frozenset({"llm.api_key", "ui.auth"})


def setting_rows(environ: Mapping[str, str] | None = None) -> list[tuple[str, Any, str]]:
    """(group.field, current value, where it came from: default, the variable's name, or --set) for
    every setting; secrets are shown as '***'."""
    values = Settings.from_env(environ).model_dump()
    origin = _env_layer(environ)[1]
    rows = []
    for group, fields in values.items():
        for name, value in fields.items():
            key = f"{group}.{name}"
            where = "--set" if name in _cli_sets.get(group, {}) else origin.get(key, "default")
            rows.append((key, "***" if key in SECRETS and value else value, where))
    return rows
