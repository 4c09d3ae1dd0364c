"""rag: question answering over a news archive, with answers that cite the exact passage."""

__version__ = "0.1.0"
