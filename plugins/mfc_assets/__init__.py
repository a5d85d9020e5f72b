"""Fingerprinted names for the theme's static files, for long caching.

Templates name a theme file through the ``asset`` filter::

    <link rel="stylesheet" href="{{ SITEURL }}/{{ 'css/site.css'|asset }}">
    →  <link rel="stylesheet" href="/theme/css/site.5d41402abc.css">

The name carries the first 10 hex digits of the SHA-256 of the file's bytes,
so a changed file gets a new URL and the server may let browsers cache every
fingerprinted file for a year (``Cache-Control: immutable``, issue 6's nginx
config). At the end of the build the plugin writes each fingerprinted copy
next to the plain file that Pelican copies from ``theme/static/`` as usual (so
a template or an old page that names a plain file still works).

Why not pelican-webassets: it vendors an old copy of webassets (bundling,
compilers, a per-render freshness check), is AGPL-licensed, and its hash
versions are computed while pages render. This site has one stylesheet, one
script and one icon and needs none of that: hashing each file once per build
is all there is to do, and it stays fast at 10,000 pages.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

from pelican import signals

log = logging.getLogger(__name__)

HASH_LENGTH = 10


def fingerprinted_name(relative: str, data: bytes) -> str:
    """Insert the content hash before the file's extension.

    >>> fingerprinted_name("css/site.css", b"hello")
    'css/site.2cf24dba5f.css'
    """
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    stem, dot, ext = relative.rpartition(".")
    return (
        f"{stem}.{digest}.{ext}" if dot and "/" not in ext else f"{relative}.{digest}"
    )


class Assets:
    """The theme's static files of one build and their fingerprinted names."""

    def __init__(self, settings: dict):
        self.static_dir = settings["THEME_STATIC_DIR"]
        self.sources: dict[str, Path] = {}
        self.names: dict[str, str] = {}
        for folder in settings["THEME_STATIC_PATHS"]:
            base = Path(settings["THEME"], folder)
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    relative = path.relative_to(base).as_posix()
                    self.sources[relative] = path
                    self.names[relative] = fingerprinted_name(
                        relative, path.read_bytes()
                    )
        self.used: set[str] = set()

    def url(self, relative: str) -> str:
        """Jinja filter ``asset``: the fingerprinted path, relative to SITEURL."""
        relative = relative.lstrip("/")
        name = self.names.get(relative)
        if name is None:
            log.error(
                "mfc_assets: the template names 'theme/static/%s', which does not "
                "exist; check the path in the template",
                relative,
            )
            name = relative
        else:
            self.used.add(relative)
        return f"{self.static_dir}/{name}"

    def write(self, output_path: str) -> None:
        """Copy every file a template asked for under its fingerprinted name."""
        for relative in sorted(self.used):
            target = Path(output_path, self.static_dir, self.names[relative])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.sources[relative], target)
        log.debug("mfc_assets: wrote %d fingerprinted files", len(self.used))


_BUILD: dict[str, Assets] = {}


def start_build(pelican) -> None:
    """Hash the theme's static files once per build (livereload rebuilds too)."""
    _BUILD["assets"] = Assets(pelican.settings)


def add_filter(generator) -> None:
    generator.env.filters["asset"] = _BUILD["assets"].url


def write_fingerprinted(pelican) -> None:
    _BUILD.pop("assets").write(os.fspath(pelican.output_path))


def register() -> None:
    # initialized: once per build, before any generator exists.
    signals.initialized.connect(start_build)
    # generator_init: each generator's Jinja environment gets the filter
    # before anything renders.
    signals.generator_init.connect(add_filter)
    # finalized: every page is written, so every name a template used is known.
    signals.finalized.connect(write_fingerprinted)
