"""What an index build or removal did: counts, problems and the summary every run ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.types import Problem


@dataclass(frozen=True)
class BuildReport:
    index_dir: Path
    added: int = 0
    changed: int = 0  # "updated" in the summary
    removed: int = 0
    unchanged: int = 0
    kept: int = 0  # articles of the previous index not among this run's inputs, carried over
    protected: int = 0  # of those, ones --prune would have removed but whose file could not be read
    moved: int = 0  # earlier articles found again (same title and text) under another id, replaced
    failed: int = 0  # input problems that cost an article or a file (decoding notes not counted)
    failed_paths: list[str] = field(default_factory=list)  # PATH arguments that could not be read
    passages: int = 0
    embedded: int = 0  # passages whose vectors were computed in this run
    resumed: int = 0  # vectors taken from the journal of an interrupted run
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    full_reason: str | None = None  # why everything was re-embedded, when it was
    nothing_to_do: bool = False
    notes: list[str] = field(default_factory=list)

    def account(self) -> str:
        """The one-line account every run ends with."""
        return (f"{self.added} added, {self.changed} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed, {self.failed} failed")

    def summary(self) -> str:
        if self.nothing_to_do:
            lines = [f"Nothing to do in {self.index_dir}: {self.account()}."]
        else:
            lines = [
                f"Indexed {self.index_dir}: {self.account()}; {self.passages} passages, "
                f"{self.embedded} embedded"
                + (f", {self.resumed} resumed from an interrupted run" if self.resumed else "")
                + f" ({self.seconds:.1f} s)."
            ]
        if self.full_reason:
            lines.append(f"Re-embedded everything: {self.full_reason}.")
        if self.kept:
            lines.append(f"Kept {self.kept} earlier article(s) that are not under these paths"
                         + (f" ({self.protected} because their file or folder could not be read)."
                            if self.protected else " (--prune removes them)."))
        if self.moved:
            lines.append(f"Replaced {self.moved} earlier article(s) found again under another path.")
        lines.extend(self.notes)
        if self.failed_paths:
            lines.append(f"Could not read: {', '.join(self.failed_paths)}.")
        if self.problems:  # a file decoded with a fallback encoding was indexed: not a loss, said apart
            from rag.ingest import is_note

            decoded = sum(1 for p in self.problems if is_note(p))
            parts = [f"{decoded} file(s) decoded with a fallback encoding and indexed"] if decoded else []
            lost = len(self.problems) - decoded
            parts += [f"{lost} input problem(s) not indexed"] if lost else []
            lines.append(f"{', '.join(parts)}; each listed on stderr.")
        return "\n".join(lines)
