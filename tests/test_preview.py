"""The editor's preview (`invoke livereload`): a broken save keeps the last
good site on screen and says what is wrong; the fixed save shows again; a
saved item is on screen (the quick page) before the whole site is rebuilt,
and the whole site follows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import (
    NEWS_TEMPLATE,
    PROJECT_FILES,
    PROJECT_FOLDERS,
    ROOT,
    tree_hash,
)

ITEM = "content/news/2013/2013-09-20-forum-v-eltse.md"
# Three more news items, so the edited one (the middle) has both neighbours.
EXTRA = {
    n: f"content/news/2020/2020-0{n}-1{n}-testovaia-novost-{n}.md" for n in (1, 2, 3)
}
MIDDLE_URL = "/news/2020/testovaia-novost-2/"
DRAFT = "content/news/2020/2020-04-14-testovaia-novost-4.md"  # status: draft


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def livereload(tmp_path):
    """`invoke livereload` on a free loopback port, in a copy of the project."""
    root = tmp_path / "project"
    root.mkdir()
    for name in PROJECT_FILES:
        (root / name).write_bytes((ROOT / name).read_bytes())
    for name in PROJECT_FOLDERS:
        subprocess.run(["cp", "-r", str(ROOT / name), str(root / name)], check=True)
    for n, rel in EXTRA.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        text = NEWS_TEMPLATE.format(n=n, month=n, day=10 + n, tag="приём")
        (root / rel).write_text(text, encoding="utf-8")
    draft = NEWS_TEMPLATE.format(n=4, month=4, day=14, tag="приём")
    draft = draft.replace("\n---\n", "\nstatus: draft\n---\n", 1)
    (root / DRAFT).write_text(draft, encoding="utf-8")
    port = free_port()
    log = (tmp_path / "livereload.log").open("w+", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "invoke", "livereload", "--port", str(port)],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield root, f"http://127.0.0.1:{port}", Path(log.name)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except OSError:
        return 0, ""


def test_broken_save_keeps_the_last_good_preview(livereload):
    root, base, log = livereload
    url = f"{base}/news/2013/forum-v-eltse/"
    wait_for(lambda: fetch(url)[0] == 200, what="the first build")
    good = tree_hash(root / "output")
    item = root / ITEM
    text = item.read_text(encoding="utf-8")

    item.write_text(text.replace("date: 2013-09-20", "date: 20.09.2013"), "utf-8")
    wait_for(lambda: "[E205]" in log.read_text("utf-8"), what="the error")
    assert f"{ITEM}:3: дата «20.09.2013» записана не в том формате" in log.read_text(
        "utf-8"
    )
    status, page = fetch(url)
    assert status == 200
    assert "международном форуме" in page
    assert tree_hash(root / "output") == good

    item.write_text(text.replace("в Ельце\n", "в Ельце (исправлено)\n", 1), "utf-8")
    wait_for(lambda: "исправлено" in fetch(url)[1], what="the fixed page")


def builds(log: Path) -> int:
    """How many builds (whole or fast) the preview has reported."""
    return log.read_text("utf-8").count("Сайт собран")


def output_id(root: Path) -> int:
    """The output folder's inode: every whole build swaps in a new folder."""
    return (root / "output").stat().st_ino


def test_saved_item_is_served_before_the_full_build(livereload):
    root, base, log = livereload
    url, news = base + MIDDLE_URL, f"{base}/news/"
    wait_for(lambda: fetch(url)[0] == 200, what="the first build")
    wait_for(lambda: "Сайт собран" in log.read_text("utf-8"), what="the first build")
    before, built = output_id(root), log.read_text("utf-8").count("Сайт собран")
    assert MIDDLE_URL in fetch(news)[1]
    item = root / EXTRA[2]
    text = item.read_text(encoding="utf-8")
    item.write_text(
        text.replace("номер 2\n", "номер 2, исправленная\n", 1).replace(
            "в обычном режиме", "в обычном режиме, круглосуточно"
        ),
        encoding="utf-8",
    )

    wait_for(lambda: "круглосуточно" in fetch(url)[1], what="the quick page")
    quick = (root / "output" / MIDDLE_URL.strip("/") / "index.html").read_bytes()
    # Still the same output folder after the page was served: the full build
    # had not swapped yet, so the page came from the quick path.
    assert output_id(root) == before
    status, listing = fetch(news)
    assert status == 200
    assert "исправленная" not in listing  # the list is the old build's
    page = fetch(url)[1]
    assert "исправленная" in page
    # (said once the forked renderer has exited, just after the rename)
    wait_for(lambda: "Страница обновлена" in log.read_text("utf-8"), what="the news")

    # Then the full build: the lists show the new title, and the item's page
    # is byte for byte the quick one (only the text changed).
    wait_for(lambda: "исправленная" in fetch(news)[1], what="the full build")
    assert output_id(root) != before
    wait_for(
        lambda: log.read_text("utf-8").count("Сайт собран") > built,
        what="the full build's message",
    )
    full = (root / "output" / MIDDLE_URL.strip("/") / "index.html").read_bytes()
    assert full == quick
    assert 'href="/news/2020/testovaia-novost-1/"' in page  # previous
    assert 'href="/news/2020/testovaia-novost-3/"' in page  # next
    # The old output (swapped into the staging folder) is kept as output.spare.
    wait_for(
        lambda: (
            (root / "output.spare").is_dir() and not list(root.glob("output.staging-*"))
        ),
        what="the clean-up",
    )


def test_broken_save_gets_no_quick_page(livereload):
    root, base, log = livereload
    url = base + MIDDLE_URL
    wait_for(lambda: "Сайт собран" in log.read_text("utf-8"), what="the first build")
    good, before = tree_hash(root / "output"), output_id(root)
    item = root / EXTRA[2]
    text = item.read_text(encoding="utf-8")

    # A link to a page that does not exist: a site-wide check, in Russian,
    # exactly as `invoke check` prints it.
    item.write_text(text + "\nСм. [раздел](/news/2020/net-takoi/).\n", "utf-8")
    wait_for(lambda: "[E305]" in log.read_text("utf-8"), what="the error")
    shown = log.read_text("utf-8")
    assert (
        f"{EXTRA[2]}:11: ссылка «/news/2020/net-takoi/» ведёт на страницу, "
        "которой нет на сайте" in shown
    )
    assert "Сайт не собран: папка output/ не изменилась." in shown
    assert "Страница обновлена" not in shown
    check = subprocess.run(
        [sys.executable, "-m", "invoke", "check"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1
    for line in check.stdout.splitlines():
        if "[E305]" in line:
            assert line in shown  # the same message as `invoke check`
    time.sleep(1)  # a wrong quick page or build would have been written by now
    assert tree_hash(root / "output") == good
    assert output_id(root) == before
    assert "Сайт не собран" in shown
    assert fetch(url)[0] == 200


def test_new_file_gets_the_full_build_only(livereload):
    root, base, log = livereload
    wait_for(lambda: "Сайт собран" in log.read_text("utf-8"), what="the first build")
    built = log.read_text("utf-8").count("Сайт собран")
    new = root / "content/news/2020/2020-05-15-testovaia-novost-5.md"
    new.write_text(
        NEWS_TEMPLATE.format(n=5, month=5, day=15, tag="приём"), encoding="utf-8"
    )
    url = f"{base}/news/2020/testovaia-novost-5/"
    wait_for(lambda: fetch(url)[0] == 200, what="the new item")
    shown = log.read_text("utf-8")
    assert shown.count("Сайт собран") > built
    assert "Страница обновлена" not in shown


def test_saved_page_is_served_first_and_matches_the_full_build(livereload):
    root, base, log = livereload
    url = f"{base}/kak-dobratsya/"
    wait_for(lambda: "Сайт собран" in log.read_text("utf-8"), what="the first build")
    before, built = output_id(root), builds(log)
    page = root / "content/pages/kak-dobratsya.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\nПарковка у входа бесплатная.\n", "utf-8"
    )
    wait_for(lambda: "бесплатная" in fetch(url)[1], what="the quick page")
    assert output_id(root) == before  # served before the full build swapped
    quick = (root / "output/kak-dobratsya/index.html").read_bytes()
    wait_for(lambda: builds(log) > built, what="the full build")
    # Only the page's text changed: the fast rebuild (mfc_content/fast.py).
    assert "обновлены только изменённые материалы" in log.read_text("utf-8")
    full = (root / "output/kak-dobratsya/index.html").read_bytes()
    assert full == quick


def test_saved_draft_is_served_first_marked_as_a_draft(livereload):
    root, base, log = livereload
    url = f"{base}/news/2020/testovaia-novost-4/"
    wait_for(lambda: "Сайт собран" in log.read_text("utf-8"), what="the first build")
    before, built = output_id(root), builds(log)
    draft = root / DRAFT
    draft.write_text(
        draft.read_text(encoding="utf-8") + "\nЧерновик дополнен абзацем.\n", "utf-8"
    )
    wait_for(lambda: "дополнен" in fetch(url)[1], what="the quick page")
    assert output_id(root) == before  # served before the full build swapped
    quick = (root / "output/news/2020/testovaia-novost-4/index.html").read_bytes()
    assert "mfc-status--draft" in quick.decode("utf-8")
    wait_for(lambda: builds(log) > built, what="the full build")
    full = (root / "output/news/2020/testovaia-novost-4/index.html").read_bytes()
    assert full == quick


def test_a_save_during_a_whole_build_stops_it_and_the_next_build_has_both(livereload):
    root, base, log = livereload
    url = base + MIDDLE_URL
    wait_for(lambda: "Сайт собран" in log.read_text("utf-8"), what="the first build")
    built = builds(log)
    new = root / "content/news/2020/2020-05-15-testovaia-novost-5.md"
    new.write_text(
        NEWS_TEMPLATE.format(n=5, month=5, day=15, tag="приём"), encoding="utf-8"
    )
    # A new file: a whole build, which takes seconds; while it runs, the
    # editor saves another item.
    wait_for(
        lambda: "Сайт собирается целиком" in log.read_text("utf-8"),
        what="the whole build",
    )
    item = root / EXTRA[2]
    item.write_text(
        item.read_text(encoding="utf-8")
        + "\nПриём ведётся без предварительной записи.\n",
        "utf-8",
    )
    wait_for(lambda: "предварительной" in fetch(url)[1], what="the edited page")
    wait_for(lambda: builds(log) > built, what="the next build")
    assert builds(log) == built + 1  # the stopped build swapped nothing in
    assert "сайт будет собран заново" in log.read_text("utf-8")
    assert fetch(f"{base}/news/2020/testovaia-novost-5/")[0] == 200
    assert "предварительной" in fetch(url)[1]
    assert "/news/2020/testovaia-novost-5/" in fetch(f"{base}/news/")[1]
    wait_for(
        lambda: not list(root.glob("output.staging-*")), what="the staging removed"
    )
