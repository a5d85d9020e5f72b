"""A build writes over the output before last (mfc_content/reuse.py).

After a build its old output is kept as ``output.spare``; the next build
claims it as its staging folder, rewrites it in place and deletes what it did
not write. These tests drive the real functions on real files (the change
times they rely on are the kernel's), and a real `invoke build`.
"""

from __future__ import annotations

import os
import time

import pytest

from mfc_content.reuse import (
    MARKER,
    claim_spare,
    keep_as_spare,
    prune_untouched,
    spare_of,
    write_if_changed,
)
from tests.conftest import tree_hash


def spare_tree(tmp_path):
    """An output folder and the spare tree of an earlier build."""
    output = tmp_path / "output"
    spare = spare_of(output)
    for name, text in {
        "index.html": "old home",
        "index.html.gz": "old home, compressed",
        "news/2020/a/index.html": "item a",
        "news/2020/a/index.html.br": "item a, compressed",
        "news/2020/gone/index.html": "a deleted item",
        "news/2020/gone/index.html.gz": "its compressed copy",
    }.items():
        path = spare / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    time.sleep(0.05)  # an earlier build: older by more than a clock tick
    return output, spare


def test_a_claimed_spare_keeps_only_what_the_build_wrote(tmp_path):
    output, spare = spare_tree(tmp_path)
    cache = tmp_path / "cache-photo.jpg"
    cache.write_bytes(b"jpeg")
    os.link(cache, spare / "photo.jpg")  # a derivative linked from a cache
    staging = tmp_path / "output.staging-1-x"
    staging.mkdir()

    assert claim_spare(output, staging)
    assert not spare.exists()
    assert (staging / MARKER).exists()
    # A link shares its change time with the cache: it is removed at once.
    assert not (staging / "photo.jpg").exists()
    assert cache.read_bytes() == b"jpeg"

    # The build rewrites some files in place and adds others.
    (staging / "index.html").write_text("new home", encoding="utf-8")
    (staging / "news/2020/a/index.html").write_text("item a", encoding="utf-8")
    (staging / "news/2021/b").mkdir(parents=True)
    (staging / "news/2021/b/index.html").write_text("item b", encoding="utf-8")
    (staging / "made-empty").mkdir()  # a folder this build made stays
    os.link(cache, staging / "photo.jpg")

    removed = prune_untouched(staging, final=False)
    assert removed == 1  # the deleted item's page; copies wait
    assert (staging / "news/2020/gone/index.html.gz").exists()
    assert (staging / MARKER).exists()
    # mfc_precompress rewrites the copies of the pages that are left
    (staging / "index.html.gz").write_text("new home, compressed", encoding="utf-8")

    assert prune_untouched(staging) == 2  # item a's old .br, gone's .gz
    assert sorted(
        str(p.relative_to(staging)) for p in staging.rglob("*") if not p.is_dir()
    ) == [
        "index.html",
        "index.html.gz",
        "news/2020/a/index.html",
        "news/2021/b/index.html",
        "photo.jpg",
    ]
    assert not (staging / "news/2020/gone").exists()
    assert (staging / "made-empty").is_dir()
    assert (staging / "index.html").read_text(encoding="utf-8") == "new home"
    assert prune_untouched(staging) == 0  # the marker is gone: nothing more


def test_a_copy_with_an_old_modification_time_counts_as_written(tmp_path):
    """shutil.copy2 and Pelican's static files keep the source's mtime."""
    output, _spare = spare_tree(tmp_path)
    staging = tmp_path / "output.staging-1-x"
    staging.mkdir()
    assert claim_spare(output, staging)
    page = staging / "index.html"
    page.write_text("new home", encoding="utf-8")
    os.utime(page, (0, 0))  # 1970, as a copied file's mtime may be
    prune_untouched(staging)
    assert page.read_text(encoding="utf-8") == "new home"


def test_a_file_with_the_same_bytes_is_only_marked_written(tmp_path):
    page = tmp_path / "index.html"
    page.write_bytes(b"<p>same</p>")
    os.utime(page, ns=(1_000_000_000, 1_000_000_000))
    before = page.stat()
    time.sleep(0.05)
    assert not write_if_changed(page, b"<p>same</p>")
    after = page.stat()
    assert after.st_mtime_ns == before.st_mtime_ns == 1_000_000_000
    assert after.st_ctime_ns > before.st_ctime_ns  # so prune_untouched keeps it
    for data in (b"<p>new</p>", b"<p>new</p> and longer", b"<p>"):
        assert write_if_changed(page, data)
        assert page.read_bytes() == data
    assert write_if_changed(tmp_path / "new.html", b"x")
    assert (tmp_path / "new.html").read_bytes() == b"x"


def test_no_spare_no_claim(tmp_path):
    staging = tmp_path / "output.staging-1-x"
    staging.mkdir()
    assert not claim_spare(tmp_path / "output", staging)
    assert list(staging.iterdir()) == []
    assert prune_untouched(staging) == 0


def test_only_one_spare_is_kept(tmp_path):
    output, spare = spare_tree(tmp_path)
    other = tmp_path / "output.staging-2-y"
    other.mkdir()
    (other / "index.html").write_text("another build's old output")
    keep_as_spare(other, output)
    assert not other.exists()
    assert (spare / "index.html").read_text(encoding="utf-8") == "old home"


def test_builds_reuse_the_output_before_last(project):
    """The second build writes over the output the first one replaced."""
    (project.output / "stale-page.html").write_text("old", encoding="utf-8")
    assert project.invoke("build").returncode == 0
    spare = spare_of(project.output)
    assert (spare / "stale-page.html").exists()  # the old output, kept
    old_inode = (spare / "index.html").stat().st_ino
    old_mtime = (spare_of(project.output) / "index.html").stat().st_mtime_ns
    assert project.invoke("build", "--full").returncode == 0
    # The output is that old folder again, its unchanged pages left as they
    # were (same inode, same modification time).
    home = (project.output / "index.html").stat()
    assert (home.st_ino, home.st_mtime_ns) == (old_inode, old_mtime)
    assert not (project.output / "stale-page.html").exists()
    assert not (project.output / MARKER).exists()
    assert tree_hash(project.output) == tree_hash(spare)
    assert not list(project.root.glob("output.staging-*"))


def test_a_clock_gone_back_stops_the_prune(tmp_path, monkeypatch):
    """Files written after the clock went back would look older than the
    marker; nothing is deleted and the build fails instead."""
    output, _spare = spare_tree(tmp_path)
    staging = tmp_path / "output.staging-1-x"
    staging.mkdir()
    assert claim_spare(output, staging)
    monkeypatch.setattr("mfc_content.reuse.time.time_ns", lambda: 0)
    with pytest.raises(RuntimeError, match="clock went back"):
        prune_untouched(staging)
    assert (staging / "news/2020/gone/index.html").exists()


def test_two_links_of_one_file_in_the_tree_both_go(tmp_path):
    output, spare = spare_tree(tmp_path)
    os.link(spare / "news/2020/a/index.html", spare / "news/2020/a/same.html")
    staging = tmp_path / "output.staging-1-x"
    staging.mkdir()
    assert claim_spare(output, staging)
    assert not (staging / "news/2020/a/index.html").exists()
    assert not (staging / "news/2020/a/same.html").exists()
    assert (staging / "index.html").exists()  # one link only: kept for now
