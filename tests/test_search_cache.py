"""mfc_search's bundle cache: reused only for the same HTML, stored whole.

Small sites written here, indexed by the real Pagefind binary. The full
builds (reuse across `invoke publish`, search in a browser) are in
tests/browser/test_search_reuse.py.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from mfc_search import (
    MANIFEST,
    BundleCache,
    build_index,
    index_output,
    plan_parts,
    update_index,
)

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


def summary(bundle) -> tuple[int, int, bool]:
    """Pages indexed, HTML files read, and whether every part was reused."""
    return bundle.indexed, bundle.read, bundle.reused


def key_of(site: Path) -> str:
    """The cache key of a site small enough to be one part."""
    (part,) = plan_parts(site)
    return part.key


def test_same_html_reuses_a_bundle_identical_to_pagefinds(tmp_path):
    cache = BundleCache(tmp_path / "cache")
    first = make_site(tmp_path / "one")
    assert summary(build_index(first, cache=cache)) == (3, 4, False)
    fresh = bundle_files(first)
    assert "pagefind.js" in fresh
    # Another folder (a new staging folder), the same HTML: reused.
    second = make_site(tmp_path / "two")
    assert summary(build_index(second, cache=cache)) == (3, 4, True)
    assert bundle_files(second) == fresh
    # Pagefind run again on the same site writes exactly these bytes.
    third = make_site(tmp_path / "three")
    assert summary(build_index(third)) == (3, 4, False)
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
    assert summary(build_index(site, cache=cache)) == (2, 3, False)
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
        keys.append(key_of(site))
        build_index(site, cache=cache)
    assert entries(cache) == sorted(keys[1:])
    # Reusing v1 makes it the most recent: a new version drops v2, not v1.
    assert build_index(version(1, "v1-again"), cache=cache).reused
    site = version(3, "v3")
    build_index(site, cache=cache)
    assert entries(cache) == sorted([keys[1], key_of(site)])


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
    assert entries(cache) == [key_of(site)]
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


# --- A large site: the index in parts --------------------------------------

# Indexed pages per year of news; with parts of at most 4 pages:
# [top + 2019], [2020], [2021], [2022].
YEARS = {2019: 3, 2020: 2, 2021: 4, 2022: 1}
PART_PAGES = 4


def news_site(root: Path, years: dict[int, int] = YEARS, **changed: str) -> Path:
    """Items in year folders, each year with an (unindexed) month list."""
    items = {"kak-dobratsya/index.html": ITEMS["kak-dobratsya/index.html"]}
    for year, count in years.items():
        for n in range(count):
            items[f"news/{year}/novost-{n}/index.html"] = (
                f"<h1>Новость {n} за {year} год</h1><p>Приём документов.</p>"
            )
    items.update(changed)
    site = make_site(root, items)
    for year in years:
        path = site / f"news/{year}/01/index.html"
        path.parent.mkdir()
        path.write_text(page("<h1>Январь</h1>", indexed=False), encoding="utf-8")
    return site


def fragments(bundle: Path) -> dict[str, bytes]:
    """Fragment files (one per page, named by its content) of one part."""
    return {p.name: p.read_bytes() for p in (bundle / "fragment").iterdir()}


def urls(bundle: Path) -> set[str]:
    def url(data: bytes) -> str:
        return json.loads(gzip.decompress(data).removeprefix(b"pagefind_dcd"))["url"]

    return {url(data) for data in fragments(bundle).values()}


def test_parts_hold_whole_year_folders_packed_in_name_order(tmp_path):
    parts = plan_parts(news_site(tmp_path / "site"), part_pages=PART_PAGES)
    assert [(p.name, p.glob, p.pages) for p in parts] == [
        ("", "{*.html,*/*.html,news/2019/*/*.html}", 4),
        ("part-news-2020", "news/2020/*/*.html", 2),
        ("part-news-2021", "news/2021/*/*.html", 4),
        ("part-news-2022", "news/2022/*/*.html", 1),
    ]
    # A folder bigger than a part is a part of its own.
    parts = plan_parts(tmp_path / "site", part_pages=2)
    assert [(p.name, p.pages) for p in parts] == [
        ("", 1),
        ("part-news-2019", 3),
        ("part-news-2020", 2),
        ("part-news-2021", 4),
        ("part-news-2022", 1),
    ]
    # Small sites, and 0, make one index of the whole site.
    assert len(plan_parts(tmp_path / "site")) == 1
    (whole,) = plan_parts(tmp_path / "site", part_pages=0)
    assert (whole.glob, whole.pages) == ("**/*.{html}", 11)


def test_a_folder_name_that_is_not_literal_in_a_glob_makes_one_index(tmp_path):
    site = news_site(tmp_path / "site")
    odd = site / "news" / "2020 [архив]" / "a" / "index.html"
    odd.parent.mkdir(parents=True)
    odd.write_text(page("<h1>Архив</h1>"), encoding="utf-8")
    (whole,) = plan_parts(site, part_pages=PART_PAGES)
    assert whole.glob == "**/*.{html}"
    assert build_index(site, part_pages=PART_PAGES).indexed == 12


def test_parts_index_every_page_once_as_one_index_would(tmp_path):
    site = news_site(tmp_path / "site")
    index = build_index(site, part_pages=PART_PAGES)
    # 11 pages; read: those, news/index.html and the four month lists.
    assert index[:5] == (11, 16, 4, 4, True)
    bundle = site / "pagefind"
    listed = json.loads((bundle / "mfc-parts.json").read_text(encoding="utf-8"))
    assert listed == {
        "parts": ["part-news-2020/", "part-news-2021/", "part-news-2022/"]
    }
    assert urls(bundle) == {
        "/kak-dobratsya/",
        *(f"/news/2019/novost-{n}/" for n in range(3)),
    }
    assert urls(bundle / "part-news-2021") == {
        f"/news/2021/novost-{n}/" for n in range(4)
    }
    # The merged parts have their index and nothing the browser takes from
    # the main part (pagefind.js, its worker, the WebAssembly).
    assert (bundle / "pagefind.js").is_file()
    assert list(bundle.glob("wasm.*.pagefind"))
    for name in listed["parts"]:
        files = sorted(p.name for p in (bundle / name).iterdir())
        assert files[:3] == ["fragment", "index", "pagefind-entry.json"]
        assert [f for f in files[3:] if f.endswith(".pf_meta")] == files[3:4]
        assert len(files) == 4
    # Each page's fragment is the one a single index of the site has.
    whole = news_site(tmp_path / "whole")
    assert build_index(whole, part_pages=0).parts == 1
    merged = {}
    for part in [bundle, *(bundle / name for name in listed["parts"])]:
        merged.update(fragments(part))
    assert merged == fragments(whole / "pagefind")


def test_an_edit_reindexes_only_its_part(tmp_path):
    cache = BundleCache(tmp_path / "cache")
    first = news_site(tmp_path / "first")
    assert build_index(first, cache=cache, part_pages=PART_PAGES).reindexed == 4
    # Another folder, the same HTML: every part reused, the same bytes.
    again = news_site(tmp_path / "again")
    index = build_index(again, cache=cache, part_pages=PART_PAGES)
    assert (index.reused, index.parts) == (True, 4)
    assert bundle_files(again) == bundle_files(first)
    # One 2021 item edited, then a 2022 item added: one part each time,
    # and the bundle is what a build without the cache writes.
    edit = {"news/2021/novost-2/index.html": "<h1>Новость</h1><p>Правка.</p>"}
    added = {**YEARS, 2022: 2}
    for name, years, changed in (
        ("edited", YEARS, edit),
        ("added", added, {}),
    ):
        site = news_site(tmp_path / name, years, **changed)
        index = build_index(site, cache=cache, part_pages=PART_PAGES)
        assert (index.parts, index.reindexed) == (4, 1), name
        fresh = news_site(tmp_path / f"{name}-fresh", years, **changed)
        build_index(fresh, part_pages=PART_PAGES)
        assert bundle_files(site) == bundle_files(fresh), name


def test_the_cache_keeps_the_parts_of_the_last_builds(tmp_path):
    cache = BundleCache(tmp_path / "cache", keep=1)
    build_index(news_site(tmp_path / "one"), cache=cache, part_pages=PART_PAGES)
    edit = {"news/2020/novost-0/index.html": "<h1>Новость</h1><p>Правка.</p>"}
    site = news_site(tmp_path / "two", **edit)
    build_index(site, cache=cache, part_pages=PART_PAGES)
    current = sorted(p.key for p in plan_parts(site, part_pages=PART_PAGES))
    assert entries(cache) == current
    # keep=2: the parts of this build and as many of the others.
    cache = BundleCache(cache.root, keep=2)
    build_index(news_site(tmp_path / "three"), cache=cache, part_pages=PART_PAGES)
    assert len(entries(cache)) == 5  # four parts, and the edited 2020 part


def test_the_build_log_counts_the_parts_pagefind_ran_for(tmp_path, caplog):
    settings = {"CACHE_PATH": str(tmp_path / "cache"), "SEARCH_PART_PAGES": 4}
    edit = {"news/2021/novost-0/index.html": "<h1>Новость</h1><p>Правка.</p>"}
    messages = []
    for name, changed in (("one", {}), ("two", edit), ("three", edit)):
        pelican = SimpleNamespace(
            output_path=str(news_site(tmp_path / name, **changed)), settings=settings
        )
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="mfc_search"):
            index_output(pelican)
        messages.append(caplog.messages[0])
    assert messages[0].startswith(
        "mfc_search: indexed 11 of 16 HTML files in 4 parts (4 by Pagefind, "
    )
    assert messages[1].startswith(
        "mfc_search: indexed 11 of 16 HTML files in 4 parts (1 by Pagefind, "
    )
    assert messages[2].startswith(
        "mfc_search: the HTML did not change: reused the search bundle of 11 pages "
        "(16 HTML files) in 4 parts in "
    )


def test_a_symlinked_folder_makes_one_index_that_is_never_reused(tmp_path):
    """Pagefind's walk may follow the link where ours does not."""
    cache = BundleCache(tmp_path / "cache")
    site = news_site(tmp_path / "site")
    (site / "news" / "2020-old").symlink_to(site / "news" / "2020")
    (whole,) = plan_parts(site, part_pages=PART_PAGES)
    assert (whole.glob, whole.key) == ("**/*.{html}", None)
    assert build_index(site, cache=cache, part_pages=PART_PAGES).marked
    assert build_index(site, cache=cache, part_pages=PART_PAGES).reindexed == 1
    assert not cache.root.exists() or entries(cache) == []


# --- A fast rebuild: only the parts of pages whose bytes changed ------------


def test_update_index_remakes_the_parts_of_changed_pages_only(tmp_path):
    site = news_site(tmp_path / "site")
    plan = build_index(site, part_pages=PART_PAGES).plan
    edited = "news/2021/novost-1/index.html"
    (site / edited).write_text(
        page("<h1>Новость 1 за 2021 год</h1><p>Дирижаблестроение.</p>"),
        encoding="utf-8",
    )
    unchanged = {
        name: data
        for name, data in bundle_files(site).items()
        if not name.startswith("part-news-2021/")
    }
    new_plan, written = update_index(
        site, [edited, "news/2022/novost-0/index.html"], plan
    )
    assert written
    assert all(name.startswith("pagefind/part-news-2021/") for name in written)
    assert "pagefind/part-news-2021/pagefind-entry.json" in written
    # What one whole index of the same HTML is, file for file, plan and all.
    fresh = tmp_path / "fresh"
    shutil.copytree(site, fresh)
    shutil.rmtree(fresh / "pagefind")
    whole = build_index(fresh, part_pages=PART_PAGES)
    assert bundle_files(site) == bundle_files(fresh)
    assert [p.key for p in new_plan.parts] == [p.key for p in whole.plan.parts]
    assert {k: v for k, v in bundle_files(site).items() if k in unchanged} == unchanged
    # The same bytes again: nothing to do.
    assert update_index(site, [edited], new_plan) == (new_plan, [])


def test_update_index_leaves_a_new_plan_to_a_whole_build(tmp_path):
    site = news_site(tmp_path / "site")
    plan = build_index(site, part_pages=PART_PAGES).plan
    before = bundle_files(site)
    unmarked = "news/2020/novost-0/index.html"  # no longer a page of the index
    (site / unmarked).write_text(page("<h1>Снято</h1>", indexed=False), "utf-8")
    assert update_index(site, [unmarked], plan) is None
    marked = "news/2019/01/index.html"  # a list that became a page of it
    (site / marked).write_text(page("<h1>Январь</h1>"), "utf-8")
    assert update_index(site, [marked], plan) is None
    assert bundle_files(site) == before
