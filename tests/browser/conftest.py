"""Browser fixtures: Debian's chromium driven by Python playwright.

One browser for the whole session; every test gets fresh browser contexts
(no shared storage or cache) from the `open_page` factory. The fixture site
is served over HTTP on 127.0.0.1 by tests/browser/server.py (gzip, 404.html).
Screenshots and reports go to reports/ (git-ignored; CI keeps the folder).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pelican.settings import read_settings
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.server import serve
from tests.conftest import RICH_ITEM_URL, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPORTS = ROOT / "reports"
SCREENSHOTS = REPORTS / "screenshots"
STORAGE_KEY = "mfc-a11y"

# Every page kind, by name: (URL, expected HTTP status). Direct templates the
# settings add later (e.g. "search") are appended by `page_kinds()`.
KNOWN_PAGE_KINDS = {
    "home": ("/", 200),
    "news-list": ("/news/", 200),
    "news-list-page-2": ("/news/page/2/", 200),
    "news-item": ("/news/2013/forum-v-eltse/", 200),
    "news-item-photo": (RICH_ITEM_URL, 200),
    "page": ("/kak-dobratsya/", 200),
    "tags": ("/tags/", 200),
    "tag": ("/tags/forum/", 200),
    "year-archive": ("/news/2013/", 200),
    "archive": ("/archive/", 200),
    "404": ("/no-such-page/", 404),
}
# Direct templates the list above already covers.
COVERED_DIRECT_TEMPLATES = {"home", "index", "tags", "archives", "404"}

# The mode's colour schemes: name → (text, background) as computed RGB.
SCHEMES = {
    "default": None,
    "bw": ("rgb(0, 0, 0)", "rgb(255, 255, 255)"),
    "wb": ("rgb(255, 255, 255)", "rgb(0, 0, 0)"),
    "blue": ("rgb(6, 52, 98)", "rgb(157, 209, 255)"),
    "beige": ("rgb(77, 75, 67)", "rgb(247, 243, 214)"),
}


def page_kinds() -> dict[str, tuple[str, int]]:
    """All page kinds to test, including direct templates added later (the
    search page of issue 5: DIRECT_TEMPLATES += ["search"] is picked up)."""
    settings = read_settings(str(ROOT / "pelicanconf.py"))
    kinds = dict(KNOWN_PAGE_KINDS)
    for name in settings["DIRECT_TEMPLATES"]:
        if name in COVERED_DIRECT_TEMPLATES:
            continue
        url = settings.get(f"{name.upper()}_URL")
        if url is None:
            save_as = settings.get(f"{name.upper()}_SAVE_AS", f"{name}.html")
            url = save_as.removesuffix("index.html")
        kinds[name] = ("/" + url.lstrip("/"), 200)
    return kinds


PAGE_KINDS = page_kinds()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium; never a downloaded browser."""
    assert Path(CHROMIUM).is_file(), (
        f"{CHROMIUM} is missing: apt-get install chromium (bash .ci/run does)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def base_url(site) -> Iterator[str]:
    """The fixture site over HTTP on 127.0.0.1, on a port picked at run time."""
    with serve(site.output) as url:
        yield url


@pytest.fixture
def open_page(browser, base_url):
    """Factory: a fresh page (own context) at a viewport width, with the
    mode's settings saved beforehand, opened at a URL of the site."""
    contexts = []

    def opener(
        url: str | None = "/",
        *,
        width: int = 1280,
        height: int = 900,
        settings: dict | None = None,
        **context_options,
    ) -> Page:
        context = browser.new_context(
            base_url=base_url,
            viewport={"width": width, "height": height},
            **context_options,
        )
        contexts.append(context)
        if settings is not None:
            # Stored before the first page script runs, as after a previous
            # visit; later navigations keep what the page itself stores.
            key, value = json.dumps(STORAGE_KEY), json.dumps(json.dumps(settings))
            context.add_init_script(
                f"if (window.localStorage.getItem({key}) === null) "
                f"window.localStorage.setItem({key}, {value});"
            )
        page = context.new_page()
        page.last_response = page.goto(url) if url is not None else None
        return page

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    """reports/screenshots/, emptied once per session."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS
