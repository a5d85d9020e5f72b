"""What a visitor's search downloads, with one index and with the index in parts.

    .venv/bin/python bench/search_weight.py SITE [QUERY ...]

SITE is a built site (an output/ folder, e.g. the one bench/run.py left in
its work folder with --keep). Two linked copies of it are indexed, one as a
single index (SEARCH_PART_PAGES = 0) and one in parts (the default); then,
for each query, a fresh Chromium context opens /search/?q=QUERY on each copy
(served on 127.0.0.1) and the search bundle's requests are counted with the
bytes they take on the wire: Pagefind's index files are already compressed,
other files are counted as their .br copy, or gzip -9. The table also gives
the number of results the page announced: Pagefind's approximate matches
(a low-scored "принял" for "приём") depend on the words of the index they
are looked up in, so parts can find a few more or fewer than one index.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "plugins"), str(HERE.parent)]

from playwright.sync_api import sync_playwright  # noqa: E402

from mfc_search import DEFAULT_PART_PAGES, build_index  # noqa: E402
from tests.browser.server import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
QUERIES = ("паспорт", "выдача паспорта", "МФЦ")
COMPRESSED = {".pf_fragment", ".pf_index", ".pf_meta", ".pf_filter", ".pagefind"}


def wire_bytes(path: Path) -> int:
    if path.suffix in COMPRESSED:
        return path.stat().st_size
    brotli = path.with_name(path.name + ".br")
    if brotli.exists():
        return brotli.stat().st_size
    return len(gzip.compress(path.read_bytes(), 9))


def site_url(site: Path) -> str:
    """The site's own URL, as its search page names pagefind.js."""
    page = (site / "search" / "index.html").read_text(encoding="utf-8")
    script = page.split('data-pagefind="', 1)[1].split('"', 1)[0]
    parts = urlsplit(script)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def measure(browser, site: Path, query: str) -> tuple[str, int, int]:
    """(results, requests, bytes) of the search bundle for one query."""
    own = site_url(site)
    fetched: list[int] = []
    with serve(site) as local:
        base = own or local
        context = browser.new_context(locale="ru-RU")

        def answer(route):
            path = urlsplit(route.request.url).path
            if "/pagefind/" in path:
                fetched.append(wire_bytes(site / path.lstrip("/")))
            route.fulfill(response=route.fetch(url=local + path))

        context.route(f"{base}/**", answer)
        try:
            tab = context.new_page()
            tab.goto(f"{base}/search/?q={quote(query)}")
            tab.wait_for_function(
                "document.querySelector('[role=status]').textContent.length > 0",
                timeout=120_000,
            )
            status = tab.text_content("[role=status]")
            found = re.search(r"\d+", status)
        finally:
            context.unroute_all(behavior="wait")
            context.close()
    return found.group(0) if found else "0", len(fetched), sum(fetched)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("queries", nargs="*", default=QUERIES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="search-weight-") as work:
        copies = {}
        for label, part_pages in (("one index", 0), ("in parts", DEFAULT_PART_PAGES)):
            copy = Path(work) / label.replace(" ", "-")
            shutil.copytree(args.site, copy, copy_function=os.link)
            index = build_index(copy, part_pages=part_pages)
            copies[f"{label} ({index.parts})"] = copy
        print("| query | index (parts) | results | requests | downloaded |")
        print("| --- | --- | ---: | ---: | ---: |")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                for query in args.queries:
                    for label, copy in copies.items():
                        found, requests, size = measure(browser, copy, query)
                        cells = [query, label, found, requests, f"{size / 1024:.0f} KB"]
                        print("| " + " | ".join(map(str, cells)) + " |")
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
