"""Content blocks shown on every page: the contact block.

``content/blocks/contact.md`` (setting ``CONTACT_BLOCK``) holds the
organisation's contacts as YAML front matter. This plugin reads it once per
build, validated against the contact block's schema in ``mfc_content`` (the
same one ``invoke check`` uses), derives the link targets (``tel:``,
``mailto:``, the directions page's URL) and puts the result into the
template context as ``CONTACT``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass, fields

from pelican import signals

# Pelican imports plugins from PLUGIN_PATHS without putting that folder on
# sys.path; the sibling package mfc_content must be importable all the same.
PLUGINS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PLUGINS_DIR not in sys.path:
    sys.path.append(PLUGINS_DIR)

from mfc_content import ContentError, read_contact  # noqa: E402

log = logging.getLogger(__name__)


@dataclass
class Contact:
    """The organisation's contacts, as the theme shows them."""

    name: str
    address: str
    phone: str
    email: str
    directions: str  # source path of the directions page, relative to PATH
    hours: str | None = None
    coordinates: tuple[float, float] | None = None  # (latitude, longitude)
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


def load_contact(settings: dict) -> Contact:
    """Read and validate the contact block named by ``CONTACT_BLOCK``.

    A block with problems is logged (every problem, in Russian, with file and
    line), which fails a build run with fatal errors; the site is then
    rendered with what could be read, never with a traceback.
    """
    try:
        values = read_contact(settings)
    except ContentError as error:
        log.error("mfc_blocks: %s", error)
        values = {}
    known = {f.name for f in fields(Contact)}
    values = {k: v for k, v in values.items() if k in known}
    for name in ("name", "address", "phone", "email", "directions"):
        values.setdefault(name, "")
    return Contact(**values)


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
