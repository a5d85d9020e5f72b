"""Every internal link and asset reference resolves to a file in the output."""

from urllib.parse import unquote, urlsplit

from tests.conftest import text_of

LINK_ATTRS = {
    "a": "href",
    "link": "href",
    "script": "src",
    "img": "src",
    "source": "srcset",
}


def internal_targets(soup):
    for tag, attr in LINK_ATTRS.items():
        for node in soup.find_all(tag):
            value = node.get(attr)
            if not value:
                continue
            for candidate in value.split(",") if attr == "srcset" else [value]:
                url = candidate.strip().split(" ")[0]
                parts = urlsplit(url)
                if parts.scheme or parts.netloc:
                    continue  # external, tel:, mailto:
                yield url


def test_every_internal_link_resolves(site):
    broken = []
    for path in site.html_files():
        soup = site.page(site.url_of(path))
        for url in internal_targets(soup):
            parts = urlsplit(url)
            if parts.path:
                assert parts.path.startswith("/"), f"{path}: relative link {url}"
                target = site.file(unquote(parts.path))
                if not target.is_file():
                    broken.append(f"{site.url_of(path)} → {url}")
                    continue
                target_soup = (
                    site.page(unquote(parts.path)) if target.suffix == ".html" else None
                )
            else:
                target_soup = soup
            missing_anchor = (
                parts.fragment
                and target_soup is not None
                and target_soup.find(id=parts.fragment) is None
            )
            if missing_anchor:
                broken.append(f"{site.url_of(path)} → {url} (no such anchor)")
    assert broken == []


def test_pages_share_one_skeleton(site):
    for path in site.html_files():
        soup = site.page(site.url_of(path))
        assert soup.html["lang"] == "ru", path
        skip = soup.find("a")
        assert skip["href"] == "#main", path
        assert "основному содержанию" in text_of(skip), path
        assert soup.find("main", id="main") is not None, path
        assert len(soup.find_all("h1")) == 1, path
        assert soup.find("header"), path
        assert soup.find("footer"), path
        assert soup.find("nav", attrs={"aria-label": "Основное меню"}), path


def test_current_section_is_marked_in_the_navigation(site):
    current = site.page("/news/page/2/").select('nav.mfc-nav [aria-current="page"]')
    assert [text_of(a) for a in current] == ["Новости"]
    current = site.page("/kak-dobratsya/").select('nav.mfc-nav [aria-current="page"]')
    assert [text_of(a) for a in current] == ["Как добраться"]


def test_no_request_to_another_host(site):
    for path in site.html_files():
        soup = site.page(site.url_of(path))
        for node in soup.find_all(["link", "script", "img", "iframe", "source"]):
            for attr in ("href", "src", "srcset"):
                value = node.get(attr, "")
                assert not urlsplit(value).netloc, f"{path}: {node}"
