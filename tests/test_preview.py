"""The editor's preview (`invoke livereload`): a broken save keeps the last
good site on screen and says what is wrong; the fixed save shows again."""

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

from tests.conftest import PROJECT_FILES, PROJECT_FOLDERS, ROOT, tree_hash

ITEM = "content/news/2013/2013-09-20-forum-v-eltse.md"


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
