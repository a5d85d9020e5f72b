"""Russian dates, independent of the machine's locale (mfc_dates)."""

import datetime as dt
import re
import zoneinfo

import pytest

from mfc_dates import isodate, ru_date, ru_month

ASTRAKHAN = zoneinfo.ZoneInfo("Europe/Astrakhan")
ENGLISH_MONTH = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|"
    r"November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b"
)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (dt.date(2013, 9, 20), "20 сентября 2013 г."),
        (dt.date(2026, 1, 1), "1 января 2026 г."),
        (dt.date(2024, 2, 29), "29 февраля 2024 г."),
        (dt.date(2025, 3, 8), "8 марта 2025 г."),
        (dt.date(2025, 5, 9), "9 мая 2025 г."),
        # an aware datetime keeps its own (Astrakhan) calendar day
        (dt.datetime(2025, 12, 31, 23, 30, tzinfo=ASTRAKHAN), "31 декабря 2025 г."),
    ],
)
def test_ru_date_long_uses_the_genitive(date, expected):
    assert ru_date(date) == expected


def test_ru_date_short():
    assert ru_date(dt.date(2013, 9, 20), "short") == "20.09.2013"


def test_ru_date_remembers_days_not_instants():
    """The same instant is another calendar day in another time zone (two
    datetimes that compare equal), and one day is shown in several formats:
    remembering the formatted dates (ru_date is called for every list entry
    of every page) must keep them apart."""
    astrakhan = dt.datetime(2025, 1, 1, 1, 30, tzinfo=ASTRAKHAN)
    utc = astrakhan.astimezone(dt.UTC)
    assert astrakhan == utc
    for _ in range(2):
        assert ru_date(astrakhan) == "1 января 2025 г."
        assert ru_date(utc) == "31 декабря 2024 г."
        assert ru_date(astrakhan, "short") == "01.01.2025"
        assert ru_date(astrakhan.date(), "day_month") == "1 января"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "Январь"),
        (5, "Май"),
        (dt.date(2013, 9, 20), "Сентябрь"),
        ((2013, 12), "Декабрь"),
    ],
)
def test_ru_month_is_nominative(value, expected):
    assert ru_month(value) == expected


def test_isodate_keeps_the_timezone():
    assert (
        isodate(dt.datetime(2013, 9, 20, tzinfo=ASTRAKHAN))
        == "2013-09-20T00:00:00+04:00"
    )


def test_no_english_month_name_anywhere(site):
    for path in site.html_files():
        text = path.read_text(encoding="utf-8")
        match = ENGLISH_MONTH.search(text)
        assert match is None, f"{path}: English month {match.group()!r}"


def test_dates_in_output_are_russian_in_a_c_locale(site):
    """The fixture site is built with LC_ALL=C: Russian months must still be there."""
    text = site.file("/news/").read_text(encoding="utf-8")
    assert "января 2020 г." in text
