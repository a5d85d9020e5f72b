"""WCAG 2.1 AA on every page kind, in every colour scheme of the mode.

axe-core (through axe-playwright-python) in Debian's chromium; reflow at
320 px and at 200 % text; keyboard use with a visible focus; the skip link;
reduced motion; the print stylesheet.
"""

from __future__ import annotations

import itertools

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import PAGE_KINDS, REPORTS, SCHEMES

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()


def axe_violations(page) -> list[str]:
    results = AXE.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": AXE_TAGS},
            "resultTypes": ["violations"],
        },
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("kind", list(PAGE_KINDS))
def test_axe_finds_no_violations(open_page, kind, scheme):
    """Every page kind in every scheme, with the mode's panel open (so the
    panel is checked too), has the right status and 0 axe violations."""
    url, status = PAGE_KINDS[kind]
    page = open_page(url, settings={"scheme": scheme, "panel": "open"})
    assert page.last_response.status == status
    root = page.locator("html")
    if SCHEMES[scheme] is None:
        assert root.get_attribute("data-mfc-scheme") is None
    else:
        # The scheme really applies: the page is in its two colours.
        assert root.get_attribute("data-mfc-scheme") == scheme
        text, background = SCHEMES[scheme]
        body = page.locator("body")
        assert body.evaluate("b => getComputedStyle(b).color") == text
        assert body.evaluate("b => getComputedStyle(b).backgroundColor") == background
    assert page.locator("#mfc-a11y-panel").is_visible()
    assert axe_violations(page) == []


def horizontal_overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


REFLOW_CASES = {
    # WCAG 1.4.10: 320 CSS px wide (a 1280 px screen at 400 %).
    "320px": {"width": 320, "settings": None, "text_zoom": None},
    # The mode's largest text, on the narrowest phone.
    "320px-largest-text": {"width": 320, "settings": {"size": "3"}, "text_zoom": None},
    # WCAG 1.4.4: text alone at 200 %, on a phone and on a desktop.
    "375px-text-200": {"width": 375, "settings": None, "text_zoom": "200%"},
    "1280px-text-200": {"width": 1280, "settings": None, "text_zoom": "200%"},
    # Letter spacing on, largest text (WCAG 1.4.12 text spacing).
    "320px-spacing": {
        "width": 320,
        "settings": {"size": "3", "spacing": "wide"},
        "text_zoom": None,
    },
}


@pytest.mark.parametrize("case", list(REFLOW_CASES))
@pytest.mark.parametrize("kind", list(PAGE_KINDS))
def test_no_horizontal_scrolling(open_page, kind, case):
    options = REFLOW_CASES[case]
    page = open_page(
        PAGE_KINDS[kind][0], width=options["width"], settings=options["settings"]
    )
    if options["text_zoom"]:
        before = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        # Text-only zoom: the root font size, which every size derives from.
        page.add_style_tag(content=f"html {{ font-size: {options['text_zoom']}; }}")
        after = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert after == pytest.approx(before * 2)
    assert horizontal_overflow(page) <= 0
    # Nothing sticks out of the viewport either (overflow hidden would hide it).
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getClientRects().length
                     && e.getBoundingClientRect().right > innerWidth + 1
                     && getComputedStyle(e).position !== 'absolute')
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert wide == []


def test_skip_link_is_first_and_moves_focus_to_main(open_page):
    page = open_page("/news/2013/forum-v-eltse/", width=375)
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Перейти к основному содержанию"
    box = skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0
    assert box["width"] > 0  # on screen when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    # The next stop is inside the main content, not back in the header.
    assert page.evaluate("document.activeElement.closest('main') !== null")


FOCUS_STYLE = """e => {
    const shown = e.matches('input') ? e.nextElementSibling : e;
    const s = getComputedStyle(shown);
    return [s.outlineStyle, s.outlineWidth, s.boxShadow, s.backgroundColor,
            s.color, s.textDecorationLine].join('|');
}"""


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_tab_stop_shows_a_visible_focus(open_page, scheme):
    """Tab through the whole page: every stop is on screen and looks
    different while focused than after focus has moved on (outline, shadow,
    colours or underline). A radio's visible part is its label."""
    page = open_page(
        "/news/2013/forum-v-eltse/", settings={"scheme": scheme, "panel": "open"}
    )
    stops = []
    previous = None
    for _ in range(80):
        page.keyboard.press("Tab")
        current = page.evaluate_handle("document.activeElement")
        key = current.evaluate("e => e.outerHTML.slice(0, 90)")
        if previous is not None:
            previous_key, previous_handle, focused_style = previous
            assert previous_handle.evaluate(FOCUS_STYLE) != focused_style, (
                f"no visible focus on {previous_key}"
            )
        if key in stops or current.evaluate("e => e === document.body"):
            break
        stops.append(key)
        assert current.evaluate(
            "e => (e.matches('input') ? e.nextElementSibling : e)"
            ".getClientRects().length > 0"
        ), key
        previous = (key, current, current.evaluate(FOCUS_STYLE))
    texts = " ".join(stops)
    assert "mfc-a11y-toggle" in texts
    assert "mfc-a11y__input" in texts
    assert "mfc-skip-link" in texts
    assert len(stops) > 15


def test_headings_are_in_order_on_every_page_kind(open_page):
    page = open_page("/")
    for kind, (url, _status) in PAGE_KINDS.items():
        page.goto(url)
        levels = page.evaluate(
            "[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]"
            ".filter(h => h.getClientRects().length).map(h => +h.tagName[1])"
        )
        assert levels[0] == 1, kind
        assert levels.count(1) == 1, kind
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, f"{kind}: h{before} then h{after}"


def test_reduced_motion_is_respected(open_page):
    page = open_page("/", reduced_motion="reduce")
    assert page.evaluate(
        "getComputedStyle(document.documentElement).scrollBehavior"
    ) == ("auto")
    durations = page.evaluate(
        "[...document.querySelectorAll('a, .mfc-a11y__label')]"
        ".map(e => parseFloat(getComputedStyle(e).transitionDuration))"
    )
    assert max(durations) < 0.001
    moving = open_page("/", reduced_motion="no-preference")
    assert (
        moving.evaluate("getComputedStyle(document.documentElement).scrollBehavior")
        == "smooth"
    )
    link = moving.locator("main a").first
    assert link.evaluate("a => parseFloat(getComputedStyle(a).transitionDuration)") > 0


PRINTED = ["main h1", "main time", "main .mfc-prose", "header .mfc-contact"]
NOT_PRINTED = [
    ".mfc-skip-link",
    ".mfc-a11y",
    "nav.mfc-nav",
    ".mfc-article__tags",
    ".mfc-article-nav",
    "footer",
]


def test_news_item_prints_title_date_text_and_contacts_only(open_page):
    page = open_page(
        "/news/2013/forum-v-eltse/",
        settings={"panel": "open", "scheme": "wb", "size": "3"},
    )
    page.emulate_media(media="print")
    for selector in PRINTED:
        assert page.locator(selector).first.is_visible(), selector
    for selector in NOT_PRINTED:
        assert not page.locator(selector).first.is_visible(), selector
    assert page.locator("header .mfc-contact").inner_text().count("8512 668-807") == 1
    # Black on white in print, whatever the scheme on screen.
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(0, 0, 0)"
    REPORTS.mkdir(exist_ok=True)
    pdf = REPORTS / "print-news-item.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.stat().st_size > 1000
