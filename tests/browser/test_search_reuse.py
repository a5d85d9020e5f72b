"""Production builds reuse the search bundle only when the HTML is the same.

A copy of the project (the real content) is published four times with the
production settings: clean; again, nothing changed (the bundle is reused,
byte for byte what Pagefind writes); after one item got a new word (Pagefind
runs, and the search page finds the word in a real browser); and with the
edit undone (the first bundle again, and the word is not found).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from mfc_search import build_index
from tests.browser.server import serve
from tests.conftest import Project, copy_project
from tests.test_search_cache import bundle_files

SITEURL = "https://mfc.example.org"
ENV = {"MFC_NOW": "2026-11-01 12:00", "MFC_SITEURL": SITEURL}
ITEM = "news/2013/2013-09-20-forum-v-eltse.md"
ITEM_URL = "/news/2013/forum-v-eltse/"
NEW_WORD = "дирижаблестроение"  # in no page of the site


@pytest.fixture(scope="module")
def reuse_project(tmp_path_factory) -> Project:
    return copy_project(tmp_path_factory.mktemp("search-reuse"))


def publish(project: Project, *args: str) -> str:
    result = project.invoke("publish", *args, **ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def pagefind_only(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files Pagefind wrote: not the compressed copies, nor our list of
    the index's parts (written by every build)."""
    return {
        k: v
        for k, v in files.items()
        if not k.endswith((".gz", ".br")) and k != "mfc-parts.json"
    }


def reused_from(output: Path, kept: Path) -> bool:
    """Whether the bundle in output/ is the one whose files `kept` has other
    names for: the same files (inodes), linked from the cache, rather than
    files Pagefind has just written."""
    names = pagefind_only(bundle_files(kept.parent))
    here = output / "pagefind"
    same = {
        name
        for name in names
        if (here / name).exists() and os.path.samefile(here / name, kept / name)
    }
    assert same in (set(), set(names)), "a bundle mixed from two sources"
    return bool(same)


def found(browser, output: Path, query: str) -> list[str]:
    """URLs of the results the search page shows for `query`. The pages
    carry the production URL: its requests are answered from output/."""
    with serve(output) as local:
        context = browser.new_context(locale="ru-RU")

        def from_local_server(route):
            url = route.request.url.replace(SITEURL, local, 1)
            route.fulfill(response=route.fetch(url=url))

        context.route(f"{SITEURL}/**", from_local_server)
        try:
            tab = context.new_page()
            tab.goto(f"{SITEURL}/search/?q={quote(query)}")
            expect(tab.get_by_role("status")).to_contain_text(f"«{query}»")
            links = tab.locator(".mfc-search__results a")
            return [
                href.removeprefix(SITEURL)
                for href in links.evaluate_all("links => links.map(a => a.href)")
            ]
        finally:
            context.unroute_all(behavior="wait")
            context.close()


def test_bundle_is_reused_only_for_the_same_html(reuse_project, browser, tmp_path):
    project = reuse_project
    output = project.output
    publish(project)
    first = bundle_files(output)
    assert "pagefind.js" in first
    assert "pagefind.js.br" in first  # precompressed like every text file
    # Other names for the files of this bundle: to tell later whether a
    # build reused them, and whether any build rewrote them in place.
    kept = tmp_path / "kept" / "pagefind"
    shutil.copytree(output / "pagefind", kept, copy_function=os.link)

    # 2. Nothing changed, a whole build (--full; without it nothing would be
    # written: mfc_content/fast.py): reused (the cache's files, linked), byte
    # for byte what Pagefind itself writes for this HTML.
    publish(project, "--full")
    assert reused_from(output, kept)
    assert (output / "pagefind" / "pagefind.js").stat().st_nlink >= 3
    assert bundle_files(output) == first
    fresh = tmp_path / "fresh"
    shutil.copytree(output, fresh)
    assert not build_index(fresh).reused
    assert pagefind_only(bundle_files(fresh)) == pagefind_only(first)
    assert found(browser, output, NEW_WORD) == []

    # 3. One item gets a new word: Pagefind runs, and the word is found.
    item = project.content / ITEM
    original = item.read_text(encoding="utf-8")
    try:
        item.write_text(
            original + f"\nНа форуме говорили и про {NEW_WORD}.\n", encoding="utf-8"
        )
        publish(project, "--full")
        assert not reused_from(output, kept)
        assert pagefind_only(bundle_files(output)) != pagefind_only(first)
        assert found(browser, output, NEW_WORD) == [ITEM_URL]
    finally:
        item.write_text(original, encoding="utf-8")

    # 4. The edit undone: the first bundle, still in the cache, is reused.
    publish(project, "--full")
    assert reused_from(output, kept)
    assert bundle_files(output) == first
    assert found(browser, output, NEW_WORD) == []
    # No build rewrote a file an earlier output shared with the cache.
    assert bundle_files(kept.parent) == first
    stored = sorted(p.name for p in (project.root / "cache" / "search").iterdir())
    assert len(stored) == 2, stored  # the last two bundles, nothing else

    # 5. The same edit in a fast rebuild (only the item's page and its part
    # of the index are written): the word is found, and no more once undone.
    try:
        item.write_text(
            original + f"\nНа форуме говорили и про {NEW_WORD}.\n", encoding="utf-8"
        )
        assert "обновлены только изменённые материалы" in publish(project)
        assert found(browser, output, NEW_WORD) == [ITEM_URL]
    finally:
        item.write_text(original, encoding="utf-8")
    assert "обновлены только изменённые материалы" in publish(project)
    assert found(browser, output, NEW_WORD) == []
    assert pagefind_only(bundle_files(output)) == pagefind_only(first)
