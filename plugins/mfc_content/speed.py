"""Pelican hot spots made cheaper, without changing what it writes.

1. Rendering asks every news item for its URL and file name again and again
(each list, archive, tag page, feed and neighbour link): Pelican formats the
URL setting from the item's metadata every time, some 15 times an item,
about a tenth of a build. Once every generator has finished its context
(``all_generators_finalized``) an item's metadata no longer changes, so from
then until the end of the build the formatted value is kept on the item.
``override_url``/``override_save_as`` (set while writing, for attached
files) still win, as in Pelican.

2. The news item pages are written by two processes (``RENDER_PROCESSES``).
"""

from __future__ import annotations

import logging
import os
import sys
from itertools import chain

from pelican import signals
from pelican.contents import Content
from pelican.generators import ArticlesGenerator

log = logging.getLogger(__name__)

_original = Content.get_url_setting
CACHE_ATTRIBUTE = "_mfc_url_settings"


def _cached_get_url_setting(self: Content, key: str) -> str:
    if hasattr(self, "override_" + key):
        return getattr(self, "override_" + key)
    cache = self.__dict__.setdefault(CACHE_ATTRIBUTE, {})
    value = cache.get(key)
    if value is None:
        value = cache[key] = _original(self, key)
    return value


def freeze_urls(generators=None) -> None:
    """On all_generators_finalized: items' URLs are final from here on."""
    Content.get_url_setting = _cached_get_url_setting


def thaw_urls(pelican=None) -> None:
    """On initialized and finalized: back to Pelican's own method."""
    Content.get_url_setting = _original


# --- Both cores for the news pages -----------------------------------------
# The news item pages are most of what a build writes, and each depends only
# on the finished context. With RENDER_PROCESSES = 2 a forked copy of the
# build writes every second item while this process writes the others (then,
# as before, the lists, archives, tags and feeds). Neither depends on what
# the other wrote; the output is the serial build's, byte for byte
# (tests/test_build_identical.py).
ATTACH_MARKERS = ("{attach}", "|attach|")


def _write_articles(generator, write, articles) -> None:
    """Pelican's ArticlesGenerator.generate_articles, for some articles."""
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


def _generate_articles_in_parallel(self, write) -> None:
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
        _write_articles(self, write, articles)
        return
    # An {attach} link moves the attached file when the item's HTML is
    # resolved: do that here, where the static files will be written.
    for article in articles:
        if any(marker in (article._content or "") for marker in ATTACH_MARKERS):
            article.content  # noqa: B018  (resolves the links, memoized)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the second process: every second item, then exit
        status = 0
        try:
            _write_articles(self, write, articles[1::2])
        except BaseException:
            log.exception("mfc_content: writing news pages in a second process")
            status = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    try:
        _write_articles(self, write, articles[0::2])
    finally:
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(
            "mfc_content: the second process writing news pages failed "
            "(its messages are above)"
        )


MIN_ARTICLES_PER_PROCESS = 50  # below that, a fork costs more than it saves
_original_generate_articles = ArticlesGenerator.generate_articles


def parallel_articles(pelican=None) -> None:
    """On initialized: write news pages with RENDER_PROCESSES processes."""
    ArticlesGenerator.generate_articles = _generate_articles_in_parallel


def serial_articles(pelican=None) -> None:
    ArticlesGenerator.generate_articles = _original_generate_articles
