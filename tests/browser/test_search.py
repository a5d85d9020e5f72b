"""Full-text search: the Pagefind index, the search page, and Russian queries
in a real browser (Debian's chromium driven by playwright) against the built
site served over HTTP on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import logging
import re
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from mfc_search import build_index, index_output
from tests.conftest import GENERATED_NEWS, PUBLISHED_URL, text_of

FORUM = "/news/2013/forum-v-eltse/"
DIRECTIONS = "/kak-dobratsya/"
TIMEOUT_MS = 15_000


# --- The index ----------------------------------------------------------------


def indexed(site) -> dict[str, dict]:
    """The pages in the site's Pagefind index, by URL, read from its fragments
    (gzip: the signature "pagefind_dcd", then one JSON object per page)."""
    pages = {}
    for path in (site.output / "pagefind" / "fragment").glob("*.pf_fragment"):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd"), path
        fragment = json.loads(data.removeprefix(b"pagefind_dcd"))
        pages[fragment["url"]] = fragment
    return pages


def listed_items_and_pages(site) -> set[str]:
    """News items as the paginated news list links them, plus the menu's pages."""
    urls = set()
    url = "/news/"
    while url:
        soup = site.page(url)
        urls |= {a["href"] for a in soup.select("main .mfc-news-card__title a")}
        following = soup.select_one('.mfc-pagination a[rel="next"]')
        url = following["href"] if following else None
    nav = site.page("/").select("nav.mfc-nav a")
    urls |= {
        a["href"] for a in nav if site.page(a["href"]).select_one("article.mfc-article")
    }
    return urls


def test_index_holds_exactly_the_news_items_and_pages(site):
    # Drafts are listed (and marked) in the preview, but never indexed.
    expected = {
        url
        for url in listed_items_and_pages(site)
        if not site.page(url).select_one(".mfc-status")
    }
    assert len(expected) == GENERATED_NEWS + 2  # the seed item and one page
    assert set(indexed(site)) == expected


def test_index_stems_russian(site):
    bundle = site.output / "pagefind"
    entry = json.loads((bundle / "pagefind-entry.json").read_text("utf-8"))
    assert list(entry["languages"]) == ["ru"]
    assert (bundle / "wasm.ru.pagefind").is_file()


def test_index_keeps_title_and_date_of_each_item(site):
    forum = indexed(site)[FORUM]
    title = text_of(site.page(FORUM).find("h1"))
    assert " ".join(forum["meta"]["title"].split()) == title
    assert forum["meta"]["date"] == "20 сентября 2013 г."
    # Only the item's own text: no header, menu or contact block.
    assert "Основное меню" not in forum["content"]
    assert "Перейти к основному содержанию" not in forum["content"]


def test_drafts_are_not_indexed_in_preview(site):
    assert site.file("/news/2019/subbotnik/").is_file()  # the preview shows it
    pages = indexed(site)
    assert not [url for url in pages if "subbotnik" in url]
    assert not [url for url, page in pages.items() if "субботник" in page["content"]]


def test_production_index_has_no_draft_or_future_item(published_site):
    pages = indexed(published_site)
    assert FORUM in pages
    assert "/news/2021/novyi-zal/" in pages
    for word in ("субботник", "юбилей"):
        assert not [url for url, p in pages.items() if word in p["content"]], word
    assert not [url for url in pages if "subbotnik" in url or "yubilei" in url]


def test_unused_pagefind_ui_is_not_shipped(site):
    bundle = site.output / "pagefind"
    assert (bundle / "pagefind.js").is_file()
    assert not list(bundle.glob("pagefind-*ui*"))


def write_html(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'<!DOCTYPE html><html lang="ru"><head><title>т</title></head>'
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )


def test_index_is_rebuilt_without_stale_pages(tmp_path):
    item = tmp_path / "news" / "2024" / "a" / "index.html"
    write_html(item, "<main data-pagefind-body><h1>Новость о форуме</h1></main>")
    write_html(tmp_path / "news" / "index.html", "<h1>Список новостей</h1>")
    assert build_index(tmp_path).indexed == 1
    assert (tmp_path / "pagefind" / "pagefind.js").is_file()
    item.unlink()
    write_html(tmp_path / "b" / "index.html", "<main data-pagefind-body>Б</main>")
    assert build_index(tmp_path).indexed == 1
    fragments = list((tmp_path / "pagefind" / "fragment").iterdir())
    assert len(fragments) == 1  # nothing left of the removed page


def test_templates_without_pagefind_body_are_a_warning(tmp_path, caplog):
    """Pagefind would index every page, lists included: the build must fail
    (warnings are fatal)."""
    write_html(tmp_path / "index.html", "<h1>Список</h1>")
    write_html(tmp_path / "news" / "a" / "index.html", "<h1>Новость</h1>")
    pelican = SimpleNamespace(output_path=str(tmp_path), settings={})
    with caplog.at_level(logging.WARNING):
        index_output(pelican)
    (record,) = caplog.records
    assert record.getMessage().startswith("mfc_search: all 2 HTML files")


def test_indexing_can_be_switched_off(tmp_path):
    write_html(tmp_path / "a" / "index.html", "<main data-pagefind-body>А</main>")
    pelican = SimpleNamespace(
        output_path=str(tmp_path), settings={"SEARCH_INDEX": False}
    )
    index_output(pelican)
    assert not (tmp_path / "pagefind").exists()


# --- The page -----------------------------------------------------------------


def test_search_page_has_a_labelled_field_and_a_status_region(site):
    soup = site.page("/search/")
    assert text_of(soup.find("h1")) == "Поиск по сайту"
    form = soup.select_one('main form[role="search"]')
    field = form.find("input", type="search")
    label = form.find("label", attrs={"for": field["id"]})
    assert text_of(label) == "Что вы ищете?"
    assert field["name"] == "q"
    assert form.find("button", type="submit")
    status = soup.select_one('main [role="status"]')
    assert status is not None
    assert text_of(status) == ""  # filled in by the script, then announced


def test_search_page_says_what_to_do_without_javascript(site):
    soup = site.page("/search/")
    fallback = soup.select_one("main [data-search-fallback]")
    assert "JavaScript" in text_of(fallback)
    links = {a["href"] for a in fallback.find_all("a")}
    assert {"/archive/", "/tags/"} <= links
    # The form does nothing without the script, so it starts hidden.
    assert soup.select_one('main form[role="search"]').has_attr("hidden")


def test_search_is_in_the_menu(site):
    link = site.page("/").select_one('nav.mfc-nav a[href="/search/"]')
    assert text_of(link) == "Поиск"
    current = site.page("/search/").select('nav.mfc-nav [aria-current="page"]')
    assert [text_of(a) for a in current] == ["Поиск"]


def test_search_script_loads_on_the_search_page_only(site):
    for path in site.html_files():
        url = site.url_of(path)
        scripts = [s["src"] for s in site.page(url).find_all("script") if s.get("src")]
        search_scripts = [src for src in scripts if "/search." in src]
        if url == "/search/":
            assert len(search_scripts) == 1
            assert re.fullmatch(
                r"/static/js/search\.[0-9a-f]{10}\.js", search_scripts[0]
            )
        else:
            assert search_scripts == [], url


def test_search_script_is_a_module_without_inline_code(site):
    soup = site.page("/search/")
    script = soup.find("script", src=re.compile(r"/search\."))
    assert script["type"] == "module"
    inline = [s for s in soup.find_all("script") if not s.get("src")]
    assert all(s["type"] == "application/ld+json" for s in inline)
    assert not soup.select("[style]")


# --- In the browser -------------------------------------------------------------


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def serve():
    """Start HTTP servers on 127.0.0.1 (ports the system picks), each for a
    folder and with extra response headers; all are stopped at the end."""
    started = []

    def start(directory: Path, headers: dict[str, str] | None = None) -> str:
        class Handler(QuietHandler):
            def end_headers(self):
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                super().end_headers()

        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(Handler, directory=str(directory))
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def http_site(site, serve):
    return serve(site.output)


@pytest.fixture(scope="module")
def http_published(published_site, serve):
    return serve(published_site.output)


@pytest.fixture
def page(browser, http_site):
    """A fresh browser tab that records every request and console error."""
    context = browser.new_context(base_url=http_site, locale="ru-RU")
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.requests = []
    tab.errors = []
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()
    assert tab.errors == []


def results(tab) -> list[str]:
    """The result links on the page, as site paths."""
    links = tab.locator(".mfc-search__results a")
    return [
        re.sub(r"^https?://[^/]+", "", href)
        for href in links.evaluate_all("links => links.map(a => a.href)")
    ]


def search(tab, query: str) -> None:
    """Type a query into the field as a visitor would and press Enter."""
    field = tab.get_by_label("Что вы ищете?")
    field.fill(query)
    field.press("Enter")
    expect(tab.get_by_role("status")).to_contain_text(f"«{query}»")


@pytest.mark.parametrize("query", ["форумы", "форумах", "форумом"])
def test_russian_word_form_finds_the_forum_item_first(page, query):
    page.goto("/search/")
    search(page, query)
    assert results(page)[0] == FORUM
    assert page.errors == []


def test_result_count_is_announced_in_the_status_region(page):
    page.goto("/search/")
    search(page, "форумы")
    status = page.get_by_role("status")
    expect(status).to_have_text("Найден 1 результат по запросу «форумы».")
    expect(status).to_have_attribute("role", "status")
    first = page.locator(".mfc-search-result").first
    expect(first.locator("h2 a")).to_have_text(
        re.compile(r"Сотрудники\s+МФЦ\s+приняли\s+участие\s+в\s+международном\s+форуме")
    )
    expect(first.locator(".mfc-search-result__date")).to_have_text(
        "20 сентября 2013 г."
    )
    expect(first.locator("mark").first).to_be_visible()


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "Найден 1 результат"),
        (2, "Найдено 2 результата"),
        (4, "Найдено 4 результата"),
        (5, "Найдено 5 результатов"),
        (11, "Найдено 11 результатов"),
        (21, "Найден 21 результат"),
        (22, "Найдено 22 результата"),
        (112, "Найдено 112 результатов"),
    ],
)
def test_result_counts_are_in_correct_russian(page, count, expected):
    page.goto("/search/")
    message = page.evaluate(
        "async (n) => (await import('/static/js/search.js')).foundMessage(n, 'ф')",
        count,
    )
    assert message == f"{expected} по запросу «ф»."


@pytest.mark.parametrize(
    ("excerpt", "query", "matches"),
    [
        ("о <mark>форуме</mark> в Ельце", "форумы", True),
        ("<mark>Приём</mark> документов", "приема", True),  # ё and е
        ("<mark>в</mark> Ельце", "выписка", False),  # Pagefind's prefix fallback
        ("<mark>с</mark> учётом", "справка о доходах", False),
        ("<mark>с</mark> учётом", "с", True),  # a short query is itself
        ("нет выделенных слов", "форум", False),
    ],
)
def test_fallback_matches_are_not_results(page, excerpt, query, matches):
    page.goto("/search/")
    found = page.evaluate(
        """async ([excerpt, query]) =>
            (await import('/static/js/search.js')).matchesQuery([{excerpt}], query)""",
        [excerpt, query],
    )
    assert found is matches


def test_query_in_the_address_is_searched_and_kept(page):
    page.goto("/search/?q=" + quote("многофункционального центра"))
    expect(page.get_by_role("status")).to_contain_text("Найден")
    assert DIRECTIONS in results(page)
    search(page, "форумы")
    assert page.url.endswith("/search/?q=" + quote("форумы"))


@pytest.mark.parametrize(
    "query",
    [
        "субботник",  # only in a draft, which is not indexed
        # In no page: Pagefind falls back to the longest indexed prefix,
        # here the prepositions «в» and «с», found on every page.
        "выписка",
        "справка",
        "сквер",
    ],
)
def test_nothing_found_is_announced(page, query):
    page.goto("/search/")
    search(page, query)
    expect(page.get_by_role("status")).to_have_text(
        f"По запросу «{query}» ничего не найдено."
    )
    assert results(page) == []
    expect(page.locator(".mfc-search__results")).to_be_hidden()


def test_more_results_on_request_with_focus_on_the_first_new_one(page):
    page.goto("/search/")
    search(page, "тестовой новости")
    expect(page.get_by_role("status")).to_have_text(
        f"Найдено {GENERATED_NEWS} результатов по запросу «тестовой новости»."
    )
    assert len(results(page)) == 10
    more = page.get_by_role("button", name="Показать ещё")
    more.click()
    expect(page.locator(".mfc-search-result")).to_have_count(20)
    focused = page.evaluate("document.activeElement.href")
    assert focused.endswith(results(page)[10])
    more.click()
    expect(page.locator(".mfc-search-result")).to_have_count(GENERATED_NEWS)
    expect(more).to_be_hidden()


def test_search_works_from_the_keyboard_alone(page):
    page.goto("/search/")
    expect(page.get_by_label("Что вы ищете?")).to_be_visible()
    page.get_by_label("Что вы ищете?").focus()
    page.keyboard.type("форумы")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Найден 1 результат")
    page.keyboard.press("Tab")  # the button
    page.keyboard.press("Tab")  # the first result
    assert page.evaluate("document.activeElement.href").endswith(FORUM)


def test_search_requests_nothing_from_another_host(page, http_site):
    page.goto("/search/?q=" + quote("форумы"))
    expect(page.get_by_role("status")).to_contain_text("Найден")
    assert page.requests
    assert [url for url in page.requests if not url.startswith(http_site)] == []
    assert any("/pagefind/" in url for url in page.requests)


def test_without_javascript_the_page_says_so_and_links_to_the_archive(
    browser, http_site
):
    context = browser.new_context(base_url=http_site, java_script_enabled=False)
    tab = context.new_page()
    tab.goto("/search/?q=" + quote("форумы"))
    fallback = tab.locator("[data-search-fallback]")
    expect(fallback).to_be_visible()
    expect(fallback).to_contain_text("JavaScript")
    expect(fallback.get_by_role("link", name="в архиве по годам")).to_have_attribute(
        "href", "/archive/"
    )
    expect(tab.locator("form[role=search]")).to_be_hidden()
    context.close()


def test_with_javascript_the_fallback_gives_way_to_the_form(page):
    page.goto("/search/")
    expect(page.locator("form[role=search]")).to_be_visible()
    expect(page.locator("[data-search-fallback]")).to_be_hidden()


# The policy the deploy must send (see README): WebAssembly needs
# 'wasm-unsafe-eval'; nothing inline is needed.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def test_search_works_under_a_strict_content_security_policy(browser, site, serve):
    base = serve(site.output, {"Content-Security-Policy": CSP})
    context = browser.new_context(base_url=base)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    messages = []
    tab.on("console", lambda message: messages.append(message.text))
    tab.goto("/search/")
    search(tab, "форумы")
    assert results(tab)[0] == FORUM
    assert [m for m in messages if "Content Security Policy" in m] == []
    context.close()


def test_without_webassembly_search_says_it_cannot_work(browser, site, serve):
    """A server policy without 'wasm-unsafe-eval' breaks Pagefind: the page
    then says so and offers the archive instead of failing silently."""
    policy = CSP.replace(" 'wasm-unsafe-eval'", "")
    base = serve(site.output, {"Content-Security-Policy": policy})
    context = browser.new_context(base_url=base)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.goto("/search/?q=" + quote("форумы"))
    expect(tab.get_by_role("status")).to_have_text(
        "Поиск сейчас не работает. Попробуйте обновить страницу позже."
    )
    fallback = tab.locator("[data-search-fallback]")
    expect(fallback).to_be_visible()
    expect(fallback.get_by_role("link", name="в архиве по годам")).to_be_visible()
    expect(tab.locator("form[role=search]")).to_be_hidden()
    context.close()


@pytest.fixture(scope="module")
def http_parted(site, serve, tmp_path_factory):
    """The fixture site with its index in parts, as at ten thousand items:
    the top pages with 2013's news, and 2020's news merged in by the page."""
    output = tmp_path_factory.mktemp("parted") / "output"
    shutil.copytree(site.output, output)
    index = build_index(output, part_pages=5)
    assert index.parts == 2
    listed = json.loads((output / "pagefind" / "mfc-parts.json").read_text())
    assert listed == {"parts": ["part-news-2020/"]}
    return serve(output)


def every_result(browser, base: str, query: str) -> tuple[str, set[str], list[str]]:
    """The status, every result (all of "Показать ещё" clicked) and the
    search bundle's requests of one visit to /search/?q=query."""
    context = browser.new_context(base_url=base, locale="ru-RU")
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors, requests = [], []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("request", lambda r: requests.append(r.url.removeprefix(base)))
    tab.goto("/search/?q=" + quote(query))
    expect(tab.get_by_role("status")).to_contain_text(f"«{query}»")
    more = tab.get_by_role("button", name="Показать ещё")
    while more.is_visible():
        count = len(results(tab))
        more.click()
        expect(tab.locator(".mfc-search-result")).not_to_have_count(count)
    status = tab.get_by_role("status").text_content()
    found = set(results(tab))
    context.unroute_all(behavior="wait")
    context.close()
    assert errors == []
    return status, found, [r for r in requests if r.startswith("/pagefind/")]


@pytest.mark.parametrize(
    "query",
    [
        "тестовой новости",
        "форумы",
        "многофункционального центра",  # the first word in one part only
        "тестовой форум",  # each word in another part
        "центр улица Бабефа",
        "новость номер zzzz",  # a word in no page
        "приём",
        "сквер",
        '"тестовой новости"',
    ],
)
def test_an_index_in_parts_finds_what_one_index_finds(
    browser, http_site, http_parted, query
):
    """Without search.js keeping to the parts that hold every word found,
    «многофункционального центра» finds a 2020 item that has only «центр»,
    first: Pagefind leaves out a word that is in no page of the part."""
    status, found, _ = every_result(browser, http_site, query)
    assert (status, found) == every_result(browser, http_parted, query)[:2]


def test_merged_parts_use_the_main_parts_webassembly(browser, http_parted):
    _, found, requests = every_result(browser, http_parted, "центр")
    assert any(url.startswith("/news/2013/") for url in found)
    assert any(url.startswith("/news/2020/") for url in found)
    assert [r for r in requests if r.endswith(".pagefind")] == [
        "/pagefind/wasm.ru.pagefind"
    ]
    assert any(r.startswith("/pagefind/part-news-2020/index/") for r in requests)


def test_production_search_finds_no_draft_or_future_item(browser, http_published):
    """The production build, whose pages carry the real site URL, is served by
    our HTTP server: requests for that URL are answered from it."""
    context = browser.new_context(locale="ru-RU")

    def from_local_server(route):
        local = route.request.url.replace(PUBLISHED_URL, http_published, 1)
        route.fulfill(response=route.fetch(url=local))

    context.route(f"{PUBLISHED_URL}/**", from_local_server)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.goto(f"{PUBLISHED_URL}/search/")
    search(tab, "форумы")
    assert results(tab)[0] == FORUM
    search(tab, "залах приёма")
    assert results(tab)[0] == "/news/2021/novyi-zal/"
    for query in ("субботник", "юбилея"):
        search(tab, query)
        expect(tab.get_by_role("status")).to_contain_text("ничего не найдено")
    # Pagefind may still be fetching fragments: let those requests finish
    # before the context (and the responses it holds) goes away.
    context.unroute_all(behavior="wait")
    context.close()
