"""The fast rebuild (mfc_content/fast.py): an edit of some items' text
rewrites their pages, their compressed copies and their search parts only,
and the output is the one a clean whole build makes, byte for byte.

A copy of the project with 300 generated news items (bench/generate.py) and
a search index in parts of 40 pages, published with ``invoke publish`` as
an editor runs it. Every other kind of change is a whole build, which the
tests recognise by its message ("Сайт собран в output/." alone).
"""

import contextlib
import datetime as dt
import fcntl
import os
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest

from mfc_content.fast import valid_until
from mfc_content.reuse import spare_of
from mfc_content.site import Item
from tests.conftest import ROOT, Project, copy_project, tree_hash
from tests.test_build_identical import assert_same, snapshot

sys.path.insert(0, str(ROOT / "bench"))

from generate import generate

ITEMS = 300
NOW = {"MFC_NOW": "2026-11-01 12:00", "MFC_SITEURL": "https://mfc.example.org"}
FAST = "обновлены только изменённые материалы"
UNCHANGED = "с прошлой сборки ничего не изменилось"
WHOLE = "Сайт собран в output/.\n"


@pytest.fixture(scope="module")
def fast_project(tmp_path_factory) -> Project:
    project = copy_project(tmp_path_factory.mktemp("fast"), ("plugins", "theme"))
    generate(ITEMS, project.content)
    conf = project.root / "pelicanconf.py"
    conf.write_text(
        conf.read_text(encoding="utf-8") + "\nSEARCH_PART_PAGES = 40\n",
        encoding="utf-8",
    )
    # Each feed shows 3 items (20 in the real settings, which at a few hundred
    # items puts nearly every item in some tag's feed).
    conf = project.root / "publishconf.py"
    conf.write_text(
        conf.read_text(encoding="utf-8") + "\nFEED_MAX_ITEMS = 3\n",
        encoding="utf-8",
    )
    publish(project)
    return project


def publish(project: Project, *args: str) -> str:
    result = project.invoke("publish", *args, **NOW)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def news(project: Project) -> list[Path]:
    return sorted((project.content / "news").rglob("*.md"))


def append(path: Path, text: str) -> None:
    """Add a paragraph to a file."""
    old = path.read_text(encoding="utf-8")
    path.write_text(old + f"\n{text}\n", encoding="utf-8")


@contextlib.contextmanager
def put_back(path: Path):
    """The file's text as it is now, written back at the end; yields it."""
    old = path.read_text(encoding="utf-8")
    try:
        yield old
    finally:
        path.write_text(old, encoding="utf-8")


def editor_env() -> dict[str, str]:
    """The environment Project.invoke gives a build (for other commands)."""
    return {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", **NOW}


def plain(path: Path) -> str:
    """A file's text with no-break spaces as spaces."""
    return (
        path.read_text(encoding="utf-8").replace("&nbsp;", " ").replace("\u00a0", " ")
    )


def page_of(project: Project, item: Path) -> Path:
    return project.output / "news" / item.parent.name / item.stem[11:] / "index.html"


def test_an_edit_rewrites_only_its_pages_as_a_whole_build_would(fast_project):
    project = fast_project
    items = news(project)
    first, second = items[40], items[150]  # in two parts of the search index
    newest = items[-1]  # its text is in the feeds: they are written again
    page = project.content / "pages" / "kak-dobratsya.md"
    publish(project)
    home = (project.output / "index.html").stat()
    other = page_of(project, items[100]).stat()
    append(first, "Правка: приём 5 - 7 января, окно «Ноябрьское».")
    append(second, "Вторая правка: документы выдают в окне 12.")
    append(newest, "Дополнение (заметкадлялент).")
    append(page, "Остановка автобуса — «Площадь Ленина».")
    assert FAST in publish(project)
    fast = snapshot(project.output)
    assert "заметкадлялент" in fast["feeds/all.atom.xml"].decode()
    # Nothing else was written: the same files, with their times.
    assert (project.output / "index.html").stat().st_mtime_ns == home.st_mtime_ns
    assert page_of(project, items[100]).stat().st_ino == other.st_ino
    assert "Правка: приём 5–7 января" in plain(page_of(project, first))
    # The reference: a clean, serial whole build of the same content.
    for path in (project.root / "cache", project.output, spare_of(project.output)):
        if path.exists():
            path.rename(path.with_name(f"{path.name}-fast"))
    conf = project.root / "pelicanconf.py"
    settings = conf.read_text(encoding="utf-8")
    try:
        conf.write_text(settings + "\nRENDER_PROCESSES = 1\n", encoding="utf-8")
        assert WHOLE in publish(project)
        assert_same(snapshot(project.output), fast)
    finally:
        conf.write_text(settings, encoding="utf-8")
    publish(project)  # a record for the settings as they are again


def test_nothing_changed_nothing_written(fast_project):
    project = fast_project
    publish(project)
    before = tree_hash(project.output)
    times = {p: p.stat().st_mtime_ns for p in project.output.rglob("*.html")}
    assert UNCHANGED in publish(project)
    assert tree_hash(project.output) == before
    assert {p: p.stat().st_mtime_ns for p in project.output.rglob("*.html")} == times


def test_a_new_title_is_a_whole_build(fast_project):
    project = fast_project
    item = news(project)[120]
    with put_back(item) as old:
        title = next(line for line in old.splitlines() if line.startswith("title:"))
        item.write_text(old.replace(title, "title: Новый заголовок новости"), "utf-8")
        out = publish(project)
        # The editor is told why this build takes longer.
        assert f"Сайт собирается целиком: в content/news/{item.parent.name}/" in out
        assert "изменилось то, что видно и на других страницах" in out
        assert WHOLE in out
        assert FAST not in out
        year = project.output / "news" / item.parent.name / "index.html"
        assert "Новый заголовок новости" in plain(year)
    assert WHOLE in publish(project)


def test_an_item_without_summary_is_fast_unless_its_beginning_changes(fast_project):
    """Without a summary, the lists show the beginning of an item's text (its
    first 50 words): an edit further down changes its own page only, as a
    whole build shows; an edit of the beginning changes the lists too
    (mfc_content/notes.py: the cut is in the item's footprint)."""
    project = fast_project
    long = [p for p in news(project)[70:] if len(p.read_text("utf-8").split()) > 150]
    item = long[0]  # its text goes on well after the lists' 50 words
    page = page_of(project, item)
    with put_back(item) as old:
        summary = next(line for line in old.splitlines() if line.startswith("summary:"))
        item.write_text(old.replace(summary + "\n", ""), encoding="utf-8")
        assert WHOLE in publish(project)
        times = {p: p.stat().st_mtime_ns for p in project.output.rglob("*.html")}
        append(item, "Дополнение в конце (концовкановости).")
        assert FAST in publish(project)
        fast = snapshot(project.output)
        assert "концовкановости" in plain(page)
        html = project.output.rglob("*.html")
        assert [p for p in html if p.stat().st_mtime_ns != times[p]] == [page]
        assert WHOLE in publish(project, "--full")
        assert_same(snapshot(project.output), fast)

        head, body = item.read_text(encoding="utf-8").split("---\n", 2)[1:]
        item.write_text(f"---\n{head}---\nНачалоновоготекста. {body}", "utf-8")
        out = publish(project)
        assert "изменилось то, что видно и на других страницах" in out
        assert WHOLE in out
        assert FAST not in out
        shown = [
            p
            for p in project.output.rglob("*.html")
            if "Началоновоготекста" in p.read_text(encoding="utf-8")
        ]
        assert page in shown
        assert len(shown) > 1
    assert WHOLE in publish(project)


def test_a_mistake_in_the_edit_is_reported_and_changes_nothing(fast_project):
    project = fast_project
    publish(project)
    before = tree_hash(project.output)
    item = news(project)[60]
    with put_back(item):
        append(item, "Подробнее: [порядок]({filename}/pages/net-takoi.md).")
        result = project.invoke("publish", **NOW)
        assert result.returncode == 1
        assert item.name in result.stderr
        assert "не изменилась" in result.stderr
        assert tree_hash(project.output) == before
    assert UNCHANGED in publish(project)


def test_full_builds_every_page(fast_project):
    project = fast_project
    publish(project)
    item = news(project)[80]
    with put_back(item):
        append(item, "Правка для полной сборки.")
        assert WHOLE in publish(project, "--full")
    assert WHOLE in publish(project, "--full")


FAILING_SEARCH = """
import os, sys
from pathlib import Path
sys.path.insert(0, "plugins")
import mfc_search
from mfc_content import fast
from mfc_content.build import load_settings

def broken(*args, **kwargs):
    raise RuntimeError("Pagefind failed")

mfc_search._index_part = broken
settings_file = Path("publishconf.py").resolve()
settings = load_settings(settings_file)
output = Path(settings["OUTPUT_PATH"]).resolve()
build = fast.Build.start(settings_file, settings, output, dict(os.environ))
done = fast.rebuild(build, out=sys.stdout)
print("DONE" if done else "NOT DONE")
print("RECORD" if fast.load(fast.record_path(settings_file, settings, output))
      else "NO RECORD")
"""


def test_a_failed_search_update_puts_the_old_pages_back(fast_project):
    """The one test that fakes a failure: Pagefind failing during a fast
    rebuild. The page already placed is put back, the record is gone (the
    next build is a whole one) and the editor's build goes on as a whole
    build."""
    project = fast_project
    publish(project)
    before = tree_hash(project.output)
    item = news(project)[90]
    with put_back(item):
        append(item, "Правка, которую поиск не принял.")
        result = subprocess.run(
            [sys.executable, "-c", FAILING_SEARCH],
            cwd=project.root,
            env=editor_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.stdout.split() == ["NOT", "DONE", "NO", "RECORD"], result
        assert "Pagefind failed" in result.stderr
        assert tree_hash(project.output) == before
        out = publish(project)
        assert WHOLE in out
        assert FAST not in out
        assert "Правка, которую поиск не принял." in plain(page_of(project, item))
    publish(project)


def test_the_record_holds_until_midnight_or_the_next_scheduled_item():
    tz = zoneinfo.ZoneInfo("Europe/Astrakhan")
    now = dt.datetime(2026, 11, 1, 12, 0, tzinfo=tz)

    def item(status, hours):
        data = {"rel": "news/x.md", "kind": "news", "path": "x", "url": "x/"}
        date = (now + dt.timedelta(hours=hours)).isoformat()
        return Item.from_slim({**data, "status": status, "date": date, "tags": []})

    midnight = dt.datetime(2026, 11, 2, tzinfo=tz)
    assert valid_until(now, []) == midnight
    assert valid_until(now, [item("scheduled", 3)]) == now + dt.timedelta(hours=3)
    assert valid_until(now, [item("scheduled", 30)]) == midnight
    assert valid_until(now, [item("published", -3), item("draft", 2)]) == midnight


def test_a_second_build_waits_for_the_first(fast_project):
    """Two builds of one output never run at once (a cron job's and an
    editor's): the second waits, says so, and then does its work."""
    project = fast_project
    publish(project)
    item = news(project)[30]
    lock = next((project.root / "cache").glob("fast-*.pickle")).with_suffix(".lock")
    with put_back(item):
        append(item, "Правка, сделанная во время другой сборки.")
        with lock.open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # as a running build holds it
            build = subprocess.Popen(
                [sys.executable, "-m", "invoke", "publish"],
                cwd=project.root,
                env=editor_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(6)  # a fast rebuild takes ~2 s here
            assert build.poll() is None
            assert "во время другой сборки" not in plain(page_of(project, item))
        out, err = build.communicate(timeout=300)
        assert build.returncode == 0, out + err
        assert "Идёт другая сборка сайта: ждём" in out
        assert FAST in out
        assert "во время другой сборки" in plain(page_of(project, item))
    publish(project)
