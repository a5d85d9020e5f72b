"""Content blocks shown on every page: the contact block.

``content/blocks/contact.md`` (setting ``CONTACT_BLOCK``) holds the
organisation's contacts as YAML front matter. This plugin reads it once per
build, derives the link targets (``tel:``, ``mailto:``, the directions page's
URL) and puts the result into the template context as ``CONTACT``.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

import yaml
from pelican import signals

log = logging.getLogger(__name__)

FRONT_MATTER_RE = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)^---[ \t]*\r?$", re.S | re.M)


@dataclass
class Contact:
    """The organisation's contacts, as the theme shows them."""

    name: str
    address: str
    phone: str
    email: str
    directions: str  # source path of the directions page, relative to PATH
    hours: str | None = None
    directions_url: str = ""
    directions_title: str = "Как добраться"

    @property
    def phone_href(self) -> str:
        """``tel:`` URI with digits only, as RFC 3966 wants.

        >>> Contact("", "", "+7 8512 668-807", "", "").phone_href
        'tel:+78512668807'
        """
        digits = re.sub(r"\D", "", self.phone)
        return (
            "tel:+" + digits if self.phone.strip().startswith("+") else "tel:" + digits
        )

    @property
    def email_href(self) -> str:
        return "mailto:" + self.email


def read_front_matter(path: str) -> dict:
    """Return the YAML front matter of a Markdown file as a dict."""
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    match = FRONT_MATTER_RE.match(text)
    if not match:
        raise ValueError(f"{path}: no YAML front matter between '---' lines")
    data = yaml.safe_load(match.group(1)) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: front matter is not a set of 'key: value' lines")
    return data


def load_contact(settings: dict) -> Contact:
    """Read the contact block named by the ``CONTACT_BLOCK`` setting."""
    path = os.path.join(settings["PATH"], settings["CONTACT_BLOCK"])
    data = read_front_matter(path)
    fields = {k: (str(v).strip() if v is not None else None) for k, v in data.items()}
    return Contact(**fields)


def add_contact(generator) -> None:
    """Put the contact block into the shared template context, once."""
    if "CONTACT" not in generator.context:
        generator.context["CONTACT"] = load_contact(generator.settings)


def link_directions_page(generator) -> None:
    """Resolve the directions page's source path to its URL and title."""
    contact = generator.context["CONTACT"]
    wanted = os.path.normpath(contact.directions)
    for page in generator.pages + generator.hidden_pages:
        if os.path.normpath(page.relative_source_path) == wanted:
            contact.directions_url = page.url
            contact.directions_title = page.title
            return
    log.error(
        "mfc_blocks: %s: directions page %r does not exist",
        generator.settings["CONTACT_BLOCK"],
        contact.directions,
    )


def register() -> None:
    # generator_init: the block must be in the context before any page renders.
    signals.generator_init.connect(add_contact)
    # page_generator_finalized: pages are read, none is written yet.
    signals.page_generator_finalized.connect(link_directions_page)
