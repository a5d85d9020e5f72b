"""Metadata in <head>: canonical URL, description, Open Graph and Twitter cards,
JSON-LD (GovernmentOrganization on every page, NewsArticle on news items),
all taken from the content."""

from __future__ import annotations

import datetime as dt
import json
import logging
import struct
from types import SimpleNamespace

import pytest

from mfc_meta import (
    image_source_path,
    join_url,
    plain,
    postal_address,
    resolve_images,
    script_safe_json,
)
from tests.conftest import PUBLISHED_URL, ROOT, text_of
from tests.published import front_matter, published_news, published_pages

SITE_IMAGE = "/static/images/og-image.png"
FORUM = "/news/2013/forum-v-eltse/"
ZAL = "/news/2021/novyi-zal/"


def meta(soup, name: str) -> str | None:
    node = soup.find("meta", attrs={"property": name}) or soup.find(
        "meta", attrs={"name": name}
    )
    return node["content"] if node else None


def json_ld(soup) -> dict[str, dict]:
    """The page's JSON-LD objects by @type; each must parse."""
    found = {}
    for script in soup.find_all("script", type="application/ld+json"):
        data = json.loads(script.string)
        assert data["@context"] == "https://schema.org"
        assert data["@type"] not in found
        found[data["@type"]] = data
    return found


def contact_block() -> dict:
    return front_matter(ROOT / "content" / "blocks" / "contact.md")


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# --- JSON-LD ------------------------------------------------------------------


@pytest.mark.parametrize("which", ["site", "published_site"])
def test_every_page_describes_the_organisation_from_the_contact_block(request, which):
    built = request.getfixturevalue(which)
    contact = contact_block()
    for path in built.html_files():
        org = json_ld(built.page(built.url_of(path)))["GovernmentOrganization"]
        assert org["name"] == contact["name"]
        assert org["telephone"] == contact["phone"]
        assert org["email"] == contact["email"]
        address = org["address"]
        assert address["@type"] == "PostalAddress"
        assert address["addressCountry"] == "RU"
        assert (
            f"г. {address['addressLocality']}, {address['streetAddress']}"
            == contact["address"]
        )


def test_organisation_urls_are_on_the_site_url(published_site):
    org = json_ld(published_site.page("/"))["GovernmentOrganization"]
    assert org["url"] == PUBLISHED_URL + "/"
    assert org["@id"] == PUBLISHED_URL + "/#organization"
    assert org["logo"] == PUBLISHED_URL + SITE_IMAGE


def test_news_items_are_news_articles(published_site):
    contact = contact_block()
    for item in published_news(published_site.content):
        soup = published_site.page(item.url)
        article = json_ld(soup)["NewsArticle"]
        assert article["headline"] == text_of(soup.find("h1"))
        assert article["url"] == article["mainEntityOfPage"] == PUBLISHED_URL + item.url
        assert article["description"] == item.summary
        published = dt.datetime.fromisoformat(article["datePublished"])
        assert published.utcoffset() is not None  # with its timezone
        assert published == item.date
        assert dt.datetime.fromisoformat(article["dateModified"]) == (
            item.modified or item.date
        )
        assert article["publisher"]["@type"] == "GovernmentOrganization"
        assert article["publisher"]["name"] == contact["name"]
        assert article["publisher"]["@id"] == PUBLISHED_URL + "/#organization"
        assert article["publisher"]["logo"]["url"] == PUBLISHED_URL + SITE_IMAGE
        assert article["keywords"] == item.tags
        for image in article["image"]:
            assert image.startswith(PUBLISHED_URL + "/")
            assert published_site.file(image.removeprefix(PUBLISHED_URL)).is_file()


def test_news_article_image_is_the_items_own_or_the_sites(published_site):
    own = json_ld(published_site.page(ZAL))["NewsArticle"]
    assert own["image"] == [f"{PUBLISHED_URL}/images/test/zal.png"]
    assert own["datePublished"] == "2021-03-15T09:30:00+04:00"
    assert own["dateModified"] == "2021-05-01T12:00:00+04:00"
    other = json_ld(published_site.page(FORUM))["NewsArticle"]
    assert other["image"] == [PUBLISHED_URL + SITE_IMAGE]


def test_only_news_items_are_news_articles(site):
    for path in site.html_files():
        url = site.url_of(path)
        types = set(json_ld(site.page(url)))
        is_item = url.startswith(("/news/", "/drafts/")) and bool(
            site.page(url).select_one("article.mfc-article")
        )
        expected = {"GovernmentOrganization"} | ({"NewsArticle"} if is_item else set())
        assert types == expected, url


# --- Canonical URL and description ----------------------------------------------


def test_canonical_url_is_the_pages_own_address(published_site):
    for path in published_site.html_files():
        url = published_site.url_of(path)
        soup = published_site.page(url)
        canonical = soup.select('head link[rel="canonical"]')
        if url == "/404.html":
            assert canonical == []
            assert meta(soup, "robots") == "noindex"
            continue
        assert [c["href"] for c in canonical] == [PUBLISHED_URL + url]
        assert meta(soup, "og:url") == PUBLISHED_URL + url
        assert meta(soup, "robots") is None


def test_description_comes_from_the_summary(published_site):
    for item in published_news(published_site.content) + published_pages(
        published_site.content
    ):
        soup = published_site.page(item.url)
        assert meta(soup, "description") == item.summary, item.url
        assert meta(soup, "og:description") == item.summary, item.url


def test_every_page_has_a_description(site):
    for path in site.html_files():
        soup = site.page(site.url_of(path))
        descriptions = soup.select('head meta[name="description"]')
        assert len(descriptions) == 1, path
        assert descriptions[0]["content"].strip(), path
        assert "<" not in descriptions[0]["content"], path


def test_text_in_attributes_is_plain_and_escaped(published_site):
    """Quotes and ampersands survive as text; no markup or entity leaks."""
    soup = published_site.page(ZAL)
    title = text_of(soup.find("h1"))
    assert '"окна" & талоны' in title or "«окна» & талоны" in title
    assert meta(soup, "og:title") == title
    assert "окна" in meta(soup, "description")
    assert "&" in meta(soup, "description")
    for name in ("og:title", "og:description", "description"):
        assert "&nbsp;" not in meta(soup, name)
        assert "\xa0" not in meta(soup, name)


# --- Open Graph and Twitter -------------------------------------------------------


def test_open_graph_on_a_news_item_with_its_own_image(published_site):
    soup = published_site.page(ZAL)
    assert meta(soup, "og:type") == "article"
    assert meta(soup, "og:locale") == "ru_RU"
    assert meta(soup, "og:site_name") == "МФЦ «Мои документы» Астраханской области"
    assert meta(soup, "og:image") == f"{PUBLISHED_URL}/images/test/zal.png"
    assert meta(soup, "og:image:alt") == (
        "Новый зал приёма заявителей с окнами и табло очереди"
    )
    assert meta(soup, "article:published_time") == "2021-03-15T09:30:00+04:00"
    assert meta(soup, "article:modified_time") == "2021-05-01T12:00:00+04:00"
    assert meta(soup, "twitter:card") == "summary_large_image"
    assert published_site.file("/images/test/zal.png").is_file()


def test_open_graph_falls_back_to_the_site_image(published_site):
    for url in (FORUM, "/", "/news/", "/kak-dobratsya/", "/tags/forum/"):
        soup = published_site.page(url)
        assert meta(soup, "og:image") == PUBLISHED_URL + SITE_IMAGE, url
        assert meta(soup, "og:image:alt"), url
        assert meta(soup, "og:title"), url
        assert meta(soup, "twitter:card") == "summary_large_image", url
    width, height = png_size(published_site.file(SITE_IMAGE))
    soup = published_site.page(FORUM)
    assert (width, height) == (
        int(meta(soup, "og:image:width")),
        int(meta(soup, "og:image:height")),
    )
    assert (width, height) == (1200, 630)  # the size social networks expect


def test_og_type_is_website_except_on_news_items(published_site):
    assert meta(published_site.page("/"), "og:type") == "website"
    assert meta(published_site.page("/kak-dobratsya/"), "og:type") == "website"
    assert meta(published_site.page(FORUM), "og:type") == "article"
    tags = [
        n["content"]
        for n in published_site.page(FORUM).find_all(
            "meta", attrs={"property": "article:tag"}
        )
    ]
    assert tags == ["форум", "государственные услуги", "административная реформа"]


# --- Unit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            "г. Астрахань, ул. Бабефа, д. 8",
            {"addressLocality": "Астрахань", "streetAddress": "ул. Бабефа, д. 8"},
        ),
        (
            "г.&nbsp;Астрахань, ул.&nbsp;Бабефа, д.&nbsp;8",  # after typography
            {"addressLocality": "Астрахань", "streetAddress": "ул. Бабефа, д. 8"},
        ),
        (
            "город Нариманов, ул. Центральная, 1",
            {"addressLocality": "Нариманов", "streetAddress": "ул. Центральная, 1"},
        ),
        # no city first: the whole line is the street address
        ("ул. Бабефа, д. 8", {"streetAddress": "ул. Бабефа, д. 8"}),
    ],
)
def test_postal_address(address, expected):
    assert postal_address(address) == {
        "@type": "PostalAddress",
        "addressCountry": "RU",
        **expected,
    }


def test_json_ld_cannot_close_its_script_element():
    text = str(script_safe_json({"headline": "</script><script>alert(1)</script>"}))
    assert "<" not in text
    assert ">" not in text
    assert json.loads(text) == {"headline": "</script><script>alert(1)</script>"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Форум в&nbsp;Ельце", "Форум в Ельце"),
        ("<p>Краткое <em>описание</em></p>\n", "Краткое описание"),
        ("&laquo;Мои документы&raquo; &amp; МФЦ", "«Мои документы» & МФЦ"),
        (None, ""),
    ],
)
def test_plain(value, expected):
    assert plain(value) == expected


@pytest.mark.parametrize(
    ("siteurl", "path", "expected"),
    [
        ("https://s.test", "news/", "https://s.test/news/"),
        ("https://s.test/", "/news/", "https://s.test/news/"),
        ("", "news/", "/news/"),
        ("https://s.test", "https://e.test/a.png", "https://e.test/a.png"),
    ],
)
def test_join_url(siteurl, path, expected):
    assert join_url(siteurl, path) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("images/2021/zal.jpg", "images/2021/zal.jpg"),
        ("/images/2021/zal.jpg", "images/2021/zal.jpg"),
        ("{static}/images/zal.jpg", "images/zal.jpg"),
        ("images\\zal.jpg", "images/zal.jpg"),
    ],
)
def test_image_source_path(value, expected):
    assert image_source_path(value) == expected


def fake_generators(items, static):
    context = {"static_content": static}
    return [SimpleNamespace(context=context, articles=items, pages=[])]


def test_lead_image_is_resolved_to_its_url():
    static = {"images/2021/zal.jpg": SimpleNamespace(url="images/2021/zal.jpg")}
    with_path = SimpleNamespace(image="images/2021/zal.jpg", relative_source_path="a")
    just_name = SimpleNamespace(image="2021/zal.jpg", relative_source_path="b")
    without = SimpleNamespace(relative_source_path="c")
    resolve_images(fake_generators([with_path, just_name, without], static))
    assert with_path.image_url == "images/2021/zal.jpg"
    assert just_name.image_url == "images/2021/zal.jpg"
    assert not hasattr(without, "image_url")


def test_missing_lead_image_is_an_error_in_russian(caplog):
    item = SimpleNamespace(
        image="images/net-takogo.jpg", relative_source_path="news/2021/x.md"
    )
    with caplog.at_level(logging.ERROR):
        resolve_images(fake_generators([item], {}))
    assert not hasattr(item, "image_url")
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith("mfc_meta: news/2021/x.md:")
    assert "«images/net-takogo.jpg» не найдена" in message
