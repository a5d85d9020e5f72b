"""Metadata for search engines and social networks, from the content only.

- Resolves a news item's or page's lead image (front-matter key ``image``, a
  path under ``content/images/``) to its URL, as ``item.image_url``.
- Jinja filters for ``partials/head_meta.html``:

  ``{{ path|absolute_url }}``
      the site-relative ``path`` on ``SITEURL``;
  ``{{ text|plain }}``
      markup and typography entities removed, whitespace collapsed;
  ``{{ CONTACT|organization_jsonld(image) }}``
      schema.org ``GovernmentOrganization`` from the contact block;
  ``{{ article|news_jsonld(image) }}``
      schema.org ``NewsArticle`` for a news item, published by that
      organisation.

  The JSON-LD filters return JSON that is safe inside
  ``<script type="application/ld+json">``.
"""

from __future__ import annotations

import functools
import json
import logging
import posixpath
import re

from jinja2 import pass_context
from markupsafe import Markup
from pelican import signals

log = logging.getLogger(__name__)

SCHEMA = "https://schema.org"
ORGANIZATION_TYPE = "GovernmentOrganization"
COUNTRY = "RU"
# "г. Астрахань, ул. Бабефа, д. 8" → locality "Астрахань", street the rest.
CITY_FIRST_RE = re.compile(
    r"^\s*(?:г\.|город)\s*(?P<city>[^,]+?)\s*,\s*(?P<street>.+)$"
)
# JSON inside <script> must not close it or open a comment. (str.replace
# per character: str.translate with a table is ~40 times slower, and this
# runs for every page.)
SCRIPT_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))


# --- Text and URLs ----------------------------------------------------------


def plain(value) -> str:
    """Text for attributes and JSON: no tags, no entities, single spaces.

    >>> plain("Форум в&nbsp;Ельце <em>2013</em>")
    'Форум в Ельце 2013'
    """
    if value is None:
        return ""
    return _plain(str(value))


@functools.lru_cache(maxsize=4096)  # the site's name, titles: asked per page
def _plain(text: str) -> str:
    text = Markup(text).striptags()  # also unescapes &nbsp; &laquo; …
    return " ".join(text.replace("\xa0", " ").split())


def join_url(siteurl: str, path: str) -> str:
    """The URL of a site-relative ``path``; absolute URLs pass unchanged.

    >>> join_url("https://mfc.example", "news/2013/forum/")
    'https://mfc.example/news/2013/forum/'
    >>> join_url("", "news/")
    '/news/'
    """
    if re.match(r"^[a-z][a-z0-9+.-]*:", path or ""):
        return path
    return siteurl.rstrip("/") + "/" + (path or "").lstrip("/")


@pass_context
def absolute_url(context, path: str) -> str:
    return join_url(context.get("SITEURL", ""), path)


def script_safe_json(data: dict) -> Markup:
    """Serialise for a JSON-LD <script> element.

    >>> str(script_safe_json({"name": "</script>"}))
    '{"name": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(data, ensure_ascii=False)
    for unsafe, escaped in SCRIPT_SAFE:
        text = text.replace(unsafe, escaped)
    return Markup(text)


# --- schema.org -------------------------------------------------------------


def postal_address(address: str) -> dict:
    """A schema.org PostalAddress from the contact block's one-line address.

    >>> postal_address("г. Астрахань, ул. Бабефа, д. 8")["addressLocality"]
    'Астрахань'
    """
    text = plain(address)
    result = {"@type": "PostalAddress", "addressCountry": COUNTRY}
    match = CITY_FIRST_RE.match(text)
    if match:
        result["addressLocality"] = match["city"]
        result["streetAddress"] = match["street"]
    else:
        result["streetAddress"] = text
    return result


def organization(contact, siteurl: str, image: str = "") -> dict:
    """schema.org GovernmentOrganization for the contact block."""
    data = {
        "@context": SCHEMA,
        "@type": ORGANIZATION_TYPE,
        "@id": join_url(siteurl, "#organization"),
        "name": plain(contact.name),
        "url": join_url(siteurl, ""),
        "address": postal_address(contact.address),
        "telephone": plain(contact.phone),
        "email": plain(contact.email),
    }
    if image:
        data["logo"] = data["image"] = join_url(siteurl, image)
    return data


def news_article(article, contact, siteurl: str, site_image: str = "") -> dict:
    """schema.org NewsArticle for a news item."""
    url = join_url(siteurl, article.url)
    image = getattr(article, "image_url", "") or site_image
    published = article.date
    modified = getattr(article, "modified", None) or published
    publisher = {
        "@type": ORGANIZATION_TYPE,
        "@id": join_url(siteurl, "#organization"),
        "name": plain(contact.name),
        "url": join_url(siteurl, ""),
    }
    if site_image:
        logo = join_url(siteurl, site_image)
        publisher["logo"] = {"@type": "ImageObject", "url": logo}
    data = {
        "@context": SCHEMA,
        "@type": "NewsArticle",
        "mainEntityOfPage": url,
        "url": url,
        "headline": plain(article.title),
        "description": plain(getattr(article, "summary", "")),
        "datePublished": published.isoformat(),
        "dateModified": modified.isoformat(),
        "inLanguage": getattr(article, "lang", "ru"),
        "author": publisher,
        "publisher": publisher,
    }
    if image:
        data["image"] = [join_url(siteurl, image)]
    tags = [plain(tag) for tag in getattr(article, "tags", None) or []]
    if tags:
        data["keywords"] = tags
    return data


@pass_context
def organization_jsonld(context, contact, image: str = "") -> Markup:
    return script_safe_json(organization(contact, context.get("SITEURL", ""), image))


@pass_context
def news_jsonld(context, article, site_image: str = "") -> Markup:
    data = news_article(
        article, context["CONTACT"], context.get("SITEURL", ""), site_image
    )
    return script_safe_json(data)


FILTERS = {
    "absolute_url": absolute_url,
    "plain": plain,
    "organization_jsonld": organization_jsonld,
    "news_jsonld": news_jsonld,
}


# --- Lead images --------------------------------------------------------------


def image_source_path(value: str) -> str:
    """Normalise the front matter's ``image`` to a path relative to content/.

    >>> image_source_path("{static}/images/2013/forum.jpg")
    'images/2013/forum.jpg'
    """
    value = str(value).strip().replace("\\", "/")
    value = value.removeprefix("{static}").lstrip("/")
    return posixpath.normpath(value)


def resolve_images(generators) -> None:
    """Give every item with an ``image`` its ``image_url``, or log an error."""
    static = {}
    items = []
    for generator in generators:
        static = generator.context.get("static_content", static)
        for name in ("articles", "drafts", "pages", "hidden_pages", "draft_pages"):
            items.extend(getattr(generator, name, None) or [])
    for item in items:
        value = getattr(item, "image", None)
        if not value:
            continue
        path = image_source_path(value)
        found = static.get(path) or static.get(posixpath.join("images", path))
        if found is None:
            log.error(
                "mfc_meta: %s: картинка «%s» не найдена в папке content/images/ — "
                "проверьте имя файла и путь (например, images/2024/foto.jpg)",
                item.relative_source_path,
                value,
            )
            continue
        item.image_url = found.url


def add_filters(generator) -> None:
    generator.env.filters.update(FILTERS)


def register() -> None:
    # generator_init: the filters must exist before any template renders.
    signals.generator_init.connect(add_filters)
    # all_generators_finalized: static files and all content are known, and
    # nothing has been written yet.
    signals.all_generators_finalized.connect(resolve_images)
