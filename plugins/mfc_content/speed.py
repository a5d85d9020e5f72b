"""Pelican hot spots made cheaper, without changing what it writes.

Rendering asks every news item for its URL and file name again and again
(each list, archive, tag page, feed and neighbour link): Pelican formats the
URL setting from the item's metadata every time, some 15 times an item,
about a tenth of a build. Once every generator has finished its context
(``all_generators_finalized``) an item's metadata no longer changes, so from
then until the end of the build the formatted value is kept on the item.
``override_url``/``override_save_as`` (set while writing, for attached
files) still win, as in Pelican.
"""

from __future__ import annotations

from pelican.contents import Content

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
