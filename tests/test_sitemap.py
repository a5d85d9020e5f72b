"""sitemap.xml and robots.txt in the production build."""

from __future__ import annotations

import datetime as dt
import urllib.robotparser
import xml.etree.ElementTree as ET

from tests.conftest import PUBLISHED_URL, build_site
from tests.published import pages, published_news, published_pages, unpublished_news

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap(site) -> dict[str, str | None]:
    """{URL: lastmod or None} from the built sitemap.xml."""
    root = ET.parse(site.output / "sitemap.xml").getroot()
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    entries = {}
    for url in root.findall("s:url", NS):
        loc = url.find("s:loc", NS).text
        assert loc not in entries, f"{loc} twice"
        lastmod = url.find("s:lastmod", NS)
        entries[loc] = lastmod.text if lastmod is not None else None
    return entries


def test_sitemap_lists_exactly_the_home_page_published_news_and_pages(
    published_site,
):
    content = published_site.content
    expected = {PUBLISHED_URL + "/"}
    expected |= {PUBLISHED_URL + item.url for item in published_news(content)}
    expected |= {PUBLISHED_URL + page.url for page in published_pages(content)}
    assert set(sitemap(published_site)) == expected
    assert len(published_news(content)) == 3  # the seed item and two more


def test_sitemap_lists_no_draft_and_no_future_item(published_site):
    listed = set(sitemap(published_site))
    unpublished = unpublished_news(published_site.content)
    assert len(unpublished) == 4  # two drafts, two in the future
    for item in [*unpublished, *(p for p in pages(published_site.content) if p.draft)]:
        assert PUBLISHED_URL + item.url not in listed
        assert not published_site.file(item.url).exists()
    assert not (published_site.output / "drafts").exists()


def test_every_sitemap_url_is_a_built_page(published_site):
    for loc in sitemap(published_site):
        assert loc.startswith(PUBLISHED_URL + "/"), loc
        assert published_site.file(loc.removeprefix(PUBLISHED_URL)).is_file(), loc


def test_lastmod_comes_from_modified_or_date(published_site):
    entries = sitemap(published_site)
    for item in published_news(published_site.content):
        lastmod = dt.datetime.fromisoformat(entries[PUBLISHED_URL + item.url])
        assert lastmod == (item.modified or item.date), item.url
    modified = entries[f"{PUBLISHED_URL}/news/2021/novyi-zal/"]
    assert modified == "2021-05-01T12:00:00+04:00"  # `modified`, with the zone
    assert entries[f"{PUBLISHED_URL}/news/2013/forum-v-eltse/"] == (
        "2013-09-20T00:00:00+04:00"
    )
    # A page with neither date has no lastmod (not the build time).
    assert entries[f"{PUBLISHED_URL}/kak-dobratsya/"] is None
    # The home page changes with the latest news it shows.
    assert entries[PUBLISHED_URL + "/"] == "2021-05-01T12:00:00+04:00"


def test_robots_txt_points_to_the_sitemap(published_site):
    text = (published_site.output / "robots.txt").read_text("utf-8")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(text.splitlines())
    assert robots.site_maps() == [f"{PUBLISHED_URL}/sitemap.xml"]
    for url in sitemap(published_site):
        assert robots.can_fetch("*", url), url
    assert not robots.can_fetch("*", f"{PUBLISHED_URL}/pagefind/pagefind.js")


def test_preview_writes_no_sitemap_or_robots_txt(site):
    """Both need the real site URL: they belong to the production build."""
    assert not (site.output / "sitemap.xml").exists()
    assert not (site.output / "robots.txt").exists()


def test_sitemap_is_the_same_in_two_builds(published_site, tmp_path):
    """Nothing in it depends on when the site was built."""
    again = tmp_path / "output"
    result = build_site(
        published_site.content, again, "publishconf.py", MFC_SITEURL=PUBLISHED_URL
    )
    assert result.returncode == 0, result.stdout + result.stderr
    first = (published_site.output / "sitemap.xml").read_bytes()
    assert (again / "sitemap.xml").read_bytes() == first
