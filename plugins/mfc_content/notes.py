"""What a full build tells the next one (in Pelican's process).

The staged build (build.py) gives Pelican a private folder in the variable
``MFC_BUILD_NOTES``; when it is set, this module writes there, for
``fast.py``:

- each item's **footprint**: a digest of everything about it that other
  pages can show (its attributes and metadata, the summary the lists show,
  the URL, tags, dates, neighbours), its text (``_content``) excepted. An
  edit that leaves the footprint as it was changes the item's own page and
  nothing else Pelican writes;
- where each item's **text is shown besides its own page**: while a file is
  written, every item whose ``get_content`` is asked for is noted with the
  file (``feed:<path>`` for a feed). An edit of an item shown in a feed
  rewrites that feed too; one shown in any other file is a whole build.
  A list that shows an item without a ``summary:`` shows the beginning of
  its text (Pelican's ``get_summary`` cuts it); that is not noted: the cut
  is in the footprint, so an edit further down the text leaves every list
  as it was, and an edit of the beginning changes the footprint. The
  forked process that writes part of the news (speed.py) writes its own
  notes before it exits.

The footprints are made when every page is written, by a forked process at
the lowest priority (``write_meanwhile``), while the compression and the
search index run; the build waits for it at its end (``collect``).

Nothing here changes what Pelican writes.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import hashlib
import logging
import os
import pickle
import signal
import sys
from pathlib import Path

from pelican import signals
from pelican.contents import Article, Content, Page
from pelican.urlwrappers import URLWrapper
from pelican.writers import Writer

from .fast import content_name
from .memo import fork_build

log = logging.getLogger(__name__)

ENV = "MFC_BUILD_NOTES"
# Attributes that are not part of what other pages show: the text itself,
# and Pelican's shared context and settings.
NOT_FOOTPRINT = frozenset({"_content", "_context", "settings", "_summary"})

DEPTH = 6  # nested values deeper than this are not looked into

_state: dict = {"file": None, "uses": {}, "generators": (), "writer": None}
_original = {
    "get_content": Content.__dict__["get_content"],
    "get_summary": Content.__dict__["get_summary"],
    "write_file": Writer.write_file,
    "write_feed": Writer.write_feed,
}


def folder() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def _asked(item: Content) -> None:
    """An item's text is used while _state["file"] is written."""
    writing = _state["file"]
    if writing is None:
        return
    if writing != getattr(item, "save_as", None):
        _state["uses"].setdefault(item.source_path, set()).add(writing)


def _get_content(self, siteurl):
    _asked(self)
    return _original["get_content"].__get__(self, type(self))(siteurl)


def _get_summary(self, siteurl):
    """A summary cut from the text is not noted as a use of the text: a page
    that shows it shows only what the footprint holds (``footprint``)."""
    writing, _state["file"] = _state["file"], None
    try:
        return _original["get_summary"].__get__(self, type(self))(siteurl)
    finally:
        _state["file"] = writing


def _write_file(self, name, *args, **kwargs):
    _state["file"] = name
    try:
        return _original["write_file"](self, name, *args, **kwargs)
    finally:
        _state["file"] = None


def _write_feed(self, elements, context, path=None, *args, **kwargs):
    _state["file"] = f"feed:{path}"
    try:
        return _original["write_feed"](self, elements, context, path, *args, **kwargs)
    finally:
        _state["file"] = None


def start(pelican=None) -> None:
    """On initialized: note text use, when the staged build asked for notes."""
    abandon()
    _state.update(file=None, uses={}, generators=())
    if folder() is None:
        return
    Content.get_content = _get_content
    Content.get_summary = _get_summary
    Writer.write_file = _write_file
    Writer.write_feed = _write_feed


def stop(pelican=None) -> None:
    Content.get_content = _original["get_content"]
    Content.get_summary = _original["get_summary"]
    Writer.write_file = _original["write_file"]
    Writer.write_feed = _original["write_feed"]


def keep_generators(generators) -> None:
    _state["generators"] = tuple(generators)


def flush_uses() -> None:
    """Write where this process showed items' text besides their own pages
    (the forked writer calls it too)."""
    where = folder()
    if where is None:
        return
    name = f"uses-{os.getpid()}.pickle"
    (where / name).write_bytes(pickle.dumps(_state["uses"]))


def describe(value, depth: int = 0):
    """A value as plain, repeatable data for a footprint."""
    if isinstance(value, (str, int, float, bool, type(None))):
        plain = value
    elif depth > DEPTH:
        plain = "…"
    elif isinstance(value, Content):
        plain = ("item", value.source_path)
    elif isinstance(value, URLWrapper):
        plain = (type(value).__name__, value.name, value.slug)
    elif isinstance(value, (dt.datetime, dt.date)):
        plain = value.isoformat()
    elif isinstance(value, dict):
        plain = sorted((str(k), describe(v, depth + 1)) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        plain = [describe(v, depth + 1) for v in value]
    elif isinstance(value, (set, frozenset)):
        plain = sorted(repr(describe(v, depth + 1)) for v in value)
    else:
        plain = (type(value).__name__, repr(value))
    return plain


def footprint(item: Content) -> str:
    """The digest of what other pages can show of `item` (module doc)."""
    from .speed import beside  # noqa: PLC0415  (speed.py imports this module)

    attributes = {**vars(item), **beside(item)}  # the neighbours: kept beside
    parts = [
        (key, describe(value))
        for key, value in sorted(attributes.items())
        if key not in NOT_FOOTPRINT
    ]
    # What the lists show: the summary, or the text's beginning (memoized by
    # Pelican: the lists have asked for it already).
    parts.append(("summary", describe(item.summary)))
    parts.append(("url", item.url))
    parts.append(("save_as", item.save_as))
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def items_of(generators):
    """Every news item and page of every generator (drafts, translations
    and hidden ones too; not static files)."""
    seen = set()
    for generator in generators:
        for name, value in vars(generator).items():
            if not isinstance(value, list) or name.startswith("_"):
                continue
            for item in value:
                if isinstance(item, (Article, Page)) and id(item) not in seen:
                    seen.add(id(item))
                    yield item


def _write_footprints(pelican, where: Path) -> None:
    footprints = {
        content_name(item.source_path, pelican.settings): (
            footprint(item),
            item.save_as,
        )
        for item in items_of(_state["generators"])
    }
    temporary = where / f".footprints-{os.getpid()}.pickle"
    temporary.write_bytes(pickle.dumps(footprints))
    temporary.replace(where / "footprints.pickle")


def write_meanwhile(pelican) -> None:
    """On finalized, right after the prune, before the compression and the
    search index start: every page is written, every item is final. The
    footprints (~0.7 s at 10,000 items, one core) are written by a forked
    process at the lowest priority, on the time the cores have to spare
    while Pagefind runs; ``collect`` waits for it where it was done before,
    at the end. (They were the last step of the build, a core idle.)"""
    where = folder()
    if where is None:
        return
    # A summary not yet made is made over there, with a memo connection of
    # its own (fork_build).
    pid = fork_build(pelican.settings)
    if pid == 0:
        status = 1
        try:
            with contextlib.suppress(OSError):
                os.nice(19)
            _write_footprints(pelican, where)
            status = 0
        except BaseException as error:
            log.info("mfc_content: no notes for the next build: %r", error)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    _state["writer"] = pid


def abandon(*_args) -> None:
    """A build that failed before ``collect``: its notes are not needed."""
    pid, _state["writer"] = _state["writer"], None
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def collect(pelican) -> None:
    """On finalized, last: the footprints are written (write_meanwhile);
    keep where this process showed items' text."""
    pid, _state["writer"] = _state["writer"], None
    try:
        if pid is None:  # no notes asked for (write_meanwhile forks if so)
            return
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return  # it said why; the next build is a whole one
        flush_uses()
    except Exception as error:  # no notes: the next build is a whole one
        # (info, not a warning: warnings are fatal, and this is no failure)
        log.info("mfc_content: no notes for the next build: %r", error)
    finally:
        stop()


def register() -> None:
    """Connected by mfc_content's register (``write_meanwhile`` right after
    the prune, ``collect`` by its finish_last)."""
    signals.initialized.connect(start)
    signals.all_generators_finalized.connect(keep_generators)
    atexit.register(abandon)
