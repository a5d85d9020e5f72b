"""Full-text search: a Pagefind index of the built site.

After Pelican has written the whole site, this plugin runs the Pagefind
binary (package pagefind-bin) over the output folder and writes the search
bundle (``pagefind.js``, the WebAssembly, the index and fragments) into
``<output>/<SEARCH_INDEX_DIR>/``, once, at that explicit path. The search
page (``search.html`` in the theme) queries it in the browser with
``pagefind.js``; nothing leaves the site.

Only news items and pages are indexed: their templates mark the main content
with ``data-pagefind-body``, and once any page has that attribute Pagefind
skips every page without it (lists, archives, tags, the search page, 404).
Russian stemming follows from ``<html lang="ru">``.

A rebuild whose HTML did not change reuses the last bundle instead of running
Pagefind again (at 10,000 news items Pagefind takes ~11 s and 1.2 GB). What
Pagefind writes depends only on the HTML files it reads (their paths and
bytes), its own version and the options it is given: it runs in an empty
working directory and without ``PAGEFIND_*`` variables, so no configuration
file or environment adds to them. The build cache keeps the last bundles in
``CACHE_PATH/search/<key>/``, the key being the SHA-256 of all of that. A
bundle is stored only after Pagefind succeeded, assembled in a temporary
folder and renamed into place (so a killed build never leaves a half bundle
under a key), with a manifest of its files' sizes and digests that is checked
before any reuse. Reused files are hard links to the cached ones (copies
across file systems): nothing ever rewrites either in place, a build writes
a fresh staging folder and the cache only ever renames and deletes.

Settings: ``SEARCH_INDEX`` (bool, default True), ``SEARCH_INDEX_DIR``
(default ``"pagefind"``) and ``SEARCH_CACHE_KEEP`` (bundles kept in the
cache, default 2: ~45 MB each at 10,000 items; 0 turns reuse off).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

from pagefind_bin import get_executable
from pelican import signals

from mfc_content.build import alive

log = logging.getLogger(__name__)

DEFAULT_INDEX_DIR = "pagefind"
DEFAULT_CACHE_KEEP = 2
CACHE_DIR = "search"  # under CACHE_PATH
# Bump when the key or what is stored changes: older bundles are never used.
CACHE_FORMAT = "mfc_search-1"
MANIFEST = "manifest.json"
TEMP_PREFIX = ".tmp-"
KEY_RE = re.compile(r"[0-9a-f]{64}")
# The HTML Pagefind reads: its glob "**/*.{html}". The digest takes .htm
# too: a file too many in the key costs a needless run, never a wrong reuse.
HTML_SUFFIXES = (".html", ".htm")
# Parts of the bundle for Pagefind's own UIs; our search page has its own
# small script, so these would only be dead weight on the server.
UNUSED_BUNDLE_FILES = (
    "pagefind-ui.js",
    "pagefind-ui.css",
    "pagefind-modular-ui.js",
    "pagefind-modular-ui.css",
    "pagefind-component-ui.js",
    "pagefind-component-ui.css",
    "pagefind-highlight.js",
)
FOUND_RE = re.compile(r"Found (\d+) files? matching")


class Index(NamedTuple):
    indexed: int  # pages in the index
    read: int  # HTML files Pagefind read (indexed or skipped)
    reused: bool  # the bundle came from the cache


def pagefind_command(site: Path, bundle: Path) -> list[str]:
    """The Pagefind command line: the options are the flags between the paths."""
    return [str(get_executable()), "--site", str(site), "--output-path", str(bundle)]


@functools.cache
def pagefind_identity() -> str:
    """The Pagefind package's version and the SHA-256 of the binary it runs."""
    with open(get_executable(), "rb") as binary:
        digest = hashlib.file_digest(binary, "sha256").hexdigest()
    return f"pagefind-bin {version('pagefind-bin')} {digest}"


def _index_site(site: Path, bundle: Path) -> int:
    """Run the Pagefind binary over ``site``; write the bundle to ``bundle``.

    Returns the number of HTML files read (indexed or skipped). The binary
    rather than Pagefind's Python API: the API's service answers before
    every file of the bundle is on disk (a step right after it could read a
    half-written pagefind-worker.js), and polls at 0.1 s intervals; when
    the binary has exited, the bundle is complete. It runs in an empty
    folder without PAGEFIND_* variables: nothing but the command line
    configures it (Pagefind reads pagefind.yml/.toml/.json from its working
    directory and PAGEFIND_* from the environment).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}
    with tempfile.TemporaryDirectory(prefix="mfc-pagefind-") as empty:
        result = subprocess.run(
            pagefind_command(site, bundle),
            cwd=empty,
            capture_output=True,
            text=True,
            check=False,
            env={**env, "NO_COLOR": "1"},
        )
    found = FOUND_RE.search(result.stdout)
    if result.returncode != 0 or found is None:
        raise RuntimeError(
            f"mfc_search: Pagefind failed ({result.returncode}): "
            f"{(result.stdout + result.stderr).strip()[-2000:]}"
        )
    return int(found.group(1))


def html_digest(site: Path) -> str | None:
    """SHA-256 of every HTML file under ``site``: relative path and bytes.

    None when the site has a symlinked folder: Pagefind's walk and ours
    might then see different files, so the bundle is not reused.
    """
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(site):
        if any(os.path.islink(os.path.join(root, d)) for d in dirs):
            return None
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(HTML_SUFFIXES):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, site).encode("utf-8", "surrogateescape")
            with open(path, "rb") as file:
                data = file.read()
            digest.update(b"%d:%s%d:" % (len(rel), rel, len(data)))
            digest.update(data)
    return digest.hexdigest()


def cache_key(site: Path, index_dir: str) -> str | None:
    """What the bundle depends on, as one SHA-256 (None: do not reuse)."""
    html = html_digest(site)
    if html is None:
        return None
    # The options: every argument but the two paths, and the bundle's place.
    options = pagefind_command(Path("SITE"), Path("BUNDLE"))[1:]
    parts = [CACHE_FORMAT, pagefind_identity(), json.dumps(options), index_dir]
    parts += [",".join(UNUSED_BUNDLE_FILES), html]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _place(source: Path, target: Path) -> None:
    """A new name for a file: a hard link where possible, else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _copy_tree(source: Path, target: Path, names: list[str]) -> None:
    made = set()
    for name in names:
        parent = os.path.dirname(name)
        if parent not in made:
            (target / parent).mkdir(parents=True, exist_ok=True)
            made.add(parent)
        _place(source / name, target / name)


class BundleCache:
    """The last search bundles, one folder per key, each with a manifest."""

    def __init__(self, root: Path, keep: int = DEFAULT_CACHE_KEEP):
        self.root = root
        self.keep = keep

    def _manifest(self, key: str) -> dict | None:
        """The manifest of a complete, intact stored bundle, or None."""
        folder = self.root / key
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("key") != key:
                return None
            for name, (size, sha256) in manifest["files"].items():
                path = folder / "bundle" / name
                if path.stat().st_size != size or _file_sha256(path) != sha256:
                    return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return manifest

    def restore(self, key: str, bundle: Path) -> Index | None:
        """Put the bundle stored under ``key`` at ``bundle``; None if there is none."""
        manifest = self._manifest(key)
        if manifest is None:
            return None
        try:
            _copy_tree(self.root / key / "bundle", bundle, sorted(manifest["files"]))
        except OSError:  # pruned by a concurrent build: index afresh
            shutil.rmtree(bundle, ignore_errors=True)
            return None
        os.utime(self.root / key / MANIFEST)  # most recently used
        return Index(manifest["indexed"], manifest["read"], True)

    def store(self, key: str, bundle: Path, index: Index) -> None:
        """Keep a bundle Pagefind has just written; then drop the oldest."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned()
        if self._manifest(key) is None:
            shutil.rmtree(self.root / key, ignore_errors=True)
            work = Path(
                tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=self.root)
            )
            try:
                names = sorted(
                    p.relative_to(bundle).as_posix()
                    for p in bundle.rglob("*")
                    if p.is_file()
                )
                _copy_tree(bundle, work / "bundle", names)
                files = {
                    name: [
                        (work / "bundle" / name).stat().st_size,
                        _file_sha256(work / "bundle" / name),
                    ]
                    for name in names
                }
                manifest = {
                    "key": key,
                    "indexed": index.indexed,
                    "read": index.read,
                    "files": files,
                }
                (work / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
                # The one step that makes the bundle visible under its key.
                work.rename(self.root / key)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        self._prune(key)

    def _entries(self) -> list[Path]:
        return [p for p in self.root.iterdir() if KEY_RE.fullmatch(p.name)]

    def _prune(self, newest: str) -> None:
        """Keep ``newest`` and the most recently used others, ``keep`` in all."""

        def used(folder: Path) -> float:
            try:
                return (folder / MANIFEST).stat().st_mtime
            except OSError:
                return 0.0

        others = sorted(
            (p for p in self._entries() if p.name != newest), key=used, reverse=True
        )
        for folder in others[max(self.keep - 1, 0) :]:
            shutil.rmtree(folder, ignore_errors=True)

    def _remove_abandoned(self) -> None:
        """Delete the temporary folders of builds that were killed."""
        for path in self.root.glob(f"{TEMP_PREFIX}*"):
            pid = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and not alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def build_index(
    site: str | os.PathLike,
    index_dir: str = DEFAULT_INDEX_DIR,
    cache: BundleCache | None = None,
) -> Index:
    """(Re)build the search bundle of the site in ``site``.

    An old bundle is removed first, so fragments of deleted pages never
    linger. With a ``cache``, a bundle stored for the same key is reused
    instead of running Pagefind, and a new one is stored.
    """
    site = Path(site).resolve()
    bundle = site / index_dir
    shutil.rmtree(bundle, ignore_errors=True)
    key = cache_key(site, index_dir) if cache and cache.keep > 0 else None
    if key:
        reused = cache.restore(key, bundle)
        if reused:
            return reused
    read = _index_site(site, bundle)
    for name in UNUSED_BUNDLE_FILES:
        (bundle / name).unlink(missing_ok=True)
    # One fragment per indexed page.
    indexed = sum(1 for _ in (bundle / "fragment").glob("*.pf_fragment"))
    index = Index(indexed, read, False)
    if key:
        try:
            cache.store(key, bundle, index)
        except OSError as error:  # the site is fine; only the next build is slower
            log.info("mfc_search: the search bundle was not cached: %s", error)
    return index


def index_output(pelican) -> None:
    """Index the site Pelican has just written."""
    settings = pelican.settings
    if not settings.get("SEARCH_INDEX", True):
        return
    started = time.perf_counter()
    cache = BundleCache(
        Path(settings.get("CACHE_PATH", "cache")) / CACHE_DIR,
        settings.get("SEARCH_CACHE_KEEP", DEFAULT_CACHE_KEEP),
    )
    indexed, read, reused = build_index(
        pelican.output_path,
        settings.get("SEARCH_INDEX_DIR", DEFAULT_INDEX_DIR),
        cache,
    )
    if indexed == read:
        # Pagefind indexes every page when none has data-pagefind-body.
        log.warning(
            "mfc_search: all %d HTML files in %s were indexed, lists included: "
            "the news and page templates must mark their text with "
            "data-pagefind-body",
            read,
            pelican.output_path,
        )
        return
    if reused:
        log.info(
            "mfc_search: the HTML did not change: reused the search bundle of "
            "%d pages (%d HTML files) in %.2f s",
            indexed,
            read,
            time.perf_counter() - started,
        )
        return
    log.info(
        "mfc_search: indexed %d of %d HTML files in %.2f s",
        indexed,
        read,
        time.perf_counter() - started,
    )


def register() -> None:
    # finalized: every page is written; the index must see the final HTML.
    # The staged build writes into a staging folder, which is output_path here.
    signals.finalized.connect(index_output)
