"""Archives by month within a year: /news/YYYY/MM/, linked from the year."""

from tests.conftest import GENERATED_NEWS, PUBLISHED_URL, text_of

FORUM = "/news/2013/forum-v-eltse/"


def item_links(soup) -> list[str]:
    return [a["href"] for a in soup.select("main .mfc-news-card__title a")]


def test_month_archive_lists_that_months_news(site):
    soup = site.page("/news/2013/09/")
    assert text_of(soup.find("h1")) == "Новости за сентябрь 2013 года"
    assert item_links(soup) == [FORUM]
    january = site.page("/news/2020/01/")
    assert text_of(january.find("h1")) == "Новости за январь 2020 года"
    assert len(item_links(january)) == GENERATED_NEWS


def test_month_archive_title_is_plain_and_russian(site):
    title = site.page("/news/2013/09/").find("title")
    assert text_of(title).startswith("Новости за сентябрь 2013 года — ")


def test_no_month_archive_without_news(site):
    assert not site.file("/news/2020/02/").exists()
    assert not site.file("/news/2013/08/").exists()


def test_year_archive_links_its_months_with_counts(site):
    months = site.page("/news/2020/").select("main .mfc-archive-months a")
    assert [(text_of(a), a["href"]) for a in months] == [("Январь", "/news/2020/01/")]
    entries = [
        text_of(li) for li in site.page("/news/2020/").select(".mfc-archive-months li")
    ]
    assert entries == [f"Январь ({GENERATED_NEWS})"]


def test_months_of_a_year_newest_first(published_site):
    soup = published_site.page("/news/2021/")
    entries = [text_of(li) for li in soup.select(".mfc-archive-months li")]
    assert entries == ["Апрель (1)", "Март (1)"]
    links = [a["href"] for a in soup.select(".mfc-archive-months a")]
    assert links == [f"{PUBLISHED_URL}/news/2021/04/", f"{PUBLISHED_URL}/news/2021/03/"]
    march = published_site.page("/news/2021/03/")
    assert item_links(march) == [f"{PUBLISHED_URL}/news/2021/novyi-zal/"]


def test_month_archive_leads_back_to_its_year_and_the_archive(site):
    soup = site.page("/news/2013/09/")
    links = {text_of(a): a["href"] for a in soup.select("main .mfc-archive-up a")}
    assert links == {
        "Все новости за 2013 год": "/news/2013/",
        "Архив по годам": "/archive/",
    }


def test_month_archive_is_in_the_archive_section(site):
    current = site.page("/news/2013/09/").select('nav.mfc-nav [aria-current="page"]')
    assert [text_of(a) for a in current] == ["Архив"]
