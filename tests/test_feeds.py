"""Atom and RSS feeds of all news and of each tag, in the production build:
valid, absolute URLs, Russian titles and summaries, linked from every page."""

from __future__ import annotations

import datetime as dt
import email.utils
import xml.etree.ElementTree as ET

import feedparser
import pytest
from bs4 import BeautifulSoup

from mfc_feeds import absolute_links, title_for
from tests.conftest import PUBLISHED_URL, UNPUBLISHED_MARK, text_of
from tests.published import published_news, unpublished_news

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SITENAME = "МФЦ «Мои документы» Астраханской области"
ALL_ATOM = "feeds/all.atom.xml"
ALL_RSS = "feeds/all.rss.xml"
MAX_ITEMS = 20  # FEED_MAX_ITEMS


def one(parent, tag):
    """The single child `tag` of `parent`, not empty."""
    found = parent.findall(tag)
    assert len(found) == 1, f"{parent.tag}: {len(found)} × {tag}"
    node = found[0]
    assert len(node) or (node.text or node.get("href") or "").strip(), tag
    return node


def rfc3339(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def absolute_urls_in_html(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return [
        node.get("href") or node.get("src")
        for node in soup.find_all(["a", "img"])
        if node.get("href") or node.get("src")
    ]


def check_atom(site, name: str, title: str, expected_items) -> None:
    """Check an Atom feed against RFC 4287 and the expected items."""
    root = ET.parse(site.output / name).getroot()
    assert root.tag == f"{ATOM}feed"
    assert root.get(XML_LANG) == "ru"
    assert one(root, f"{ATOM}title").text == title
    assert one(root, f"{ATOM}id").text == f"{PUBLISHED_URL}/{name}"
    rfc3339(one(root, f"{ATOM}updated").text)
    assert one(root, f"{ATOM}author").find(f"{ATOM}name").text
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["alternate"] == PUBLISHED_URL + "/"
    assert links["self"] == f"{PUBLISHED_URL}/{name}"

    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link").get("href") for e in entries] == [
        PUBLISHED_URL + item.url for item in expected_items[:MAX_ITEMS]
    ]
    ids = [one(entry, f"{ATOM}id").text for entry in entries]
    assert len(set(ids)) == len(ids)
    for entry, item in zip(entries, expected_items, strict=False):
        one(entry, f"{ATOM}title")
        published = rfc3339(one(entry, f"{ATOM}published").text)
        updated = rfc3339(one(entry, f"{ATOM}updated").text)
        assert published == item.date
        assert updated == (item.modified or item.date)
        assert one(entry, f"{ATOM}author").find(f"{ATOM}name").text
        summary = one(entry, f"{ATOM}summary")
        assert summary.get("type") == "html"
        content = one(entry, f"{ATOM}content")
        for html in (summary.text, content.text):
            for url in absolute_urls_in_html(html):
                assert url.startswith(("https://", "http://", "mailto:", "tel:")), url


def check_rss(site, name: str, title: str, expected_items) -> None:
    """Check an RSS 2.0 feed: the required channel and item elements."""
    root = ET.parse(site.output / name).getroot()
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert one(channel, "title").text == title
    assert one(channel, "link").text == PUBLISHED_URL + "/"
    assert one(channel, "description").text.startswith("Многофункциональный центр")
    assert one(channel, "language").text == "ru"
    assert channel.find(f"{ATOM}link").get("href") == f"{PUBLISHED_URL}/{name}"
    items = channel.findall("item")
    assert [one(item, "link").text for item in items] == [
        PUBLISHED_URL + item.url for item in expected_items[:MAX_ITEMS]
    ]
    for node, item in zip(items, expected_items, strict=False):
        one(node, "title")
        description = one(node, "description").text
        for url in absolute_urls_in_html(description):
            assert url.startswith(("https://", "http://", "mailto:", "tel:")), url
        guid = one(node, "guid")
        assert guid.get("isPermaLink") == "false"  # a tag: URI, not a URL
        pub_date = email.utils.parsedate_to_datetime(one(node, "pubDate").text)
        assert pub_date == item.date


def parsed(path):
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


# --- All news -------------------------------------------------------------------


def test_atom_feed_of_all_news_is_valid(published_site):
    expected = published_news(published_site.content)
    check_atom(published_site, ALL_ATOM, f"Новости — {SITENAME}", expected)


def test_rss_feed_of_all_news_is_valid(published_site):
    expected = published_news(published_site.content)
    check_rss(published_site, ALL_RSS, f"Новости — {SITENAME}", expected)


@pytest.mark.parametrize("name", [ALL_ATOM, ALL_RSS])
def test_feeds_parse_with_russian_titles_and_summaries(published_site, name):
    feed = parsed(published_site.output / name)
    assert feed.feed.title == f"Новости — {SITENAME}"
    assert feed.feed.language == "ru"
    expected = published_news(published_site.content)
    assert len(feed.entries) == len(expected)
    for entry, item in zip(feed.entries, expected, strict=True):
        page = published_site.page(item.url)
        assert " ".join(entry.title.split()) == text_of(page.find("h1"))
        summary = text_of(BeautifulSoup(entry.summary, "html.parser"))
        assert summary == " ".join(item.summary.split())
        assert entry.link == PUBLISHED_URL + item.url


@pytest.mark.parametrize("name", [ALL_ATOM, ALL_RSS])
def test_feeds_carry_no_draft_and_no_future_item(published_site, name):
    unpublished = unpublished_news(published_site.content)
    assert {item.url.split("/")[-2] for item in unpublished} == {
        "subbotnik",
        "yubilei",
        f"{UNPUBLISHED_MARK}-draft",
        f"{UNPUBLISHED_MARK}-scheduled",
    }
    text = (published_site.output / name).read_text("utf-8")
    for item in unpublished:
        assert item.url not in text
        assert item.title not in text
    assert not list((published_site.output / "feeds" / "tags").glob("yubilei.*"))


# --- Per tag --------------------------------------------------------------------


def tags_of(published_site) -> dict[str, str]:
    """{tag name: slug} from the tags page."""
    links = published_site.page("/tags/").select("main .mfc-tag")
    return {
        text_of(a).rsplit(" (", 1)[0]: a["href"].rstrip("/").rsplit("/", 1)[-1]
        for a in links
    }


def test_every_tag_has_valid_feeds_of_its_news(published_site):
    tags = tags_of(published_site)
    assert {"форум", "зал приёма"} <= set(tags)
    for name, slug in tags.items():
        expected = [
            item for item in published_news(published_site.content) if name in item.tags
        ]
        assert expected, name
        title = f"Новости по теме «{name}» — {SITENAME}"
        atom, rss = f"feeds/tags/{slug}.atom.xml", f"feeds/tags/{slug}.rss.xml"
        check_atom(published_site, atom, title, expected)
        check_rss(published_site, rss, title, expected)
        assert parsed(published_site.output / atom).feed.title == title


def test_feeds_have_ids_of_their_own(published_site):
    ids = [
        ET.parse(path).getroot().find(f"{ATOM}id").text
        for path in published_site.output.rglob("*.atom.xml")
    ]
    assert len(ids) > 1
    assert len(set(ids)) == len(ids)


# --- Links to the feeds ------------------------------------------------------------


def feed_links_in_head(soup) -> dict[str, tuple[str, str]]:
    return {
        link["href"]: (link["type"], link["title"])
        for link in soup.select('head link[rel="alternate"]')
    }


def test_every_page_links_the_news_feeds_in_its_head(published_site):
    atom, rss = f"{PUBLISHED_URL}/{ALL_ATOM}", f"{PUBLISHED_URL}/{ALL_RSS}"
    for path in published_site.html_files():
        links = feed_links_in_head(published_site.page(published_site.url_of(path)))
        assert links[atom] == ("application/atom+xml", f"Новости — {SITENAME} (Atom)")
        assert links[rss] == ("application/rss+xml", f"Новости — {SITENAME} (RSS)")
        for href in links:
            target = href.removeprefix(PUBLISHED_URL)
            assert (published_site.output / target.lstrip("/")).is_file(), href


def test_tag_pages_also_link_their_own_feeds(published_site):
    links = feed_links_in_head(published_site.page("/tags/forum/"))
    title = f"Новости по теме «форум» — {SITENAME}"
    assert links[f"{PUBLISHED_URL}/feeds/tags/forum.atom.xml"][1] == f"{title} (Atom)"
    assert links[f"{PUBLISHED_URL}/feeds/tags/forum.rss.xml"][1] == f"{title} (RSS)"


def test_news_list_shows_the_feeds(published_site):
    block = published_site.page("/news/").select_one("main .mfc-feed-links")
    assert "Подписаться на новости" in text_of(block)
    links = {text_of(a): a["href"] for a in block.find_all("a")}
    assert links == {
        "RSS": f"{PUBLISHED_URL}/{ALL_RSS}",
        "Atom": f"{PUBLISHED_URL}/{ALL_ATOM}",
    }


def test_tag_page_shows_its_feeds(published_site):
    block = published_site.page("/tags/forum/").select_one("main .mfc-feed-links")
    assert "по теме «форум»" in text_of(block)
    assert {a["href"] for a in block.find_all("a")} == {
        f"{PUBLISHED_URL}/feeds/tags/forum.rss.xml",
        f"{PUBLISHED_URL}/feeds/tags/forum.atom.xml",
    }


def test_preview_has_no_feeds_and_no_links_to_them(site):
    assert not (site.output / "feeds").exists()
    assert site.page("/news/").select_one(".mfc-feed-links") is None
    assert feed_links_in_head(site.page("/news/")) == {}


# --- Unit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<a href="/kak-dobratsya/">', '<a href="https://s.test/kak-dobratsya/">'),
        (
            "<img src='/images/a.jpg' alt=''>",
            "<img src='https://s.test/images/a.jpg' alt=''>",
        ),
        # already absolute, protocol-relative, in-page and mail links stay
        ('<a href="https://e.test/">', '<a href="https://e.test/">'),
        ('<a href="//e.test/x">', '<a href="//e.test/x">'),
        ('<a href="#main">', '<a href="#main">'),
        ('<a href="mailto:a@b.ru">', '<a href="mailto:a@b.ru">'),
        # text that merely looks like an attribute is not touched
        ("<p>href=/x</p>", "<p>href=/x</p>"),
    ],
)
def test_absolute_links(html, expected):
    assert absolute_links(html, "https://s.test") == expected


def test_feed_titles():
    assert title_for("МФЦ&nbsp;«Мои документы»") == "Новости — МФЦ «Мои документы»"
    assert title_for("МФЦ", "зал приёма") == "Новости по теме «зал приёма» — МФЦ"
