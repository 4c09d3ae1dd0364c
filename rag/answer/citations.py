"""Citation stage: [n] markers in generated text -> checked citations of exact article spans.

The LLM is told to cite passage numbers; it may cite numbers it was never given, cite nothing, or
cite a passage that does not say what the sentence says (an injected instruction, a hallucination).
Each sentence is therefore re-checked against the passages it cites: the best supporting span becomes
its citation, unknown keys are dropped with a warning, and a sentence with no supporting span, or with
a figure that no passage it cites states (rag.answer.figures), is marked `[unsupported]` in the text and
named in the warnings, never passed off as grounded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.answer.figures import missing_figures
from rag.answer.injection import overlaps_instruction
from rag.answer.markers import ANY, UNSUPPORTED, parse_markers, strip_markers
from rag.answer.support import best_span
from rag.chunking import sentence_spans
from rag.embedding import Embedder
from rag.types import Citation, Hit, Passage

# "Claim. [1]" -> "Claim [1]." so the marker stays with its sentence when the text is split
# (also after a closing quote: 'he said "no." [2]').
_MARKER_AFTER_STOP = re.compile(rf"([.!?][\"'”’)]*)((?:\s*{ANY})+)")
# Support a cited span must reach for an LLM sentence to count as backed by it. Calibrated by
# eval/calibrate_refusal.py: SciFact claims score 0.30-0.97 (p10 0.45) against their evidence
# abstract and 0.00-0.36 (p90 0.23) against a random one; 0.30 accepts 99% and rejects 99%
# (eval/results/refusal_calibration.md). It checks that a sentence is *about* what its passage says,
# not that it agrees: a changed figure is caught by the figures check, a negated claim still passes.
MIN_CLAIM_SUPPORT = 0.30
# A list item's marker at the start of a line ("1.", "2)", "-", "*", "•"). Sentence splitting makes
# "1." a sentence of its own; it is kept in the output, in front of its item, and left out of the
# claim that is checked.
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])(?:\s+|$)")
# What an answer says when the archive does not cover the question (its closest passages follow), and
# when nothing matched at all: every answerer's refusal, and what the UI recognises as one.
REFUSAL = "The corpus does not appear to cover this question"
NO_HITS = "No passages matched the question and filters, so there is nothing to answer from."
REFUSAL_SOURCES = 3  # the closest passages a refusal cites, for the reader to judge


@dataclass(frozen=True)
class Draft:
    """An answer's text and citations before the question, query and hits are attached."""

    text: str
    citations: list[Citation]
    grounded: bool
    warnings: list[str] = field(default_factory=list)
    support: float = 0.0  # best support score seen (diagnostics, calibration)


def citation_at(number: int, passage: Passage, start: int, end: int) -> Citation:
    """A citation of article[start:end], quoted from the passage (which is an exact article slice)."""
    if not passage.start <= start <= end <= passage.end:
        where = f"{passage.id} ({passage.start}-{passage.end})"
        raise ValueError(f"span {start}-{end} lies outside passage {where}")
    quote = passage.text[start - passage.start : end - passage.start]
    return Citation(number, passage.id, passage.article_id, passage.title, passage.date, passage.author,
                    passage.source, start, end, quote)


def split_answer(text: str) -> list[str]:
    """Sentences of a generated answer, each keeping the markers written right after it."""
    return [sentence for sentence, _ in answer_lines(text)]


def answer_lines(text: str) -> list[tuple[str, bool]]:
    r"""(sentence, whether it starts a new line), a list item's marker joined to its first sentence.

    >>> answer_lines("Two things:\n1. Troops arrive [1].\n2. Ships leave [2].")
    [('Two things:', False), ('1. Troops arrive [1].', True), ('2. Ships leave [2].', True)]
    """
    text = _MARKER_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)
    out: list[tuple[str, bool]] = []
    pending, pending_line, last = "", False, 0
    for s, e in sentence_spans(text):
        new_line = "\n" in text[last:s]
        last = e
        sentence = text[s:e]
        if _LIST_ITEM.fullmatch(sentence + " "):
            pending, pending_line = f"{pending}{sentence} ", pending_line or new_line
            continue
        out.append((pending + sentence, (pending_line or new_line) and bool(out)))
        pending, pending_line = "", False
    if pending:
        out.append((pending.strip(), pending_line and bool(out)))
    return out


def _with_markers(claim: str, markers: str) -> str:
    # put the marker before the final stop, as it was asked for ("... 1,000 soldiers [1].")
    if claim and claim[-1] in ".!?":
        return f"{claim[:-1]} {markers}{claim[-1]}"
    return f"{claim} {markers}"


def verify(
    text: str, hits: Sequence[Hit], embedder: Embedder, min_support: float = MIN_CLAIM_SUPPORT,
    cache: dict[str, np.ndarray] | None = None,
) -> Draft:
    """Map the markers of `text` (numbered over `hits`, 1-based) to checked, renumbered citations.
    `cache` keeps the cited passages' sentence vectors between calls on growing text (streaming)."""
    citations: list[Citation] = []
    number_of: dict[tuple[str, int, int], int] = {}
    warnings: list[str] = []
    out: list[str] = []
    supported = 0
    best_seen = 0.0
    passage_vecs: dict[str, np.ndarray] = {} if cache is None else cache  # each passage embedded once
    for k, (sentence, new_line) in enumerate(answer_lines(text), start=1):
        item = _LIST_ITEM.match(sentence)
        bullet = item.group(0).strip() + " " if item else ""
        claim = strip_markers(sentence[item.end():] if item else sentence)
        keys = parse_markers(sentence)
        if not claim:
            continue
        if out and new_line:
            out[-1] += "\n"
        valid = [key for key in keys if 1 <= key <= len(hits)]
        warnings.extend(f"dropped unknown citation [{key}]" for key in keys if key not in valid)
        backing, obeyed = [], []
        for key in valid:
            passage = hits[key - 1].passage
            span = best_span(claim, passage, embedder, passage_vecs)
            if span is None:
                continue
            best_seen = max(best_seen, span.score)
            if overlaps_instruction(passage.text, span.start - passage.start, span.end - passage.start):
                obeyed.append(key)  # it repeats what the passage tells a reader to say, not what it reports
            elif span.score >= min_support:
                backing.append((passage, span))
        missing = missing_figures(claim, [p for p, _ in backing]) if backing else []
        if backing and not missing:
            numbers = []
            for passage, span in backing:
                ident = (passage.article_id, span.start, span.end)
                if ident not in number_of:
                    number_of[ident] = len(citations) + 1
                    citations.append(citation_at(number_of[ident], passage, span.start, span.end))
                numbers.append(number_of[ident])
            supported += 1
            out.append(bullet + _with_markers(claim, "[" + ", ".join(map(str, dict.fromkeys(numbers))) + "]"))
            continue
        cited = ", ".join(f"[{key}]" for key in valid)
        if obeyed and not backing:
            warnings.append(f"sentence {k} repeats an instruction found in its cited passage "
                            f"{', '.join(f'[{key}]' for key in obeyed)}; article text is not obeyed")
        elif missing:
            warnings.append(f"sentence {k} states {', '.join(missing)}, which its cited passage {cited} "
                            "does not")
        elif valid:
            warnings.append(f"sentence {k} is not supported by its cited passage {cited}")
        else:
            warnings.append(f"sentence {k} has no valid citation")
        out.append(bullet + _with_markers(claim, UNSUPPORTED))
    grounded = supported > 0 and supported == len(out)
    text = "".join(piece if piece.endswith("\n") or i == len(out) - 1 else piece + " "
                   for i, piece in enumerate(out))
    return Draft(text, citations, grounded, warnings, best_seen)


def refusal_text(citations: Sequence[Citation]) -> str:
    """The refusal, naming the closest passages it cites.

    >>> refusal_text([])
    'The corpus does not appear to cover this question.'
    """
    markers = [f"[{c.number}]" for c in citations]
    if not markers:
        return f"{REFUSAL}."
    listed = markers[0] if len(markers) == 1 else ", ".join(markers[:-1]) + " and " + markers[-1]
    return f"{REFUSAL}; the closest passages are {listed}."


def is_refusal(text: str) -> bool:
    """Whether an answer refuses: not grounded, and honestly so (the UI does not warn about it).

    >>> is_refusal(refusal_text([])), is_refusal(NO_HITS), is_refusal("Foxx won [1].")
    (True, True, False)
    """
    return text.startswith((REFUSAL, NO_HITS))
