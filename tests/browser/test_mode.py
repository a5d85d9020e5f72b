"""The mode for the visually impaired («Версия для слабовидящих»).

Driven from the keyboard in a real browser: text size, colour scheme,
images, letter spacing; the choices persist across pages and apply before
the first paint; without JavaScript the site works in its default mode.
Screenshots of every page kind go to reports/screenshots/.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import PAGE_KINDS, SCHEMES
from tests.conftest import RICH_ITEM_URL

ITEM = "/news/2013/forum-v-eltse/"
LABEL = "Версия для слабовидящих"


def root_attributes(page) -> dict[str, str]:
    return page.evaluate(
        "Object.fromEntries([...document.documentElement.attributes]"
        ".filter(a => a.name.startsWith('data-mfc-') && a.name !== 'data-mfc-js')"
        ".map(a => [a.name.slice(9), a.value]))"
    )


def body_style(page, prop: str) -> str:
    return page.evaluate(f"getComputedStyle(document.body).{prop}")


def test_control_is_at_the_top_of_every_page_kind(open_page):
    page = open_page("/")
    for kind, (url, _status) in PAGE_KINDS.items():
        page.goto(url)
        toggle = page.get_by_role("button", name=LABEL)
        assert toggle.is_visible(), kind
        assert toggle.get_attribute("aria-expanded") == "false", kind
        assert toggle.get_attribute("aria-controls") == "mfc-a11y-panel", kind
        # First thing after the skip link, above the header's content.
        box = toggle.bounding_box()
        assert box["y"] < 60, kind
        assert page.evaluate(
            "[...document.querySelectorAll('a[href], button, input')]"
            ".filter(e => e.getClientRects().length)[1].id"
        ) == ("mfc-a11y-toggle"), kind


def choose_everything_by_keyboard(page) -> None:
    """Open the panel and change every setting with Tab, Enter and arrows."""
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    toggle = page.locator(":focus")
    assert toggle.inner_text().strip() == LABEL
    panel = page.locator("#mfc-a11y-panel")
    assert not panel.is_visible()

    page.keyboard.press("Enter")
    assert panel.is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"

    body_size = float(body_style(page, "fontSize").removesuffix("px"))
    # Text size: the radio group takes arrow keys.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "mfc-size"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert root_attributes(page)["size"] == "3"
    assert float(body_style(page, "fontSize").removesuffix("px")) == pytest.approx(
        body_size * 1.5
    )
    # Colour scheme: white on black.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "mfc-scheme"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert root_attributes(page)["scheme"] == "wb"
    assert body_style(page, "backgroundColor") == "rgb(0, 0, 0)"
    # Images off.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "mfc-images"
    page.keyboard.press("ArrowRight")
    assert root_attributes(page)["images"] == "off"
    # Letter spacing.
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    assert root_attributes(page)["spacing"] == "wide"
    assert body_style(page, "letterSpacing") != "normal"


def test_mode_works_from_the_keyboard_and_persists_across_pages(open_page):
    page = open_page("/", width=1280)
    choose_everything_by_keyboard(page)
    chosen = {
        "size": "3",
        "scheme": "wb",
        "images": "off",
        "spacing": "wide",
        "panel": "open",
    }
    assert root_attributes(page) == chosen

    # Another page, reached from the keyboard too: everything holds.
    page.get_by_role("link", name="Как добраться").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/kak-dobratsya/")
    assert root_attributes(page) == chosen
    assert body_style(page, "backgroundColor") == "rgb(0, 0, 0)"
    assert page.locator("input[name=mfc-scheme][value=wb]").is_checked()
    assert page.locator("input[name=mfc-size][value='3']").is_checked()
    assert (
        page.get_by_role("button", name=LABEL).get_attribute("aria-expanded") == "true"
    )

    # Escape closes the panel and returns focus to the toggle.
    page.locator("input[name=mfc-images][value=off]").focus()
    page.keyboard.press("Escape")
    assert not page.locator("#mfc-a11y-panel").is_visible()
    assert page.evaluate("document.activeElement.id") == "mfc-a11y-toggle"

    # «Обычная версия сайта» undoes everything, for later pages too.
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Обычная версия сайта").focus()
    page.keyboard.press("Enter")
    assert root_attributes(page) == {}
    page.goto("/news/")
    assert root_attributes(page) == {}
    assert body_style(page, "backgroundColor") == "rgb(255, 255, 255)"


# Recorded by an init script the moment <body> is created, i.e. before the
# browser can paint anything: the settings must already be on <html>.
RECORD_AT_BODY = """
new MutationObserver((records, observer) => {
  if (document.body) {
    window.__atBody = document.documentElement.getAttribute('data-mfc-scheme') + '|'
      + document.documentElement.getAttribute('data-mfc-size');
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s != "default"])
def test_saved_choices_apply_before_the_first_paint(open_page, scheme):
    page = open_page("/", settings={"scheme": scheme, "size": "2"})
    page.context.add_init_script(RECORD_AT_BODY)
    page.goto(ITEM)
    assert page.evaluate("window.__atBody") == f"{scheme}|2"
    assert body_style(page, "backgroundColor") == SCHEMES[scheme][1]


def test_text_size_has_three_steps(open_page):
    sizes = []
    for size in ("1", "2", "3"):
        page = open_page(ITEM, settings={"size": size})
        sizes.append(float(body_style(page, "fontSize").removesuffix("px")))
    assert sizes[0] >= 18
    assert sizes[0] < sizes[1] < sizes[2]
    assert sizes[2] >= 1.5 * sizes[0]


def test_images_off_leaves_the_alt_text_in_place(open_page):
    page = open_page(RICH_ITEM_URL)
    images = page.locator("main img")
    assert images.count() == 2
    for i in range(images.count()):
        assert images.nth(i).is_visible()
    assert not page.locator(".mfc-img-alt").first.is_visible()

    page.get_by_role("button", name=LABEL).click()
    page.get_by_role("radio", name="Не показывать").check()
    for i in range(images.count()):
        assert not images.nth(i).is_visible()
    alts = page.locator(".mfc-img-alt")
    assert alts.all_inner_texts() == [
        "Изображение: Сотрудники МФЦ принимают документы",
        "Изображение: Здание МФЦ на улице Бабефа",
    ]
    assert all(alts.nth(i).is_visible() for i in range(2))
    # The caption of a figure stays.
    assert page.locator("main figcaption").is_visible()
    # And on the next page with images, they are off from the start.
    page.reload()
    assert not page.locator("main img").first.is_visible()
    assert page.locator(".mfc-img-alt").first.is_visible()


def test_without_javascript_the_site_is_whole_and_the_control_not_dead(open_page):
    page = open_page(ITEM, width=375, java_script_enabled=False)
    assert page.last_response.status == 200
    assert not page.get_by_role("button", name=LABEL).is_visible()
    assert not page.locator("#mfc-a11y-panel").is_visible()
    note = page.locator(".mfc-a11y__noscript")
    assert note.is_visible()
    assert "JavaScript" in note.inner_text()
    assert page.locator("main h1").is_visible()
    assert page.locator("header .mfc-contact").is_visible()
    assert page.locator("nav.mfc-nav").is_visible()
    assert body_style(page, "backgroundColor") == "rgb(255, 255, 255)"


def test_storage_failure_falls_back_to_the_default_mode(open_page):
    page = open_page("/", settings={"scheme": "no-such-scheme", "size": "99"})
    assert root_attributes(page) == {}
    page.context.add_init_script(
        "window.localStorage.setItem('mfc-a11y', '{not json');"
    )
    page.goto(ITEM)
    assert root_attributes(page) == {}
    assert page.get_by_role("button", name=LABEL).is_visible()


SCREENSHOT_WIDTHS = (375, 1280)


def test_screenshots(open_page, screenshots_dir):
    """Every page kind at 375 and 1280 px; the news item in every scheme
    with the panel open; the item with photos with images off."""
    shots = []
    for width in SCREENSHOT_WIDTHS:
        page = open_page("/", width=width)
        for kind, (url, _status) in PAGE_KINDS.items():
            page.goto(url)
            path = screenshots_dir / f"{kind}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
        for scheme in SCHEMES:
            page = open_page(
                ITEM, width=width, settings={"scheme": scheme, "panel": "open"}
            )
            path = screenshots_dir / f"mode-{scheme}-{width}.png"
            page.screenshot(path=str(path), full_page=width > 1000)
            shots.append(path)
        page = open_page(
            RICH_ITEM_URL, width=width, settings={"images": "off", "size": "2"}
        )
        path = screenshots_dir / f"mode-images-off-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)
    for path in shots:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
