"""What Pagefind reads: each page of a part cut to its marked element.

The cut is only worth its name if the bundle is byte for byte the one
Pagefind makes from the whole pages; the real Pagefind binary checks that
here, on the fixture site and on pages made to
trip the cut.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import mfc_search
from mfc_search import UNMARKED_PAGE, build_index, pagefind_input, plan_parts

HEAD = '<!DOCTYPE html>\n<html lang="ru">\n<head><title>Новость</title></head>\n'
ARTICLE = (
    '<article class="mfc-article" data-pagefind-body>'
    "<h1>Новый зал</h1><p>Открыт <article>вложенный</article> зал.</p>"
    '<p data-pagefind-ignore><time data-pagefind-meta="date">1 мая</time></p>'
    "</article>"
)


def whole(body: str = ARTICLE, head: str = HEAD, after: str = "") -> bytes:
    return (
        f"{head}<body><header><nav>Меню</nav></header>"
        f'<main id="main">{body}</main>{after}<footer>Адрес</footer></body></html>'
    ).encode()


def test_a_theme_page_is_cut_to_its_html_tag_and_marked_element():
    assert (
        pagefind_input(whole())
        == (f'<!DOCTYPE html><html lang="ru"><body>{ARTICLE}</body></html>').encode()
    )
    # Tag names in capitals are the same tags.
    shouting = whole(ARTICLE.replace("article", "ARTICLE"), HEAD.upper())
    assert (
        pagefind_input(shouting)
        == (
            '<!DOCTYPE html><HTML LANG="RU"><body>'
            + ARTICLE.replace("article", "ARTICLE")
            + "</body></html>"
        ).encode()
    )


def test_a_page_without_the_mark_is_an_empty_page():
    assert pagefind_input(b"<html><body><h1>News</h1></body></html>") == UNMARKED_PAGE


@pytest.mark.parametrize(
    "page",
    [
        # Pagefind reads these outside the marked element: kept whole.
        whole(after='<p data-pagefind-filter="тема">Паспорт</p>'),
        whole(head=HEAD + '<meta data-pagefind-meta="image:/a.png">'),
        whole(after="<h1>Заголовок сайта</h1>"),
        whole(after='<img src="/logo.png" alt="">'),
        whole(ARTICLE + ARTICLE),  # two marked elements
        # Where the element's end is not plainly found.
        whole(ARTICLE.replace("<p>", "<p><!-- </article> -->")),
        whole(ARTICLE.replace("<p>", "<p><script>'</article>'</script>")),
        whole(ARTICLE.replace("<p>", "<p><svg><title>x</title></svg>")),
        whole(ARTICLE.removesuffix("</article>")),
        whole('<article data-x="a>b" data-pagefind-body><p>Текст</p></article>'),
        # The mark as text or as an attribute's value.
        whole("<p>data-pagefind-body</p>"),
        whole('<p title="data-pagefind-body">Текст</p>'),
        whole("<article data-pagefind-body-x><p>Текст</p></article>"),
        # No <html> tag first: the language would be lost.
        whole(head="<!DOCTYPE html>\n<!-- <html lang=en> -->\n<html lang=ru>"),
        ARTICLE.encode(),
    ],
)
def test_a_page_the_cut_could_change_is_read_whole(page):
    assert pagefind_input(page) is page


def bundle(site: Path, name: str) -> dict[str, bytes]:
    folder = site / name
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_bundle_is_the_one_pagefind_makes_of_the_whole_pages(
    site, tmp_path, monkeypatch
):
    built, site = site, tmp_path / "site"
    shutil.copytree(built.output, site, ignore=shutil.ignore_patterns("pagefind"))
    # Something in the site to read whole, besides the cut theme pages.
    odd = site / "news" / "2020" / "odd" / "index.html"
    odd.parent.mkdir(parents=True, exist_ok=True)
    odd.write_bytes(whole(after="<h1>Не в статье</h1>"))
    pages = [p.read_bytes() for p in site.rglob("*.html")]
    cut = [p for p in pages if pagefind_input(p) not in (p, UNMARKED_PAGE)]
    marked = sum(b"data-pagefind-body" in p for p in pages)
    assert len(cut) >= 10
    assert len(cut) < marked  # the odd page is read whole
    assert any(b"<img" in p for p in cut)  # photos in an item
    parts = plan_parts(site, part_pages=3)
    assert len(parts) >= 2
    assert all(part.glob != "**/*.{html}" for part in parts)

    mirrored = []
    mirror_part = mfc_search.mirror_part
    monkeypatch.setattr(
        mfc_search,
        "mirror_part",
        lambda *args: mirrored.append(mirror_part(*args) or args[1].name),
    )
    read_from = []
    command = mfc_search.pagefind_command
    monkeypatch.setattr(
        mfc_search,
        "pagefind_command",
        lambda *args: read_from.append(args[0]) or command(*args),
    )
    mine = build_index(site, "cut", part_pages=3)
    assert sorted(mirrored) == sorted(part.name for part in parts)
    runs = [folder for folder in read_from if folder != Path("SITE")]  # keys
    assert len(runs) == len(parts)
    assert site.resolve() not in runs
    monkeypatch.setattr(mfc_search, "pagefind_input", lambda page: page)
    theirs = build_index(site, "uncut", part_pages=3)
    assert mine[:5] == theirs[:5]
    assert mine.indexed == marked
    assert bundle(site, "cut") == bundle(site, "uncut")


def test_pagefind_reads_the_site_itself_when_no_copy_can_be_made(tmp_path, monkeypatch):
    site = tmp_path / "site"
    for n in range(3):
        path = site / "news" / "2024" / f"n{n}" / "index.html"
        path.parent.mkdir(parents=True)
        path.write_bytes(whole(ARTICLE.replace("Новый", f"Новый {n}-й")))
    expected = build_index(site, "cut", part_pages=2)
    copies = []
    monkeypatch.setattr(mfc_search, "mirror_part", lambda *args: copies.append(args))
    monkeypatch.setattr(mfc_search, "scratch_folder", lambda: str(tmp_path / "none"))
    assert build_index(site, "uncut", part_pages=2)[:2] == expected[:2]
    assert bundle(site, "cut") == bundle(site, "uncut")
    assert copies == []

    def full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.undo()
    monkeypatch.setattr(mfc_search, "mirror_part", full)
    assert build_index(site, "full", part_pages=2)[:2] == expected[:2]
    assert bundle(site, "cut") == bundle(site, "full")


KILLED_BUILD = """
import sys, time
import mfc_search
mfc_search.scratch_folder = lambda: sys.argv[2]
mfc_search.pagefind_command = lambda *args: ["sleep", "60"]  # killed there
mfc_search.build_index(sys.argv[1], part_pages=2)
"""


def test_a_killed_builds_copy_is_removed_by_the_next_build(tmp_path, monkeypatch):
    """Its copy of the pages (in tmpfs: memory) and Pagefind's empty working
    folder (in the temporary folder) are removed by the next build."""
    site, scratch, temp = tmp_path / "site", tmp_path / "shm", tmp_path / "tmp"
    scratch.mkdir()
    temp.mkdir()
    for n in range(3):
        path = site / "news" / "2024" / f"n{n}" / "index.html"
        path.parent.mkdir(parents=True)
        path.write_bytes(whole(ARTICLE.replace("Новый", f"Новый {n}-й")))
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(site), str(scratch)],
        env={
            **os.environ,
            "PYTHONPATH": str(Path(mfc_search.__file__).parents[1]),
            "TMPDIR": str(temp),
        },
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(scratch.glob("mfc-pagefind-input-*/news/2024/n*/index.html")):
            assert killed.poll() is None, "the build ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
    (left,) = scratch.iterdir()
    assert left.name.startswith(f"mfc-pagefind-input-{killed.pid}-")
    (workdir,) = temp.iterdir()
    assert workdir.name.startswith(f"mfc-pagefind-cwd-{killed.pid}-")
    # A running build's folders are never touched.
    running = scratch / f"mfc-pagefind-input-{os.getpid()}-x"
    running.mkdir()
    running_workdir = temp / f"mfc-pagefind-cwd-{os.getpid()}-x"
    running_workdir.mkdir()
    monkeypatch.setattr(mfc_search, "scratch_folder", lambda: str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    assert build_index(site, part_pages=2).indexed == 3
    assert list(scratch.iterdir()) == [running]
    assert list(temp.iterdir()) == [running_workdir]
