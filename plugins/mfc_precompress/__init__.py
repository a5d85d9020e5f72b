"""Precompressed copies: ``page.html.gz`` and ``page.html.br`` beside every
text file of the built site, for nginx's gzip_static and brotli_static.

It replaces pelican-precompress, which compresses every file with Brotli at
quality 11 on every build: about 12 ms a page, so minutes at ten thousand
news items, spent again on each rebuild. Here

* pages and feeds (``.html``, ``.xml``: thousands of files, each read by few
  visitors) use Brotli quality ``PRECOMPRESS_BROTLI_PAGE_QUALITY`` (7: about
  0.23 ms a page, some 10 % larger than quality 11; on the 13,257 pages and
  feeds of a 10,000-item site, 0.013 % larger than quality 8, in 4 % less
  time); the shared assets (CSS, JavaScript, SVG, JSON: a few files every
  visitor downloads) keep ``PRECOMPRESS_BROTLI_QUALITY`` (11);
* every compressed copy is kept in a cache (``CACHE_PATH/precompress.sqlite``,
  one SQLite file) under the SHA-256 of the compressor, the level and the bytes,
  so a rebuild compresses only the files whose bytes changed; entries the
  build did not use are removed at its end;
* both cores are used (one worker process per core), and the pages are
  compressed while the search index is made from them: the pass over the
  written pages starts on ``finalized`` in a process of its own
  (``Background``; publishconf.py lists this plugin before mfc_search), and
  when the site is complete (pelican-granular-signals' ``compress``) the
  files written or changed since it read them are compressed, and the copies
  of files deleted since are removed (``finish``);
* gzip is libdeflate's (package deflate): at level 9 its copies are a
  little smaller than zlib's, in 60 % of the time; pages and feeds use
  ``PRECOMPRESS_GZIP_PAGE_LEVEL`` (6: on the 13,257 pages and feeds of a
  10,000-item site, 1.14 s instead of level 9's 1.69 s, copies 0.43 %
  larger, ~18 bytes of a ~4.3 KB copy; the ``.gz`` copies are for the few
  clients without Brotli); Brotli's window is the smallest that holds the
  file (``window_bits``): no larger, less time;
* the bytes are reproducible (gzip without a timestamp or name), so an
  unchanged page keeps identical copies and the deploy hard-links them.

A copy is written only when it is smaller than the file. Settings:
``PRECOMPRESS_TEXT_EXTENSIONS``, ``PRECOMPRESS_MIN_SIZE`` (bytes),
``PRECOMPRESS_BROTLI_QUALITY``, ``PRECOMPRESS_BROTLI_PAGE_QUALITY``,
``PRECOMPRESS_PAGE_EXTENSIONS``, ``PRECOMPRESS_GZIP_LEVEL`` and
``PRECOMPRESS_GZIP_PAGE_LEVEL`` (libdeflate's, 1-12).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import blinker
import brotli
import deflate
from pelican import signals
from pelican.plugins import granular_signals

from mfc_content.memo import drop_unused, open_cache_db
from mfc_content.reuse import write_if_changed

log = logging.getLogger(__name__)

DEFAULTS = {
    "PRECOMPRESS_TEXT_EXTENSIONS": [".html", ".css", ".js", ".json", ".xml", ".svg"],
    "PRECOMPRESS_MIN_SIZE": 256,
    "PRECOMPRESS_BROTLI_QUALITY": 11,
    "PRECOMPRESS_BROTLI_PAGE_QUALITY": 7,
    "PRECOMPRESS_PAGE_EXTENSIONS": [".html", ".xml"],
    "PRECOMPRESS_GZIP_LEVEL": 9,
    "PRECOMPRESS_GZIP_PAGE_LEVEL": 6,
}
CACHE_FILE = "precompress.sqlite"
CHUNK = 64  # files per task sent to a worker
FINISH = "finish"  # Background tells its process the site is complete


def gzip_bytes(data: bytes, level: int) -> bytes:
    """gzip by libdeflate (levels 1-12), with a zero timestamp and no file
    name: same input, same bytes."""
    return deflate.gzip_compress(data, level)


def window_bits(size: int) -> int:
    """The smallest Brotli window that holds a file of ``size`` bytes (a
    window of ``2**bits - 16`` bytes), from Brotli's smallest (10) to its
    default (22).

    A copy made with it is no larger than with the default window (4 MB):
    no reference can reach past the file's start. And it is made faster:
    measured on 3,000 pages of a 10,000-item site, quality 8 took
    0.50-0.54 ms a page instead of 0.59-0.75 ms (~1.3-3 core-seconds of a
    cold build at 10,000 items), the copies 0.07 % smaller. Browsers
    decoding it need no more memory than the file either.
    """
    return max(10, min(22, (size + 15).bit_length()))


def brotli_bytes(data: bytes, quality: int) -> bytes:
    return brotli.compress(
        data, mode=brotli.MODE_TEXT, quality=quality, lgwin=window_bits(len(data))
    )


COMPRESSORS = {".gz": gzip_bytes, ".br": brotli_bytes}


# Part of every cache key: a copy made by another compressor is not reused.
ENGINES = {".gz": "libdeflate", ".br": "brotli-fitted-window"}


def _key(suffix: str, level: int, data: bytes) -> str:
    engine = f"{suffix}{ENGINES[suffix]}{level}:".encode()
    return hashlib.sha256(engine + data).hexdigest()


def _open_cache(cache: Path) -> sqlite3.Connection:
    """The cache database (one file: thousands of small files cost more to
    create than the compression they save)."""
    return open_cache_db(cache, "copies (key TEXT PRIMARY KEY, blob BLOB)")


Stamp = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


@dataclass
class Pass:
    """The files one compression pass read, each as it was just before it
    was read, and the cache keys of its copies; and how many copies it wrote."""

    files: dict[str, Stamp] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    written: int = 0


def compress_many(
    job: tuple[list[str], str, dict] | tuple[list[str], str, dict, bool],
) -> tuple[dict[str, list[str]], int]:
    """Write the copies of some files; store new copies in the cache.

    A fourth item, True, says the cache was empty when the pass began (a
    cold build): it is not asked for copies it cannot hold.
    Returns (each file's cache keys, copies written).
    """
    paths, cache, levels, *rest = job
    empty = bool(rest and rest[0])
    db = _open_cache(Path(cache))
    used: dict[str, list[str]] = {}
    new: dict[str, bytes] = {}
    written = 0
    try:
        for name in paths:
            path = Path(name)
            try:
                data = path.read_bytes()
            except FileNotFoundError:  # deleted since it was listed: see finish
                continue
            kind = "page" if path.suffix in levels["page_extensions"] else "asset"
            keys = used[name] = []
            for suffix, level in levels[kind].items():
                key = _key(suffix, level, data)
                row = None
                if not empty:
                    row = db.execute(
                        "SELECT blob FROM copies WHERE key = ?", (key,)
                    ).fetchone()
                blob = row[0] if row else new.get(key)
                if blob is None:
                    blob = new[key] = COMPRESSORS[suffix](data, level)
                keys.append(key)
                if len(blob) < len(data):
                    # over the output before last, most copies are there already
                    try:
                        write_if_changed(path.with_name(path.name + suffix), blob)
                    except FileNotFoundError:  # its folder removed since: see
                        break  # files_to_compress; finish lists the site again
                    written += 1
        if new:  # written here: the copies never pile up in the main process
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO copies VALUES (?, ?)", new.items()
                )
    finally:
        db.close()
    return used, written


def files_to_compress(output: Path, extensions, min_size: int) -> dict[str, Stamp]:
    """The text files to compress, each with its stamp (taken before any is
    read, so a file changed after it was read shows a new stamp).

    The build's first pass lists the output while the search index is being
    written into it, and mfc_search removes the Pagefind files the site does
    not use right after Pagefind wrote them: a file listed may be gone
    before its stamp is taken. It is left out (``finish`` lists again once
    the site is complete).
    """
    found = {}
    for root, _dirs, files in os.walk(output):
        for name in files:
            if os.path.splitext(name)[1] in extensions:
                path = os.path.join(root, name)
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                if st.st_size >= min_size:
                    found[path] = (
                        st.st_size,
                        st.st_mtime_ns,
                        st.st_ctime_ns,
                        st.st_ino,
                    )
    return dict(sorted(found.items()))


def prune_cache(cache: Path, used: set[str]) -> None:
    """Drop the entries this build did not use."""
    db = _open_cache(cache)
    try:
        with db:
            drop_unused(db, "copies", used)
    finally:
        db.close()


def _settings(settings: dict) -> dict:
    return {key: settings.get(key, value) for key, value in DEFAULTS.items()}


def _listing(output: Path, conf: dict) -> dict[str, Stamp]:
    return files_to_compress(
        output, set(conf["PRECOMPRESS_TEXT_EXTENSIONS"]), conf["PRECOMPRESS_MIN_SIZE"]
    )


def _compress(paths: list[str], cache: Path, conf: dict) -> tuple[dict, int]:
    """Compress `paths`, in one worker process per core when they are many.

    This process keeps a connection to the cache open meanwhile (opened
    after the workers are forked: no connection crosses a fork). SQLite
    copies the log of a database in WAL mode into the file, and syncs both,
    when its last connection closes: without it, each chunk of files
    compressed alone (one core, one worker) ended so. Measured on the 13,269
    files of a 10,000-item site compressed chunk after chunk in one process:
    8.2 CPU seconds, 7.6 with the connection kept. (With two workers, one
    rarely closed while the other had none open: no difference measured.)
    """
    levels = _levels(conf)
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    workers = min(os.cpu_count() or 1, len(chunks))
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    with pool or contextlib.nullcontext():
        db = _open_cache(cache)  # the table and WAL mode, before any job
        try:
            empty = db.execute("SELECT 1 FROM copies LIMIT 1").fetchone() is None
            jobs = [(chunk, str(cache), levels, empty) for chunk in chunks]
            if pool:
                results = pool.map(compress_many, jobs, chunksize=1)
            else:
                results = [compress_many(job) for job in jobs]
        finally:
            db.close()
    keys = {path: used for part, _ in results for path, used in part.items()}
    return keys, sum(written for _, written in results)


def compress_tree(output: Path, cache: Path, settings: dict) -> Pass:
    """Write the copies of every text file under `output` now there; the
    cache is not pruned (``finish`` does, when the site is complete)."""
    conf = _settings(settings)
    files = _listing(output, conf)
    keys, written = _compress(list(files), cache, conf)
    return Pass(files, keys, written)


def finish(
    output: Path, cache: Path, settings: dict, earlier: Pass
) -> tuple[int, int, int]:
    """Complete an earlier pass over `output`: compress the files written or
    changed since it read them, remove the copies of files deleted since,
    and drop the cache entries no file uses.

    Returns (files, copies written, files compressed now).
    """
    conf = _settings(settings)
    files = _listing(output, conf)
    for path in earlier.files.keys() - files.keys():
        for suffix in (".gz", ".br"):
            Path(path + suffix).unlink(missing_ok=True)
    late = [
        path
        for path, stamp in files.items()
        if earlier.files.get(path) != stamp or path not in earlier.keys
    ]
    keys, written = _compress(late, cache, conf) if late else ({}, 0)
    keys = {**earlier.keys, **keys}
    used = {key for path in files for key in keys.get(path, ())}
    prune_cache(cache, used)
    return len(files), earlier.written + written, len(late)


def precompress(output: Path, cache: Path, settings: dict) -> tuple[int, int]:
    """Write .gz and .br copies of the text files under `output`.

    Returns (files read, copies written).
    """
    read, written, _ = finish(output, cache, settings, Pass())
    return read, written


def _levels(conf: dict) -> dict:
    """Each kind of file's copies (suffix → level), and which files are pages."""
    return {
        "page": {
            ".br": conf["PRECOMPRESS_BROTLI_PAGE_QUALITY"],
            ".gz": conf["PRECOMPRESS_GZIP_PAGE_LEVEL"],
        },
        "asset": {
            ".br": conf["PRECOMPRESS_BROTLI_QUALITY"],
            ".gz": conf["PRECOMPRESS_GZIP_LEVEL"],
        },
        "page_extensions": set(conf["PRECOMPRESS_PAGE_EXTENSIONS"]),
    }


def compress_files(paths: list[Path], cache: Path, settings: dict) -> None:
    """Write the .gz and .br copies of a few files, as a build would (the
    copies of the others are left as they are; the cache is not pruned).
    A copy that would not be smaller is not written, and an old one is
    removed."""
    conf = _settings(settings)
    wanted = set(conf["PRECOMPRESS_TEXT_EXTENSIONS"])
    chosen = []
    for path in paths:
        for suffix in (".gz", ".br"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        if (
            path.suffix in wanted
            and path.stat().st_size >= conf["PRECOMPRESS_MIN_SIZE"]
        ):
            chosen.append(str(path))
    if chosen:
        compress_many((chosen, str(cache), _levels(conf)))


class Background:
    """The compression of a build, in a process of its own (``python -m
    mfc_precompress``): started on ``finalized``, it compresses the written
    pages while the search index is made from them; told the site is
    complete, it finishes (``finish``) and prints (files, copies written,
    files compressed late).

    A fresh Python process, whose workers fork from it: forked from the
    build, each would count the build's whole memory as its own (~170 MB at
    10,000 news items) on top of its compression buffers. The files it read
    and their cache keys stay in it too.
    """

    running: Background | None = None

    def __init__(self, pelican) -> None:
        self.started = time.perf_counter()
        self.output = Path(pelican.output_path).resolve()
        cache = Path(pelican.settings["CACHE_PATH"]).resolve() / CACHE_FILE
        conf = _settings(pelican.settings)
        plugins = str(Path(__file__).resolve().parent.parent)
        path = os.pathsep.join(filter(None, [plugins, os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mfc_precompress",
                str(self.output),
                str(cache),
                json.dumps(conf, default=sorted),
            ],
            env={**os.environ, "PYTHONPATH": path},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self) -> tuple[int, int, int]:
        stdout, stderr = self.process.communicate(f"{FINISH}\n")
        if self.process.returncode != 0:
            raise RuntimeError(
                f"mfc_precompress failed ({self.process.returncode}): "
                f"{(stdout + stderr).strip()[-2000:]}"
            )
        return tuple(json.loads(stdout))

    def stop(self) -> None:
        """A build that failed before the end: its output is not needed."""
        if self.process.poll() is None:
            self.process.kill()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
        self.process.wait()


def start_compressing(pelican) -> None:
    """On ``finalized``: every page is written; compress them meanwhile."""
    stop_compressing()
    Background.running = Background(pelican)


def stop_compressing(*_args) -> None:
    running, Background.running = Background.running, None
    if running is not None:
        running.stop()


def precompress_output(pelican) -> None:
    """When the site is complete: the copies of what was written since the
    pages (the search bundle, the redirect map); of everything if nothing
    was started on ``finalized``."""
    running, Background.running = Background.running, None
    if running is not None and running.output != Path(pelican.output_path).resolve():
        running.stop()
        running = None
    if running is None:
        running = Background(pelican)
    read, written, late = running.finish()
    log.info(
        "mfc_precompress: %d copies of %d files in %.2f s (%d files written "
        "after the pages)",
        written,
        read,
        time.perf_counter() - running.started,
        late,
    )


def register() -> None:
    # finalized: every page is written. publishconf.py lists this plugin
    # before mfc_search, so the pages are compressed while Pagefind indexes
    # them (blinker calls receivers in the order they were connected).
    signals.finalized.connect(start_compressing)
    # pelican-granular-signals' "compress" is sent after every `finalized`
    # receiver (the search bundle, the redirect map): the site is complete.
    granular_signals.register()
    blinker.signal("compress").connect(precompress_output)
    # A build that failed in between leaves no process behind.
    atexit.register(stop_compressing)
