"""UI stage, feedback: thumbs up / down on an answer -> one JSON line in `<index>/feedback.jsonl`.

Each record holds the question, the answer and its citations, so the file is evaluation data on
its own, without the session that produced it.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.types import Answer

FEEDBACK_FILE = "feedback.jsonl"
_LOCK = threading.Lock()  # Gradio runs handlers in worker threads


def feedback_record(answer: Answer, liked: bool, session: str = "", turn: int = 0) -> dict[str, Any]:
    """The JSON-ready record for one vote (pure; `ts` is UTC ISO-8601)."""
    return {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": "up" if liked else "down",
        "session": session,
        "turn": turn,
        "question": answer.question,
        "query": answer.query,
        "answer": answer.text,
        "grounded": answer.grounded,
        "answerer": answer.answerer,
        "filters": answer.filters.to_dict(),
        "citations": [c.to_dict() for c in answer.citations],
    }


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one line with a single O_APPEND write, so concurrent writers never interleave lines."""
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
            while written < len(line):  # short writes are rare but legal
                written += os.write(fd, line[written:])
        finally:
            os.close(fd)


def save_feedback(index_dir: str | Path, answer: Answer, liked: bool, session: str = "",
                  turn: int = 0) -> Path:
    path = Path(index_dir) / FEEDBACK_FILE
    append_jsonl(path, feedback_record(answer, liked, session, turn))
    return path


def read_feedback(index_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(index_dir) / FEEDBACK_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
