"""Reading in a forked process (mfc_content.prefetch) gives what reading here gives.

Real forks and pipes: the results come back equal, the shared objects are
this process's own, and whatever went wrong or said something over there is
read again here, so its exception or message comes from this process.
(The whole build, forked against serial, byte for byte:
tests/test_build_identical.py.)
"""

import logging
import os
import sqlite3

import pytest

from mfc_content import memo as memo_module
from mfc_content.memo import Memo, memo_for
from mfc_content.prefetch import Prefetch

SETTINGS = {"CACHE_PATH": "unused", "name": "the settings"}


class Item:
    """A stand-in for a Pelican item: it refers to the shared settings."""

    def __init__(self, path, settings, pid):
        self.path = path
        self.settings = settings
        self.read_by = pid


def make_reader(settings, log_for=(), fail_for=()):
    calls = []

    def read(path):
        calls.append((os.getpid(), path))
        if path in fail_for:
            raise ValueError(f"broken: {path}")
        if path in log_for:
            logging.getLogger("mfc_content.test").warning("look at %s", path)
        return Item(path, settings, os.getpid())

    return read, calls


def test_results_come_from_the_forked_process_and_refer_to_our_objects():
    settings = dict(SETTINGS)
    paths = [f"news/{n}.md" for n in range(50)]
    read, calls = make_reader(settings)
    prefetch = Prefetch(paths[20:], read, (settings,))
    try:
        items = [prefetch.take(path) for path in paths]
    finally:
        prefetch.close()
    assert [item.path for item in items] == paths
    assert all(item.settings is settings for item in items)
    here = os.getpid()
    assert {item.read_by == here for item in items[:20]} == {True}
    assert {item.read_by != here for item in items[20:]} == {True}
    # Only the files not given to the forked process were read here.
    assert [path for pid, path in calls if pid == here] == paths[:20]


def test_each_process_is_told_which_side_of_the_fork_it_is_on():
    """``after_fork`` runs in both processes before either reads (the build
    lets each one's reader drop what only the other needs)."""
    settings = dict(SETTINGS)
    paths = [f"news/{n}.md" for n in range(20)]
    side = {}

    def after_fork(child: bool) -> None:
        side["child"] = child

    def read(path):
        return Item(path, settings, side.get("child"))

    prefetch = Prefetch(paths[10:], read, (settings,), after_fork)
    try:
        items = [prefetch.take(path) for path in paths]
    finally:
        prefetch.close()
    assert [item.read_by for item in items] == [False] * 10 + [True] * 10


def test_out_of_order_requests_still_get_their_own_result():
    settings = dict(SETTINGS)
    paths = [f"news/{n}.md" for n in range(30)]
    read, _ = make_reader(settings)
    prefetch = Prefetch(paths, read, (settings,))
    try:
        wanted = list(reversed(paths))
        assert [prefetch.take(p).path for p in wanted] == wanted
    finally:
        prefetch.close()


def test_a_failing_file_is_read_again_here_and_raises_here():
    settings = dict(SETTINGS)
    paths = ["a.md", "b.md", "c.md"]
    read, calls = make_reader(settings, fail_for={"b.md"})
    prefetch = Prefetch(paths, read, (settings,))
    try:
        assert prefetch.take("a.md").path == "a.md"
        with pytest.raises(ValueError, match=r"broken: b\.md"):
            prefetch.take("b.md")
        assert prefetch.take("c.md").path == "c.md"
    finally:
        prefetch.close()
    assert (os.getpid(), "b.md") in calls


def test_a_file_that_logs_is_read_again_here_so_the_message_is_ours(caplog):
    settings = dict(SETTINGS)
    paths = ["a.md", "b.md", "c.md"]
    read, _ = make_reader(settings, log_for={"c.md"})
    prefetch = Prefetch(paths, read, (settings,))
    with caplog.at_level(logging.WARNING):
        try:
            items = [prefetch.take(path) for path in paths]
        finally:
            prefetch.close()
    assert items[2].read_by == os.getpid()
    assert items[0].read_by != os.getpid()
    assert [r.getMessage() for r in caplog.records] == ["look at c.md"]


def test_if_the_forked_process_dies_everything_is_read_here():
    settings = dict(SETTINGS)
    paths = [f"news/{n}.md" for n in range(10)]

    def read(path):
        if os.getpid() != here:
            os._exit(3)  # dies without a word, mid-way
        return Item(path, settings, os.getpid())

    here = os.getpid()
    prefetch = Prefetch(paths, read, (settings,))
    try:
        items = [prefetch.take(path) for path in paths]
    finally:
        prefetch.close()
    assert [item.read_by for item in items] == [here] * len(paths)


def test_memo_entries_made_over_there_are_kept_by_this_build(tmp_path):
    settings = {"CACHE_PATH": str(tmp_path), "name": "memo"}
    earlier = Memo(tmp_path, "k" * 24)
    earlier.get("kind", "w", str.upper)
    earlier.save()
    memo = Memo(tmp_path, "k" * 24)
    assert memo.get("kind", "w", str.upper) == "W"  # its connection is open
    before_fork = memo._db
    memo_module._memos[id(settings)] = memo
    try:

        def read(path):
            return memo_for(settings).get("kind", path, str.upper)

        prefetch = Prefetch(["x", "y"], read, (settings,))
        try:
            # No SQLite connection crossed the fork (SQLite's rule): it was
            # closed before, and each process opens its own.
            with pytest.raises(sqlite3.ProgrammingError, match="closed"):
                before_fork.execute("SELECT 1")
            assert [prefetch.take("x"), prefetch.take("y")] == ["X", "Y"]
            assert memo.get("kind", "w", str.upper) == "W"
            assert memo.hits == 2
        finally:
            prefetch.close()
        # The forked process wrote its entries and told us their keys, so
        # the clean-up after this build keeps them: a new build finds them.
        memo.save()
        again = Memo(tmp_path, "k" * 24)
        assert again.get("kind", "x", lambda _: "recomputed") == "X"
        assert again.hits == 1
    finally:
        memo_module._memos.pop(id(settings), None)
