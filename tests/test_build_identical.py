"""The cached build makes exactly the site a clean build makes.

A copy of the project with 300 generated news items (bench/generate.py:
lists, links, tags, photos) is published four times, comparing every file of
output/ byte for byte, the .gz and .br copies and the search bundle included:

1. clean (no cache) and 2. again with the cache from 1 (``--full``: a whole
   build; without it nothing would be written, mfc_content/fast.py): identical;
3. after editing one item, deleting one and moving one to another address,
   with the cache and written over the output of build 1 (mfc_content/
   reuse.py), and 4. the same content in a clean serial build (no cache, no
   old output, RENDER_PROCESSES = 1): identical, and the edit is on the page.

Builds 1–3 read the news and write the news generator's pages in two
processes (RENDER_PROCESSES = 2 in pelicanconf.py: mfc_content/prefetch.py
and speed.py); build 4 does everything in one.

And a change of the theme (or a plugin, or a setting) invalidates the cache:
its build key changes, and the new build shows the change.
"""

import re
import shutil
import sys
from pathlib import Path

import pytest

from mfc_content.reuse import spare_of
from tests.conftest import ROOT, Project, copy_project

sys.path.insert(0, str(ROOT / "bench"))

from generate import generate

ITEMS = 300
NOW = {"MFC_NOW": "2026-11-01 12:00", "MFC_SITEURL": "https://mfc.example.org"}


def snapshot(output: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(output)): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file()
    }


def assert_same(one: dict[str, bytes], other: dict[str, bytes]) -> None:
    assert sorted(one) == sorted(other), set(one) ^ set(other)
    differ = [name for name in one if one[name] != other[name]]
    assert not differ, f"{len(differ)} files differ, e.g. {differ[:5]}"


@pytest.fixture(scope="module")
def bench_project(tmp_path_factory) -> Project:
    project = copy_project(tmp_path_factory.mktemp("identical"), ("plugins", "theme"))
    generate(ITEMS, project.content)
    return project


def publish(project: Project, *args: str) -> dict[str, bytes]:
    result = project.invoke("publish", *args, **NOW)
    assert result.returncode == 0, result.stdout + result.stderr
    return snapshot(project.output)


def unlinked(items: list[Path], start: int) -> Path:
    """The first item from `start` on that no other item links to."""
    texts = [item.read_text(encoding="utf-8") for item in items]
    for item in items[start:]:
        url = f"/news/{item.parent.name}/{item.stem[11:]}/"
        if not any(url in text for text in texts):
            return item
    raise AssertionError("every item is linked to")


def test_cached_builds_are_byte_identical_to_clean_builds(bench_project):
    project = bench_project
    shutil.rmtree(project.root / "cache", ignore_errors=True)
    clean = publish(project)
    assert sum(name.endswith(".html") for name in clean) > ITEMS
    assert any(name.endswith(".br") for name in clean)
    assert any(name.startswith("pagefind/") for name in clean)
    assert list((project.root / "cache").glob("memo-*.sqlite"))
    assert_same(publish(project, "--full"), clean)

    items = sorted((project.content / "news").rglob("*.md"))
    item = items[ITEMS // 2]
    item.write_text(
        item.read_text(encoding="utf-8") + "\nПравка: приём 5 - 7 января.\n",
        encoding="utf-8",
    )
    gone, moved = unlinked(items, ITEMS // 3), unlinked(items, ITEMS // 4)
    gone.unlink()
    moved.rename(moved.with_name(moved.stem + "-novyi-adres.md"))
    edited = publish(project)
    assert not any(f"/{gone.stem[11:]}/" in name for name in edited)
    assert not any(f"/{moved.stem[11:]}/" in name for name in edited)
    assert any(f"/{moved.stem[11:]}-novyi-adres/" in name for name in edited)
    page = next(
        data
        for name, data in edited.items()
        if name.endswith(f"/{item.stem[11:]}/index.html")
    )
    assert re.search("Правка: приём 5–7(\u00a0|&nbsp;)января", page.decode())
    # The reference: a clean, serial build (no cache, one process).
    shutil.rmtree(project.root / "cache")
    shutil.rmtree(spare_of(project.output))
    shutil.rmtree(project.output)
    conf = project.root / "pelicanconf.py"
    settings = conf.read_text(encoding="utf-8")
    try:
        conf.write_text(settings + "\nRENDER_PROCESSES = 1\n", encoding="utf-8")
        serial = publish(project)
    finally:
        conf.write_text(settings, encoding="utf-8")
    assert_same(serial, edited)


def test_a_theme_change_invalidates_the_cache(bench_project):
    project = bench_project
    publish(project)
    before = {p.name for p in (project.root / "cache").glob("memo-*.sqlite")}
    base = project.root / "theme" / "templates" / "base.html"
    original = base.read_text(encoding="utf-8")
    try:
        base.write_text(original + "\n<!-- theme changed -->\n", encoding="utf-8")
        site = publish(project)
        after = {p.name for p in (project.root / "cache").glob("memo-*.sqlite")}
        assert after - before, "the theme change did not give a new cache key"
        assert b"<!-- theme changed -->" in site["index.html"]
    finally:
        base.write_text(original, encoding="utf-8")
