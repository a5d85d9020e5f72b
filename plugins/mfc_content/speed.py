"""Pelican hot spots made cheaper, without changing what it writes.

1. Rendering asks every news item for its URL and file name again and again
(each list, archive, tag page, feed and neighbour link): Pelican formats the
URL setting from the item's metadata every time, some 15 times an item,
about a tenth of a build. Once every generator has finished its context
(``all_generators_finalized``) an item's metadata no longer changes, so from
then until the end of the build the formatted value is kept on the item.
``override_url``/``override_save_as`` (set while writing, for attached
files) still win, as in Pelican.

2. Slugs: Pelican slugifies a tag's or the category's name again each time
it compares one with a string (``URLWrapper.__eq__``), and every item's
slug: a pure function of its arguments, so its results are kept for the
process (``functools.lru_cache``).

3. The news generator's pages are written by two processes
(``RENDER_PROCESSES``); prefetch.py does the same for reading.

4. A tag page picks its items out of all of them in date order with
``item in tag_items``: a scan of the tag's list for every item, quadratic
(1.5 s at 10,000 items and 30 tags). Items compare by identity (Pelican's
``Content`` defines no ``__eq__``), so once every generator has finished,
each tag's list answers ``in`` from a set of identities (``Members``). So do
the category's and the author's lists: this site writes no page for them,
but Pelican computes each one's items in date order all the same.

5. The year and month archives: Pelican picks each period's items out of
all of them with ``item in period_items``, again a scan for every item
(some 2 s at 10,000 items, while the second core has nothing to do). The
same lists are made in one pass over the items (``_build_period_archives``).

6. Memory: Python keeps the attributes of the items of one class in small
key-sharing dictionaries only while every item gets the same attributes in
the same order. An attribute added to items after they are read (the
neighbours pelican-neighbors sets, the URLs kept by 1.) turns each item's
into a dictionary of its own: about 1.3 KB more an item, 13 MiB at 10,000
items, a tenth of the build's peak. So those values are kept beside the
items, in tables (``Beside``, a data descriptor on the class, which Python
asks before the item's own attributes): ``item.next_article`` reads and
sets as before, pelican-neighbors included, and an item that has none has
no such attribute (``AttributeError``), as before.

7. Dates in file names: Pelican reads the date at the start of every news
file's name (FILENAME_METADATA) with dateutil's general parser, some 70 µs
each (then the front matter's date replaces it). A name's date is always
YYYY-MM-DD: that form is read directly, to the same value (``fast_dates``,
3 µs); anything else still goes to Pelican's parser.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import weakref
from collections import defaultdict
from functools import partial
from itertools import chain

from pelican import contents as pelican_contents
from pelican import readers as pelican_readers
from pelican import signals
from pelican import urlwrappers as pelican_urlwrappers
from pelican import utils as pelican_utils
from pelican.contents import Article, Content
from pelican.generators import ArticlesGenerator

from . import notes

log = logging.getLogger(__name__)

_original = Content.get_url_setting
# Each item's formatted URL settings, beside the items (see 6.).
_url_settings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_get_url_setting(self: Content, key: str) -> str:
    if hasattr(self, "override_" + key):
        return getattr(self, "override_" + key)
    cache = _url_settings.get(self)
    if cache is None:
        cache = _url_settings[self] = {}
    value = cache.get(key)
    if value is None:
        value = cache[key] = _original(self, key)
    return value


def freeze_urls(generators=None) -> None:
    """On all_generators_finalized: items' URLs are final from here on."""
    Content.get_url_setting = _cached_get_url_setting


class Members(list):
    """A list of items whose ``in`` is a set lookup of their identities.

    The same answers as a list's ``in`` for objects that compare by
    identity; built when the list is final (nothing appends to it later).
    """

    def __init__(self, items=()):
        super().__init__(items)
        self._ids = {id(item) for item in self}

    def __contains__(self, item) -> bool:
        return id(item) in self._ids


def _by_identity(items) -> bool:
    """Whether every item compares by identity (``in`` may use `Members`)."""
    return all(type(i).__eq__ is object.__eq__ for i in items)


def index_item_lists(generators) -> None:
    """On all_generators_finalized: the item lists of each tag, category and
    author become `Members`."""
    for generator in generators:
        tags = getattr(generator, "tags", None)
        if isinstance(tags, dict):
            for tag, items in tags.items():
                if _by_identity(items):
                    tags[tag] = Members(items)
        for name in ("categories", "authors"):
            # Lists of (name, items) pairs by now; the context holds the
            # same list, so it is changed in place.
            pairs = getattr(generator, name, None)
            if not isinstance(pairs, list):
                continue
            for n, pair in enumerate(pairs):
                if isinstance(pair, tuple) and len(pair) == 2:
                    wrapper, items = pair
                    if isinstance(items, list) and _by_identity(items):
                        pairs[n] = (wrapper, Members(items))


_original_period_archives = ArticlesGenerator._build_period_archives


def _period_archives_in_one_pass(self, sorted_articles, articles, settings):
    """Pelican's ``_build_period_archives``, each archive's items found in
    one pass over ``articles`` (Pelican's: a scan of the period's items for
    each of them). Each archive's ``articles`` are those of ``articles``
    that are one of its ``dates``, in the order of ``articles``, as in
    Pelican."""
    articles = list(articles)
    if not _by_identity(articles):
        return _original_period_archives(self, sorted_articles, articles, settings)
    archives = _original_period_archives(self, sorted_articles, [], settings)
    for found in archives.values():
        where = {
            id(item): n for n, archive in enumerate(found) for item in archive["dates"]
        }
        groups = defaultdict(list)
        for article in articles:
            n = where.get(id(article))
            if n is not None:
                groups[n].append(article)
        for n, archive in enumerate(found):
            archive["articles"] = groups[n]
    return archives


def group_period_archives(pelican=None) -> None:
    """On initialized: the period archives are grouped in one pass."""
    ArticlesGenerator._build_period_archives = _period_archives_in_one_pass


def thaw_urls(pelican=None) -> None:
    """On initialized and finalized: back to Pelican's own method."""
    Content.get_url_setting = _original
    _url_settings.clear()


# --- Attributes kept beside the items (6.) ---------------------------------
_UNSET = object()


class Beside:
    """An attribute of a class's instances kept beside them, not in each
    instance's own ``__dict__``: a data descriptor on the class.

    The attributes of one group share a table: one list per instance, one
    slot per attribute (a table per attribute would cost ~100 bytes more an
    instance each). The table holds its instances by weak reference, so an
    instance's entry goes with it."""

    def __init__(
        self, name: str, slot: int, table: weakref.WeakKeyDictionary, size: int
    ):
        self.name, self.slot, self.table, self.size = name, slot, table, size

    def __get__(self, item, owner=None):
        if item is None:
            return self
        values = self.table.get(item)
        value = _UNSET if values is None else values[self.slot]
        if value is _UNSET:
            raise AttributeError(self.name)
        return value

    def __set__(self, item, value) -> None:
        values = self.table.get(item)
        if values is None:
            values = self.table[item] = [_UNSET] * self.size
        values[self.slot] = value

    def __delete__(self, item) -> None:
        values = self.table.get(item)
        if values is None or values[self.slot] is _UNSET:
            raise AttributeError(self.name)
        values[self.slot] = _UNSET


# What pelican-neighbors sets on every news item (the "subcategory" pair:
# for a category without "/" in its name, as this site's only one).
NEIGHBOUR_ATTRIBUTES = tuple(
    f"{way}_article{where}"
    for where in ("", "_in_category", "_in_subcategory0")
    for way in ("next", "prev")
)
_neighbours: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def keep_neighbours_beside(pelican=None) -> None:
    """On initialized: the news items' neighbours are kept beside them."""
    size = len(NEIGHBOUR_ATTRIBUTES)
    for slot, name in enumerate(NEIGHBOUR_ATTRIBUTES):
        if not isinstance(Article.__dict__.get(name), Beside):
            setattr(Article, name, Beside(name, slot, _neighbours, size))


def beside(item) -> dict:
    """The attributes kept beside ``item``, by name."""
    values = _neighbours.get(item)
    if values is None:
        return {}
    return {
        name: value
        for name, value in zip(NEIGHBOUR_ATTRIBUTES, values, strict=True)
        if value is not _UNSET
    }


# --- Slugs ------------------------------------------------------------------
_original_slugify = pelican_utils.slugify


@functools.lru_cache(maxsize=1 << 16)
def _slugify_once(value, regex_subs, preserve_case, use_unicode) -> str:
    return _original_slugify(value, regex_subs, preserve_case, use_unicode)


def cached_slugify(value, regex_subs=(), preserve_case=False, use_unicode=False):
    """pelican.utils.slugify, each result computed once per process."""
    try:
        subs = tuple(tuple(pair) for pair in regex_subs)
        return _slugify_once(str(value), subs, preserve_case, use_unicode)
    except TypeError:  # something unhashable: as Pelican does
        return _original_slugify(value, regex_subs, preserve_case, use_unicode)


def cache_slugs(pelican=None) -> None:
    """On initialized: Pelican's items and URL wrappers use cached_slugify."""
    for module in (pelican_contents, pelican_urlwrappers):
        module.slugify = cached_slugify


_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_PROCESSORS = {
    name: pelican_readers.METADATA_PROCESSORS[name] for name in ("date", "modified")
}


def _fast_date(name: str):
    original = _DATE_PROCESSORS[name]

    def process(value, settings):
        """Pelican's date processor: what dateutil makes of YYYY-MM-DD (that
        day at midnight, no time zone), without it."""
        match = _ISO_DATE_RE.fullmatch(value) if isinstance(value, str) else None
        if match:
            try:
                return pelican_utils.SafeDatetime(*map(int, match.groups()))
            except ValueError:  # no such day: Pelican's parser says so
                pass
        return original(value, settings)

    return process


def fast_dates(pelican=None) -> None:
    """On initialized: dates read by Pelican's readers go through _fast_date."""
    for name in _DATE_PROCESSORS:
        pelican_readers.METADATA_PROCESSORS[name] = _fast_date(name)


# --- Both cores for the news pages -----------------------------------------
# The news generator writes most of the site: the feeds, every item's page,
# the archives, the lists and the tag pages, each depending only on the
# finished context. With RENDER_PROCESSES = 2 a forked copy of the build
# writes the feeds, the tag pages and part of the items while this process
# writes the other items, the archives and the lists (then, as before,
# article_writer_finalized is sent, here, once both are done). Neither
# depends on what the other wrote; the output is the serial build's, byte
# for byte (tests/test_build_identical.py). What the forked process writes
# is not in this process's Writer: Pelican's warning for a file written
# twice is not given across the two (the content check refuses two items
# with one address before a build starts).
ATTACH_MARKERS = ("{attach}", "|attach|")
# The items this process writes: the other one also writes the feeds and
# the tag pages; this one the archives and the lists (measured at 10,000
# items: even at about this share, since the category's and author's lists
# and the archives are cheap, see 4 and 5 above).
SHARE_HERE = 0.54


def write_articles(generator, write, articles) -> None:
    """Pelican's ArticlesGenerator.generate_articles, for some articles
    (also the preview's quick page: quick.py)."""
    for article in articles:
        signals.article_generator_write_article.send(generator, content=article)
        write(
            article.save_as,
            generator.get_template(article.template),
            generator.context,
            article=article,
            category=getattr(article, "category", None),
            override_output=hasattr(article, "override_save_as"),
            url=article.url,
            blog=True,
        )


def _generate_output_in_parallel(self, writer) -> None:
    """Pelican's ArticlesGenerator.generate_output, in two processes."""
    articles = list(
        chain(
            self.translations,
            self.articles,
            self.hidden_translations,
            self.hidden_articles,
        )
    )
    processes = int(self.settings.get("RENDER_PROCESSES", 1))
    if processes < 2 or len(articles) < 2 * MIN_ARTICLES_PER_PROCESS:
        _original_generate_output(self, writer)
        return
    write = partial(writer.write_file, relative_urls=self.settings["RELATIVE_URLS"])
    # An {attach} link moves the attached file when the item's HTML is
    # resolved: do that here, where the static files will be written.
    for article in articles:
        if any(marker in (article._content or "") for marker in ATTACH_MARKERS):
            article.content  # noqa: B018  (resolves the links, memoized)
    here = int(len(articles) * SHARE_HERE)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the second process: feeds, some items, tags; then exit
        status = 0
        try:
            self.generate_feeds(writer)
            write_articles(self, write, articles[here:])
            self.generate_tags(write)
        except BaseException:
            log.exception("mfc_content: writing news pages in a second process")
            status = 1
        finally:
            notes.flush_uses()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    try:
        write_articles(self, write, articles[:here])
        self.generate_period_archives(write)
        self.generate_direct_templates(write)
        self.generate_categories(write)
        self.generate_authors(write)
        self.generate_drafts(write)
    finally:
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(
            "mfc_content: the second process writing news pages failed "
            "(its messages are above)"
        )
    signals.article_writer_finalized.send(self, writer=writer)


MIN_ARTICLES_PER_PROCESS = 50  # below that, a fork costs more than it saves
_original_generate_output = ArticlesGenerator.generate_output


def parallel_articles(pelican=None) -> None:
    """On initialized: write the news with RENDER_PROCESSES processes."""
    ArticlesGenerator.generate_output = _generate_output_in_parallel


def serial_articles(pelican=None) -> None:
    ArticlesGenerator.generate_output = _original_generate_output
