"""The notes a whole build leaves for the next one (mfc_content/notes.py):
the footprints are made by a forked process at the lowest priority while
the build goes on, and the build collects them at its end.

Real forks, real Pelican items; what the fast rebuild does with the notes:
tests/test_fast.py.
"""

import functools
import os
import pickle
import time
from types import SimpleNamespace

import pytest
from pelican.contents import Content
from pelican.settings import DEFAULT_CONFIG

from mfc_content import notes
from tests.items import news_items


@pytest.fixture
def build(tmp_path, monkeypatch):
    """A build that asked for notes, its items read and written."""
    folder = tmp_path / "notes"
    folder.mkdir()
    monkeypatch.setenv(notes.ENV, str(folder))
    notes.start()
    items = news_items(5)
    notes.keep_generators([SimpleNamespace(articles=items)])
    yield SimpleNamespace(
        folder=folder, items=items, pelican=SimpleNamespace(settings=DEFAULT_CONFIG)
    )
    notes.abandon()
    notes.stop()


def made_where(monkeypatch, log, then=None):
    """Each footprint notes the process and its priority in ``log``."""
    original = notes.footprint

    @functools.wraps(original)
    def footprint(item):
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{os.getpid()} {os.nice(0)}\n")
        if then is not None:
            then(item)
        return original(item)

    monkeypatch.setattr(notes, "footprint", footprint)


def test_footprints_are_made_over_there_at_the_lowest_priority(build, monkeypatch):
    log = build.folder.parent / "made"
    made_where(monkeypatch, log)
    notes.write_meanwhile(build.pelican)
    writer = notes._state["writer"]
    assert writer is not None
    notes.collect(build.pelican)
    assert notes._state["writer"] is None
    footprints = pickle.loads((build.folder / "footprints.pickle").read_bytes())
    monkeypatch.setattr(notes, "footprint", notes.footprint.__wrapped__)
    assert footprints == {
        f"news/2024/n{n}.md": (notes.footprint(item), item.save_as)
        for n, item in enumerate(build.items)
    }
    made = [line.split() for line in log.read_text().splitlines()]
    assert len(made) == len(build.items)
    assert {pid for pid, _ in made} == {str(writer)}
    assert {nice for _, nice in made} == {"19"}
    # This process keeps where it showed items' text, and its classes are
    # its own again.
    assert (build.folder / f"uses-{os.getpid()}.pickle").exists()
    assert Content.__dict__["get_content"] is notes._original["get_content"]
    assert not list(build.folder.glob(".footprints-*"))


def test_a_footprint_that_fails_leaves_no_notes(build, monkeypatch):
    """The next build is then a whole one (fast.py finds no footprints)."""

    def fail(item):
        if item is build.items[3]:
            raise ValueError("no footprint")

    made_where(monkeypatch, build.folder.parent / "made", then=fail)
    notes.write_meanwhile(build.pelican)
    notes.collect(build.pelican)  # says why, does not fail the build
    assert sorted(p.name for p in build.folder.iterdir()) == []
    assert Content.__dict__["get_content"] is notes._original["get_content"]


def test_a_build_that_fails_meanwhile_stops_the_notes_at_once(build, monkeypatch):
    """Pelican failed after the pages (the search index, say): its exit
    functions stop the forked process; nothing is written."""
    made_where(monkeypatch, build.folder.parent / "made", then=lambda _: time.sleep(60))
    notes.write_meanwhile(build.pelican)
    writer = notes._state["writer"]
    started = time.monotonic()
    notes.abandon()
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(writer, os.WNOHANG)  # reaped: no zombie left
    assert notes._state["writer"] is None
    assert list(build.folder.iterdir()) == []
