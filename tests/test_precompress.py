"""mfc_precompress: correct, reproducible copies, and a cache keyed by content."""

import gzip
import shutil
import sqlite3
from types import SimpleNamespace

import brotli
import deflate
import pytest

import mfc_precompress
from mfc_precompress import (
    CACHE_FILE,
    Background,
    _levels,
    _settings,
    brotli_bytes,
    compress_many,
    compress_tree,
    finish,
    precompress,
    window_bits,
)

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


def test_pages_use_the_page_levels_and_assets_the_asset_levels(tmp_path):
    site = make_site(tmp_path / "site")
    settings = {
        "PRECOMPRESS_BROTLI_PAGE_QUALITY": 1,
        "PRECOMPRESS_BROTLI_QUALITY": 11,
        "PRECOMPRESS_GZIP_PAGE_LEVEL": 1,
        "PRECOMPRESS_GZIP_LEVEL": 12,
    }
    precompress(site, tmp_path / "cache.sqlite", settings)
    page = (site / "news/index.html.br").read_bytes()
    style = (site / "site.css.br").read_bytes()
    assert page == brotli.compress(
        PAGE, mode=brotli.MODE_TEXT, quality=1, lgwin=window_bits(len(PAGE))
    )
    assert style == brotli.compress(
        STYLE, mode=brotli.MODE_TEXT, quality=11, lgwin=window_bits(len(STYLE))
    )
    page_gz = (site / "news/index.html.gz").read_bytes()
    style_gz = (site / "site.css.gz").read_bytes()
    assert page_gz == deflate.gzip_compress(PAGE, 1)
    assert style_gz == deflate.gzip_compress(STYLE, 12)
    assert gzip.decompress(page_gz) == PAGE
    assert gzip.decompress(style_gz) == STYLE


def brotli_window(copy: bytes) -> int:
    """The window a Brotli stream declares (RFC 7932, 9.1: WBITS)."""
    bits = int.from_bytes(copy[:2], "little")
    if not bits & 1:
        return 16
    if (n := bits >> 1 & 7) != 0:
        return 17 + n
    return 17 if (m := bits >> 4 & 7) == 0 else 8 + m


@pytest.mark.parametrize("size", [300, 20_000, 32_752, 32_753, 300_000, 5_000_000])
def test_a_copy_has_the_smallest_window_that_holds_the_file_and_loses_nothing(
    tmp_path, size
):
    text = "Новость МФЦ №{}: приём документов по записи. "
    data = "".join(map(text.format, range(size // 40 + 1))).encode()[:size]
    copy = brotli_bytes(data, 8)
    assert brotli.decompress(copy) == data
    window = brotli_window(copy)
    assert 2**window - 16 >= size or window == 22
    assert window == 10 or 2 ** (window - 1) - 16 < size
    default = brotli.compress(data, mode=brotli.MODE_TEXT, quality=8)
    assert brotli_window(default) == 22
    assert len(copy) <= len(default) * 1.005


def copies_of(site):
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.[gb][zr]"))


def finished_with_only_the_site_copies(site, cache, earlier):
    """After a pass that met a vanishing file: finish leaves make_site's two
    compressible files with their copies, and nothing else."""
    assert finish(site, cache, {}, earlier) == (2, 4, 0)
    assert copies_of(site) == [
        "news/index.html.br",
        "news/index.html.gz",
        "site.css.br",
        "site.css.gz",
    ]


def test_finishing_a_pass_compresses_what_changed_since_and_drops_what_went(tmp_path):
    """The build's compression starts while the search index is still being
    written: what changes after it read a file is compressed again."""
    site, cache = make_site(tmp_path / "site"), tmp_path / "cache.sqlite"
    earlier = compress_tree(site, cache, {})
    assert earlier.written == 4
    (site / "news" / "index.html").write_bytes(PAGE + b"<p>new</p>\n")
    (site / "search.js").write_bytes(STYLE.replace(b"body", b"main"))
    (site / "site.css").unlink()
    assert finish(site, cache, {}, earlier) == (2, 8, 2)  # files, copies, late
    assert copies_of(site) == [
        "news/index.html.br",
        "news/index.html.gz",
        "search.js.br",
        "search.js.gz",
    ]
    assert gzip.decompress((site / "news/index.html.gz").read_bytes()).endswith(
        b"<p>new</p>\n"
    )
    assert brotli.decompress((site / "search.js.br").read_bytes()).startswith(b"main")
    # The cache keeps exactly the copies the finished site uses.
    assert len(cache_keys(cache)) == 4


def test_a_file_deleted_between_listing_and_reading_is_left_to_finish(tmp_path):
    site, cache = make_site(tmp_path / "site"), tmp_path / "cache.sqlite"
    earlier = compress_tree(site, cache, {})
    gone = site / "news" / "index.html"
    gone.unlink()
    assert compress_many(([str(gone)], str(cache), _levels(_settings({})))) == ({}, 0)
    earlier.keys.pop(str(gone))  # as if it had vanished before the pass read it
    assert finish(site, cache, {}, earlier) == (1, 4, 0)
    assert copies_of(site) == ["site.css.br", "site.css.gz"]


def test_a_file_gone_between_listing_and_its_stamp_is_left_out(tmp_path):
    """A CI run failed with FileNotFoundError: the first pass listed a
    Pagefind file (pagefind-modular-ui.js) that mfc_search removed before
    the pass took its stamp. A dangling link is a name the listing finds
    and os.stat cannot: the same moment, made to last."""
    site, cache = make_site(tmp_path / "site"), tmp_path / "cache.sqlite"
    (site / "pagefind-modular-ui.js").symlink_to(site / "removed.js")
    earlier = compress_tree(site, cache, {})
    assert sorted(earlier.files) == [
        str(site / "news/index.html"),
        str(site / "site.css"),
    ]
    finished_with_only_the_site_copies(site, cache, earlier)


def test_a_folder_removed_between_reading_and_writing_is_left_out(
    tmp_path, monkeypatch
):
    """mfc_search removes the last search bundle's folder when it starts,
    while the first pass may be compressing that bundle's files: the folder
    goes here at the last moment, just before the pass writes a copy."""
    site, cache = make_site(tmp_path / "site"), tmp_path / "cache.sqlite"
    (site / "pagefind").mkdir()
    (site / "pagefind" / "pagefind.js").write_bytes(STYLE)
    write = mfc_precompress.write_if_changed

    def bundle_removed_first(path, data):
        if path.parent == site / "pagefind":  # its file was read: now it goes
            shutil.rmtree(path.parent)
        return write(path, data)

    monkeypatch.setattr(mfc_precompress, "write_if_changed", bundle_removed_first)
    earlier = compress_tree(site, cache, {})
    monkeypatch.undo()
    assert earlier.written == 4
    finished_with_only_the_site_copies(site, cache, earlier)


def test_a_pass_over_an_empty_cache_does_not_ask_it_for_copies(tmp_path):
    site, cache = make_site(tmp_path / "site"), tmp_path / "cache.sqlite"
    page = str(site / "news" / "index.html")
    keys, _ = compress_many(([page], str(cache), _levels(_settings({}))))

    def spoil():  # the stored copies, made wrong on purpose
        with sqlite3.connect(cache) as db:
            stale = gzip.compress(b"stale")
            db.executemany(
                "UPDATE copies SET blob = ? WHERE key = ?",
                [(stale, key) for key in keys[page]],
            )

    copy = site / "news" / "index.html.gz"
    spoil()
    compress_many(([page], str(cache), _levels(_settings({})), True))
    assert gzip.decompress(copy.read_bytes()) == PAGE  # made, not asked for
    spoil()
    compress_many(([page], str(cache), _levels(_settings({})), False))
    assert gzip.decompress(copy.read_bytes()) == b"stale"  # asked for


def test_the_build_process_finishes_when_told_and_stops_without_pruning(tmp_path):
    """mfc_precompress's own process (``Background``), as the build drives it."""
    cache = tmp_path / "cache"
    cache.mkdir()
    old = make_site(tmp_path / "old")
    precompress(old, cache / CACHE_FILE, {})
    kept = cache_keys(cache / CACHE_FILE)
    build = SimpleNamespace(settings={"CACHE_PATH": str(cache)})

    build.output_path = str(make_site(tmp_path / "failed"))
    (tmp_path / "failed" / "site.css").write_bytes(STYLE + b"/* failed */\n")
    failed = Background(build)
    failed.process.stdin.close()  # the build ended without finishing
    assert failed.process.wait(timeout=60) == 0
    failed.stop()
    # Not pruned: the old site's CSS copies are still there for the next build.
    failed_css = cache_keys(cache / CACHE_FILE) - kept
    assert len(failed_css) == 2
    assert kept < cache_keys(cache / CACHE_FILE)

    build.output_path = str(make_site(tmp_path / "new"))
    running = Background(build)
    (tmp_path / "new" / "late.svg").write_bytes(STYLE + b"<!-- svg -->")  # meanwhile
    read, written, late = running.finish()
    assert read == 3
    assert written == 6
    assert late in (0, 1)  # the file may be there when it starts reading
    assert copies_of(tmp_path / "new") == [
        "late.svg.br",
        "late.svg.gz",
        "news/index.html.br",
        "news/index.html.gz",
        "site.css.br",
        "site.css.gz",
    ]
    after = cache_keys(cache / CACHE_FILE)
    assert len(after) == 6
    assert kept < after
    assert not after & failed_css  # pruned once the build finished


def test_the_cache_log_is_not_folded_into_the_file_after_each_chunk(
    tmp_path, monkeypatch
):
    """One worker compresses chunk after chunk: each chunk's connection is
    not the cache's last one (SQLite would copy its log into the file and
    sync both at every chunk), and the copies are all there at the end."""
    site = tmp_path / "site"
    for n in range(3 * mfc_precompress.CHUNK):
        page = site / "news" / f"n{n}" / "index.html"
        page.parent.mkdir(parents=True)
        page.write_bytes(PAGE + f"<p>{n}</p>\n".encode())
    cache = tmp_path / "cache.sqlite"
    log = tmp_path / "cache.sqlite-wal"
    monkeypatch.setattr(mfc_precompress.os, "cpu_count", lambda: 1)
    compress = mfc_precompress.compress_many
    log_kept = []

    def one_chunk(job):
        result = compress(job)
        log_kept.append(log.exists())
        return result

    monkeypatch.setattr(mfc_precompress, "compress_many", one_chunk)
    read, written = precompress(site, cache, {})
    assert (read, written) == (3 * mfc_precompress.CHUNK, 6 * mfc_precompress.CHUNK)
    assert log_kept == [True, True, True]
    assert len(cache_keys(cache)) == 6 * mfc_precompress.CHUNK
