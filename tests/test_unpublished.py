"""Drafts and scheduled news: marked in the preview, absent in production,
published by the first build at or after their date (Europe/Astrakhan)."""

from __future__ import annotations

import gzip
import shutil

import pytest

from tests.conftest import (
    ROOT,
    UNPUBLISHED_MARK,
    Site,
    build_site,
    text_of,
    write_unpublished,
)


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    """The real content plus the unpublished items, built for preview."""
    base = tmp_path_factory.mktemp("preview")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    urls = write_unpublished(content)
    result = build_site(content, base / "output")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return Site(content=content, output=base / "output", log=log), urls


def plain(node) -> str:
    """Text as a reader sees it (inline elements do not add spaces)."""
    return " ".join(node.get_text().split())


def test_draft_is_in_the_preview_clearly_marked(preview):
    site, urls = preview
    article = site.page(urls["draft"]).select_one("main article")
    marker = article.select_one(".mfc-status--draft")
    assert marker is not None
    assert plain(marker).startswith("Черновик: не публикуется")
    assert "status: draft" in text_of(marker)


def test_scheduled_item_is_in_the_preview_with_its_date(preview):
    site, urls = preview
    article = site.page(urls["scheduled"]).select_one("main article")
    marker = article.select_one(".mfc-status--scheduled")
    assert marker is not None
    assert plain(marker).startswith("Запланировано: появится на сайте")
    assert "в 09:30" in text_of(marker)
    assert marker.find("time")["datetime"].endswith("T09:30:00+04:00")


def test_draft_page_is_marked_in_the_preview(preview):
    site, urls = preview
    page = site.page(urls["draft_page"]).select_one("main article")
    assert text_of(page.select_one(".mfc-status--draft")).startswith("Черновик")


def test_list_entries_are_marked_in_the_preview(preview):
    site, urls = preview
    cards = {
        card.find("a")["href"]: card
        for card in site.page("/news/").select("main .mfc-news-card")
    }
    assert text_of(cards[urls["draft"]].select_one(".mfc-status")) == "Черновик"
    scheduled = plain(cards[urls["scheduled"]].select_one(".mfc-status"))
    assert scheduled.startswith("Запланировано: появится на сайте")
    published = cards["/news/2013/forum-v-eltse/"]
    assert published.select_one(".mfc-status") is None


def test_published_items_carry_no_marker(preview):
    site, _ = preview
    assert site.page("/news/2013/forum-v-eltse/").select_one(".mfc-status") is None
    assert site.page("/kak-dobratsya/").select_one(".mfc-status") is None


def every_output_text(site: Site):
    """Every output file as text; gzip files (e.g. a search index) unpacked."""
    for path in site.output.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        yield path, data.decode("utf-8", "replace")


def test_unpublished_items_are_nowhere_in_production(published_site):
    """No page, list entry, tag, feed, sitemap or search index entry."""
    for path, text in every_output_text(published_site):
        rel = path.relative_to(published_site.output).as_posix()
        assert UNPUBLISHED_MARK not in rel, rel
        assert UNPUBLISHED_MARK not in text, rel
    assert not (published_site.output / "drafts").exists()
    feed = (published_site.output / "feeds" / "all.atom.xml").read_text("utf-8")
    assert "forum-v-eltse" in feed  # the feed is there, just without them


def test_published_site_still_lists_published_news(published_site):
    links = [a["href"] for a in published_site.page("/news/").select("main h2 a")]
    assert "https://mfc.example.test/news/2013/forum-v-eltse/" in links
    assert not [link for link in links if UNPUBLISHED_MARK in link]


# --- Scheduled news appear with the first build at or after their date ----------

SCHEDULED = "2031-03-15 09:30"  # Astrakhan time


@pytest.fixture(scope="module")
def scheduled_content(tmp_path_factory):
    content = tmp_path_factory.mktemp("scheduled") / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "news" / "2031").mkdir()
    (content / "news" / "2031" / "2031-03-15-grafik.md").write_text(
        f"---\ntitle: Новый график работы\ndate: {SCHEDULED}\n---\n\n"
        "С 15 марта МФЦ работает по новому графику.\n",
        encoding="utf-8",
    )
    return content


@pytest.mark.parametrize(
    ("now", "published"),
    [
        ("2031-03-15 09:29", False),  # one minute early
        ("2031-03-15 05:30+00:00", True),  # 09:30 in Astrakhan, given in UTC
        ("2031-03-15 09:30", True),  # exactly at its time
        ("2031-03-16 08:00", True),  # any later build
    ],
)
def test_scheduled_news_is_published_at_its_time(
    scheduled_content, tmp_path, now, published
):
    output = tmp_path / "output"
    result = build_site(
        scheduled_content,
        output,
        "publishconf.py",
        MFC_NOW=now,
        MFC_SITEURL="https://mfc.example.test",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    page = output / "news" / "2031" / "grafik" / "index.html"
    assert page.is_file() is published
    listed = "grafik" in (output / "news" / "index.html").read_text("utf-8")
    in_feed = "grafik" in (output / "feeds" / "all.atom.xml").read_text("utf-8")
    assert listed is published
    assert in_feed is published


def test_check_lists_drafts_and_scheduled_news(project):
    write_unpublished(project.content)
    try:
        result = project.invoke("check")
    finally:
        project.restore()
    assert result.returncode == 0, result.stderr
    assert (
        f"Черновик (не публикуется): content/news/2020/2020-02-01-{UNPUBLISHED_MARK}"
        in (result.stdout)
    )
    assert "Запланировано на " in result.stdout
    assert "09:30: content/news/" in result.stdout


def test_readme_tells_operators_how_to_schedule_rebuilds():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "OnCalendar=" in readme  # systemd timer
    assert "invoke publish" in readme
    assert "crontab" in readme or "cron" in readme
