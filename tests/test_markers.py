"""Citation markers: one table of marker strings, read by every function that reads markers."""

from __future__ import annotations

import re

import pytest
from test_answer_helpers import injection_article, nato_article, passages_of

from rag.answer import markers
from rag.answer.citations import UNSUPPORTED, split_answer, verify
from rag.answer.figures import figures
from rag.embedding import HashEmbedder
from rag.evaluation.answers import answer_in
from rag.types import Hit
from rag.ui.render import answer_html

EMB = HashEmbedder(256)
TARGET = "The US, Germany and Britain will each contribute 1,000 soldiers"

# (answer text, cited numbers, text without markers)
TABLE = [
    ("Troops arrive [1].", [1], "Troops arrive."),
    ("Troops arrive [1, 2].", [1, 2], "Troops arrive."),
    ("Troops arrive [1; 2].", [1, 2], "Troops arrive."),
    ("Troops arrive [1,2;3].", [1, 2, 3], "Troops arrive."),
    ("Troops arrive [1-3].", [1, 2, 3], "Troops arrive."),
    ("Troops arrive [2\u20133].", [2, 3], "Troops arrive."),
    ("Troops arrive [1][2].", [1, 2], "Troops arrive."),
    ("Troops arrive [2] and leave [1, 2].", [2, 1], "Troops arrive and leave."),
    ("Troops arrive [unsupported].", [], "Troops arrive."),
    ("Troops arrive [1] [unsupported].", [1], "Troops arrive."),
    ("In 2016 troops arrive [1].", [1], "In 2016 troops arrive."),
    ("Not markers [a] [ ] [1a] [1,].", [], "Not markers [a] [ ] [1a] [1,]."),
    ("No marker at all.", [], "No marker at all."),
]
IDS = [row[0] for row in TABLE]


@pytest.mark.parametrize("text, numbers, stripped", TABLE, ids=IDS)
def test_parse_and_strip(text, numbers, stripped):
    assert markers.parse_markers(text) == numbers
    assert markers.strip_markers(text) == stripped


@pytest.mark.parametrize("text, numbers, stripped", TABLE, ids=IDS)
def test_figures_check_never_reads_a_marker_as_a_figure(text, numbers, stripped):
    """The bug this module fixed: '[1; 2]' reached the figures check as the figures 1 and 2."""
    assert [f.text for f in figures(markers.strip_markers(text))] == [f.text for f in figures(stripped)]


@pytest.mark.parametrize("text, numbers, stripped", TABLE, ids=IDS)
def test_ui_chips_are_the_cited_numbers(text, numbers, stripped):
    chips = [int(n) for n in re.findall(r'data-n="(\d+)"', answer_html(text, turn=0))]
    assert list(dict.fromkeys(chips)) == numbers
    # a marker that names a citation the answer does not have stays plain text
    assert "cite-group" not in answer_html(text, turn=0, numbers=[99])


@pytest.mark.parametrize("text, numbers, stripped", TABLE, ids=IDS)
def test_eval_reads_the_answer_without_markers(text, numbers, stripped):
    plain = markers.strip_markers(text)
    assert answer_in(plain, ["troops arrive"]) == ("troops arrive" in text.lower())
    # a cited number is never taken for an answer
    assert not any(answer_in(plain, [str(n)]) for n in numbers if str(n) not in stripped)


@pytest.mark.parametrize("text, numbers, stripped", TABLE, ids=IDS)
def test_split_answer_keeps_markers_with_their_sentence(text, numbers, stripped):
    """'Claim. [1]' is read as 'Claim [1].' whatever the marker's form, and no marker is lost."""
    first = re.search(markers.ANY, text)
    if first and text.endswith(first.group(0) + "."):
        moved = f"{text[:first.start()].rstrip()}. {text[first.start():-1]} Next."
        assert split_answer(moved) == [text, "Next."]
    assert markers.parse_markers(" ".join(split_answer(text))) == numbers


def test_a_marker_inside_quoted_article_text_is_no_chip():
    text = 'The report says "see [3] below" [1].'
    quote = (text.index('"'), text.rindex('"') + 1)
    html = answer_html(text, turn=0, numbers=[1, 3], quoted=[quote])
    assert html.count("cite-group") == 1 and "[3]" in html.replace("&#91;", "[").replace("&#93;", "]")


@pytest.mark.parametrize("marker", ["[{k}; {o}]", "[{k}, {o}]", "[{k}][{o}]", "[{o}; {k}]"])
def test_llm_sentence_with_two_citations_is_checked_not_flagged(marker):
    """Before: 'Claim [1; 2].' came out as 'Claim [1; 2] [unsupported]' with 'states 1, 2, which its
    cited passage ... does not'."""
    passages = passages_of(nato_article(), injection_article())
    hits = [Hit(p, 1.0 / (i + 1), i + 1) for i, p in enumerate(passages)]
    k = next(i for i, h in enumerate(hits, start=1) if TARGET in h.passage.text)
    o = next(i for i in range(1, len(hits) + 1) if i != k)
    draft = verify(f"{TARGET} {marker.format(k=k, o=o)}.", hits, EMB)
    assert UNSUPPORTED not in draft.text and draft.grounded, draft.warnings
    assert draft.text == f"{TARGET} [1]." and TARGET in draft.citations[0].quote


def test_ranges_are_bounded():
    assert markers.parse_markers("[3-5]") == [3, 4, 5]
    assert markers.parse_markers("[5-3]") == [5, 3]  # not a range: both ends kept, checked later
    assert markers.parse_markers("[1-1000]") == [1, 1000]
