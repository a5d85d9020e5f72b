"""News: the seed item, the list and its pagination, archives and tags."""

import re

from tests.conftest import GENERATED_NEWS, ROOT, text_of

SEED = ROOT / "tests" / "fixtures" / "legacy" / "old-site-news-2013-09-20.txt"
ITEM = "/news/2013/forum-v-eltse/"
TOPICS = [
    "актуальные проблемы развития многофункциональных центров",
    "внедрения элементов межведомственного взаимодействия",
    "перевода процесса оказания услуг в электронный вид",
    "регламентации государственных услуг",
    "участия общественности в обсуждении стандартов",
]


def comparable(text: str) -> str:
    """Text with typography undone: dashes to hyphens, spaces collapsed."""
    text = re.sub("[\u2010-\u2015]", "-", text)
    text = text.replace("- ", "").replace("-", "")  # list markers and ranges
    return " ".join(text.split())


def seed_body() -> list[str]:
    """The news text of the old page: the lines after the date line."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "20.09.2013")
    return [line for line in lines[start + 1 :] if line.strip()]


def test_seed_item_title_and_date(site):
    soup = site.page(ITEM)
    article = soup.select_one("main article")
    assert text_of(article.find("h1")) == (
        "Сотрудники МФЦ приняли участие в международном форуме в Ельце"
    )
    time = article.find("time")
    assert time["datetime"].startswith("2013-09-20")
    assert text_of(time) == "20 сентября 2013 г."


def test_seed_item_has_the_full_text(site):
    body = comparable(text_of(site.page(ITEM).select_one("main article .mfc-prose")))
    for line in seed_body():
        text = line.removeprefix("- ")
        assert comparable(text) in body, f"missing from the page: {text[:60]}…"


def test_seed_item_topics_are_a_list(site):
    items = site.page(ITEM).select("main article .mfc-prose ul > li")
    assert len(items) == 5
    for li, topic in zip(items, TOPICS, strict=True):
        assert text_of(li).startswith(topic)


def test_seed_item_title_is_plain_text_in_head(site):
    title = site.page(ITEM).find("title")
    assert title.decode_contents().startswith(
        "Сотрудники МФЦ приняли участие в международном форуме в"
    )
    assert "<" not in title.decode_contents()
    assert "&nbsp;" not in str(title)


def test_item_links_back_to_list_and_to_neighbours(site):
    soup = site.page(ITEM)
    assert soup.find("a", href="/news/", string="Ко всем новостям")
    # The seed item is the oldest: a newer one follows, none precedes.
    assert soup.select_one('a[rel="next"]') is not None
    assert soup.select_one('a[rel="prev"]') is None
    newer = site.page(soup.select_one('a[rel="next"]')["href"])
    assert newer.select_one('a[rel="prev"]')["href"] == ITEM


def test_news_list_is_paginated_by_ten(site):
    total = GENERATED_NEWS + 2  # the seed item and the draft, marked
    pages = ["/news/", "/news/page/2/", "/news/page/3/"]
    counts = [len(site.page(url).select("main .mfc-news-list__item")) for url in pages]
    assert counts == [10, 10, total - 20]
    assert not site.file("/news/page/4/").exists()
    # The seed item, the oldest, is last on the last page.
    last = site.page("/news/page/3/").select("main .mfc-news-list__item h2 a")[-1]
    assert last["href"] == ITEM


def test_pagination_links(site):
    first = site.page("/news/")
    assert first.select_one('.mfc-pagination a[rel="next"]')["href"] == "/news/page/2/"
    assert first.select_one('.mfc-pagination [aria-current="page"]')["href"] == "/news/"
    second = site.page("/news/page/2/")
    assert second.select_one('.mfc-pagination a[rel="prev"]')["href"] == "/news/"
    assert second.select_one('.mfc-pagination a[rel="next"]')["href"] == "/news/page/3/"
    assert "страница 2" in text_of(second.find("h1"))


def test_news_list_shows_newest_first_with_russian_dates(site):
    items = site.page("/news/").select("main .mfc-news-list__item")
    first = items[0]
    assert text_of(first.find("h2")) == f"Тестовая новость номер {GENERATED_NEWS}"
    assert text_of(first.find("time")) == "25 января 2020 г."


def test_home_page_shows_latest_news_and_a_link_to_all(site):
    soup = site.page("/")
    assert soup.find("h1")
    titles = [text_of(a) for a in soup.select("main .mfc-news-list a")]
    assert len(titles) == 5
    assert titles[0] == f"Тестовая новость номер {GENERATED_NEWS}"
    assert soup.find("a", href="/news/", string="Все новости")


def test_year_archive_groups_by_month(site):
    soup = site.page("/news/2020/")
    assert text_of(soup.find("h1")) == "Новости за 2020 год"
    months = [text_of(h) for h in soup.select("main h2")]
    assert months == ["Январь"]
    assert len(soup.select("main .mfc-news-list__item")) == GENERATED_NEWS
    seed_year = site.page("/news/2013/")
    assert [text_of(h) for h in seed_year.select("main h2")] == ["Сентябрь"]


def test_archive_lists_years_with_counts(site):
    entries = [text_of(li) for li in site.page("/archive/").select("main li")]
    # The preview lists the 2019 draft (marked); production never does.
    assert entries == [f"2020 ({GENERATED_NEWS})", "2019 (1)", "2013 (1)"]


def test_tag_page_lists_the_tagged_items(site):
    soup = site.page("/tags/forum/")
    assert text_of(soup.find("h1")) == "Тема «форум»"
    links = [a["href"] for a in soup.select("main .mfc-news-list a")]
    assert links == [ITEM]
    # The item itself links to its tags.
    tags = [a["href"] for a in site.page(ITEM).select("main .mfc-tag-list a")]
    assert "/tags/forum/" in tags


def test_tags_page_counts(site):
    entries = {text_of(li) for li in site.page("/tags/").select("main li")}
    assert "форум (1)" in entries
    assert f"услуги ({GENERATED_NEWS // 2})" in entries


def test_404_page_offers_a_way_back(site):
    soup = site.page("/404.html")
    assert text_of(soup.find("h1")) == "Страница не найдена"
    assert soup.find("a", href="/")
