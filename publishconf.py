"""Production settings: pelicanconf.py plus what production changes."""

import os
import sys

sys.path.append(os.path.dirname(__file__))

from pelicanconf import *  # noqa: F403

# The public address of the site, without a trailing slash.
SITEURL = os.environ.get("MFC_SITEURL", "https://mfc.astrobl.ru").rstrip("/")
RELATIVE_URLS = False

# Start from an empty output directory, so nothing stale is published.
DELETE_OUTPUT_DIRECTORY = True

# Feeds of all news and per tag, with absolute URLs.
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
TAG_FEED_ATOM = "feeds/tags/{slug}.atom.xml"
TAG_FEED_RSS = "feeds/tags/{slug}.rss.xml"
FEED_MAX_ITEMS = 20

# Nothing unpublished in production: drafts and news dated in the future get
# no page, and so no place in lists, feeds, the sitemap or the search index.
SHOW_UNPUBLISHED = False
DRAFT_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""

# For search engines: a sitemap of every news item and page, and robots.txt.
SITEMAP_SAVE_AS = "sitemap.xml"
ROBOTS_SAVE_AS = "robots.txt"
DIRECT_TEMPLATES = [*DIRECT_TEMPLATES, "sitemap", "robots"]  # noqa: F405

# Production-only steps after the build: redirects from the old site's URLs
# (.nginx/redirects.map, read by deploy/nginx) and .gz and .br copies of
# every text file, served by nginx's gzip_static and brotli_static.
# mfc_precompress starts on `finalized`, before mfc_search: the pages are
# compressed while Pagefind indexes them; once every other `finalized` handler
# is done it compresses what they wrote. It caches the copies by content, so a
# rebuild compresses only what changed.
_SEARCH = PLUGINS.index("mfc_search")  # noqa: F405
PLUGINS = [
    *PLUGINS[:_SEARCH],  # noqa: F405
    "mfc_precompress",
    *PLUGINS[_SEARCH:],  # noqa: F405
    "mfc_redirects",
]
PRECOMPRESS_MIN_SIZE = 256  # smaller files gain nothing from compression
PRECOMPRESS_BROTLI_QUALITY = 11  # CSS, JavaScript, SVG: few files, every visitor
PRECOMPRESS_BROTLI_PAGE_QUALITY = 7  # pages and feeds: 50x faster, ~10 % larger
PRECOMPRESS_GZIP_PAGE_LEVEL = 6  # pages and feeds (gzip for clients without Brotli)
PRECOMPRESS_PAGE_EXTENSIONS = [".html", ".xml", ".atom", ".rss"]
PRECOMPRESS_TEXT_EXTENSIONS = [
    ".html", ".css", ".js", ".mjs", ".json", ".xml", ".txt", ".svg",
    ".atom", ".rss", ".webmanifest",
]  # fmt: skip
