"""The page-weight budget of a news item without photos, measured in chromium.

A cold load (fresh context, empty cache) from a server that serves gzip, as
production does: every request the page makes is counted with the bytes it
transferred (response headers + encoded body). An icon the page declares is
counted even if headless chromium does not fetch it, since a desktop browser
would. The figures are printed and written to reports/budget.txt.
"""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

from tests.browser.conftest import REPORTS

ITEM = "/news/2013/forum-v-eltse/"
BUDGET_BYTES = 30 * 1024
BUDGET_REQUESTS = 5
FINGERPRINTED = re.compile(r"\.[0-9a-f]{10}\.(css|js|svg)$")


def wire_size(url: str) -> tuple[str, int]:
    """Fetch `url` as a browser would; return its encoding and the bytes of
    status line, headers and (still compressed) body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", parts.path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        body = response.read()
        head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in response.getheaders()
        )
        encoding = response.getheader("Content-Encoding", "-")
        return encoding, len(head) + 2 + len(body)
    finally:
        connection.close()


def measure(open_page, base_url: str):
    """Load the news item cold; return [(url, type, encoding, bytes)]."""
    finished = []
    page = open_page(None)  # blank: listeners first, then the cold load

    def record(request) -> None:
        finished.append(request)

    page.on("requestfinished", record)
    response = page.goto(base_url + ITEM, wait_until="networkidle")
    assert response.status == 200
    rows = []
    for request in finished:
        sizes = request.sizes()
        headers = request.response().headers if request.response() else {}
        rows.append(
            (
                request.url,
                request.resource_type,
                headers.get("content-encoding", "-"),
                sizes["responseHeadersSize"] + sizes["responseBodySize"],
            )
        )
    requested = {url for url, *_ in rows}
    for href in page.eval_on_selector_all(
        "link[rel~=icon]", "links => links.map(l => l.href)"
    ):
        if href not in requested:
            encoding, size = wire_size(href)
            rows.append((href, "icon (declared)", encoding, size))
    return page, rows


def test_news_item_fits_the_budget(open_page, base_url, capsys):
    page, rows = measure(open_page, base_url)
    total = sum(size for *_, size in rows)
    lines = [
        f"Page-weight budget: {ITEM} (no photos), cold load, gzip",
        f"{'bytes':>7}  {'encoding':8}  {'type':16}  url",
    ]
    lines += [
        f"{size:>7}  {enc:8}  {kind:16}  {urlsplit(url).path}"
        for url, kind, enc, size in rows
    ]
    lines.append(
        f"{total:>7}  total over {len(rows)} requests "
        f"(budget {BUDGET_BYTES} bytes, {BUDGET_REQUESTS} requests)"
    )
    report = "\n".join(lines)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "budget.txt").write_text(report + "\n", encoding="utf-8")
    with capsys.disabled():
        print("\n" + report)

    host = urlsplit(base_url).netloc
    assert all(urlsplit(url).netloc == host for url, *_ in rows), "another host"
    assert len(rows) <= BUDGET_REQUESTS
    assert total <= BUDGET_BYTES
    kinds = [kind for _, kind, *_ in rows]
    assert "font" not in kinds
    assert kinds.count("document") == 1
    # Text travels compressed.
    for url, kind, enc, _size in rows:
        if kind in {"document", "stylesheet", "script"}:
            assert enc == "gzip", url
        if kind != "document":
            assert FINGERPRINTED.search(urlsplit(url).path), f"{url} not fingerprinted"
    # No web fonts declared either.
    assert page.evaluate("document.fonts.size") == 0
    css = page.evaluate(
        "[...document.styleSheets].flatMap(s => [...s.cssRules])"
        ".filter(r => r.type === CSSRule.FONT_FACE_RULE).length"
    )
    assert css == 0
