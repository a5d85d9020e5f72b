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

A rebuild whose HTML did not change reuses the last bundles instead of
running Pagefind again (at 10,000 news items Pagefind takes ~9 s). What
Pagefind writes depends only on the HTML files it reads (their paths and
bytes), its own version and the options it is given (the glob that picks a
part's files among them): it runs in an empty working directory and without
``PAGEFIND_*`` variables, so no configuration file or environment adds to
them. The build cache keeps the last bundles in ``CACHE_PATH/search/<key>/``,
the key being the SHA-256 of all of that, one per part. A bundle is stored
only after Pagefind succeeded, assembled in a temporary folder and renamed
into place (so a killed build never leaves a half bundle under a key), with
a manifest of its files' sizes and digests that is checked before any reuse.
Reused files are hard links to the cached ones (copies across file systems):
nothing ever rewrites either in place. A build only links them into its
staging folder (which mfc_content/reuse.py rids of every such link first)
and the cache only ever renames and deletes.

A large site's index is built in parts, each one Pagefind run, so that no
run holds the whole site in memory (Pagefind needs ~110 KB per page: 1.2 GB
at 10,000 news items) and an edit re-indexes only the part it is in. A part
holds whole folders of pages: each page belongs to the folder two levels
above its file (``news/2024`` for ``news/2024/forum/index.html``; the top
of the site for ``kak-dobratsya/index.html``). Folders with an indexed page
are taken in name order and packed into parts of at most
``SEARCH_PART_PAGES`` indexed pages (a bigger folder is a part of its own).
The first part is the main bundle at ``<SEARCH_INDEX_DIR>/``; each other is
a folder in it (``part-news-2019/``) with only its index files, and
``mfc-parts.json`` lists them for the search page, whose script merges them
with Pagefind's ``mergeIndex`` (they share the main part's WebAssembly). A
site with fewer indexed pages than that is one part, as Pagefind alone
would make it. Each part is cached and reused on its own.

Pagefind parses every page it reads whole, header, menu and footer
included, and then keeps only the marked element. So each part's pages are
first copied, to tmpfs where there is one, cut to their ``<html>`` tag and
that element wherever the cut cannot change what Pagefind makes of them
(``pagefind_input``): the same bundle, byte for byte, for ~22 % less of
Pagefind's CPU time.

Settings: ``SEARCH_INDEX`` (bool, default True), ``SEARCH_INDEX_DIR``
(default ``"pagefind"``), ``SEARCH_PART_PAGES`` (indexed pages per part,
default 1600; 0 makes one index of the whole site) and ``SEARCH_CACHE_KEEP``
(how many builds' bundles the cache keeps, default 2: ~45 MB each at 10,000
items; 0 turns reuse off).
"""

from __future__ import annotations

import contextlib
import filecmp
import functools
import hashlib
import json
import logging
import os
import pickle
import posixpath
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
# Indexed pages per Pagefind run: ~110 KB each in Pagefind's memory, so a
# part peaks at ~180 MB (at 10,000 news items, two years of news a part).
DEFAULT_PART_PAGES = 1600
CACHE_DIR = "search"  # under CACHE_PATH
# Bump when the key or what is stored changes: older bundles are never used.
CACHE_FORMAT = "mfc_search-2"
MANIFEST = "manifest.json"
PARTS_FILE = "mfc-parts.json"  # the parts the search page merges
PART_PREFIX = "part-"
TEMP_PREFIX = ".tmp-"
KEY_RE = re.compile(r"[0-9a-f]{64}")
MARK = b"data-pagefind-body"
# The HTML Pagefind reads: its glob "**/*.{html}". The digest takes .htm
# too: a file too many in the key costs a needless run, never a wrong reuse.
HTML_SUFFIXES = (".html", ".htm")
WHOLE_SITE_GLOB = "**/*.{html}"
# Folder names that are literal in a glob (letters, digits, "_", ".", "-").
GLOB_SAFE_RE = re.compile(r"(?:[\w.-]+(?:/[\w.-]+)*)?")
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
# What a merged part needs besides its index/ and fragment/ folders: the
# browser loads pagefind.js, its worker and the WebAssembly from the main
# part only.
PART_FILES_RE = re.compile(r"pagefind-entry\.json|.+\.pf_meta")
FOUND_RE = re.compile(r"Found (\d+) files? matching")


class Index(NamedTuple):
    """What one Pagefind run, or its reuse, gave."""

    indexed: int  # pages in the index
    read: int  # HTML files Pagefind read (indexed or skipped)


class Bundle(NamedTuple):
    """The whole search bundle of a site."""

    indexed: int  # pages in the index, all parts
    read: int  # HTML files Pagefind read, all parts
    parts: int
    reindexed: int  # parts Pagefind ran for (the others came from the cache)
    marked: bool  # some page has data-pagefind-body
    plan: Plan | None = None  # what update_index needs to bring it up to date

    @property
    def reused(self) -> bool:
        return self.reindexed == 0


class Part(NamedTuple):
    """One Pagefind run: the folders of pages it indexes."""

    name: str  # its folder in the bundle; "" for the main part, at the root
    glob: str  # Pagefind's --glob: the HTML files of its folders
    pages: int  # pages with data-pagefind-body in it
    key: str | None  # what its bundle depends on (None: never reuse)
    folders: tuple = ()  # (name, Folder) pairs its key was made of, in order


class Plan(NamedTuple):
    """A site's parts, as the build that made its bundle planned them."""

    index_dir: str
    parts: tuple[Part, ...]


def pagefind_command(site: Path, bundle: Path, glob: str) -> list[str]:
    """The Pagefind command line: the options are the flags between the paths."""
    return [
        str(get_executable()),
        "--site",
        str(site),
        "--glob",
        glob,
        "--output-path",
        str(bundle),
    ]


@functools.cache
def pagefind_identity() -> str:
    """The Pagefind package's version and the SHA-256 of the binary it runs."""
    with open(get_executable(), "rb") as binary:
        digest = hashlib.file_digest(binary, "sha256").hexdigest()
    return f"pagefind-bin {version('pagefind-bin')} {digest}"


# What Pagefind reads of a page (pagefind_input).
START_TAG_RE = re.compile(
    rb"""<([a-z][a-z0-9-]*)(?:\s+[^\s"'<>/=]+(?:="[^"<>]*")?)*\s*>"""
)
PAGE_START_RE = re.compile(rb"\s*(?:<!doctype[^<>]*>\s*)?(<html(?=[\s>])[^<>]*>)")
# Outside the marked element Pagefind still reads data-pagefind-* attributes;
# and its default title and image are the page's first h1 and img.
# (Two searches: each starts with a literal, which `re` looks for quickly.)
DEFAULT_META_RE = re.compile(rb"<(?:h1|img)")
ATTRIBUTE = b"data-pagefind"
# Inside it: where a closing tag may be text (comments, raw text, foreign
# content), the element's end is not simply found.
NOT_PLAIN_RE = re.compile(
    rb"<(?:[!?]|script|style|textarea|template|title|xmp|noscript|iframe"
    rb"|noembed|noframes|plaintext|svg|math)"
)
UNMARKED_PAGE = b"<!DOCTYPE html><html><body></body></html>"
MIRROR_PREFIX = "mfc-pagefind-input-"  # then the build's pid
WORKDIR_PREFIX = "mfc-pagefind-cwd-"  # then the build's pid


@functools.cache
def _tags_named(name: bytes) -> re.Pattern:
    return re.compile(rb"<(/?)" + re.escape(name) + rb"(?=[\s/>])")


def pagefind_input(page: bytes) -> bytes:
    """A page as Pagefind needs to read it, when the page is one of a part's
    (``_index_part``): the bundle comes out byte for byte the same as from
    the page itself, which Pagefind would read whole (the header, the menu,
    the footer: at 10,000 news items ~3 core-seconds of its ~13).

    - A page without data-pagefind-body: an empty page (a part always has a
      marked page, so Pagefind skips it either way).
    - A page with it on one plain element, and nothing Pagefind reads
      outside it (data-pagefind-* attributes, h1, img): the ``<html>`` tag
      (its ``lang`` picks the stemmer) and that element.
    - Any other page: itself.
    """
    low = page.lower()  # names match in any case; the same offsets
    at = low.find(MARK)
    if at < 0:
        return UNMARKED_PAGE
    if low.find(MARK, at + len(MARK)) >= 0:
        return page
    start = low.rfind(b"<", 0, at)
    opened = START_TAG_RE.match(low, max(start, 0))
    html = PAGE_START_RE.match(low)
    if (
        start < 0
        or opened is None
        or opened.end() <= at
        or not low[at - 1 : at].isspace()  # an attribute's name, not a value
        or low[at + len(MARK) : at + len(MARK) + 1] not in b" \t\n\r\f=/>"
        or html is None
    ):
        return page
    depth = 1
    for tag in _tags_named(opened.group(1)).finditer(low, opened.end()):
        depth += -1 if tag.group(1) else 1
        if not depth:
            break
    else:
        return page
    end = low.find(b">", tag.end()) + 1
    if (
        not end
        or NOT_PLAIN_RE.search(low, opened.end(), tag.start())
        or DEFAULT_META_RE.search(low, 0, start)
        or DEFAULT_META_RE.search(low, end)
        or low.find(ATTRIBUTE, 0, start) >= 0
        or low.find(ATTRIBUTE, end) >= 0
    ):
        return page
    body = page[start:end]
    opening = page[html.start(1) : html.end(1)]
    return b"<!DOCTYPE html>" + opening + b"<body>" + body + b"</body></html>"


def scratch_folder() -> str:
    """Where to put the pages Pagefind reads: memory (tmpfs) if there is one."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return tempfile.gettempdir()


def mirror_part(site: Path, part: Part, mirror: Path) -> None:
    """Write into ``mirror``, at the same paths, pagefind_input of every
    HTML file of ``part``'s folders (a superset of what its glob takes)."""
    made = set()
    for folder, _ in part.folders:
        for rel, path in folder_files(site, folder) or []:
            if rel.endswith(".html"):
                with open(path, "rb") as file:
                    page = file.read()
                copy = mirror / rel
                if copy.parent not in made:
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    made.add(copy.parent)
                copy.write_bytes(pagefind_input(page))


def remove_abandoned(folder: Path, prefix: str) -> None:
    """Delete the temporary folders ``<prefix><pid>-…`` in ``folder`` of
    builds that were killed (their process is gone)."""
    for path in folder.glob(f"{prefix}*"):
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def remove_killed_builds_folders(cache: BundleCache | None) -> None:
    """Once per indexing, before any part: what killed builds left of their
    parts' work (the pages' mirror in tmpfs, Pagefind's empty working
    folder, a bundle half stored in the cache)."""
    remove_abandoned(Path(scratch_folder()), MIRROR_PREFIX)
    remove_abandoned(Path(tempfile.gettempdir()), WORKDIR_PREFIX)
    if cache is not None and cache.root.is_dir():
        remove_abandoned(cache.root, TEMP_PREFIX)


@contextlib.contextmanager
def pages_of(site: Path, part: Part):
    """The folder Pagefind reads ``part`` of ``site`` from: a mirror of its
    pages cut to what Pagefind uses (pagefind_input), for a planned part
    (not the whole-site fallback); else, or if the mirror cannot be
    written (a full tmpfs), the site itself. A killed build's mirror (in
    tmpfs: memory until the next boot) is removed by the next build
    (``remove_killed_builds_folders``)."""
    if part.key is None or not part.pages or part.glob == WHOLE_SITE_GLOB:
        yield site
        return
    mirror = None
    try:
        try:
            prefix = f"{MIRROR_PREFIX}{os.getpid()}-"
            mirror = Path(tempfile.mkdtemp(prefix=prefix, dir=scratch_folder()))
            mirror_part(site, part, mirror)
        except OSError as error:
            log.debug("mfc_search: Pagefind reads the site itself: %s", error)
            yield site
        else:
            yield mirror
    finally:
        if mirror is not None:
            shutil.rmtree(mirror, ignore_errors=True)


def _index_part(site: Path, part: Part, target: Path) -> Index:
    """Run the Pagefind binary over ``part`` of ``site``; write its bundle to
    ``target``, keeping what a main or a merged part needs.

    Pagefind reads a planned part from a copy of its pages cut to what it
    uses (``pages_of``): the same bundle, in less time.

    The binary rather than Pagefind's Python API: the API's service answers
    before every file of the bundle is on disk (a step right after it could
    read a half-written pagefind-worker.js), and polls at 0.1 s intervals;
    when the binary has exited, the bundle is complete. It runs in an empty
    folder without PAGEFIND_* variables: nothing but the command line
    configures it (Pagefind reads pagefind.yml/.toml/.json from its working
    directory and PAGEFIND_* from the environment). That folder is named
    after the build's pid, and a killed build's is removed by the next one
    (``remove_killed_builds_folders``).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}
    with (
        tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-") as empty,
        pages_of(site, part) as read_from,
    ):
        result = subprocess.run(
            pagefind_command(read_from, target, part.glob),
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
    for path in target.iterdir():
        if path.is_file() and (
            path.name in UNUSED_BUNDLE_FILES
            or (part.name and not PART_FILES_RE.fullmatch(path.name))
        ):
            path.unlink()
    # One fragment per indexed page.
    indexed = sum(1 for _ in (target / "fragment").glob("*.pf_fragment"))
    return Index(indexed, int(found.group(1)))


def folder_of(rel: str) -> str:
    """The folder a page's part is chosen by: two levels above its file.

    ``news/2024`` for ``news/2024/forum/index.html`` (and for the month
    list ``news/2024/05/index.html``, which is read and skipped); "" for
    ``kak-dobratsya/index.html`` and ``index.html``.
    """
    return posixpath.dirname(posixpath.dirname(rel))


def folder_glob(folder: str) -> str:
    """The glob of the HTML files whose folder_of is ``folder``."""
    return f"{folder}/*/*.html" if folder else "*.html,*/*.html"


class Folder(NamedTuple):
    digest: str  # SHA-256 of its HTML files' relative paths and bytes
    pages: int  # of them, those with data-pagefind-body


def read_folders(site: Path) -> tuple[dict[str, Folder], bool]:
    """Every HTML file under ``site``, by folder_of: digests and marked
    pages; and whether the site has a symlinked folder (Pagefind's walk and
    ours might then see different files)."""
    digests: dict[str, hashlib._Hash] = {}
    pages: dict[str, int] = {}
    linked = False
    for root, dirs, files in os.walk(site):
        linked = linked or any(os.path.islink(os.path.join(root, d)) for d in dirs)
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(HTML_SUFFIXES):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, site).replace(os.sep, "/")
            folder = folder_of(rel)
            digest = digests.get(folder)
            if digest is None:
                digest = digests[folder] = hashlib.sha256()
                pages[folder] = 0
            pages[folder] += _add_file(digest, path, rel)
    folders = {f: Folder(digests[f].hexdigest(), pages[f]) for f in sorted(digests)}
    return folders, linked


def _add_file(digest, path: str, rel: str) -> bool:
    """Add an HTML file to its folder's digest; whether it is a marked page."""
    with open(path, "rb") as file:
        data = file.read()
    raw = rel.encode("utf-8", "surrogateescape")
    digest.update(b"%d:%s%d:" % (len(raw), raw, len(data)))
    digest.update(data)
    return MARK in data


def folder_files(site: Path, folder: str) -> list[tuple[str, str]] | None:
    """The files whose folder_of is ``folder`` (relative path, path), in
    read_folders' order; None if the folder holds a symlinked folder."""
    top = _listing(site / folder if folder else site)
    if top is None:
        return None
    layers = [] if folder else [("", top)]  # "": the top's own files too
    for entry in top:
        if entry.is_dir():
            inner = _listing(entry.path)
            if inner is None:
                return None
            layers.append((f"{entry.name}/", inner))
    return [
        (posixpath.join(folder, prefix + entry.name), entry.path)
        for prefix, entries in layers
        for entry in entries
        if not entry.is_dir()
    ]


def read_folder(site: Path, folder: str) -> Folder | None:
    """What read_folders says of one folder, reading only its files (in the
    same order); None if it has none or holds a symlinked folder."""
    files = folder_files(site, folder)
    if files is None:
        return None
    digest, pages, found = hashlib.sha256(), 0, False
    for rel, path in files:
        if rel.endswith(HTML_SUFFIXES):
            pages += _add_file(digest, path, rel)
            found = True
    return Folder(digest.hexdigest(), pages) if found else None


def _listing(path) -> list[os.DirEntry] | None:
    """A folder's entries in name order; None if one is a symlinked folder."""
    with os.scandir(path) as found:
        entries = sorted(found, key=lambda e: e.name)
    if any(e.is_dir() and e.is_symlink() for e in entries):
        return None
    return entries


def _part_key(glob: str, main: bool, index_dir: str, folders) -> str:
    """What a part's bundle depends on, as one SHA-256."""
    options = pagefind_command(Path("SITE"), Path("BUNDLE"), glob)[1:]
    parts = [CACHE_FORMAT, pagefind_identity(), json.dumps(options), index_dir]
    parts += [",".join(UNUSED_BUNDLE_FILES), "main" if main else "merged"]
    parts += [f"{name}\0{folder.digest}" for name, folder in folders]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def plan_parts(
    site: Path, index_dir: str = DEFAULT_INDEX_DIR, part_pages: int = DEFAULT_PART_PAGES
) -> list[Part]:
    """The parts of ``site``'s index (see the module's docstring).

    One part with Pagefind's own glob when ``part_pages`` is 0, when no
    page is marked (Pagefind then indexes every page: a mistake the build
    reports), when a folder's name is not literal in a glob, or when the
    site has a symlinked folder (that part is then never reused).
    """
    folders, linked = read_folders(Path(site))
    marked = {name: f for name, f in folders.items() if f.pages}
    if (
        linked
        or not part_pages
        or not marked
        or not all(map(GLOB_SAFE_RE.fullmatch, marked))
    ):
        pages = sum(f.pages for f in folders.values())
        key = _part_key(WHOLE_SITE_GLOB, True, index_dir, folders.items())
        whole = tuple(folders.items())
        return [Part("", WHOLE_SITE_GLOB, pages, None if linked else key, whole)]
    groups: list[list[str]] = []
    count = 0
    for name, folder in marked.items():  # in name order
        if not groups or count + folder.pages > part_pages:
            groups.append([])
            count = 0
        groups[-1].append(name)
        count += folder.pages
    parts = []
    for group in groups:
        main = not parts
        name = "" if main else PART_PREFIX + group[0].replace("/", "-")
        while name in {p.name for p in parts}:
            name += "-"
        globs = ",".join(map(folder_glob, group))
        glob = "{" + globs + "}" if "," in globs else globs
        folders_in = tuple((g, marked[g]) for g in group)
        key = _part_key(glob, main, index_dir, folders_in)
        pages = sum(marked[g].pages for g in group)
        parts.append(Part(name, glob, pages, key, folders_in))
    return parts


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
        return Index(manifest["indexed"], manifest["read"])

    def store(self, key: str, bundle: Path, index: Index) -> None:
        """Keep a bundle Pagefind has just written."""
        self.root.mkdir(parents=True, exist_ok=True)
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

    def _entries(self) -> list[Path]:
        return [p for p in self.root.iterdir() if KEY_RE.fullmatch(p.name)]

    def prune(self, used: set[str]) -> None:
        """Keep the bundles of this build (``used``) and, of the others, the
        most recently used: ``keep`` builds' worth in all."""
        if not self.root.is_dir():
            return

        def last_used(folder: Path) -> float:
            try:
                return (folder / MANIFEST).stat().st_mtime
            except OSError:
                return 0.0

        others = sorted(
            (p for p in self._entries() if p.name not in used),
            key=last_used,
            reverse=True,
        )
        for folder in others[max(self.keep - 1, 0) * len(used) :]:
            shutil.rmtree(folder, ignore_errors=True)


def build_index(
    site: str | os.PathLike,
    index_dir: str = DEFAULT_INDEX_DIR,
    cache: BundleCache | None = None,
    part_pages: int = DEFAULT_PART_PAGES,
) -> Bundle:
    """(Re)build the search bundle of the site in ``site``, part by part.

    An old bundle is removed first, so fragments of deleted pages never
    linger. With a ``cache``, a part's bundle stored for the same key is
    reused instead of running Pagefind, and a new one is stored.
    """
    site = Path(site).resolve()
    remove_killed_builds_folders(cache)
    bundle = site / index_dir
    shutil.rmtree(bundle, ignore_errors=True)
    parts = plan_parts(site, index_dir, part_pages)
    caching = cache is not None and cache.keep > 0
    indexed = read = reindexed = 0
    for part in parts:  # the main part first: the others are folders in it
        index, ran = _part_bundle(site, part, bundle / part.name, cache)
        reindexed += ran
        indexed += index.indexed
        read += index.read
    merged = [f"{part.name}/" for part in parts[1:]]
    (bundle / PARTS_FILE).write_text(
        json.dumps({"parts": merged}, ensure_ascii=False), encoding="utf-8"
    )
    if caching:
        cache.prune({part.key for part in parts if part.key})
    marked = any(part.pages for part in parts)
    plan = Plan(index_dir, tuple(parts))
    return Bundle(indexed, read, len(parts), reindexed, marked, plan)


def _part_bundle(site: Path, part: Part, target: Path, cache: BundleCache | None):
    """A part's bundle in `target`: the cache's for its key, or Pagefind's
    (then stored); (its Index, whether Pagefind ran)."""
    caching = cache is not None and cache.keep > 0 and part.key is not None
    index = cache.restore(part.key, target) if caching else None
    if index is not None:
        return index, False
    index = _index_part(site, part, target)
    if caching:
        try:
            cache.store(part.key, target, index)
        except OSError as error:  # the site is fine; the next build is slower
            log.info("mfc_search: the search bundle was not cached: %s", error)
    return index, True


def update_index(
    site: str | os.PathLike,
    pages: list[str],
    plan: Plan,
    cache: BundleCache | None = None,
) -> tuple[Plan, list[str]] | None:
    """Bring the bundle of ``site`` up to date after only the bytes of the
    HTML files ``pages`` (at most) changed since the build that made it
    (``plan``).

    Only the parts holding those pages are indexed again (or taken from the
    cache), each in a private folder, and merged into the bundle: new files
    first, then the part's ``pagefind-entry.json`` (which names the rest),
    then the files no longer used are removed. Returns the new plan and the
    files written (relative to ``site``), or None when the pages changed
    more than their text (a page added or removed, the parts planned
    otherwise): that is a whole build's work.
    """
    site = Path(site).resolve()
    remove_killed_builds_folders(cache)
    touched = {folder_of(p) for p in pages if p.endswith(HTML_SUFFIXES)}
    parts = list(plan.parts)
    redo = []
    for n, part in enumerate(parts):
        folders = dict(part.folders)
        hit = touched & folders.keys()
        if not hit:
            continue
        for name in hit:
            now = read_folder(site, name)
            if part.key is None or now is None or now.pages != folders[name].pages:
                return None
            folders[name] = now
        touched -= hit
        key = _part_key(part.glob, n == 0, plan.index_dir, folders.items())
        if key != part.key:  # the bytes of its pages changed
            parts[n] = part._replace(key=key, folders=tuple(folders.items()))
            redo.append(n)
    for name in touched:  # folders in no part: they must still have no page
        now = read_folder(site, name)
        if now is None or now.pages:
            return None
    written = []
    for n in redo:
        part = parts[n]
        with tempfile.TemporaryDirectory(prefix=".mfc-search-", dir=site.parent) as tmp:
            fresh = Path(tmp) / "bundle"
            _part_bundle(site, part, fresh, cache)
            where = Path(plan.index_dir) / part.name
            written += [
                (where / name).as_posix()
                for name in _merge(fresh, site / where, main=n == 0)
            ]
    return plan._replace(parts=tuple(parts)), written


ENTRY = "pagefind-entry.json"


def _merge(fresh: Path, bundle: Path, main: bool) -> list[str]:
    """Make ``bundle`` (one part's folder in the site) hold ``fresh``'s
    files; the names of the files written."""
    new = {p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file()}
    old = set()
    for path in bundle.rglob("*"):
        rel = path.relative_to(bundle).as_posix()
        nested = main and (rel.startswith(PART_PREFIX) or rel == PARTS_FILE)
        if path.is_file() and not nested and not rel.endswith((".gz", ".br")):
            old.add(rel)
    written = []
    for name in sorted(new, key=lambda n: (n == ENTRY, n)):  # the entry last
        source, target = fresh / name, bundle / name
        if name in old and filecmp.cmp(source, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.mfc-new")
        temporary.unlink(missing_ok=True)
        _place(source, temporary)
        os.replace(temporary, target)
        written.append(name)
    for name in sorted(old - new):
        for stale in (name, name + ".gz", name + ".br"):
            (bundle / stale).unlink(missing_ok=True)
    return written


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
    index = build_index(
        pelican.output_path,
        settings.get("SEARCH_INDEX_DIR", DEFAULT_INDEX_DIR),
        cache,
        settings.get("SEARCH_PART_PAGES", DEFAULT_PART_PAGES),
    )
    notes = os.environ.get("MFC_BUILD_NOTES")
    if notes and index.plan is not None:  # for the next build (mfc_content/fast.py)
        (Path(notes) / "search.pickle").write_bytes(pickle.dumps(index.plan))
    if not index.marked:
        # Pagefind indexes every page when none has data-pagefind-body.
        log.warning(
            "mfc_search: all %d HTML files in %s were indexed, lists included: "
            "the news and page templates must mark their text with "
            "data-pagefind-body",
            index.read,
            pelican.output_path,
        )
        return
    seconds = time.perf_counter() - started
    in_parts = f" in {index.parts} parts" if index.parts > 1 else ""
    if index.reused:
        log.info(
            "mfc_search: the HTML did not change: reused the search bundle of "
            "%d pages (%d HTML files)%s in %.2f s",
            index.indexed,
            index.read,
            in_parts,
            seconds,
        )
    elif index.parts > 1:
        log.info(
            "mfc_search: indexed %d of %d HTML files in %d parts (%d by Pagefind, "
            "the others unchanged and reused) in %.2f s",
            index.indexed,
            index.read,
            index.parts,
            index.reindexed,
            seconds,
        )
    else:
        log.info(
            "mfc_search: indexed %d of %d HTML files in %.2f s",
            index.indexed,
            index.read,
            seconds,
        )


def register() -> None:
    # finalized: every page is written; the index must see the final HTML.
    # The staged build writes into a staging folder, which is output_path here.
    signals.finalized.connect(index_output)
