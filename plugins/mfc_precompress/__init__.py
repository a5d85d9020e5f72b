"""Precompressed copies: ``page.html.gz`` and ``page.html.br`` beside every
text file of the built site, for nginx's gzip_static and brotli_static.

It replaces pelican-precompress, which compresses every file with Brotli at
quality 11 on every build: about 12 ms a page, so minutes at ten thousand
news items, spent again on each rebuild. Here

* pages and feeds (``.html``, ``.xml``: thousands of files, each read by few
  visitors) use Brotli quality ``PRECOMPRESS_BROTLI_PAGE_QUALITY`` (8: about
  0.3 ms a page, some 10 % larger than quality 11); the shared assets (CSS,
  JavaScript, SVG, JSON: a few files every visitor downloads) keep
  ``PRECOMPRESS_BROTLI_QUALITY`` (11);
* every compressed copy is kept in a cache (``CACHE_PATH/precompress.sqlite``,
  one SQLite file) under the SHA-256 of the format, the level and the bytes,
  so a rebuild compresses only the files whose bytes changed; entries the
  build did not use are removed at its end;
* both cores are used (one worker process per core);
* the bytes are reproducible (gzip without a timestamp or name), so an
  unchanged page keeps identical copies and the deploy hard-links them.

A copy is written only when it is smaller than the file. Settings:
``PRECOMPRESS_TEXT_EXTENSIONS``, ``PRECOMPRESS_MIN_SIZE`` (bytes),
``PRECOMPRESS_BROTLI_QUALITY``, ``PRECOMPRESS_BROTLI_PAGE_QUALITY``,
``PRECOMPRESS_PAGE_EXTENSIONS``, ``PRECOMPRESS_GZIP_LEVEL``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import blinker
import brotli
from pelican.plugins import granular_signals

from mfc_content.reuse import write_if_changed

log = logging.getLogger(__name__)

DEFAULTS = {
    "PRECOMPRESS_TEXT_EXTENSIONS": [".html", ".css", ".js", ".json", ".xml", ".svg"],
    "PRECOMPRESS_MIN_SIZE": 256,
    "PRECOMPRESS_BROTLI_QUALITY": 11,
    "PRECOMPRESS_BROTLI_PAGE_QUALITY": 8,
    "PRECOMPRESS_PAGE_EXTENSIONS": [".html", ".xml"],
    "PRECOMPRESS_GZIP_LEVEL": 9,
}
CACHE_FILE = "precompress.sqlite"
CHUNK = 64  # files per task sent to a worker


def gzip_bytes(data: bytes, level: int) -> bytes:
    """gzip with a zero timestamp and no file name: same input, same bytes."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def brotli_bytes(data: bytes, quality: int) -> bytes:
    return brotli.compress(data, mode=brotli.MODE_TEXT, quality=quality)


COMPRESSORS = {".gz": gzip_bytes, ".br": brotli_bytes}


def _key(suffix: str, level: int, data: bytes) -> str:
    return hashlib.sha256(f"{suffix}{level}:".encode() + data).hexdigest()


def _open_cache(cache: Path, *, readonly: bool) -> sqlite3.Connection | None:
    """The cache database (one file: thousands of small files cost more to
    create than the compression they save)."""
    if readonly:
        if not cache.is_file():
            return None
        return sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=60)
    cache.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(cache, timeout=60)
    db.execute("CREATE TABLE IF NOT EXISTS copies (key TEXT PRIMARY KEY, blob BLOB)")
    return db


def compress_many(job: tuple[list[str], str, dict]) -> tuple[list[str], int]:
    """Write the copies of some files; store new copies in the cache.

    Returns (cache keys used, copies written).
    """
    paths, cache, levels = job
    db = _open_cache(Path(cache), readonly=True)
    used: list[str] = []
    new: dict[str, bytes] = {}
    written = 0
    try:
        for name in paths:
            path = Path(name)
            data = path.read_bytes()
            page = path.suffix in levels["page_extensions"]
            for suffix, level in (
                (".br", levels["page_br"] if page else levels["br"]),
                (".gz", levels["gz"]),
            ):
                key = _key(suffix, level, data)
                row = (
                    db
                    and db.execute(
                        "SELECT blob FROM copies WHERE key = ?", (key,)
                    ).fetchone()
                )
                blob = row[0] if row else new.get(key)
                if blob is None:
                    blob = new[key] = COMPRESSORS[suffix](data, level)
                used.append(key)
                if len(blob) < len(data):
                    # over the output before last, most copies are there already
                    write_if_changed(path.with_name(path.name + suffix), blob)
                    written += 1
    finally:
        if db:
            db.close()
    if new:  # written here: the copies never pile up in the main process
        db = _open_cache(Path(cache), readonly=False)
        try:
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO copies VALUES (?, ?)", new.items()
                )
        finally:
            db.close()
    return used, written


def files_to_compress(output: Path, extensions, min_size: int) -> list[str]:
    found = []
    for root, _dirs, files in os.walk(output):
        for name in files:
            if os.path.splitext(name)[1] in extensions:
                path = os.path.join(root, name)
                if os.path.getsize(path) >= min_size:
                    found.append(path)
    return sorted(found)


def prune_cache(cache: Path, used: set[str]) -> None:
    """Drop the entries this build did not use."""
    db = _open_cache(cache, readonly=False)
    try:
        with db:
            db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
            db.executemany("INSERT INTO used VALUES (?)", ((k,) for k in used))
            db.execute("DELETE FROM copies WHERE key NOT IN (SELECT key FROM used)")
    finally:
        db.close()


def precompress(output: Path, cache: Path, settings: dict) -> tuple[int, int]:
    """Write .gz and .br copies of the text files under `output`.

    Returns (files read, copies written).
    """
    conf = {key: settings.get(key, value) for key, value in DEFAULTS.items()}
    paths = files_to_compress(
        output, set(conf["PRECOMPRESS_TEXT_EXTENSIONS"]), conf["PRECOMPRESS_MIN_SIZE"]
    )
    levels = _levels(conf)
    jobs = [
        (paths[i : i + CHUNK], str(cache), levels) for i in range(0, len(paths), CHUNK)
    ]
    workers = min(os.cpu_count() or 1, len(jobs))
    _open_cache(cache, readonly=False).close()  # the table, before the workers
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(compress_many, jobs, chunksize=1)
    else:
        results = [compress_many(job) for job in jobs]
    prune_cache(cache, {key for keys, _ in results for key in keys})
    return len(paths), sum(written for _, written in results)


def _levels(conf: dict) -> dict:
    return {
        "br": conf["PRECOMPRESS_BROTLI_QUALITY"],
        "page_br": conf["PRECOMPRESS_BROTLI_PAGE_QUALITY"],
        "gz": conf["PRECOMPRESS_GZIP_LEVEL"],
        "page_extensions": set(conf["PRECOMPRESS_PAGE_EXTENSIONS"]),
    }


def compress_files(paths: list[Path], cache: Path, settings: dict) -> None:
    """Write the .gz and .br copies of a few files, as a build would (the
    copies of the others are left as they are; the cache is not pruned).
    A copy that would not be smaller is not written, and an old one is
    removed."""
    conf = {key: settings.get(key, value) for key, value in DEFAULTS.items()}
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
        _open_cache(cache, readonly=False).close()
        compress_many((chosen, str(cache), _levels(conf)))


def precompress_output(pelican) -> None:
    """Compress the site Pelican has just written (after every other step).

    In a fresh Python process, whose workers fork from it: forked from the
    build, each would count the build's whole memory as its own (~170 MB at
    10,000 news items) on top of its compression buffers.
    """
    started = time.perf_counter()
    cache = Path(pelican.settings["CACHE_PATH"]).resolve() / CACHE_FILE
    conf = {k: v for k, v in pelican.settings.items() if k in DEFAULTS}
    plugins = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, [plugins, os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mfc_precompress",
            str(Path(pelican.output_path).resolve()),
            str(cache),
            json.dumps(conf, default=sorted),
        ],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"mfc_precompress failed ({result.returncode}): "
            f"{(result.stdout + result.stderr).strip()[-2000:]}"
        )
    read, written = json.loads(result.stdout)
    log.info(
        "mfc_precompress: %d copies of %d files in %.2f s",
        written,
        read,
        time.perf_counter() - started,
    )


def register() -> None:
    # pelican-granular-signals' "compress" is sent after every `finalized`
    # receiver (the search bundle, the redirect map): the site is complete.
    granular_signals.register()
    blinker.signal("compress").connect(precompress_output)
