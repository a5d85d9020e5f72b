"""mfc_precompress: correct, reproducible copies, and a cache keyed by content."""

import gzip
import sqlite3

import brotli

from mfc_precompress import precompress

PAGE = ("<p>Многофункциональный центр «Мои документы» — новости.</p>\n" * 40).encode()
STYLE = ("body { color: var(--mfc-text); }\n" * 40).encode()


def cache_keys(cache):
    with sqlite3.connect(cache) as db:
        return {key for (key,) in db.execute("SELECT key FROM copies")}


def make_site(root):
    (root / "news").mkdir(parents=True)
    (root / "news" / "index.html").write_bytes(PAGE)
    (root / "site.css").write_bytes(STYLE)
    (root / "tiny.html").write_bytes(b"<p>short</p>")
    return root


def test_copies_decompress_to_the_file_and_tiny_files_are_skipped(tmp_path):
    site = make_site(tmp_path / "site")
    read, written = precompress(site, tmp_path / "cache.sqlite", {})
    assert (read, written) == (2, 4)
    for name, data in (("news/index.html", PAGE), ("site.css", STYLE)):
        assert gzip.decompress((site / f"{name}.gz").read_bytes()) == data
        assert brotli.decompress((site / f"{name}.br").read_bytes()) == data
    assert not (site / "tiny.html.gz").exists()


def test_a_rebuild_reuses_the_cache_and_gives_the_same_bytes(tmp_path):
    cache = tmp_path / "cache.sqlite"
    first = make_site(tmp_path / "one")
    precompress(first, cache, {})
    keys = cache_keys(cache)
    assert len(keys) == 4
    second = make_site(tmp_path / "two")
    (second / "news" / "index.html").write_bytes(PAGE + b"<p>new</p>\n")
    precompress(second, cache, {})
    after = cache_keys(cache)
    # The CSS copies were reused; the changed page's replaced the old ones.
    assert len(after) == 4
    assert len(after & keys) == 2
    assert (second / "site.css.br").read_bytes() == (first / "site.css.br").read_bytes()
    assert brotli.decompress((second / "news/index.html.br").read_bytes()).endswith(
        b"<p>new</p>\n"
    )


def test_pages_use_the_page_quality_and_assets_the_asset_quality(tmp_path):
    site = make_site(tmp_path / "site")
    settings = {"PRECOMPRESS_BROTLI_PAGE_QUALITY": 1, "PRECOMPRESS_BROTLI_QUALITY": 11}
    precompress(site, tmp_path / "cache.sqlite", settings)
    page = (site / "news/index.html.br").read_bytes()
    style = (site / "site.css.br").read_bytes()
    assert page == brotli.compress(PAGE, mode=brotli.MODE_TEXT, quality=1)
    assert style == brotli.compress(STYLE, mode=brotli.MODE_TEXT, quality=11)
