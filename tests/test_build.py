"""The build itself: clean log, ASCII URLs, every page kind present."""

import re

import pytest

from tests.conftest import ROOT, build_site

PAGE_KINDS = [
    "/",  # home
    "/news/",  # news list, first page
    "/news/page/2/",  # news list, a later page
    "/news/2013/forum-v-eltse/",  # news item
    "/kak-dobratsya/",  # page
    "/news/2013/",  # year archive
    "/archive/",  # all years
    "/tags/",  # all tags
    "/tags/forum/",  # tag page
    "/404.html",  # not found
]


def test_build_logs_no_warnings_or_errors(site):
    assert not re.search(r"\b(WARNING|ERROR|CRITICAL)\b", site.log), site.log


@pytest.mark.parametrize("url", PAGE_KINDS)
def test_every_page_kind_is_built(site, url):
    assert site.file(url).is_file(), f"{url} was not built"


def test_all_output_paths_are_ascii(site):
    non_ascii = [
        p.relative_to(site.output).as_posix()
        for p in site.output.rglob("*")
        if not p.relative_to(site.output).as_posix().isascii()
    ]
    assert non_ascii == []


def test_no_category_or_author_pages(site):
    assert not (site.output / "category").exists()
    assert not (site.output / "author").exists()


def test_broken_build_exits_non_zero(tmp_path):
    """A template error is a failed build, not a silent one (sanity check of
    the build helper the fixture relies on)."""
    content = tmp_path / "content"
    (content / "news").mkdir(parents=True)
    (content / "blocks").mkdir()
    # The contact block points at a directions page that does not exist.
    (content / "blocks" / "contact.md").write_text(
        (ROOT / "content/blocks/contact.md").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    result = build_site(content, tmp_path / "output")
    assert result.returncode != 0
    assert "kak-dobratsya" in result.stdout + result.stderr
