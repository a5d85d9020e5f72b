"""The production build: real site URL everywhere, feeds, a clean output."""

import gzip
import json
import re
from urllib.parse import urlsplit

import brotli
from pelican.settings import get_settings_from_file

from mfc_precompress import brotli_bytes, gzip_bytes
from tests.conftest import PUBLISHED_URL, ROOT, UNPUBLISHED_MARK
from tests.published import published_news, unpublished_news

# Namespace names in XML are identifiers, not links to follow.
XML_NAMESPACES = (
    "http://www.w3.org/2005/Atom",
    "http://purl.org/dc/elements/1.1/",
    "http://www.sitemaps.org/schemas/sitemap/0.9",
)


def test_production_links_are_absolute_on_the_site_url(published_site):
    relative = []
    for path in published_site.html_files():
        soup = published_site.page(published_site.url_of(path))
        for node in soup.find_all(["a", "link", "script", "img"]):
            url = node.get("href") or node.get("src")
            if not url or url.startswith(("#", "tel:", "mailto:")):
                continue
            if not urlsplit(url).netloc:
                relative.append(f"{published_site.url_of(path)}: {url}")
    assert relative == []
    home = published_site.page("/")
    assert home.find("link", rel="stylesheet")["href"].startswith(PUBLISHED_URL + "/")


def test_no_localhost_in_production_output(published_site):
    for path in published_site.output.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".xml", ".txt", ".json"}:
            text = path.read_text(encoding="utf-8")
            assert "localhost" not in text, path
            assert "127.0.0.1" not in text, path


def test_production_has_feeds(published_site):
    feed = published_site.output / "feeds" / "all.atom.xml"
    assert feed.is_file()
    assert f"{PUBLISHED_URL}/news/2013/forum-v-eltse/" in feed.read_text("utf-8")


def test_production_starts_from_an_empty_output(published_site):
    assert not (published_site.output / "stale.html").exists()


def test_production_has_no_draft_and_no_future_item(published_site):
    unpublished = unpublished_news(published_site.content)
    assert {item.title for item in unpublished} == {
        "Сотрудники МФЦ провели субботник",  # status: draft
        "МФЦ отметит юбилей",  # dated in the future
        f"Черновик новости {UNPUBLISHED_MARK}",
        f"Запланированная новость {UNPUBLISHED_MARK}",
    }
    assert not (published_site.output / "drafts").exists()
    listed = {a["href"] for a in published_site.page("/news/").select("main a")}
    for item in unpublished:
        assert not published_site.file(item.url).exists(), item.url
        assert PUBLISHED_URL + item.url not in listed
    for item in published_news(published_site.content):
        assert published_site.file(item.url).is_file(), item.url
        assert PUBLISHED_URL + item.url in listed
    assert not (published_site.output / "tags" / "yubilei").exists()


JSON_LD_URL_KEYS = {"@id", "url", "logo", "image", "mainEntityOfPage"}


def urls_in_head(soup) -> list[str]:
    """Canonical, feed, Open Graph and JSON-LD URLs of a page."""
    urls = [link["href"] for link in soup.select('head link[rel="canonical"]')]
    urls += [link["href"] for link in soup.select('head link[rel="alternate"]')]
    urls += [
        node["content"]
        for node in soup.select("head meta[property]")
        if node["property"] in {"og:url", "og:image"}
    ]

    def walk(value, is_url=False):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, key in JSON_LD_URL_KEYS)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item, is_url)
        elif is_url:
            yield value

    for script in soup.select('script[type="application/ld+json"]'):
        urls += list(walk(json.loads(script.string)))
    return urls


def test_machine_readable_urls_use_the_site_url(published_site):
    """Feeds, sitemap, robots.txt, canonical URLs, Open Graph and JSON-LD."""
    checked = 0
    for path in published_site.html_files():
        for url in urls_in_head(published_site.page(published_site.url_of(path))):
            assert url.startswith(PUBLISHED_URL + "/"), f"{path}: {url}"
            checked += 1
    assert checked > 100
    files = ["sitemap.xml", "robots.txt", "feeds/all.atom.xml", "feeds/all.rss.xml"]
    files += [
        p.relative_to(published_site.output).as_posix()
        for p in (published_site.output / "feeds" / "tags").iterdir()
        if p.suffix == ".xml"  # not the precompressed .gz/.br copies
    ]
    for name in files:
        text = (published_site.output / name).read_text("utf-8")
        urls = re.findall(r"""https?://[^\s"'<>]+""", text)
        assert urls, name
        foreign = [
            url
            for url in urls
            if not url.startswith(PUBLISHED_URL + "/")
            and url.rstrip("/") != PUBLISHED_URL
            and not url.startswith(XML_NAMESPACES)
        ]
        assert foreign == [], name


def test_every_text_file_has_its_compressed_copies(published_site):
    """Pages, and what is written after them (the search bundle's script):
    each text file nginx may serve has .gz and .br copies of its bytes, and
    no copy outlives its file."""
    settings = get_settings_from_file(str(ROOT / "publishconf.py"))
    output = published_site.output
    texts = [
        path
        for path in output.rglob("*")
        if path.is_file()
        and path.suffix in settings["PRECOMPRESS_TEXT_EXTENSIONS"]
        and path.stat().st_size >= settings["PRECOMPRESS_MIN_SIZE"]
    ]
    assert output / "pagefind" / "pagefind.js" in texts
    missing = []
    for path in texts:
        data = path.read_bytes()
        for suffix, decode in ((".gz", gzip.decompress), (".br", brotli.decompress)):
            copy = path.with_name(path.name + suffix)
            if copy.exists():  # text of 256 bytes or more: always smaller
                assert decode(copy.read_bytes()) == data, copy
            else:
                missing.append(copy.relative_to(output).as_posix())
    assert missing == []
    orphans = [
        copy.relative_to(output).as_posix()
        for copy in output.rglob("*")
        if copy.suffix in {".gz", ".br"} and not copy.with_suffix("").exists()
    ]
    assert orphans == []


def test_pages_are_compressed_at_the_page_levels_and_assets_at_theirs(published_site):
    """Pages and feeds: Brotli 7 and gzip 6 (thousands of files, a build's
    time); the shared CSS and scripts: Brotli 11 and gzip 9 (few files, every
    visitor). Each copy is those bytes exactly."""
    output = published_site.output
    page = output / "index.html"
    feed = next((output / "feeds").glob("*.xml"))
    style = next((output / "static").rglob("*.css"))
    for path, br, gz in ((page, 7, 6), (feed, 7, 6), (style, 11, 9)):
        data = path.read_bytes()
        assert (path.parent / f"{path.name}.br").read_bytes() == brotli_bytes(data, br)
        assert (path.parent / f"{path.name}.gz").read_bytes() == gzip_bytes(data, gz)
