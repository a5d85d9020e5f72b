"""Full-text search: a Pagefind index of the built site.

After Pelican has written the whole site, this plugin runs the Pagefind
binary (package pagefind-bin) over the output folder and writes the search
bundle (``pagefind.js``, the WebAssembly, the index and fragments) into
``<output>/<SEARCH_INDEX_DIR>/``, once, at that explicit path. The search
page (``search.html`` in the theme) queries it in the browser with
``pagefind.js``; nothing leaves the site.

Only news items and pages are indexed: their templates mark the main content
with ``data-pagefind-body``, and once any page has that attribute Pagefind
skips every page without it (lists, archives, tags, the search page, 404).
Russian stemming follows from ``<html lang="ru">``.

Settings: ``SEARCH_INDEX`` (bool, default True) and ``SEARCH_INDEX_DIR``
(default ``"pagefind"``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from pagefind_bin import get_executable
from pelican import signals

log = logging.getLogger(__name__)

DEFAULT_INDEX_DIR = "pagefind"
# Parts of the bundle for Pagefind's own UIs; our search page has its own
# small script, so these would only be dead weight on the server.
UNUSED_BUNDLE_FILES = (
    "pagefind-ui.js",
    "pagefind-ui.css",
    "pagefind-modular-ui.js",
    "pagefind-modular-ui.css",
    "pagefind-component-ui.js",
    "pagefind-component-ui.css",
    "pagefind-highlight.js",
)
FOUND_RE = re.compile(r"Found (\d+) files? matching")


def _index_site(site: Path, bundle: Path) -> int:
    """Run the Pagefind binary over ``site``; write the bundle to ``bundle``.

    Returns the number of HTML files read (indexed or skipped). The binary
    rather than Pagefind's Python API: the API's service answers before
    every file of the bundle is on disk (a step right after it could read a
    half-written pagefind-worker.js), and polls at 0.1 s intervals; when
    the binary has exited, the bundle is complete.
    """
    result = subprocess.run(
        [
            str(get_executable()),
            "--site",
            str(site),
            "--output-path",
            str(bundle),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    found = FOUND_RE.search(result.stdout)
    if result.returncode != 0 or found is None:
        raise RuntimeError(
            f"mfc_search: Pagefind failed ({result.returncode}): "
            f"{(result.stdout + result.stderr).strip()[-2000:]}"
        )
    return int(found.group(1))


def build_index(
    site: str | os.PathLike, index_dir: str = DEFAULT_INDEX_DIR
) -> tuple[int, int]:
    """(Re)build the search bundle of the site in ``site``.

    Returns (pages indexed, HTML files read). An old bundle is removed first,
    so fragments of deleted pages never linger.
    """
    site = Path(site).resolve()
    bundle = site / index_dir
    shutil.rmtree(bundle, ignore_errors=True)
    read = _index_site(site, bundle)
    for name in UNUSED_BUNDLE_FILES:
        (bundle / name).unlink(missing_ok=True)
    # One fragment per indexed page.
    indexed = sum(1 for _ in (bundle / "fragment").glob("*.pf_fragment"))
    return indexed, read


def index_output(pelican) -> None:
    """Index the site Pelican has just written."""
    settings = pelican.settings
    if not settings.get("SEARCH_INDEX", True):
        return
    started = time.perf_counter()
    indexed, read = build_index(
        pelican.output_path, settings.get("SEARCH_INDEX_DIR", DEFAULT_INDEX_DIR)
    )
    if indexed == read:
        # Pagefind indexes every page when none has data-pagefind-body.
        log.warning(
            "mfc_search: all %d HTML files in %s were indexed, lists included: "
            "the news and page templates must mark their text with "
            "data-pagefind-body",
            read,
            pelican.output_path,
        )
        return
    log.info(
        "mfc_search: indexed %d of %d HTML files in %.2f s",
        indexed,
        read,
        time.perf_counter() - started,
    )


def register() -> None:
    # finalized: every page is written; the index must see the final HTML.
    # The staged build writes into a staging folder, which is output_path here.
    signals.finalized.connect(index_output)
