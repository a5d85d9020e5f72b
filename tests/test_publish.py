"""The production build: real site URL everywhere, feeds, a clean output."""

from urllib.parse import urlsplit

from tests.conftest import PUBLISHED_URL
from tests.published import published_news, unpublished_news


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
        "МФЦ отметит юбилей",  # dated next year
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
