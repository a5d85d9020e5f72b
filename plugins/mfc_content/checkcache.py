"""Results of each file's check, kept between runs of the whole-site check.

``invoke check`` (and the check of every build) reads all of content/; at
ten thousand news items, parsing and checking each file is most of its time,
and an editor has usually changed one or two. So each news item's and page's
own result (its problems, values and what the cross-file checks need of it)
is kept, and used again only when nothing it was computed from has changed:

* the file's bytes (SHA-256) and the path shown to the editor;
* the *identity* of the check: the code of this package, the versions of
  Python and of the libraries it calls, and the settings and theme
  templates it reads (``SiteCheck.identity``); another identity is another
  cache file;
* every answer the file's check got from the outside while it ran: whether
  a linked or pictured file exists (or has a twin in another letter case),
  what is wrong with a photo, whether its date is still to come. Those
  questions go through ``schema.Context``, which records them; before
  reuse each is asked again, and one changed answer means the file is
  checked afresh. A news item dated in the future is thus checked again once
  its date has passed, and a link to a file that was deleted is caught.

The cross-file checks (one address for two files, links to missing or
unpublished pages) always run on every item, cached or not.

A build's reader only takes what is kept (``reuse_only``). The build's
own whole-site check runs alongside it and keeps its results when done, a
few seconds in: the reader then loads them (``_late``), so a build that
found no kept results (the first one, or after a change of the code) checks
only the files it read before that, not every file twice.

One pickle file per identity under ``CACHE_PATH``
(``check-<identity>-<format>.pickle``), replaced whole by an atomic rename
(a killed check leaves the old one), only when some file was checked afresh
or went away. A missing, unreadable or
foreign file is ignored: the cache only ever saves time. Only the newest
few files are kept.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import time
from pathlib import Path

PREFIX = "check-"
FORMAT = 2  # of the stored entries: part of the file's name
SUFFIX = ".pickle"
KEEP_FILES = 3
ABANDONED_AFTER = 3600  # seconds: a temporary file this old is a killed check's
LOOK_EVERY = 0.25  # seconds: how often a reader looks for newly kept results


class CheckCache:
    """Each file's check result, by relative path, for one check identity."""

    def __init__(
        self, folder: str | os.PathLike, identity: str, *, reuse_only: bool = False
    ):
        self.folder = Path(folder)
        self.path = self.folder / f"{PREFIX}{identity}-{FORMAT}{SUFFIX}"
        self.identity = identity
        # A build's reader: each file is read once, so an entry is dropped
        # once used (memory), and nothing is stored (the build's own
        # whole-site check, run alongside, stores).
        self.reuse_only = reuse_only
        self._stamp = self._file_stamp()
        self._looked = time.monotonic()
        self.entries: dict[str, tuple] = self._load()
        self.elsewhere: frozenset[str] = frozenset()  # read by another process
        self.seen: set[str] = set()
        self.changed = False
        self.hits = 0

    def _file_stamp(self) -> tuple | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def _load(self) -> dict[str, tuple]:
        try:
            with open(self.path, "rb") as file:
                identity, entries = pickle.load(file)
        except Exception:
            return {}
        return entries if identity == self.identity else {}

    def _late(self, rel: str) -> tuple | None:
        """A reader's entry for ``rel`` from results kept since it started
        (the file is replaced whole, so a new one is complete), else None.
        Entries of files already read are left out."""
        now = time.monotonic()
        if now - self._looked < LOOK_EVERY:
            return None
        self._looked = now
        stamp = self._file_stamp()
        if stamp is None or stamp == self._stamp:
            return None
        self._stamp = stamp
        loaded = self._load()
        entry = loaded.pop(rel, None)
        self.entries = {
            k: v
            for k, v in loaded.items()
            if k not in self.seen and k not in self.elsewhere
        }
        return entry

    def read_elsewhere(self, rels) -> None:
        """Another process reads these files (the build reads the news in
        two): this reader lets their entries go, now and when loading."""
        self.elsewhere = frozenset(rels)
        for rel in self.elsewhere:
            self.entries.pop(rel, None)

    def release(self) -> None:
        """A reader has read every file: the entries left are not needed."""
        self.entries = {}

    @staticmethod
    def digest(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    def get(self, rel: str, shown: str, data: bytes, ctx):
        """The result stored for this file, if still right; else None.

        A fresh object each time (it is unpickled): the cross-file checks
        add their problems to it, never to what is stored.
        """
        self.seen.add(rel)
        entry = (self.entries.pop if self.reuse_only else self.entries.get)(rel, None)
        if entry is None and self.reuse_only:
            entry = self._late(rel)
        if entry is None:
            return None
        digest, stored_shown, blob = entry
        if digest != self.digest(data) or stored_shown != shown:
            return None
        asked, result = pickle.loads(blob)
        if not ctx.answers_hold(asked):
            return None
        self.hits += 1
        return result

    def put(self, rel: str, shown: str, data: bytes, asked: list, result) -> None:
        """Keep a file's result, computed with the answers in `asked`."""
        if self.reuse_only:
            return
        self.seen.add(rel)
        # One blob: loading the file makes a few objects per file, not a
        # tree of them, and a file that changed is never unpickled.
        blob = pickle.dumps((asked, result), protocol=pickle.HIGHEST_PROTOCOL)
        self.entries[rel] = (self.digest(data), shown, blob)
        self.changed = True

    def save(self) -> None:
        """After a whole-site check: keep the entries of the files it saw."""
        gone = self.entries.keys() - self.seen
        if self.reuse_only or not (self.changed or gone):
            return
        for rel in gone:
            del self.entries[rel]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".tmp-check-", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as file:
                    pickle.dump(
                        (self.identity, self.entries),
                        file,
                        protocol=pickle.HIGHEST_PROTOCOL,
                    )
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            self._prune()
        except OSError:  # a read-only project: the next check is slower, that is all
            return
        self.changed = False

    def _prune(self) -> None:
        """Keep the newest files; remove temporary ones of killed checks."""
        for temp in self.folder.glob(".tmp-check-*"):
            if time.time() - temp.stat().st_mtime > ABANDONED_AFTER:
                temp.unlink(missing_ok=True)
        others = sorted(
            (p for p in self.folder.glob(f"{PREFIX}*{SUFFIX}") if p != self.path),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in others[KEEP_FILES - 1 :]:
            old.unlink(missing_ok=True)
