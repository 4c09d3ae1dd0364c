"""`python app.py`: the chat UI over the default index, built from corpus/sample on first start."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from rag.cli import main  # noqa: E402  (the environment must be set before Gradio is imported)

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
