"""mfc_content.memo: the build cache of pure text functions."""

import os
import sqlite3
import threading
import time
from pathlib import Path

from mfc_content.memo import KEEP_DATABASES, TABLE, Memo, build_key, open_cache_db


def settings_for(tmp_path, **extra):
    theme = tmp_path / "theme"
    plugins = tmp_path / "plugins"
    for folder in (theme / "templates", plugins / "mfc_x"):
        folder.mkdir(parents=True, exist_ok=True)
    (theme / "templates" / "base.html").write_text("<html>", encoding="utf-8")
    (plugins / "mfc_x" / "__init__.py").write_text("X = 1\n", encoding="utf-8")
    return {
        "THEME": str(theme),
        "PLUGIN_PATHS": [str(plugins)],
        "MARKDOWN": {"output_format": "html5"},
        "JINJA_FILTERS": {"f": len},
        "OUTPUT_PATH": str(tmp_path / "output.staging-1"),
        "CACHE_PATH": str(tmp_path / "cache"),
        **extra,
    }


def test_the_key_follows_settings_theme_and_plugins_not_paths(tmp_path):
    settings = settings_for(tmp_path)
    key = build_key(settings)
    assert build_key(settings) == key
    moved = {**settings, "OUTPUT_PATH": str(tmp_path / "output.staging-2")}
    assert build_key(moved) == key  # where it writes is not what it makes
    assert build_key({**settings, "MARKDOWN": {"output_format": "xhtml"}}) != key
    (tmp_path / "theme" / "templates" / "base.html").write_text("<html lang=ru>")
    assert build_key(settings) != key
    theme_key = build_key(settings)
    (tmp_path / "plugins" / "mfc_x" / "__init__.py").write_text("X = 2\n")
    assert build_key(settings) != theme_key


def test_entries_are_reused_and_unused_ones_dropped(tmp_path):
    calls = []

    def upper(text):
        calls.append(text)
        return text.upper()

    first = Memo(tmp_path, "k")
    assert first.get("t", "а", upper) == "А"
    assert first.get("t", "б", upper) == "Б"
    first.save()
    second = Memo(tmp_path, "k")
    assert second.get("t", "а", upper) == "А"
    assert second.hits == 1
    assert calls == ["а", "б"]
    second.save()  # "б" was not used by this build: dropped
    third = Memo(tmp_path, "k")
    assert third.get("t", "б", upper) == "Б"
    assert calls == ["а", "б", "б"]
    # Another key (other settings or code) never sees these entries.
    other = Memo(tmp_path, "other")
    assert other.get("t", "а", upper) == "А"
    assert calls[-1] == "а"


def test_a_cold_build_asks_its_database_only_for_what_it_computed(
    tmp_path, monkeypatch
):
    calls, queries = [], []

    def upper(text):
        calls.append(text)
        return text.upper()

    monkeypatch.setattr("mfc_content.memo.FLUSH_EVERY", 2)
    cold = Memo(tmp_path, "k")  # no database yet: a cold build
    real_database = cold._database

    def counted():
        queries.append(1)
        return real_database()

    monkeypatch.setattr(cold, "_database", counted)
    for text in ("а", "б", "в", "а", "в"):  # flushed every two new entries
        assert cold.get("t", text, upper) == text.upper()
    assert calls == ["а", "б", "в"]  # a repeat comes from the memo
    assert cold.hits == 2
    assert len(queries) == 1  # "а" was flushed: read back; "в" still pending
    cold.save()
    warm = Memo(tmp_path, "k")  # the database exists: every entry is asked
    assert [warm.get("t", text, upper) for text in "абвг"] == list("АБВГ")
    assert calls == ["а", "б", "в", "г"]
    assert warm.hits == 3


def test_a_build_that_fails_saves_nothing(tmp_path):
    memo = Memo(tmp_path, "k")
    memo.get("t", "а", str.upper)
    assert not list(tmp_path.glob("*.sqlite"))  # written only by save()


def test_old_databases_are_removed_with_the_files_sqlite_keeps_beside_them(tmp_path):
    oldest = Memo(tmp_path, "oldest")
    oldest.get("t", "а", str.upper)
    oldest.save()
    os.utime(oldest.path, (1, 1))
    # A connection still open (a build killed in the middle): WAL mode keeps
    # its journal and shared memory in two files beside the database.
    held = open_cache_db(oldest.path, TABLE)
    held.execute("SELECT count(*) FROM memo").fetchone()
    sidecars = [Path(f"{oldest.path}{suffix}") for suffix in ("-wal", "-shm")]
    assert all(path.exists() for path in sidecars)
    for number in range(KEEP_DATABASES):
        newer = Memo(tmp_path, f"newer{number}")
        newer.get("t", "б", str.upper)
        newer.save()
    held.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"memo-newer{number}.sqlite" for number in range(KEEP_DATABASES)
    )


def test_a_cache_another_process_is_writing_in_the_old_mode_is_waited_for(tmp_path):
    """Two processes creating one cache: the one that comes second waits for
    the first one's write instead of failing with "database is locked"
    (SQLite refuses the switch to WAL mode at once, without waiting)."""
    path = tmp_path / "memo-k.sqlite"
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute(f"CREATE TABLE {TABLE}")
    first.execute("BEGIN IMMEDIATE")
    first.execute("INSERT INTO memo VALUES ('a', x'00')")
    threading.Timer(0.3, first.execute, ("COMMIT",)).start()
    started = time.monotonic()
    second = open_cache_db(path, TABLE)
    assert time.monotonic() - started >= 0.25  # it waited for the commit
    assert second.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert second.execute("SELECT key FROM memo").fetchall() == [("a",)]
    second.close()
    first.close()


def test_how_a_build_runs_is_not_part_of_the_key(tmp_path):
    # The full build runs Pelican's command line (which adds DEBUG) with two
    # processes and the search index; the preview's page of one item and
    # the fast rebuild run Pelican in-process, with one process and no
    # index. They all make the same text, and find each other's entries.
    settings = settings_for(tmp_path)
    full = {**settings, "DEBUG": False, "RENDER_PROCESSES": 2, "SEARCH_INDEX": True}
    quick = {**settings, "RENDER_PROCESSES": 1, "SEARCH_INDEX": False}
    assert build_key(full) == build_key(quick)
    assert build_key({**quick, "TYPOGRIFY": True}) != build_key(quick)
