"""Russian dates for the theme, made with Babel.

Pelican formats dates with ``strftime``, which depends on an installed OS
locale: on a machine without ``ru_RU`` it silently prints English month
names. These Jinja filters use Babel's CLDR data instead, so the output is the
same on every machine::

    {{ article.date|ru_date }}        → 20 сентября 2013 г.
    {{ article.date|ru_date("short") }} → 20.09.2013
    {{ period|ru_month }}             → сентябрь
    {{ article.date|isodate }}        → 2013-09-20T00:00:00+04:00
"""

from __future__ import annotations

import datetime as dt
import functools

from babel.dates import format_date, get_month_names
from pelican import signals

LOCALE = "ru"
# Babel pattern names (CLDR) or explicit patterns, by the name the theme uses.
FORMATS = {
    "long": "d MMMM y 'г.'",  # 20 сентября 2013 г.
    "day_month": "d MMMM",  # 20 сентября
    "short": "dd.MM.y",  # 20.09.2013
    "month_year": "LLLL y",  # сентябрь 2013 (standalone month)
}


def ru_date(value: dt.date, fmt: str = "long") -> str:
    """Format a date in Russian with the month in the genitive case.

    >>> ru_date(dt.date(2013, 9, 20))
    '20 сентября 2013 г.'
    >>> ru_date(dt.date(2013, 9, 20), "short")
    '20.09.2013'
    """
    if isinstance(value, dt.datetime):
        value = value.date()  # as format_date takes it: no time zone shift
    if not isinstance(value, dt.date):  # None is today: not remembered
        return _format_day.__wrapped__(value, fmt)
    return _format_day(value, fmt)


@functools.lru_cache(maxsize=4096)
def _format_day(day: dt.date, fmt: str) -> str:
    """ru_date of a day, remembered: a news item's date is shown on its page
    and again in every list it is in (home page, archives, tags)."""
    return format_date(day, FORMATS.get(fmt, fmt), locale=LOCALE)


def ru_month(value: int | dt.date | tuple, *, capitalize: bool = True) -> str:
    """Name a month in the nominative case, as a heading or list entry.

    Accepts a month number, a date, or Pelican's period tuple
    ``(year, month_name)``/``(year, month_number)``.

    >>> ru_month(9)
    'Сентябрь'
    """
    if isinstance(value, dt.date):
        number = value.month
    elif isinstance(value, tuple):
        number = value[1] if isinstance(value[1], int) else value[-1]
    else:
        number = int(value)
    name = get_month_names("wide", context="stand-alone", locale=LOCALE)[number]
    return name.capitalize() if capitalize else name


def isodate(value: dt.date) -> str:
    """Give the machine-readable form for ``<time datetime>`` and metadata.

    >>> isodate(dt.date(2013, 9, 20))
    '2013-09-20'
    """
    return value.isoformat()


FILTERS = {"ru_date": ru_date, "ru_month": ru_month, "isodate": isodate}


def add_filters(generator) -> None:
    """Make the filters available to every template of every generator."""
    generator.env.filters.update(FILTERS)


def register() -> None:
    # generator_init runs once per generator, after its Jinja environment is
    # created and before anything is rendered.
    signals.generator_init.connect(add_filters)
