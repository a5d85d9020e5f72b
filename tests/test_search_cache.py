"""mfc_search's bundle cache: reused only for the same HTML, stored whole.

Small sites written here, indexed by the real Pagefind binary. The full
builds (reuse across `invoke publish`, search in a browser) are in
tests/browser/test_search_reuse.py.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from mfc_search import MANIFEST, BundleCache, build_index, cache_key, index_output

ITEMS = {
    "news/2024/forum/index.html": "<h1>Форум</h1><p>Сотрудники МФЦ на форуме.</p>",
    "news/2024/zal/index.html": "<h1>Новый зал</h1><p>Открыт зал приёма.</p>",
    "kak-dobratsya/index.html": "<h1>Как добраться</h1><p>Улица Бабефа, 8.</p>",
}


def page(body: str, *, indexed: bool = True) -> str:
    attr = " data-pagefind-body" if indexed else ""
    return (
        '<!DOCTYPE html><html lang="ru"><head><title>т</title></head>'
        f"<body><header>Меню</header><main{attr}>{body}</main></body></html>"
    )


def make_site(root: Path, items: dict[str, str] = ITEMS) -> Path:
    for name, body in items.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page(body), encoding="utf-8")
    (root / "news" / "index.html").write_text(
        page("<h1>Новости</h1>", indexed=False), encoding="utf-8"
    )
    (root / "style.css").write_text("body { color: black; }", encoding="utf-8")
    return root


def bundle_files(site: Path) -> dict[str, bytes]:
    """The search bundle as written: Pagefind's files (and any .gz/.br)."""
    bundle = site / "pagefind"
    return {
        p.relative_to(bundle).as_posix(): p.read_bytes()
        for p in sorted(bundle.rglob("*"))
        if p.is_file()
    }


def entries(cache: BundleCache) -> list[str]:
    return sorted(p.name for p in cache.root.iterdir())


def test_same_html_reuses_a_bundle_identical_to_pagefinds(tmp_path):
    cache = BundleCache(tmp_path / "cache")
    first = make_site(tmp_path / "one")
    assert build_index(first, cache=cache) == (3, 4, False)
    fresh = bundle_files(first)
    assert "pagefind.js" in fresh
    # Another folder (a new staging folder), the same HTML: reused.
    second = make_site(tmp_path / "two")
    assert build_index(second, cache=cache) == (3, 4, True)
    assert bundle_files(second) == fresh
    # Pagefind run again on the same site writes exactly these bytes.
    third = make_site(tmp_path / "three")
    assert build_index(third) == (3, 4, False)
    assert bundle_files(third) == fresh
    assert len(entries(cache)) == 1


def test_one_changed_byte_path_or_new_file_means_pagefind_runs(tmp_path):
    cache = BundleCache(tmp_path / "cache", keep=10)
    build_index(make_site(tmp_path / "base"), cache=cache)
    changes = {
        "text": {**ITEMS, "kak-dobratsya/index.html": "<h1>Как добраться</h1>"},
        "path": {
            **{k: v for k, v in ITEMS.items() if "zal" not in k},
            "news/2024/zal-2/index.html": ITEMS["news/2024/zal/index.html"],
        },
        "added": {**ITEMS, "news/2024/novaia/index.html": "<h1>Новая</h1>"},
    }
    for name, items in changes.items():
        site = make_site(tmp_path / name, items)
        index = build_index(site, cache=cache)
        assert not index.reused, name
        fresh = make_site(tmp_path / f"{name}-fresh", items)
        build_index(fresh)
        assert bundle_files(site) == bundle_files(fresh), name
    # A file Pagefind does not read (CSS) changes nothing.
    site = make_site(tmp_path / "css")
    (site / "style.css").write_text("body { color: red; }", encoding="utf-8")
    assert build_index(site, cache=cache).reused
    assert len(entries(cache)) == 4


def test_removed_page_is_not_in_a_reused_bundle(tmp_path):
    cache = BundleCache(tmp_path / "cache")
    site = make_site(tmp_path / "site")
    build_index(site, cache=cache)
    (site / "news/2024/zal/index.html").unlink()
    assert build_index(site, cache=cache) == (2, 3, False)
    fragments = list((site / "pagefind" / "fragment").iterdir())
    assert len(fragments) == 2


def test_only_the_last_bundles_are_kept(tmp_path):
    cache = BundleCache(tmp_path / "cache", keep=2)

    def version(n: int, folder: str) -> Path:
        items = {**ITEMS, "extra/index.html": f"<p>Версия {n}</p>"}
        return make_site(tmp_path / folder, items)

    keys = []
    for n in range(3):
        site = version(n, f"v{n}")
        keys.append(cache_key(site, "pagefind"))
        build_index(site, cache=cache)
    assert entries(cache) == sorted(keys[1:])
    # Reusing v1 makes it the most recent: a new version drops v2, not v1.
    assert build_index(version(1, "v1-again"), cache=cache).reused
    site = version(3, "v3")
    build_index(site, cache=cache)
    assert entries(cache) == sorted([keys[1], cache_key(site, "pagefind")])


def test_a_damaged_bundle_is_never_reused(tmp_path):
    cache = BundleCache(tmp_path / "cache")
    site = make_site(tmp_path / "site")
    build_index(site, cache=cache)
    fresh = bundle_files(site)
    (key,) = entries(cache)
    stored = cache.root / key / "bundle"
    # One byte of a fragment changed, its size the same (as a disk error or
    # a hand edit would): the manifest's digests catch it.
    fragment = next((stored / "fragment").iterdir())
    data = bytearray(fragment.read_bytes())
    data[-1] ^= 0xFF
    fragment.unlink()  # a new inode: the site's hard link keeps its bytes
    fragment.write_bytes(bytes(data))
    again = make_site(tmp_path / "again")
    assert not build_index(again, cache=cache).reused
    assert bundle_files(again) == fresh
    # And the entry was replaced by a good one.
    assert build_index(make_site(tmp_path / "third"), cache=cache).reused


def test_a_killed_store_leaves_nothing_that_is_reused(tmp_path):
    """A build killed while it stored its bundle leaves a temporary folder,
    never a folder under a key; the next store removes it."""
    cache_root = tmp_path / "cache"
    site = make_site(tmp_path / "site")
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "import mfc_search\n"
        "real = mfc_search._copy_tree\n"
        "def copy_then_die(source, target, names):\n"
        "    real(source, target, names[: len(names) // 2])\n"
        "    os._exit(9)\n"
        "mfc_search._copy_tree = copy_then_die\n"
        "mfc_search.build_index(sys.argv[1], cache=mfc_search.BundleCache("
        "Path(sys.argv[2])))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "plugins")}
    killed = subprocess.run(
        [sys.executable, "-c", script, str(site), str(cache_root)],
        env=env,
        check=False,
    )
    assert killed.returncode == 9
    leftovers = [p.name for p in cache_root.iterdir()]
    assert len(leftovers) == 1
    assert leftovers[0].startswith(".tmp-")
    # The next build finds no bundle: Pagefind runs, the leftover goes.
    cache = BundleCache(cache_root)
    assert not build_index(make_site(tmp_path / "next"), cache=cache).reused
    assert entries(cache) == [cache_key(site, "pagefind")]
    manifest = json.loads((cache_root / entries(cache)[0] / MANIFEST).read_text())
    assert len(manifest["files"]) == len(bundle_files(site))


def test_reused_files_are_links_that_no_later_build_rewrites(tmp_path):
    cache = BundleCache(tmp_path / "cache")
    build_index(make_site(tmp_path / "one"), cache=cache)
    site = make_site(tmp_path / "two")
    assert build_index(site, cache=cache).reused
    js = site / "pagefind" / "pagefind.js"
    assert js.stat().st_nlink >= 2  # a hard link to the cached file
    before = bundle_files(site)
    # A later build over the same folder, with other HTML, and a pruning
    # of the cache: the files the first output has keep their bytes.
    keep = tmp_path / "kept"
    shutil.copytree(site / "pagefind", keep, copy_function=os.link)
    (site / "kak-dobratsya/index.html").write_text(page("<p>Новое</p>"), "utf-8")
    build_index(site, cache=BundleCache(cache.root, keep=1))
    assert {
        p.relative_to(keep).as_posix(): p.read_bytes()
        for p in sorted(keep.rglob("*"))
        if p.is_file()
    } == before


def test_config_file_and_environment_do_not_change_the_bundle(tmp_path, monkeypatch):
    """Pagefind runs in an empty folder without PAGEFIND_* variables: a
    pagefind.yml where the build runs, or a variable, cannot make a bundle
    that differs from what the key says."""
    site = make_site(tmp_path / "site")
    build_index(site)
    plain = bundle_files(site)
    work = tmp_path / "work"
    work.mkdir()
    (work / "pagefind.yml").write_text("force_language: en\n", encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setenv("PAGEFIND_FORCE_LANGUAGE", "en")
    build_index(site)
    assert bundle_files(site) == plain
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text())
    assert list(entry["languages"]) == ["ru"]


def test_no_cache_when_keep_is_zero(tmp_path):
    cache = BundleCache(tmp_path / "cache", keep=0)
    build_index(make_site(tmp_path / "one"), cache=cache)
    assert not build_index(make_site(tmp_path / "two"), cache=cache).reused
    assert not cache.root.exists()


def test_the_build_log_says_whether_the_bundle_was_reused(tmp_path, caplog):
    settings = {"CACHE_PATH": str(tmp_path / "cache")}
    messages = []
    for name in ("one", "two"):
        pelican = SimpleNamespace(
            output_path=str(make_site(tmp_path / name)), settings=settings
        )
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="mfc_search"):
            index_output(pelican)
        messages.append(caplog.messages)
    assert messages[0][0].startswith("mfc_search: indexed 3 of 4 HTML files in ")
    assert messages[1][0].startswith(
        "mfc_search: the HTML did not change: reused the search bundle of 3 pages "
        "(4 HTML files) in "
    )
    assert (tmp_path / "cache" / "search").is_dir()
