"""Theme files under fingerprinted names (mfc_assets), declared once in <head>."""

import hashlib
import logging
import re

from mfc_assets import Assets, fingerprinted_name
from tests.conftest import ROOT

FINGERPRINT = re.compile(r"\.([0-9a-f]{10})\.(css|js|svg)$")


def head_assets(soup) -> list[str]:
    urls = [s["src"] for s in soup.select("head script[src]")]
    urls += [link["href"] for link in soup.select('head link[rel~="stylesheet"]')]
    urls += [link["href"] for link in soup.select('head link[rel~="icon"]')]
    return urls


def test_every_page_names_its_css_js_and_icon_by_content_hash(site):
    expected = None
    for path in site.html_files():
        # The search page adds its own script; every page has the same three.
        urls = [
            u for u in head_assets(site.page(site.url_of(path))) if "/search." not in u
        ]
        assert len(urls) == 3, f"{path}: {urls}"
        if expected is None:
            expected = urls
        assert urls == expected, f"{path} names other assets"
    for url in expected:
        match = FINGERPRINT.search(url)
        assert match, f"{url} has no fingerprint"
        served = site.file(url).read_bytes()
        assert hashlib.sha256(served).hexdigest()[:10] == match.group(1)
        source = (
            ROOT
            / "theme"
            / "static"
            / FINGERPRINT.sub(r".\2", url).split("/static/", 1)[1]
        )
        assert served == source.read_bytes(), f"{url} differs from {source}"


def test_icon_is_declared_so_no_favicon_ico_is_requested(site):
    icon = site.page("/").select_one('head link[rel="icon"]')
    assert icon["type"] == "image/svg+xml"
    assert icon["href"].endswith(".svg")


def test_script_comes_first_and_blocks_so_settings_apply_before_paint(site):
    head = site.page("/news/").find("head")
    first_resource = head.find(["script", "link"])
    assert first_resource.name == "script"
    assert not first_resource.has_attr("async")
    assert not first_resource.has_attr("defer")
    # No inline script or style anywhere: the CSP forbids 'unsafe-inline'.
    for path in site.html_files():
        soup = site.page(site.url_of(path))
        # JSON-LD blocks are data, not executed; the CSP allows them.
        assert all(
            s.has_attr("src") or s.get("type") == "application/ld+json"
            for s in soup.find_all("script")
        ), path
        assert soup.find("style") is None, path
        assert soup.find(attrs={"style": True}) is None, path


def test_fingerprinted_name():
    assert fingerprinted_name("css/site.css", b"hello") == "css/site.2cf24dba5f.css"
    assert fingerprinted_name("LICENSE", b"hello") == "LICENSE.2cf24dba5f"


def test_unknown_asset_is_an_error_naming_the_file(tmp_path, caplog):
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "site.css").write_text("body{}")
    assets = Assets(
        {
            "THEME": str(tmp_path),
            "THEME_STATIC_PATHS": ["static"],
            "THEME_STATIC_DIR": "t",
        }
    )
    assert assets.url("css/site.css") == "t/" + fingerprinted_name(
        "css/site.css", b"body{}"
    )
    with caplog.at_level(logging.ERROR):
        assets.url("css/missing.css")
    assert "css/missing.css" in caplog.text
    assert "mfc_assets" in caplog.text
    output = tmp_path / "out"
    assets.write(str(output))
    assert [p.name for p in output.rglob("*.css")] == [
        fingerprinted_name("site.css", b"body{}")
    ]
