"""Normalisation: table-driven cases for each pure text function."""

from __future__ import annotations

import pytest

from rag import normalize as nz


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Cafe\u0301", "Café"),  # NFC
        ("a \t b\u00a0c", "a b c"),
        ("line one  \r\nline two\r", "line one\nline two"),
        ("x\x03y\x00z\ufeff", "xyz"),  # control characters from Reuters' &#3; references
        ("   ", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert nz.clean_text(raw) == clean


@pytest.mark.parametrize(
    ("md", "plain"),
    [
        (r"boost military expenditures by \$3 billion", "boost military expenditures by $3 billion"),
        ("the UK's *Daily Express* said", "the UK's Daily Express said"),
        ("**[wsws.org/contact](https://www.wsws.org/contact)**", "wsws.org/contact"),
        ("## A heading", "A heading"),
        ("snake_case_name and 2*3*4 stay", "snake_case_name and 2*3*4 stay"),
        (r"1\. not a list", "1. not a list"),
    ],
)
def test_strip_markdown(md: str, plain: str) -> None:
    assert nz.strip_markdown(md) == plain


@pytest.mark.parametrize(
    ("first", "second", "broken"),
    [
        ("The continued massing of Western troops along", "Russia's border makes good on it.", True),
        ("The Kremlin has rejected claims and it also has", "backed the Belarusian president.", True),
        ('The charge of "Russian aggression" against Europe is', "among the central lies.", True),
        (
            "The regime, which has emerged out of an imperialist-backed, far-right coup in",
            "February 2014, has been promoting.",
            True,
        ),
        ("He said the troops were moving quickly.", "they arrived on Monday.", False),  # ends a sentence
        ("Background", "the talks began in May.", False),  # a heading (too short)
        ("What happened in the Baltic states last week", "The alliance met on Monday.", False),
        ("Three reasons the markets fell today were", "- rates", False),  # a list follows
        ('He said: "we will stay here for ever"', "and left.", False),  # closing quote
    ],
)
def test_is_broken(first: str, second: str, broken: bool) -> None:
    assert nz.is_broken(first, second) is broken


def test_normalize_body_joins_with_one_space_and_keeps_paragraphs() -> None:
    raw = (
        "First paragraph ends here.\n\nThe continued massing of Western troops along\n\n\n\nRussia's border."
    )
    assert (
        nz.normalize_body(raw)
        == "First paragraph ends here.\n\nThe continued massing of Western troops along Russia's border."
    )


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("14 June 2016", "2016-06-14"),
        ("15 November 2021", "2021-11-15"),
        ("26-FEB-1987 15:01:01.79", "1987-02-26T15:01:01"),
        (" 1-MAR-1987 09:00:00.00", "1987-03-01T09:00:00"),
        ("3-MAR-1987  09:15:05.40 noise", "1987-03-03T09:15:05"),
        ("31-MAR-1987 605:12:19.12", "1987-03-31"),  # malformed time: keep the day
        ("2024-01-31", "2024-01-31"),
        ("2024-01-31T09:00:00Z", "2024-01-31T09:00:00"),
        ("March 4, 2020", "2020-03-04"),
        ("June 2016", None),  # no day: no guessed date
        ("yesterday-ish", None),
        ("", None),
        ("31-FOO-1987", None),
    ],
)
def test_parse_date(raw: str, iso: str | None) -> None:
    assert nz.parse_date(raw) == iso


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("    By Steven Brull, Reuters", "Steven Brull"),
        ("by Jane Doe, Reuter", "Jane Doe"),
        ("BY JOHN SMITH", "John Smith"),
        ("Clara Weiss", "Clara Weiss"),
        ("", None),
    ],
)
def test_clean_author(raw: str, name: str | None) -> None:
    assert nz.clean_author(raw) == name


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Thomas Gaist 14 June 2016", ("Thomas Gaist", "2016-06-14")),
        ("15 November 2021", (None, "2021-11-15")),
        ("Clara Weiss", (None, None)),
    ],
)
def test_split_author_date(line: str, expected: tuple[str | None, str | None]) -> None:
    assert nz.split_author_date(line) == expected
