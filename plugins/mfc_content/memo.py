"""A build cache for pure text transformations (Markdown → HTML, typography).

Pelican's own content cache is keyed by a file's modification time and never
notices a change of settings, theme or plugins; it also stores the reader's
metadata, and ours depends on the time of the build (a scheduled item
becomes published when its date passes). So the site keeps Pelican's cache
off and caches only what is a pure function of text:

* each entry's key is the SHA-256 of the *build key*, the kind of
  transformation and the input text, so an entry is found again only for
  the same input under the same code and settings;
* the build key is a hash of the settings (output and cache paths aside),
  every file of the theme and of the plugin folders, and the versions of
  Python, Pelican, Python-Markdown, PyYAML and typogrify: change any of them and
  every entry is missed (and the old database file is soon removed);
* everything else (reading and validating every file, dates and statuses,
  links, rendering) runs on every build as before.

One SQLite file per build key under ``CACHE_PATH`` (``memo-<key>.sqlite``);
the most recent few are kept, so preview and production builds each keep
theirs. New entries are written as they come (a few hundred at a time, so
a big build does not hold them all in memory; they are right whatever the
build does next); entries the build did not use are removed only when it
has finished (``finalized``): a failed build removes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

# Settings that say where a build writes or how it runs, not what the text
# transformations make. The preview's page of one item (quick.py) and the
# fast rebuild (fast.py) run Pelican with one process, no search index and
# without its command line (which adds DEBUG): they find the full build's
# entries.
VOLATILE_SETTINGS = (
    "OUTPUT_PATH",
    "CACHE_PATH",
    "RENDER_PROCESSES",
    "SEARCH_INDEX",
    "DEBUG",
)
VERSIONED = ("pelican", "markdown", "pyyaml", "typogrify", "smartypants")
FLUSH_EVERY = 256  # new entries held in memory before they are written
KEEP_DATABASES = 4  # preview, production, and a couple being switched between
PREFIX = "memo-"
TABLE = "memo (key TEXT PRIMARY KEY, value BLOB)"  # for open_cache_db


def _plain(value: Any) -> Any:
    """A JSON-able stand-in for a settings value that JSON cannot hold."""
    if isinstance(value, set | frozenset):
        return sorted(map(repr, value))
    qualname = getattr(value, "__qualname__", None)
    if qualname:
        return f"{getattr(value, '__module__', '')}.{qualname}"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _tree_digest(digest, root: Path) -> None:
    for folder, dirs, files in sorted(os.walk(root)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(folder) / name
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes())


WAIT = 60  # seconds a cache waits for another process's lock


def open_cache_db(path: Path, table: str) -> sqlite3.Connection:
    """A connection to one of the build's SQLite caches, with ``table`` (its
    name and columns) created if it is missing.

    In WAL mode, with commits that are not synced: the caches are written by
    two processes at once (the two reading processes; the compression
    workers), and in SQLite's default mode each commit syncs the disk and
    locks out every reader meanwhile. A commit lost to a power cut is only a
    result to compute again; the file itself stays consistent. Writes begin
    with ``BEGIN IMMEDIATE``, which waits for the write lock first: a
    transaction that read before it wrote would fail at once, without
    waiting, if another process wrote in between. No process uses a
    connection it inherited through a fork (SQLite's rule): each opens its
    own.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=WAIT, isolation_level="IMMEDIATE")
    _use_wal(db, path)
    db.execute("PRAGMA synchronous=NORMAL")
    with db:
        db.execute(f"CREATE TABLE IF NOT EXISTS {table}")
    return db


def drop_unused(db: sqlite3.Connection, table: str, used: set[str]) -> int:
    """Delete the rows of one of the caches' tables (``key`` and a value)
    whose key is not in ``used``; return how many.

    Only the keys' index is read. ``DELETE ... WHERE key NOT IN (...)``
    reads every row, and with the values stored in them that is the whole
    file: 140 MB of compressed copies at ten thousand items, read again
    after a cold build that has nothing to delete.
    """
    rows = db.execute(f"SELECT key FROM {table}")
    unused = [(key,) for (key,) in rows if key not in used]
    if unused:
        db.executemany(f"DELETE FROM {table} WHERE key = ?", unused)
    return len(unused)


def _use_wal(db: sqlite3.Connection, path: Path) -> None:
    """Switch the file to WAL mode (once: the mode is kept in the file).

    While another process writes to it in the other mode (two processes
    creating a cache together), SQLite refuses the switch at once, without
    the wait ``timeout`` gives every other statement: wait here.
    """
    deadline = time.monotonic() + WAIT
    while True:
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            mode = "locked"
        if mode == "wal":
            return
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"{path}: cannot use WAL mode ({mode})")
        time.sleep(0.01)


def remove_cache_db(path: Path) -> None:
    """Delete a cache database with the files SQLite keeps beside it."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def build_key(settings: dict) -> str:
    """Hash of what a cached transformation may depend on."""
    digest = hashlib.sha256()
    kept = {k: v for k, v in settings.items() if k not in VOLATILE_SETTINGS}
    digest.update(json.dumps(kept, sort_keys=True, default=_plain).encode())
    # The interpreter too: its re, html and json modules do part of the work.
    digest.update(f"python={sys.version}".encode())
    for package in VERSIONED:
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=none".encode())
    folders = [settings.get("THEME", "")]
    folders += list(settings.get("PLUGIN_PATHS", []))
    for folder in folders:
        path = Path(folder)
        if path.is_dir():
            digest.update(str(path).encode())
            _tree_digest(digest, path)
    return digest.hexdigest()[:24]


class Memo:
    """Results of pure text functions, kept between builds."""

    def __init__(self, cache_path: str | os.PathLike, key: str):
        self.folder = Path(cache_path)
        self.key = key
        self.path = self.folder / f"{PREFIX}{key}.sqlite"
        self._db: sqlite3.Connection | None = None  # see _database
        self.used: set[str] = set()
        self.new: dict[str, bytes] = {}
        self.hits = 0
        # The database is missing as this build starts (a cold build): then
        # only what this process has computed since can be in it.
        self.fresh = not self.path.is_file()

    def _connect(self) -> sqlite3.Connection:
        return open_cache_db(self.path, TABLE)

    def _database(self) -> sqlite3.Connection | None:
        """The connection, opened when first needed, if the file exists
        (another process may have made it since)."""
        if self._db is None and self.path.is_file():
            self._db = self._connect()
        return self._db

    def get(self, kind: str, text: str, compute: Callable[[str], Any]) -> Any:
        """compute(text), from the cache when it was computed before."""
        entry = hashlib.sha256(f"{self.key}\0{kind}\0{text}".encode()).hexdigest()
        # In a cold build an entry this process has not met yet is not
        # stored: no query (tens of thousands of misses at 10,000 items).
        stored = not self.fresh or entry in self.used
        self.used.add(entry)
        blob = self.new.get(entry)
        db = self._database() if blob is None and stored else None
        if db is not None:
            row = db.execute(
                "SELECT value FROM memo WHERE key = ?", (entry,)
            ).fetchone()
            blob = row[0] if row else None
        if blob is not None:
            self.hits += 1
            return pickle.loads(blob)
        value = compute(text)
        self.new[entry] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if len(self.new) >= FLUSH_EVERY:
            self.flush()
        return value

    def detach(self) -> None:
        """In a forked process: none of the other's pending entries or used
        keys. The connection was closed before the fork (``close``): this
        process opens its own when it needs it."""
        self._db = None
        self.new = {}
        self.used = set()

    def flush(self) -> None:
        """Write the new entries (pure results: right even if the build
        fails later), so they are not all held in memory."""
        if not self.new:
            return
        if self._db is None:
            self._db = self._connect()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO memo VALUES (?, ?)", self.new.items()
            )
        self.new.clear()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def save(self) -> None:
        """After a good build: write the rest, drop unused entries and old
        databases."""
        self.flush()
        db = self._db or self._connect()
        self._db = None
        try:
            with db:
                drop_unused(db, "memo", self.used)
        finally:
            db.close()
        os.utime(self.path)
        others = sorted(
            self.folder.glob(f"{PREFIX}*.sqlite"),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in others[KEEP_DATABASES:]:
            remove_cache_db(old)


_memos: dict[int, Memo] = {}


def memo_for(settings: dict) -> Memo:
    """The build's memo (one per settings object, i.e. per Pelican run)."""
    memo = _memos.get(id(settings))
    if memo is None:
        memo = _memos[id(settings)] = Memo(settings["CACHE_PATH"], build_key(settings))
    return memo


def started_memo(settings: dict) -> Memo | None:
    """The build's memo if this build has used it yet, else None."""
    return _memos.get(id(settings))


def fork_build(settings: dict) -> int:
    """``os.fork()`` of a build's process, the memo's way: no SQLite
    connection crosses the fork (SQLite's rule: never use one in a forked
    process, and dropping it there would close it). The memo's connection
    is closed first, and each process opens its own when it needs it; the
    forked one starts without the other's pending entries or used keys.
    Output written so far is flushed, so neither process repeats it."""
    memo = started_memo(settings)
    if memo is not None:
        memo.close()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0 and memo is not None:
        memo.detach()
    return pid


def save_memos(pelican=None) -> None:
    """On `finalized`: keep what this build computed."""
    while _memos:
        _, memo = _memos.popitem()
        memo.save()


def forget_memos(pelican=None) -> None:
    """On `initialized`: a new build computes its key again."""
    for memo in _memos.values():
        memo.close()
    _memos.clear()
