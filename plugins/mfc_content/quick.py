"""The preview's quick path: one edited item's page, rendered on its own.

`invoke livereload` (preview.py) calls `render_one` in a forked copy of its
long-lived process, where Pelican, the plugins, Markdown and Jinja are
already imported, so nothing of a build is left behind in the server and
nothing of one build leaks into the next.

1. The edited file is checked as ``invoke check`` checks it (``SiteCheck``),
   against the rest of the site as the last whole-site check saw it (the
   preview's snapshot): the same Russian messages, site-wide ones (links,
   addresses) included. Any problem: they are printed, no page is written.
2. If the file's address, date, kind or status changed, the lists and other
   pages change too: that is the full build's job, not this one's.
3. Otherwise Pelican runs with the site's settings, theme and plugins, but
   reads only the edited item, its previous and next news (for the links at
   the bottom of the page), the items it links to with ``{filename}`` and
   all pages (the menu); static files are listed as usual. The one page is
   rendered into a private folder and put in place in the output with a
   rename, so the server never serves half a file.

What the quick page cannot know it takes from the snapshot: which items
are its neighbours. When only the text changed, the page is byte for byte
the one the full build writes (tests/test_preview.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from functools import partial
from pathlib import Path

from .build import current_umask, tell
from .site import MARKDOWN_EXTENSIONS, Item, SiteCheck, current_time, display_path
from .speed import write_articles

log = logging.getLogger(__name__)

# render_one's results (the exit status of the forked process).
WRITTEN = 0  # the page is in place
CONTENT_ERROR = 1  # the file has problems: printed, nothing written
NOT_QUICK = 3  # leave it to the full build (address changed, a warning, …)

# Statuses whose news are in the list of news (and so have neighbours).
LISTED = {"published"}
LISTED_IN_PREVIEW = {"published", "draft", "scheduled"}


# What a page must keep for a render of it alone to be right: the lists and
# the neighbouring pages show it where it was.
PLACE = ("kind", "url", "status", "date")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def warnings_collected():
    """Every warning and error logged meanwhile, instead of shown: a render's
    are fatal, as in the build (also fast.py's)."""
    collect = _Collect()
    handlers, level = logging.root.handlers[:], logging.root.level
    logging.root.handlers[:] = [collect]
    logging.root.setLevel(logging.WARNING)
    try:
        yield collect.records
    finally:
        logging.root.handlers[:] = handlers
        logging.root.setLevel(level)


def same_place(item: Item | None, before: Item | None) -> bool:
    """Whether an item checked again keeps its place (``PLACE``)."""
    return (
        item is not None
        and before is not None
        and all(getattr(item, a) == getattr(before, a) for a in PLACE)
    )


def news_to_read(rels, everything: dict[str, Item], preview: bool) -> set[str]:
    """The news items a render of the items `rels` reads: those of them that
    are news, their neighbours, and the news they link to."""
    wanted = set(rels)
    for rel in rels:
        item = everything[rel]
        wanted |= neighbours(item, everything, preview)
        wanted |= {target for _, target in item.body.files if target in everything}
    return {r for r in wanted if everything[r].kind == "news"}


def neighbours(item: Item, everything: dict[str, Item], preview: bool) -> set[str]:
    """The news items next to `item` in the list of news (and any of the
    same date as those, whose order Pelican does not fix)."""
    listed = LISTED_IN_PREVIEW if preview else LISTED
    if item.kind != "news" or item.status not in listed or item.date is None:
        return set()
    news = sorted(
        (i for i in everything.values() if i.kind == "news" and i.status in listed),
        key=lambda i: i.date,
        reverse=True,
    )
    at = next(n for n, i in enumerate(news) if i.rel == item.rel)
    dates = {news[n].date for n in (at - 1, at, at + 1) if 0 <= n < len(news)}
    return {i.rel for i in news if i.date in dates and i.rel != item.rel}


def render_one(
    settings: dict,
    rel: str,
    snapshot: dict[str, Item],
    output: Path,
    *,
    out,
    err,
    ready=lambda: True,
) -> int:
    """Check and render content/`rel` into `output` (see the module doc).

    `ready()` is asked before the page is put in place; False: it is not
    (the preview's build being stopped has not ended, see preview.py)."""
    content = Path(settings["PATH"])
    check = SiteCheck(content, settings, current_time(settings["TIMEZONE"]))
    report = check.run_one(rel, list(snapshot.values()))
    if report.problems:
        lines = [*map(str, report.problems), report.summary()]
        shown = display_path(output)
        tell([*lines, f"Сайт не собран: папка {shown}/ не изменилась."], out, err)
        return CONTENT_ERROR
    item = report.items[0] if report.items else None
    if not same_place(item, snapshot.get(rel)) or not item.url:
        return NOT_QUICK

    everything = {**snapshot, rel: item}
    preview = bool(settings.get("SHOW_UNPUBLISHED"))
    news = news_to_read([rel], everything, preview)
    private = Path(tempfile.mkdtemp(prefix=".quick-", dir=output.parent))
    try:
        with warnings_collected() as warnings:
            written = render(settings, private, [str(content / rel)], news)
        if warnings or not written:
            for record in warnings:
                print(f"(быстрый просмотр) {record.getMessage()}", file=err)
            return NOT_QUICK
        (page,) = written.values()
        if not ready():
            return NOT_QUICK
        place(private / page.save_as, output / page.save_as)
        return WRITTEN
    finally:
        shutil.rmtree(private, ignore_errors=True)


def render(
    settings: dict,
    private: Path,
    sources: list[str],
    news: set[str],
    feeds: frozenset[str] = frozenset(),
) -> dict:
    """Pelican's run, reading only `news` of the news items (content-relative
    names) and writing only the items read from `sources` (paths), and the
    `feeds` (output paths), into `private`: {source: the item written}
    (also fast.py's: a feed is right when `news` has all its items)."""
    # Pelican and the plugins are imported by the long-lived process already.
    from pelican import Pelican, signals  # noqa: PLC0415
    from pelican.generators import ArticlesGenerator, PagesGenerator  # noqa: PLC0415

    settings = {
        **settings,
        "OUTPUT_PATH": str(private),
        "RENDER_PROCESSES": 1,
        "SEARCH_INDEX": False,
    }
    pelican = Pelican(settings)
    context = settings.copy()
    context["generated_content"] = {}
    context["static_links"] = set()
    context["static_content"] = {}
    context["localsiteurl"] = settings["SITEURL"]
    generators = [
        cls(
            context=context,
            settings=settings,
            path=pelican.path,
            theme=pelican.theme,
            output_path=pelican.output_path,
        )
        for cls in pelican._get_generator_classes()
    ]
    for generator in generators:
        if isinstance(generator, ArticlesGenerator):
            generator.get_files = _only(generator, news)
    for generator in generators:
        if hasattr(generator, "generate_context"):
            generator.generate_context()
    signals.all_generators_finalized.send(generators)
    for generator in generators:
        if hasattr(generator, "refresh_metadata_intersite_links"):
            generator.refresh_metadata_intersite_links()
    writer = pelican._get_writer()
    written = {}
    for generator in generators:
        if isinstance(generator, ArticlesGenerator):
            written.update(_write_articles(generator, writer, sources))
            if feeds:
                _write_feeds(generator, writer, feeds)
        elif isinstance(generator, PagesGenerator):
            written.update(_write_pages(generator, writer, sources))
    return written


def _only(generator, wanted: set[str]):
    """get_files for the ArticlesGenerator: only the wanted news files. Each
    is handed to Pelican's own get_files by name (it keeps those that exist
    and that it reads), so the archive's ten thousand files are not listed."""
    original = generator.get_files

    def get_files(paths, exclude=None, extensions=None):
        roots = tuple(  # "" is the whole content folder
            p.rstrip("/") + "/" if p.strip("/") else ""
            for p in ([paths] if isinstance(paths, str) else paths)
        )
        excluded = tuple(e.rstrip("/") + "/" for e in exclude or ())
        named = [
            rel
            for rel in sorted(wanted)
            if rel.startswith(roots) and not rel.startswith(excluded)
        ]
        return original(named, exclude=exclude, extensions=extensions)

    return get_files


def _write_articles(generator, writer, sources: list[str]) -> dict:
    """Write the news items read from `sources` as Pelican does."""
    found = {
        article.source_path: article
        for article in (
            *generator.articles,
            *generator.hidden_articles,
            *generator.drafts,
        )
        if article.source_path in sources
    }
    write = partial(
        writer.write_file, relative_urls=generator.settings["RELATIVE_URLS"]
    )
    write_articles(generator, write, list(found.values()))
    return found


def _write_feeds(generator, writer, feeds: frozenset[str]) -> None:
    """Write those of the news generator's feeds whose path is in `feeds`."""
    write_feed = writer.write_feed

    def wanted_only(elements, context, path=None, *args, **kwargs):
        if path in feeds:
            return write_feed(elements, context, path, *args, **kwargs)
        return None

    writer.write_feed = wanted_only
    try:
        generator.generate_feeds(writer)
    finally:
        writer.write_feed = write_feed


def _write_pages(generator, writer, sources: list[str]) -> dict:
    """Write the pages read from `sources` as Pelican does."""
    from pelican import signals  # noqa: PLC0415

    found = {}
    for page in (*generator.pages, *generator.hidden_pages, *generator.draft_pages):
        if page.source_path not in sources:
            continue
        signals.page_generator_write_page.send(generator, content=page)
        writer.write_file(
            page.save_as,
            generator.get_template(page.template),
            generator.context,
            page=page,
            relative_urls=generator.settings["RELATIVE_URLS"],
            override_output=hasattr(page, "override_save_as"),
            url=page.url,
        )
        found[page.source_path] = page
    return found


def place(source: Path, target: Path) -> None:
    """Put `source` at `target` atomically: a temporary file beside the
    target, then a rename (the server serves the old file or the new one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f, source.open("rb") as g:
            shutil.copyfileobj(g, f)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def quick_candidate(content: Path, settings: dict, path: Path) -> str | None:
    """content-relative name of `path` if it is a news item or page."""
    try:
        rel = path.resolve().relative_to(content.resolve()).as_posix()
    except ValueError:
        return None
    roots = [*settings.get("ARTICLE_PATHS", []), *settings.get("PAGE_PATHS", [])]
    under = any(rel.startswith(r.rstrip("/") + "/") for r in roots)
    if not under or Path(rel).suffix not in MARKDOWN_EXTENSIONS:
        return None
    return rel


__all__ = ["CONTENT_ERROR", "NOT_QUICK", "WRITTEN", "render_one"]
