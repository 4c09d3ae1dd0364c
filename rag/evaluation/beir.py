"""Read a BEIR folder (corpus.jsonl, queries.jsonl, qrels/{split}.tsv); errors name the file and line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import EvalInputError
from rag.types import Article

_QRELS_HELP = (
    "Each qrels line is 'query-id<TAB>corpus-id<TAB>score' (score an integer) after one header line."
)


@dataclass(frozen=True)
class BeirDataset:
    """The queries of one split with their relevance judgements; the corpus stays on disk."""

    name: str
    folder: Path
    split: str
    queries: dict[str, str]  # only the queries judged in this split, in qrels order
    qrels: dict[str, dict[str, int]]
    n_docs: int
    corpus_fingerprint: str  # keys the index: same corpus file -> same index
    fingerprint: str  # corpus + queries + this split's qrels: stamped on every report
    warnings: list[str] = field(default_factory=list)

    @property
    def corpus_path(self) -> Path:
        return self.folder / "corpus.jsonl"


def _need(path: Path, what: str) -> Path:
    if not path.is_file():
        raise EvalInputError(
            f"{path} not found ({what}).",
            help="A BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv.",
        )
    return path


def file_hash(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:12]


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; a line that is not a JSON object is an error."""
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalInputError(
                    f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno}).",
                    help="Each line must be one JSON object; fix or delete that line.",
                ) from exc
            if not isinstance(obj, dict):
                raise EvalInputError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}.")
            yield lineno, obj


def _record_id(path: Path, lineno: int, obj: dict[str, Any]) -> str:
    value = obj.get("_id", obj.get("id"))
    if value is None or str(value).strip() == "":
        raise EvalInputError(
            f"{path}:{lineno}: record has no '_id'.", help="Give every record an '_id' field."
        )
    return str(value)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels (tab-separated, header line) or TREC qrels (qid 0 docid rel); rows in file order."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            if lineno == 1 and line.lower().startswith(("query-id", "query_id", "qid")):
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            parts = [p.strip() for p in parts]
            if len(parts) == 4:  # TREC layout: the second column is unused
                parts = [parts[0], parts[2], parts[3]]
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise EvalInputError(f"{path}:{lineno}: expected 3 columns, got {line!r}.", help=_QRELS_HELP)
            try:
                score = int(parts[2])
            except ValueError:
                raise EvalInputError(
                    f"{path}:{lineno}: score {parts[2]!r} is not an integer.", help=_QRELS_HELP
                ) from None
            qrels.setdefault(parts[0], {})[parts[1]] = score
    if not qrels:
        raise EvalInputError(f"{path}: no judgements found.", help=_QRELS_HELP)
    return qrels


def corpus_ids(path: Path) -> list[str]:
    """Document ids in file order; checks each line is a record with an id and some text."""
    ids = []
    for lineno, obj in iter_jsonl(path):
        doc_id = _record_id(path, lineno, obj)
        if not str(obj.get("text") or "").strip() and not str(obj.get("title") or "").strip():
            raise EvalInputError(f"{path}:{lineno}: document {doc_id} has neither title nor text.")
        ids.append(doc_id)
    return ids


def load_beir(folder: str | Path, split: str = "test") -> BeirDataset:
    """Load the judged queries of `split`. Unknown doc ids in qrels become warnings (they count as misses)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise EvalInputError(f"{folder} is not a folder.", help="Pass the BEIR dataset folder to --beir.")
    corpus = _need(folder / "corpus.jsonl", "the documents")
    queries_path = _need(folder / "queries.jsonl", "the queries")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise EvalInputError(
            f"{qrels_path} not found.",
            help=f"Splits available here: {', '.join(have) or 'none'}; pick one with --split.",
        )
    qrels = read_qrels(qrels_path)
    all_queries = {
        _record_id(queries_path, n, obj): str(obj.get("text", "")) for n, obj in iter_jsonl(queries_path)
    }
    missing = [q for q in qrels if q not in all_queries]
    if missing:
        raise EvalInputError(
            f"{qrels_path}: {len(missing)} judged queries are not in {queries_path} (first: {missing[:5]}).",
            help="Use the queries.jsonl that belongs to these qrels.",
        )
    ids = corpus_ids(corpus)
    known = set(ids)
    warnings = []
    unknown = sorted({d for judged in qrels.values() for d in judged if d not in known})
    if unknown:
        warnings.append(
            f"{len(unknown)} judged doc ids are not in the corpus (they count as misses): {unknown[:5]}"
        )
    return BeirDataset(
        name=folder.resolve().name,
        folder=folder,
        split=split,
        queries={q: all_queries[q] for q in qrels},
        qrels=qrels,
        n_docs=len(ids),
        corpus_fingerprint=file_hash(corpus),
        fingerprint=file_hash(corpus, queries_path, qrels_path),
        warnings=warnings,
    )


def corpus_articles(path: Path) -> Iterator[Article]:
    """BEIR documents as articles: the doc id is the article id, so qrels match retrieved articles."""
    for lineno, obj in iter_jsonl(path):
        title = str(obj.get("title") or "").strip()
        text = str(obj.get("text") or "").strip() or title  # a title-only document is still searchable
        yield Article(id=_record_id(path, lineno, obj), title=title, text=text, origin=f"{path}:{lineno}")
