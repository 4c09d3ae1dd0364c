"""Date filter bounds: the CLI and the UI read them with the same rules (rag/dates.py)."""

from __future__ import annotations

import pytest

from rag.cli.search_cmd import date_range as cli_range
from rag.errors import SettingsError
from rag.ui.session import make_filters


@pytest.mark.parametrize("since, until, ok", [
    ("2016", "2016", True),
    ("2016-05", "2016", True),  # May lies within "up to 2016" (the UI refused this before)
    ("1987-03-05", "1987-03", True),  # the CLI refused this before
    ("", "2016-02-29", True),
    ("2017", "2016-12", False),
    ("2016-13", "", False),
    ("2015-02-29", "", False),
    ("June 2016", "", False),
])
def test_cli_and_ui_accept_the_same_ranges(since, until, ok):
    if ok:
        cli_range(since, until)
        make_filters(since, until, (), ())
        return
    with pytest.raises(SettingsError):
        cli_range(since, until)
    with pytest.raises(ValueError):
        make_filters(since, until, (), ())


def test_cli_widens_a_year_to_its_first_and_last_day():
    assert cli_range("1987", "1987") == ("1987-01-01", "1987-12-31")
    assert cli_range("1987-03", "1987-03") == ("1987-03", "1987-03")
