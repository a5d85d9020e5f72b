"""Feeds in Russian: titles, description and language of the Atom and RSS feeds.

Pelican writes the feeds (settings ``FEED_ALL_ATOM``, ``TAG_FEED_RSS`` … in
publishconf.py); it titles them "<SITENAME> - <tag>", leaves the RSS channel
description empty, names no language, gives all Atom feeds the same id, and
marks RSS guids (``tag:`` URIs) as permalinks. Before a feed is written, this
plugin gives it a Russian title, the site's description, ``ru`` and an id of
its own, fixes the guids, and makes root-relative links in the items' HTML
absolute (a feed reader has no page to resolve them against).

The same titles are available to the templates, so the
``<link rel="alternate">`` in each page's head and the visible links name the
feed as the feed names itself::

    {{ feed_title() }}      → Новости — МФЦ «Мои документы» Астраханской области
    {{ feed_title(tag) }}   → Новости по теме «форум» — МФЦ «Мои документы» …
"""

from __future__ import annotations

import re

from jinja2 import pass_context
from markupsafe import Markup
from pelican import signals

ALL_TITLE = "Новости — {site}"
TAG_TITLE = "Новости по теме «{tag}» — {site}"
TAG_FEED_SETTINGS = ("TAG_FEED_ATOM", "TAG_FEED_RSS")
CACHE_KEY = "_mfc_feeds_tag_by_url"  # in the generator's context
# href="/news/…" or src='/images/…', but not protocol-relative "//host/…".
ROOT_RELATIVE_RE = re.compile(r"""(\s(?:href|src)\s*=\s*["'])/(?!/)""", re.I)


def plain(value) -> str:
    """Text without markup or entities (as mfc_meta.plain; plugins load apart)."""
    return " ".join(Markup(str(value)).striptags().replace("\xa0", " ").split())


def title_for(sitename: str, tag=None) -> str:
    """The feed's title, for all news or for one tag.

    >>> title_for("МФЦ", "форум")
    'Новости по теме «форум» — МФЦ'
    """
    if tag is None:
        return ALL_TITLE.format(site=plain(sitename))
    return TAG_TITLE.format(tag=plain(tag), site=plain(sitename))


def absolute_links(html: str | None, siteurl: str) -> str | None:
    """Make root-relative ``href`` and ``src`` URLs absolute on ``siteurl``.

    >>> absolute_links('<a href="/kak-dobratsya/">', "https://mfc.example")
    '<a href="https://mfc.example/kak-dobratsya/">'
    """
    if not html or not siteurl:
        return html
    return ROOT_RELATIVE_RE.sub(lambda m: m.group(1) + siteurl.rstrip("/") + "/", html)


@pass_context
def feed_title(context, tag=None) -> str:
    return title_for(context["SITENAME"], tag)


def feed_url(settings: dict, key: str, **fields) -> str:
    """The public URL of a feed, as Pelican computes it in write_feed."""
    path = settings.get(f"{key}_URL") or settings[key]
    return settings["FEED_DOMAIN"].rstrip("/") + "/" + str(path).format(**fields)


def tag_of_feed(context: dict, url: str):
    """The tag whose feed lives at ``url``, or None for the all-news feed."""
    if CACHE_KEY not in context:  # once per build: a site has many tags
        context[CACHE_KEY] = {
            feed_url(context, key, slug=tag.slug): tag
            for key in TAG_FEED_SETTINGS
            if context.get(key)
            for tag, _articles in context.get("tags", [])
        }
    return context[CACHE_KEY].get(url)


def localise_feed(context, feed) -> None:
    """Russian title, description and language for a feed about to be written."""
    tag = tag_of_feed(context, feed.feed["feed_url"])
    feed.feed["title"] = title_for(context["SITENAME"], tag)
    description = plain(context.get("SITE_DESCRIPTION", ""))
    feed.feed["description"] = description
    feed.feed["subtitle"] = description
    feed.feed["language"] = context.get("DEFAULT_LANG", "ru")
    feed.feed["author_name"] = plain(context.get("AUTHOR", ""))
    feed.feed["author_link"] = feed.feed["link"]
    # Atom: each feed needs an id of its own (feedgenerator reuses the site link).
    feed.feed["id"] = feed.feed["feed_url"]
    siteurl = context.get("SITEURL", "")
    for item in feed.items:
        # RSS: the guid is a tag: URI, not the item's address.
        item["unique_id_is_permalink"] = False
        for key in ("description", "content"):
            item[key] = absolute_links(item.get(key), siteurl)


def add_globals(generator) -> None:
    generator.env.globals["feed_title"] = feed_title


def register() -> None:
    # generator_init: templates need feed_title() before anything renders.
    signals.generator_init.connect(add_globals)
    # feed_generated: the feed is complete, not yet written.
    signals.feed_generated.connect(localise_feed)
