"""UI stage: the Gradio chat app with a sources panel (`build_app`, `serve`).

`rag.ui.render`, `rag.ui.export`, `rag.ui.feedback` and `rag.ui.session` are pure or file-only and
import without Gradio; `build_app` and `serve` import it on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rag.ui import app

        return getattr(app, name)
    raise AttributeError(name)
