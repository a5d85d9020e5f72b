"""Both cores for reading the news: a forked process reads part of them.

Reading is the largest part of a build (validation, Markdown, the scan of
the HTML, typography, then Pelican's own metadata processing and the item
object: some 2.5 ms an item). Pelican reads one file after another. With
``RENDER_PROCESSES = 2``, when the news generator starts reading, a forked
copy of the build reads the last part of the files (Pelican's
``Readers.read_file``, exactly as the generator calls it) while this
process reads the first part; when Pelican reaches the forked process's
files, their items are already here, and it files them as it would have.

What the forked process returns is the item ``read_file`` made there,
pickled as Pelican's own content cache pickles items; the settings and the
generator's context it refers to are this process's own, not copies. This
is equivalent only while nothing listens to the signals ``read_file`` sends
(``article_generator_preread``, ``article_generator_context``,
``content_object_init``): a listener could keep state the forked process
would not share, so with any listener the news are read here, serially.
A file whose reading logged anything or failed is read again here, so
every message and error comes from this process, as in a serial build.
The Markdown memo: its database connection is closed before the fork, the
forked process opens its own, writes what it computed, and sends back the
keys it used, so this build's clean-up keeps them.

The output is the serial build's, byte for byte (tests/test_build_identical.py).
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import struct
import threading
from collections.abc import Callable

from pelican import signals
from pelican.contents import Article
from pelican.generators import ArticlesGenerator

from .memo import fork_build, memo_for, started_memo

log = logging.getLogger(__name__)

MIN_FILES = 200  # below that, a fork costs more than it saves
# The share of the files read here. This process also files every item in
# Pelican's lists and unpickles what the forked one read. Measured at 10,000
# items (when each process ends, and when article_generator_finalized is
# sent): at 0.50 this process went on reading ~2 s after the other had
# finished; at 0.46 both finished together, until the reading got cheaper
# again: then this one waited ~0.9 s for the other in a cold build. At 0.48,
# six cold builds alternating with 0.46 took 0.38 s less on average (25.50
# against 25.88 s), and a `--full` build (the Markdown memoized) the same
# time (8.85-9.09 s each). (At 0.42, long ago, this one waited ~3 s.)
SHARE_HERE = 0.48
HEADER = struct.Struct("<Q")
READ_SIGNALS = (
    signals.article_generator_preread,
    signals.article_generator_context,
    signals.content_object_init,
)
REDO = "redo"
DONE = "done"


class _Pickler(pickle.Pickler):
    """Pickles the shared objects (settings, context) as references."""

    def __init__(self, file, shared: tuple):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = {id(obj): n for n, obj in enumerate(shared)}

    def persistent_id(self, obj):
        return self._shared.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, shared: tuple):
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid):
        return self._shared[pid]


class _Recorder(logging.Handler):
    """Notes that something was logged while a file was read."""

    def __init__(self):
        super().__init__()
        self.logged = False

    def emit(self, record):
        self.logged = True


def _child(fd: int, paths: list[str], read: Callable, shared: tuple) -> None:
    """In the forked process: read ``paths``, send each result down ``fd``."""
    settings = shared[0]
    root = logging.getLogger()
    recorder = _Recorder()
    root.handlers[:] = [recorder]  # at the level this process logs at
    out = os.fdopen(fd, "wb", buffering=1 << 20)

    def send(message) -> None:
        buffer = io.BytesIO()
        _Pickler(buffer, shared).dump(message)
        data = buffer.getvalue()
        out.write(HEADER.pack(len(data)))
        out.write(data)

    for path in paths:
        recorder.logged = False
        try:
            result = read(path)
        except Exception:
            send((REDO, path, None))
            continue
        send((REDO, path, None) if recorder.logged else ("ok", path, result))
    memo = started_memo(settings)
    if memo is not None:
        memo.flush()
    send((DONE, None, memo.used if memo is not None else set()))
    out.flush()


class Prefetch:
    """Results of ``read(path)`` for some paths, from a forked process.

    ``shared``: objects the results refer to that must stay this process's
    own (the settings first).
    """

    def __init__(
        self,
        paths: list[str],
        read: Callable,
        shared: tuple,
        after_fork: Callable[[bool], None] | None = None,
    ):
        self.read = read
        self.shared = shared
        self.settings = shared[0]
        self.pending = set(paths)
        self.results: dict[str, tuple] = {}
        self.finished = False
        rfd, wfd = os.pipe()
        self.pid = fork_build(self.settings)  # no memo connection crosses it
        if self.pid == 0:  # the forked process: read, send, exit
            status = 0
            try:
                os.close(rfd)
                if after_fork is not None:
                    after_fork(True)
                _child(wfd, paths, read, shared)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(wfd)
        if after_fork is not None:
            after_fork(False)
        self._chunks: list[bytes] = []
        self._buffer = bytearray()
        self._eof = False
        self._more = threading.Condition()
        # Drain the pipe as the results come, so the forked process never
        # waits for this one; os.read releases the GIL.
        self._drainer = threading.Thread(target=self._drain, args=(rfd,), daemon=True)
        self._drainer.start()

    def _drain(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, 1 << 20):
                with self._more:
                    self._chunks.append(chunk)
                    self._more.notify()
        finally:
            os.close(fd)
            with self._more:
                self._eof = True
                self._more.notify()

    def _next_message(self):
        """The next message from the forked process, or None at its end."""
        while True:
            if len(self._buffer) >= HEADER.size:
                (size,) = HEADER.unpack_from(self._buffer)
                end = HEADER.size + size
                if len(self._buffer) >= end:
                    data = bytes(self._buffer[HEADER.size : end])
                    del self._buffer[:end]
                    return _Unpickler(io.BytesIO(data), self.shared).load()
            with self._more:
                while not self._chunks and not self._eof:
                    self._more.wait()
                if not self._chunks:
                    return None
                for chunk in self._chunks:
                    self._buffer += chunk
                self._chunks.clear()

    def _receive_until(self, path: str | None) -> None:
        """Take messages until ``path``'s result (or the end) is here."""
        while not self.finished and (path is None or path not in self.results):
            message = self._next_message()
            if message is None:  # the forked process died: read here
                self.finished = True
                break
            kind, got, value = message
            if kind == DONE:
                if value:
                    memo_for(self.settings).used.update(value)
                self.finished = True
            else:
                self.results[got] = (kind, value)

    def take(self, path: str):
        """``read(path)``: from the forked process if it read it."""
        if path not in self.pending:
            return self.read(path)
        self.pending.discard(path)
        self._receive_until(path)
        kind, value = self.results.pop(path, (REDO, None))
        return value if kind == "ok" else self.read(path)

    def close(self) -> None:
        """Wait for the forked process (its memo keys are needed)."""
        try:
            self._receive_until(None)
        finally:
            _, status = os.waitpid(self.pid, 0)
            self._drainer.join()
        if os.waitstatus_to_exitcode(status) != 0:
            log.debug("mfc_content: the reading process ended with %s", status)


def _files_to_prefetch(generator) -> tuple[list[str], list[str]] | None:
    """The files read here and those the forked process should read (as
    Pelican names them: relative to the content folder)."""
    settings = generator.settings
    if int(settings.get("RENDER_PROCESSES", 1)) < 2:
        return None
    if any(signal.receivers for signal in READ_SIGNALS):
        return None
    # Pelican reads them in the order of this set (one process, one order).
    files = list(
        generator.get_files(
            settings["ARTICLE_PATHS"], exclude=settings["ARTICLE_EXCLUDES"]
        )
    )
    if len(files) < MIN_FILES:
        return None
    split = int(len(files) * SHARE_HERE)
    return files[:split], files[split:]


_original_generate_context = ArticlesGenerator.generate_context


def _generate_context_with_prefetch(self) -> None:
    split = _files_to_prefetch(self)
    if split is None:
        _original_generate_context(self)
        return
    here, files = split
    readers = self.readers
    read_file = readers.read_file  # the bound method of Pelican's class
    arguments = {
        "base_path": self.path,
        "content_class": Article,
        "context": self.context,
        "preread_signal": signals.article_generator_preread,
        "preread_sender": self,
        "context_signal": signals.article_generator_context,
        "context_sender": self,
    }

    def read(path):
        return read_file(path=path, **arguments)

    def after_fork(child: bool) -> None:
        # Each process lets go of the check results kept for the files the
        # other one reads (mfc_content/checkcache.py).
        from . import site_check_for  # noqa: PLC0415  (the package imports this)

        cache = site_check_for(self.settings).cache
        if cache is not None:
            cache.read_elsewhere(here if child else files)

    prefetch = Prefetch(files, read, (self.settings, self.context), after_fork)

    def read_file_with_prefetch(**given):
        path = given.pop("path")
        if given == arguments:
            return prefetch.take(path)
        return read_file(path=path, **given)

    readers.read_file = read_file_with_prefetch
    try:
        _original_generate_context(self)
    finally:
        del readers.read_file
        prefetch.close()


def parallel_reading(pelican=None) -> None:
    """On initialized: read news with RENDER_PROCESSES processes."""
    ArticlesGenerator.generate_context = _generate_context_with_prefetch


def serial_reading(pelican=None) -> None:
    ArticlesGenerator.generate_context = _original_generate_context
