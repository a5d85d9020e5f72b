"""The fast rebuild: when only the text of a few items changed.

A whole build reads and renders every item (at 10,000 news items, ~15 s
even when nothing changed). Most rebuilds follow an edit of one item's
text, which changes that item's page, its place in the search index and
their compressed copies, and nothing else. So after each successful
whole build, ``staged_build`` keeps a **record** (``CACHE_PATH/fast-*``):

- what the build depended on besides the content (``identity``): the
  settings, every file of the project's settings, theme and plugins, the
  installed packages, the ``MFC_*`` variables;
- the output folder it made (device, inode, change time) and until when it
  holds: the next local midnight, or the moment a scheduled item is due;
- every content file's size, times and inode, as they were before the build
  read them;
- the check's items, and from Pelican's process (notes.py) each item's
  footprint and the files besides its page that show its text, and the
  search index's parts (mfc_search).

The next build compares. Nothing changed: the output is the one a build
would make, and nothing is done. Only news items or pages changed, at most
``MAX_EDITS``, each: checked as ``invoke check`` checks it, with the same
address, date, status and kind, its text shown on no other page but feeds,
and (after rendering it as the preview's quick page is rendered, quick.py)
the same footprint. Then only their pages and the feeds that show them are
written (with every item of those feeds read), compressed and indexed
again (the parts of the search index they are in), and the record is
updated. In every other case, or if anything of this fails, the whole build
runs as before, and on success makes a new record. A fast rebuild's output
is a clean whole build's, byte for byte (tests/test_fast.py).

Failures leave the output as it was: the pages are rendered and compressed
in a private folder; the record is deleted before the output is touched
(an interrupted fast rebuild makes the next build a whole one); the old
pages are put back if the search index cannot be updated.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fcntl
import filecmp
import hashlib
import importlib.metadata
import logging
import os
import pickle
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .site import (
    MARKDOWN_EXTENSIONS,
    Item,
    Report,
    SiteCheck,
    current_time,
    display_path,
)

log = logging.getLogger(__name__)

FORMAT = "mfc-fast-1"
FEED = "feed:"  # notes.py's name for a feed among the files an item is shown in
LOCK = ".lock"
MAX_EDITS = 20  # more edited items: a whole build (both cores) is as quick
ENV_PREFIXES = ("MFC_",)
ENV_NAMES = ("TZ", "LANG", "LC_ALL", "SOURCE_DATE_EPOCH")
ENV_IGNORED = ("MFC_BUILD_NOTES", "MFC_FULL_BUILD")  # how, not what, is built
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache"}


@dataclass
class Record:
    """What a whole build leaves for the next (module doc)."""

    identity: str
    output: tuple
    valid_until: dt.datetime
    files: dict[str, tuple]
    items: list
    footprints: dict[str, tuple[str, str]] = field(default_factory=dict)
    uses: dict[str, frozenset[str]] = field(default_factory=dict)
    search: object = None  # mfc_search.Plan, or None without a search index
    format: str = FORMAT


def private_prefix(output: Path) -> str:
    """Private folders beside the output; remove_stale_staging deletes them
    when the build that made them was killed."""
    from .build import STAGING  # noqa: PLC0415  (build imports this module)

    return f"{output.name}{STAGING}{os.getpid()}-"


def cache_folder(settings_file: Path, settings: dict) -> Path:
    return settings_file.parent / settings.get("CACHE_PATH", "cache")


def record_path(settings_file: Path, settings: dict, output: Path) -> Path:
    """Where the record of builds of `output` is kept (and the lock beside)."""
    name = hashlib.sha256(str(output).encode()).hexdigest()[:16]
    return cache_folder(settings_file, settings) / f"fast-{name}.pickle"


@dataclass(frozen=True)
class Build:
    """One staged build's inputs, as they were when it started."""

    settings_file: Path
    settings: dict
    output: Path
    env: dict
    files: dict  # scan() of content/, before anything read it
    identity: str  # identity(), before anything imported Pelican

    @classmethod
    def start(cls, settings_file: Path, settings: dict, output: Path, env: dict):
        content = Path(settings["PATH"])
        ident = identity(settings_file, settings, env)
        return cls(settings_file, settings, output, env, scan(content), ident)

    @property
    def record(self) -> Path:
        return record_path(self.settings_file, self.settings, self.output)

    @property
    def cache(self) -> Path:
        return cache_folder(self.settings_file, self.settings)


@contextlib.contextmanager
def one_build_at_a_time(record: Path, output: Path, out):
    """Builds of one output folder wait for each other: a lock beside its
    record, released when the process ends, however. The lock file names
    the output folder (prune_records)."""
    record.parent.mkdir(parents=True, exist_ok=True)
    with open(record.with_suffix(LOCK), "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("Идёт другая сборка сайта: ждём, пока она закончится…", file=out)
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.truncate(0)
        lock.write(str(output))
        lock.flush()
        yield


def prune_records(cache: Path) -> None:
    """Forget the records of output folders that are gone (a test's, a
    moved project's), unless a build of theirs runs."""
    for lock_path in cache.glob(f"fast-*{LOCK}"):
        try:
            with open(lock_path, "r+", encoding="utf-8") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                output = lock.read().strip()
                if output and not Path(output).exists():
                    lock_path.with_suffix(".pickle").unlink(missing_ok=True)
                    lock_path.unlink()
        except OSError:  # held by a build, or gone meanwhile
            continue


def load(path: Path) -> Record | None:
    try:
        record = pickle.loads(path.read_bytes())
    except Exception:  # missing, cut short, or of an older program: no record
        return None
    if not isinstance(record, Record) or record.format != FORMAT:
        return None
    return record


def save(path: Path, record: Record) -> None:
    """Write the record atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_bytes(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(temporary, path)


def forget(path: Path) -> None:
    path.unlink(missing_ok=True)


def stamp(output: Path) -> tuple | None:
    try:
        st = output.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_ctime_ns)


def scan(content: Path) -> dict[str, tuple]:
    """Every file under content/: size, modification and change times, inode
    (of what a symbolic link points to; of the link, if it points nowhere)."""
    found = {}
    for root, dirs, files in os.walk(content):
        dirs.sort()
        for name in files:
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:  # the check reports it
                st = os.lstat(path)
            rel = os.path.relpath(path, content).replace(os.sep, "/")
            found[rel] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    return found


def _tree_digest(digest, root: Path) -> None:
    if root.is_file():
        digest.update(b"F%s\0%s" % (str(root).encode(), root.read_bytes()))
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(folder, name)
            digest.update(b"F%s\0" % str(path).encode())
            digest.update(path.read_bytes())


def identity(settings_file: Path, settings: dict, env: dict) -> str:
    """A digest of what a build depends on besides content/ (module doc),
    taken when the build starts: importing Pelican and the plugins (as the
    fast rebuild does) changes the settings' values and the import path."""
    digest = hashlib.sha256(FORMAT.encode())
    digest.update(repr(sorted((k, repr(v)) for k, v in settings.items())).encode())
    project = settings_file.parent
    for path in sorted(project.glob("*.py")):
        _tree_digest(digest, path)
    _tree_digest(digest, Path(settings["THEME"]))
    for plugins in settings.get("PLUGIN_PATHS", []):
        _tree_digest(digest, project / plugins)
    packages = sorted(
        f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
    )
    digest.update(repr([sys.version, packages]).encode())
    variables = sorted(
        (k, v)
        for k, v in env.items()
        if (k.startswith(ENV_PREFIXES) or k in ENV_NAMES) and k not in ENV_IGNORED
    )
    digest.update(repr(variables).encode())
    return digest.hexdigest()


def valid_until(now: dt.datetime, items) -> dt.datetime:
    """The next local midnight, or the moment the next scheduled item is due."""
    midnight = dt.datetime.combine(
        now.date() + dt.timedelta(days=1), dt.time(), tzinfo=now.tzinfo
    )
    due = [i.date for i in items if i.date is not None and i.status == "scheduled"]
    due = [d if d.tzinfo else d.replace(tzinfo=now.tzinfo) for d in due]
    return min([midnight, *(d for d in due if d > now)])


def content_name(source_path: str, settings: dict) -> str:
    """An item's file as a content/-relative POSIX path, without file system
    calls (Pelican makes every source path from PATH; also notes.py's)."""
    return Path(os.path.relpath(source_path, settings["PATH"])).as_posix()


def read_notes(notes: Path) -> tuple[dict, dict, object]:
    """What Pelican's process wrote into the notes folder (notes.py)."""
    footprints = pickle.loads((notes / "footprints.pickle").read_bytes())
    uses: dict[str, set[str]] = {}
    for path in notes.glob("uses-*.pickle"):  # one per process
        for source, files in pickle.loads(path.read_bytes()).items():
            uses.setdefault(source, set()).update(files)
    search = notes / "search.pickle"
    plan = pickle.loads(search.read_bytes()) if search.exists() else None
    return footprints, uses, plan


def keep_record(build: Build, *, now: dt.datetime, items: list, notes: Path) -> None:
    """After a whole build's swap: the record for the next build (none if
    anything is missing: the next build is then a whole one)."""
    path = build.record
    forget(path)
    try:
        footprints, uses, plan = read_notes(notes)
        uses = {
            content_name(source, build.settings): frozenset(files)
            for source, files in uses.items()
        }
        prune_records(path.parent)
        record = Record(
            identity=build.identity,
            output=stamp(build.output),
            valid_until=valid_until(now, items),
            files=build.files,
            items=[item.slim() for item in items],
            footprints=footprints,
            uses=uses,
            search=plan,
        )
        save(path, record)
    except Exception as error:  # the site is built all the same
        log.info("mfc_content: no record for a fast rebuild: %r", error)


class NotFast(Exception):
    """The edits need a whole build (why, in Russian: the build says it)."""


def rebuild(build: Build, *, out, on_check=None) -> bool:
    """The fast rebuild, if it can be done (module doc); True if done.

    `on_check` (staged_build's) is then given a report of the site's items
    as the checks of the last whole build and of the edited files left
    them, with no problem (the preview keeps it)."""
    record = load(build.record)
    if record is None:
        return False
    try:
        job = _Rebuild(build, record)
        edited = job.edited()
        changed = job.apply(edited) if edited else 0
    except NotFast as reason:
        print(f"Сайт собирается целиком: {reason}.", file=out)
        return False
    except Exception:  # a fault here must never cost the editor a build
        log.exception("mfc_content: the fast rebuild failed; a whole build follows")
        return False
    if on_check is not None:
        items = [Item.from_slim(data) for data in job.record.items]
        on_check(Report(files=len(build.files), items=items))
    if changed:
        done = f"обновлены только изменённые материалы (файлов: {changed})"
    else:
        done = "с прошлой сборки ничего не изменилось"
    print(f"Сайт собран в {display_path(build.output)}/: {done}.", file=out)
    return True


class _Rebuild:
    """One fast rebuild of `output` from its `record`."""

    def __init__(self, build: Build, record: Record) -> None:
        self.build = build
        self.settings = build.settings
        self.output = build.output
        self.record = record
        self.content = Path(build.settings["PATH"]).resolve()
        self.now = current_time(self.settings["TIMEZONE"], build.env.get("MFC_NOW", ""))

    def shown(self, rel: str) -> str:
        return display_path(self.content / rel)

    def edited(self) -> list[str]:
        """The edited content files, if a fast rebuild can take them."""
        record, files = self.record, self.build.files
        if record.output != stamp(self.output):
            raise NotFast("папки сайта нет или она изменилась после прошлой сборки")
        if self.now >= record.valid_until:
            raise NotFast("наступил новый день или время запланированной новости")
        if files.keys() != record.files.keys():
            raise NotFast("файлы добавлены, удалены или переименованы")
        if record.identity != self.build.identity:
            raise NotFast("изменились настройки, оформление или программа сайта")
        edited = sorted(rel for rel, sig in files.items() if record.files[rel] != sig)
        if len(edited) > MAX_EDITS:
            raise NotFast(f"изменено много файлов ({len(edited)})")
        for rel in edited:
            if Path(rel).suffix not in MARKDOWN_EXTENSIONS:
                raise NotFast(
                    f"изменён не текст новости или страницы: {self.shown(rel)}"
                )
            if rel not in record.footprints:
                raise NotFast(f"{self.shown(rel)} не был в прошлой сборке")
            if any(not f.startswith(FEED) for f in record.uses.get(rel, ())):
                raise NotFast(f"текст {self.shown(rel)} показан и на других страницах")
        return edited

    def feeds(self, edited: list[str]) -> dict[str, set[str]]:
        """The feeds that show the edited items' text: {path: the items in it}."""
        wanted = {f for rel in edited for f in self.record.uses.get(rel, ())}
        members: dict[str, set[str]] = {f[len(FEED) :]: set() for f in wanted}
        for rel, files in self.record.uses.items():
            for f in files & wanted:
                members[f[len(FEED) :]].add(rel)
        return members

    def apply(self, edited: list[str]) -> int:
        """Check, render, compress, place and index the edited items; how
        many files changed (pages, feeds, search files; not counting their
        compressed copies)."""
        everything = self._checked(edited)
        private = Path(
            tempfile.mkdtemp(
                prefix=f"{private_prefix(self.output)}fast-", dir=self.output.parent
            )
        )
        try:
            pages = self._render(private, edited, everything)
            # All of them, not only those that differ from the output: the
            # preview's quick page (quick.py) may be there already, without
            # its compressed copies or its place in the search index.
            self._compress([private / p for p in pages])
            changed = [
                name
                for p in pages
                for name in (p + suffix for suffix in COPIES)
                if not _same(private / name, self.output / name)
            ]
            forget(self.build.record)  # an interruption now: a whole build next
            backup = _place(private, self.output, changed)
            try:
                plan, indexed = self._reindex(pages)
            except BaseException:
                _restore(backup)
                raise
        finally:
            shutil.rmtree(private, ignore_errors=True)
        record = self.record
        record.files = self.build.files
        record.items = [item.slim() for item in everything.values()]
        record.search = plan
        record.output = stamp(self.output)
        save(self.build.record, record)
        written = [*changed, *indexed]
        return len({name.removesuffix(".gz").removesuffix(".br") for name in written})

    def _checked(self, edited: list[str]) -> dict:
        """The site's items with the edited ones checked again, as
        ``invoke check`` would; problems are the whole build's to report."""
        from .quick import same_place  # noqa: PLC0415  (quick imports build, build this)

        snapshot = {data["rel"]: Item.from_slim(data) for data in self.record.items}
        check = SiteCheck(self.content, self.settings, self.now)
        for rel in edited:  # one check: its report gathers them all
            report = check.run_one(rel, list(snapshot.values()))
            item = next((i for i in report.items if i.rel == rel), None)
            if report.problems or item is None:
                raise NotFast(f"в {self.shown(rel)} есть ошибки")
            if not same_place(item, snapshot.get(rel)):
                raise NotFast(f"у {self.shown(rel)} изменились адрес, дата или статус")
            snapshot[rel] = item
        return snapshot

    def _render(self, private: Path, edited: list[str], everything: dict) -> list[str]:
        """Render the edited items (quick.py's way); their files, checked."""
        from . import notes  # noqa: PLC0415  (Pelican's classes: imported late)
        from .quick import news_to_read, render, warnings_collected  # noqa: PLC0415

        preview = bool(self.settings.get("SHOW_UNPUBLISHED"))
        feeds = self.feeds(edited)
        news = news_to_read(edited, everything, preview)
        news |= set().union(*feeds.values())  # a feed's items (news): all read
        sources = [str(self.content / r) for r in edited]
        # A copy: Pelican changes values inside the settings it is given.
        settings = copy.deepcopy(self.settings)
        with warnings_collected() as warnings:
            written = render(settings, private, sources, news, set(feeds))
        if warnings:
            first = warnings[0].getMessage()
            raise NotFast(f"при сборке страниц было предупреждение: {first}")
        pages = []
        for rel, source in zip(edited, sources, strict=True):
            item = written.get(source)
            if item is None:
                raise NotFast(f"страница {self.shown(rel)} не собралась")
            if (notes.footprint(item), item.save_as) != self.record.footprints[rel]:
                raise NotFast(
                    f"в {self.shown(rel)} изменилось то, что видно и на других "
                    "страницах (заголовок, темы, краткое описание или, если его "
                    "нет, начало текста, картинка…)"
                )
            pages.append(item.save_as)
        pages += sorted(feeds)
        for path in private.rglob("*"):  # photo derivatives, as the output has them
            rel = path.relative_to(private).as_posix()
            if (
                path.is_file()
                and rel not in pages
                and not _same(path, self.output / rel)
            ):
                raise NotFast(f"нужен новый файл {rel}")
        return pages

    def _compress(self, paths: list[Path]) -> None:
        if "mfc_precompress" not in self.settings.get("PLUGINS", []) or not paths:
            return
        from mfc_precompress import CACHE_FILE, compress_files  # noqa: PLC0415

        compress_files(paths, self.build.cache.resolve() / CACHE_FILE, self.settings)

    def _reindex(self, pages: list[str]) -> tuple:
        """The search index's parts holding pages that changed, made again:
        the new plan, and the files written."""
        plan = self.record.search
        if not self.settings.get("SEARCH_INDEX", True) or plan is None:
            return plan, []
        import mfc_search  # noqa: PLC0415

        cache = mfc_search.BundleCache(
            self.build.cache / mfc_search.CACHE_DIR,
            self.settings.get("SEARCH_CACHE_KEEP", mfc_search.DEFAULT_CACHE_KEEP),
        )
        result = mfc_search.update_index(self.output, pages, plan, cache)
        if result is None:
            raise NotFast("поиск по сайту нужно собрать заново")
        plan, written = result
        self._compress([self.output / name for name in written])
        return plan, written


COPIES = ("", ".gz", ".br")


def _place(private: Path, output: Path, changed: list[str]) -> dict:
    """Move new files (a page, its copies, in that order) into the output,
    or delete what is no longer made; the old bytes."""
    from .build import current_umask  # noqa: PLC0415  (build imports this module)

    backup = {}
    for name in changed:
        target = output / name
        try:
            backup[target] = target.read_bytes()
        except FileNotFoundError:
            backup[target] = None
    for name in sorted(changed, key=lambda n: not n.endswith(COPIES[1:])):
        source, target = private / name, output / name
        if source.exists():
            os.chmod(source, 0o666 & ~current_umask())
            os.replace(source, target)
        else:
            target.unlink(missing_ok=True)
    return backup


def _restore(backup: dict) -> None:
    for target, data in backup.items():
        with contextlib.suppress(OSError):
            if data is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(data)


def _same(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (or neither exists)."""
    if not a.exists() and not b.exists():
        return True
    try:
        return filecmp.cmp(a, b, shallow=False)
    except OSError:  # one of them is missing
        return False
