"""What kind of file a site path is: its Content-Type, encoding and caching.

One table for both targets: the object storage upload sets these headers
per object, and deploy/nginx/mfc-http.conf sets the same Cache-Control from
the same patterns (a test checks that both agree).
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass

IMMUTABLE = "public, max-age=31536000, immutable"
DAY = "public, max-age=86400"
SHORT = "public, max-age=60"

# Fingerprinted assets: css/site.0123abcd.css, js/mode.0123abcdef.js
FINGERPRINTED_RE = re.compile(r"\.[0-9a-f]{8,64}\.[a-z0-9]+$")
# Pagefind's hashed index, fragment, filter and meta files.
PAGEFIND_HASHED_RE = re.compile(r"^pagefind/.+\.pf_[a-z]+$")
MEDIA_RE = re.compile(r"\.(?:png|jpe?g|gif|webp|avif|svg|ico|woff2?)$", re.I)

# Precompressed copies written by the build, and their Content-Encoding.
ENCODINGS = {".gz": "gzip", ".br": "br"}

TEXT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
}
# Feeds keep their own extension in front of .xml: all.atom.xml, all.rss.xml.
FEED_TYPES = {
    ".atom.xml": "application/atom+xml",
    ".rss.xml": "application/rss+xml",
}


@dataclass(frozen=True)
class Kind:
    """How one file is served."""

    content_type: str
    content_encoding: str | None
    cache_control: str

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")


def split_encoding(path: str) -> tuple[str, str | None]:
    """The path of the original file and the encoding of a precompressed copy.

    >>> split_encoding("news/index.html.gz")
    ('news/index.html', 'gzip')
    >>> split_encoding("css/site.css")
    ('css/site.css', None)
    """
    for suffix, encoding in ENCODINGS.items():
        if path.endswith(suffix):
            return path[: -len(suffix)], encoding
    return path, None


def content_type(path: str) -> str:
    """Content-Type of a site path (not a precompressed copy)."""
    lower = path.lower()
    for suffix, mime in FEED_TYPES.items():
        if lower.endswith(suffix):
            return mime
    for suffix, mime in TEXT_TYPES.items():
        if lower.endswith(suffix):
            return mime
    guessed, _ = mimetypes.guess_type(lower, strict=False)
    return guessed or "application/octet-stream"


def cache_control(path: str) -> str:
    """Cache-Control for a site path, by kind (see deploy/nginx/mfc-http.conf).

    >>> cache_control("theme/css/site.0123abcd.css")
    'public, max-age=31536000, immutable'
    >>> cache_control("news/index.html")
    'public, max-age=60'
    """
    path = path.lstrip("/")
    if FINGERPRINTED_RE.search(path) or PAGEFIND_HASHED_RE.search(path):
        return IMMUTABLE
    if MEDIA_RE.search(path):
        return DAY
    return SHORT


def kind_of(path: str) -> Kind:
    """How the file at a site path is served, precompressed copies included.

    A copy like ``index.html.gz`` has the type and caching of ``index.html``
    and ``Content-Encoding: gzip``.
    """
    original, encoding = split_encoding(path)
    if encoding is None:
        return Kind(content_type(path), None, cache_control(path))
    return Kind(content_type(original), encoding, cache_control(original))
