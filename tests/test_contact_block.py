"""The contact block, as the old site showed it, on every page."""

import pytest

from tests.conftest import text_of


def contact_of(soup):
    block = soup.select_one("header address.mfc-contact")
    assert block is not None, "no contact block in the header"
    return block


def definitions(block) -> dict[str, object]:
    """The <dl> as {term: <dd>}."""
    terms = {}
    for dt in block.select("dl dt"):
        terms[text_of(dt)] = dt.find_next_sibling("dd")
    return terms


@pytest.mark.parametrize("url", ["/", "/news/2013/forum-v-eltse/"])
def test_contact_block_matches_the_old_site(site, url):
    dd = definitions(contact_of(site.page(url)))
    assert set(dd) >= {"Адрес", "Телефон", "Эл. почта"}

    assert text_of(dd["Адрес"]).startswith("г. Астрахань, ул. Бабефа, д. 8")

    phone = dd["Телефон"].find("a")
    assert phone["href"] == "tel:+78512668807"
    assert text_of(phone) == "+7 8512 668-807"

    email = dd["Эл. почта"].find("a")
    assert email["href"] == "mailto:mfc.astrakhan@astrobl.ru"
    assert text_of(email) == "mfc.astrakhan@astrobl.ru"

    directions = contact_of(site.page(url)).find(
        "a", string=lambda s: s and "добраться" in s
    )
    assert text_of(directions) == "Как добраться"
    assert site.file(directions["href"]).is_file()


def test_contact_block_is_on_every_page(site):
    for path in site.html_files():
        soup = site.page(site.url_of(path))
        block = contact_of(soup)
        links = {a["href"] for a in block.find_all("a")}
        assert {"tel:+78512668807", "mailto:mfc.astrakhan@astrobl.ru"} <= links, path


def test_directions_page_gives_address_and_map_link(site):
    soup = site.page("/kak-dobratsya/")
    assert text_of(soup.find("h1")) == "Как добраться"
    main = soup.find("main")
    assert "г. Астрахань, ул. Бабефа, д. 8" in text_of(main)
    map_link = main.find(
        "a", href=lambda h: h and h.startswith("https://www.openstreetmap.org/")
    )
    assert map_link is not None
    # No embedded third-party map.
    assert soup.find("iframe") is None


def test_home_page_shows_full_contacts(site):
    soup = site.page("/")
    full = soup.select_one("main address.mfc-contact--full")
    assert full is not None
    assert "Многофункциональный центр" in text_of(full)
