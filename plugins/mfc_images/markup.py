"""The HTML of a responsive photo, and the rewriting of photos in the text.

One function writes every ``<picture>`` on the site (lead image, news list,
gallery, photos in the text), so they are all alike::

    <picture class="mfc-picture">
      <source type="image/webp" srcset="….360w, ….720w, …" sizes="…">
      <img src="….720.jpg" srcset="…" sizes="…" width="1600" height="1200"
           alt="…" loading="lazy" decoding="async">
    </picture>
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from mfc_content.body import normalise_parts

FALLBACK_WIDTH = 720  # the JPEG an old browser (no srcset) loads
# What the theme's layout gives each kind of photo, for the browser to pick
# the smallest file that is still sharp (see theme/static/css/site.css).
SIZES = {
    "lead": "(min-width: 48em) 44rem, calc(100vw - 2rem)",
    "text": "(min-width: 48em) 44rem, calc(100vw - 2rem)",
    "card": "(min-width: 48em) 12rem, calc(100vw - 2rem)",
    "thumb": "(min-width: 48em) 14rem, calc(50vw - 1.5rem)",
}
IMG_TAG_RE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
ATTR_RE = re.compile(
    r"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""", re.DOTALL
)
STATIC_PREFIX_RE = re.compile(r"^(\{static\}|\{attach\}|\|static\||\|attach\|)")


@dataclass(frozen=True)
class File:
    url: str  # site-relative, e.g. images/2020/foto-360.0123456789.webp
    width: int
    height: int


@dataclass(frozen=True)
class Photo:
    """A processed photo: its derivatives in the output, by format."""

    source: str  # the original, relative to content/
    webp: tuple[File, ...]
    jpeg: tuple[File, ...]
    siteurl: str = ""

    def link(self, file: File) -> str:
        return f"{self.siteurl}/{file.url}"

    @property
    def largest(self) -> File:
        return self.jpeg[-1]

    @property
    def fallback(self) -> File:
        fitting = [f for f in self.jpeg if f.width <= FALLBACK_WIDTH]
        return fitting[-1] if fitting else self.jpeg[0]

    @property
    def full_url(self) -> str:
        """The largest JPEG: what a thumbnail opens, and the Open Graph image."""
        return self.link(self.largest)

    @property
    def width(self) -> int:
        return self.largest.width

    @property
    def height(self) -> int:
        return self.largest.height

    def srcset(self, fmt: str) -> str:
        files = self.webp if fmt == "webp" else self.jpeg
        return ", ".join(f"{self.link(f)} {f.width}w" for f in files)


def attr(value) -> str:
    """Text for an attribute, escaped once (editors' text may hold entities)."""
    return html.escape(html.unescape(str(value)), quote=True)


def picture(
    photo: Photo,
    alt: str,
    kind: str = "text",
    *,
    eager: bool = False,
    css_class: str = "",
) -> Markup:
    """The <picture> element of `photo` for a place of `kind` (SIZES)."""
    sizes = SIZES[kind]
    loading = (
        ' fetchpriority="high" decoding="async"'
        if eager
        else ' loading="lazy" decoding="async"'
    )
    classes = " ".join(filter(None, ["mfc-picture", css_class]))
    return Markup(
        f'<picture class="{classes}">'
        f'<source type="image/webp" srcset="{photo.srcset("webp")}" sizes="{sizes}">'
        f'<img src="{photo.link(photo.fallback)}" srcset="{photo.srcset("jpeg")}"'
        f' sizes="{sizes}" width="{photo.width}" height="{photo.height}"'
        f' alt="{attr(alt)}"{loading}>'
        "</picture>"
    )


def image_attributes(tag: str) -> dict[str, str]:
    """The attributes of an <img> tag, values unescaped.

    >>> image_attributes('<img alt="a &amp; b" src="{static}/images/x.jpg" />')
    {'alt': 'a & b', 'src': '{static}/images/x.jpg'}
    """
    inner = tag[4:].rstrip(">").rstrip("/")
    result = {}
    for name, raw in ATTR_RE.findall(inner):
        value = raw[1:-1] if raw[:1] in ("'", '"') else raw
        result[name.lower()] = html.unescape(value)
    return result


def source_path(src: str, here: str) -> str:
    """A content-relative path from an <img> src in the text of `here`.

    >>> source_path("{static}/images/2020/a.jpg", "news/2020/x.md")
    'images/2020/a.jpg'
    >>> source_path("../../images/b.png", "news/2020/x.md")
    'images/b.png'
    """
    path = STATIC_PREFIX_RE.sub("", src.strip()).split("#")[0].split("?")[0]
    if path.startswith("/"):
        parts = path.lstrip("/").split("/")
    else:
        parts = [*here.split("/")[:-1], *path.split("/")]
    return "/".join(normalise_parts(parts))


def rewrite_images(
    content: str, here: str, find: Callable[[str], Photo | None]
) -> tuple[str, int]:
    """Replace each <img> of a processed photo in `content` by its <picture>.

    Returns the new HTML and how many images were replaced. An image that is
    not a processed photo (an SVG, a GIF) is left as it is.
    """
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        attrs = image_attributes(match.group())
        photo = find(source_path(attrs.get("src", ""), here))
        if photo is None:
            return match.group()
        count += 1
        return str(picture(photo, attrs.get("alt", ""), "text"))

    return IMG_TAG_RE.sub(replace, content), count
