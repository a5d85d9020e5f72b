"""mfc_content/speed.py gives what Pelican's own code gives, faster.

The whole-site guard (tests/test_build_identical.py) compares builds that
all use these shortcuts; here each one is compared with the Pelican code it
stands in for, on items shuffled so that order mistakes would show.
"""

import datetime as dt
import random
from types import SimpleNamespace

import pytest
from pelican.generators import ArticlesGenerator

from mfc_content import speed
from tests.items import news_items

SETTINGS = {
    "YEAR_ARCHIVE_SAVE_AS": "news/{date:%Y}/index.html",
    "YEAR_ARCHIVE_URL": "news/{date:%Y}/",
    "MONTH_ARCHIVE_SAVE_AS": "news/{date:%Y}/{date:%m}/index.html",
    "MONTH_ARCHIVE_URL": "news/{date:%Y}/{date:%m}/",
    "DAY_ARCHIVE_SAVE_AS": "news/{date:%Y}/{date:%m}/{date:%d}/index.html",
    "DAY_ARCHIVE_URL": "news/{date:%Y}/{date:%m}/{date:%d}/",
}


class Item:
    """Compares by identity, as Pelican's Content does."""

    def __init__(self, n: int, date: dt.datetime):
        self.n = n
        self.date = date

    def __repr__(self) -> str:
        return f"Item({self.n}, {self.date:%Y-%m-%d})"


def items(count: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    start = dt.datetime(2013, 1, 1)
    # Several items a day on some days, years with no item at all.
    days = sorted(rng.randrange(0, 12 * 365) for _ in range(count))
    made = [Item(n, start + dt.timedelta(days=d)) for n, d in enumerate(days)]
    rng.shuffle(made)
    return made


def comparable(archives) -> dict:
    """Archives with their item lists as identities, in order."""
    return {
        granularity: [
            {
                key: [id(a) for a in value] if key in ("dates", "articles") else value
                for key, value in archive.items()
            }
            for archive in found
        ]
        for granularity, found in archives.items()
    }


@pytest.mark.parametrize("newest_first", [True, False])
@pytest.mark.parametrize("granularities", [("year", "month"), ("year", "month", "day")])
def test_period_archives_are_pelicans(newest_first, granularities):
    articles = items(600, seed=7)
    dates = sorted(articles, key=lambda a: a.date, reverse=newest_first)
    settings = {
        key: value if key.split("_")[0].lower() in granularities else ""
        for key, value in SETTINGS.items()
    }
    pelicans = speed._original_period_archives(None, dates, articles, settings)
    ours = speed._period_archives_in_one_pass(None, dates, articles, settings)
    assert list(ours) == list(granularities)
    assert sum(len(archive["articles"]) for archive in ours["year"]) == 600
    assert comparable(ours) == comparable(pelicans)


def test_period_archives_follow_pelican_when_dates_are_not_in_order():
    """Pelican makes an archive per run of one period in ``dates``, each
    holding only the items of its run: so does the shortcut."""
    articles = items(200, seed=11)
    dates = list(articles)  # shuffled: a period's items are in several runs
    pelicans = speed._original_period_archives(None, dates, articles, SETTINGS)
    ours = speed._period_archives_in_one_pass(None, dates, articles, SETTINGS)
    assert len(ours["year"]) > 12
    assert comparable(ours) == comparable(pelicans)


def test_period_archives_of_items_with_their_own_equality_are_pelicans():
    class Equal(Item):
        def __eq__(self, other):
            return isinstance(other, Item) and self.date == other.date

        __hash__ = object.__hash__

    articles = [Equal(n, item.date) for n, item in enumerate(items(100, seed=3))]
    dates = sorted(articles, key=lambda a: a.date)
    pelicans = speed._original_period_archives(None, dates, articles, SETTINGS)
    ours = speed._period_archives_in_one_pass(None, dates, articles, SETTINGS)
    assert comparable(ours) == comparable(pelicans)


def wrapper(name: str) -> SimpleNamespace:
    """A category or author as Pelican's writers use it (no page here)."""
    return SimpleNamespace(name=name, save_as="", url="", page_name=name, slug=name)


def written_lists(generator) -> dict:
    """What Pelican's category and author writers are given for each page."""
    given = {}

    def write(save_as, template, context, **kwargs):
        name = kwargs.get("category") or kwargs.get("author")
        given[name.name] = ([id(a) for a in kwargs["dates"]], kwargs["articles"])

    ArticlesGenerator.generate_categories(generator, write)
    ArticlesGenerator.generate_authors(generator, write)
    return given


def test_category_and_author_lists_answer_in_by_identity():
    articles = items(300, seed=5)
    news = [a for a in articles if a.n % 3]
    generator = SimpleNamespace(
        get_template=lambda name: name,
        context={},
        articles=articles,
        dates=sorted(articles, key=lambda a: a.date, reverse=True),
        categories=[
            (wrapper("news"), list(news)),
            (wrapper("other"), [a for a in articles if a not in news]),
        ],
        authors=[(wrapper("МФЦ"), list(articles))],
        tags={"услуги": list(news[:40])},
    )
    generator.context["categories"] = generator.categories
    before = written_lists(generator)
    speed.index_item_lists([generator])
    assert all(isinstance(items, speed.Members) for _, items in generator.categories)
    assert isinstance(generator.authors[0][1], speed.Members)
    assert isinstance(generator.tags["услуги"], speed.Members)
    assert generator.context["categories"] is generator.categories
    after = written_lists(generator)
    assert [dates for dates, _ in after.values()] == [
        dates for dates, _ in before.values()
    ]
    assert all(list(after[name][1]) == list(before[name][1]) for name in before)
    assert [len(dates) for dates, _ in after.values()] == [len(news), 100, 300]


def test_neighbours_are_pelican_neighbors_own_and_leave_the_items_as_they_were():
    """pelican-neighbors sets its attributes through the tables beside the
    items: each item reads them as before, and no item gains an attribute
    of its own (which would cost each one a dictionary of its own)."""
    from pelican.plugins.neighbors.neighbors import neighbors  # noqa: PLC0415

    from mfc_content import notes  # noqa: PLC0415

    speed.keep_neighbours_beside()
    newest_first = news_items(3)[::-1]
    own = [set(vars(item)) for item in newest_first]
    category = SimpleNamespace(name="news")
    footprint_alone = notes.footprint(newest_first[1])
    neighbors(
        SimpleNamespace(
            articles=newest_first, categories=[(category, list(newest_first))]
        )
    )
    newest, middle, oldest = newest_first
    assert (middle.next_article, middle.prev_article) == (newest, oldest)
    assert newest.next_article is None
    assert oldest.prev_article is None
    assert middle.next_article_in_category is newest
    assert [set(vars(item)) for item in newest_first] == own
    # The fast rebuild's footprint still sees them.
    assert speed.beside(middle)["prev_article"] is oldest
    assert notes.footprint(middle) != footprint_alone
    # An item no plugin gave neighbours has none, as before.
    (alone,) = news_items(1)
    assert not hasattr(alone, "next_article")
    del middle.prev_article
    assert not hasattr(middle, "prev_article")
    assert middle.next_article is newest


def test_dates_in_file_names_are_read_as_pelican_reads_them():
    from pelican import readers  # noqa: PLC0415

    original = speed._DATE_PROCESSORS["date"]
    fast = speed._fast_date("date")
    values = ["2013-09-20", "2024-02-29", "2000-01-01", "1999-12-31", "2013-9-20"]
    values += ["2013-09-20 10:30", "2023-02-29", "2013-13-01", "20 сентября 2013"]
    for value in values:
        try:
            wanted = original(value, {})
        except ValueError:  # no such day, or not a date: Pelican's error
            with pytest.raises(ValueError, match="is not a valid date"):
                fast(value, {})
            continue
        got = fast(value, {})
        assert got == wanted, value
        assert type(got) is type(wanted)
        assert got.tzinfo is wanted.tzinfo
    speed.fast_dates()
    try:
        assert readers.METADATA_PROCESSORS["date"]("2013-09-20", {}).day == 20
        assert readers.METADATA_PROCESSORS["modified"] is not original
    finally:
        readers.METADATA_PROCESSORS.update(speed._DATE_PROCESSORS)
