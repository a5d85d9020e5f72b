"""Real Pelican news items for unit tests, without a site."""

from __future__ import annotations

import datetime as dt


def news_items(count: int) -> list:
    """``count`` news items, one a day from 1 January 2024, with Pelican's
    default settings."""
    from pelican.contents import Article  # noqa: PLC0415
    from pelican.settings import DEFAULT_CONFIG  # noqa: PLC0415

    return [
        Article(
            f"<p>Текст {n}</p>",
            metadata={"title": f"Новость {n}", "date": dt.datetime(2024, 1, 1 + n)},
            settings=DEFAULT_CONFIG,
            source_path=f"news/2024/n{n}.md",
        )
        for n in range(count)
    ]
