"""UI stage, export: a conversation with its citations -> Markdown (pure), and the file for download.

The Markdown is for people and other tools, not for a browser: article quotes go into blockquotes
as they are, and titles are written as plain text, never as links, so nothing in an article can
turn into a live link when the file is rendered elsewhere.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from rag.types import Answer, Citation

# One file per chat (the previous one is deleted when the next answer rewrites it), in a folder only
# this user can read (mkdtemp: mode 0700) under the temp dir, where Gradio serves files from; files
# older than KEEP_S are swept, and the folder goes when the process ends. The old shared
# /tmp/rag-exports kept every answer's export 24 h, readable by every local user.
KEEP_S = 3600
_private: Path | None = None
_MD_LINK_CHARS = re.compile(r"([\[\]<>])")


def _plain(text: str) -> str:
    """Backslash-escape the characters that start Markdown links or HTML: `[x](y)` -> `\\[x\\](y)`."""
    return _MD_LINK_CHARS.sub(r"\\\1", text)


def citation_line(c: Citation) -> str:
    """`[1] Title — Author, 2016-06-14, wsws.org` (unknown parts left out)."""
    meta = ", ".join(b for b in (c.author, c.date, c.source) if b)
    return f"\\[{c.number}\\] {_plain(c.title)}" + (f" — {_plain(meta)}" if meta else "")


def answer_markdown(answer: Answer) -> str:
    """One answer with its sources: the answer text, then each citation and its quoted span."""
    lines = [_plain(answer.text).strip(), ""]
    if answer.citations:
        lines.append("Sources:")
        lines.append("")
        for c in answer.citations:
            lines.append(citation_line(c))
            lines.extend("> " + _plain(q) for q in c.quote.splitlines() or [""])
            lines.append("")
    for w in answer.warnings:
        lines.append(f"_Note: {_plain(w)}_")
    return "\n".join(lines).rstrip() + "\n"


def answer_text(answer: Answer) -> str:
    """The answer as plain text for the clipboard: text with [n] markers, then the numbered quotes."""
    lines = [answer.text.strip()]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            meta = ", ".join(b for b in (c.author, c.date, c.source) if b)
            lines.append(f"[{c.number}] {c.title}" + (f" ({meta})" if meta else "") + f': "{c.quote}"')
    return "\n".join(lines) + "\n"


def conversation_markdown(answers: Sequence[Answer], title: str = "Conversation") -> str:
    """The whole chat: `## Q1: question`, the search query when it was rewritten, the answer, sources."""
    out = [f"# {title}", ""]
    for i, a in enumerate(answers, 1):
        out.append(f"## Q{i}: {_plain(a.question)}")
        out.append("")
        if a.query and a.query.strip() != a.question.strip():
            out += [f"_Searched for: {_plain(a.query)}_", ""]
        out.append(answer_markdown(a))
    return "\n".join(out).rstrip() + "\n"


def export_dir() -> Path:
    """This process's private export folder, created on first use."""
    global _private
    if _private is None or not _private.is_dir():
        _private = Path(tempfile.mkdtemp(prefix="rag-exports-"))
        atexit.register(shutil.rmtree, _private, True)
    return _private


def write_export(answers: Sequence[Answer], folder: Path | None = None, replaces: str | Path | None = None
                 ) -> Path:
    """Write the conversation to a fresh file (one per export, so sessions never share one); the
    chat's previous export, `replaces`, is deleted."""
    folder = export_dir() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    if replaces is not None and Path(replaces).parent == folder:
        Path(replaces).unlink(missing_ok=True)
    cutoff = time.time() - KEEP_S
    for old in folder.glob("conversation-*.md"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:  # another session removed it first
            pass
    path = folder / f"conversation-{uuid.uuid4().hex[:12]}.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(conversation_markdown(answers), encoding="utf-8")
    tmp.replace(path)
    return path
