"""The check keeps each file's result between runs, and never a stale one.

`invoke check` and every build keep what each news item's and page's own
check found (plugins/mfc_content/checkcache.py). These tests run the real
check on a copy of content/ twice or more, changing what a file's result
depends on in between, and compare with a check that keeps nothing: what
the editor reads must be the same, whatever the cache holds.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zoneinfo
from pathlib import Path

import pytest

from mfc_content.build import load_settings
from mfc_content.checkcache import CheckCache
from mfc_content.site import SiteCheck, check_site
from tests.conftest import ROOT
from tests.photos import write_jpeg
from tests.test_content_corpus import BROKEN, BROKEN_CASES, lay_over

TZ = zoneinfo.ZoneInfo("Europe/Astrakhan")
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=TZ)


def news(content: Path, name: str, date: str, body: str, **extra: str) -> Path:
    """Write a valid news item; `extra` adds front matter lines."""
    year = date[:4]
    lines = [
        "---",
        f"title: Новость {name}",
        f"date: {date}",
        "summary: Короткое описание новости для списка.",
        *(f"{key}: {value}" for key, value in extra.items()),
        "---",
        "",
        body,
        "",
    ]
    path = content / "news" / year / f"{date[:10]}-{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def photo_news(content: Path, photo: str, body: str) -> Path:
    """A real JPEG at content/`photo` and a news item showing it; the photo."""
    path = write_jpeg(content / photo, 400, 300)
    news(
        content,
        "foto",
        "2026-11-20 10:00",
        body,
        image=photo,
        image_alt="Зал ожидания МФЦ",
    )
    return path


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A copy of the real content/, settings for it, a cache of its own."""
    monkeypatch.chdir(tmp_path)
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    settings = load_settings(ROOT / "pelicanconf.py", content)
    settings["CACHE_PATH"] = str(tmp_path / "cache")
    return content, settings


def shown(report) -> list[str]:
    return [str(p) for p in report.problems] + [report.summary()]


def read(report) -> list[tuple]:
    """What the build's reader takes of each item."""
    return [
        (i.rel, i.doc.path, i.doc.body, i.doc.body_line, i.values, i.url, i.status)
        for i in report.items
    ]


def check_both(content, settings, now=NOW):
    """(cached check, check without cache): the cached one's cache too."""
    cached = SiteCheck(content, settings, now, cached=True)
    report = cached.run()
    fresh = check_site(content, settings, now)
    assert shown(report) == shown(fresh)
    assert read(report) == read(fresh)
    return report, cached.cache


def test_every_broken_case_reports_the_same_with_a_cache_carried_over(site):
    """Each mistake of the corpus in turn, on one content folder and one
    cache (as an editor makes and fixes them): the cached check always says
    exactly what a check without cache says."""
    content, settings = site
    pristine = {p: p.read_bytes() for p in content.rglob("*") if p.is_file()}
    hits = 0
    for case in BROKEN_CASES:
        meta = lay_over(content, BROKEN, case)
        report, cache = check_both(content, settings)
        assert report.problems, case
        again, cache = check_both(content, settings)
        assert shown(again) == shown(report), case
        hits += cache.hits
        if meta.get("delete") or (BROKEN / case / "content").is_dir():
            shutil.rmtree(content)
            for path, data in pristine.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    assert hits > len(BROKEN_CASES), "the second checks never used the cache"


def test_unchanged_content_is_not_checked_again(site):
    content, settings = site
    first, cache = check_both(content, settings)
    assert first.ok
    assert cache.hits == 0
    stored = cache.path.stat().st_mtime_ns
    report, cache = check_both(content, settings)
    # Every news item and page (not the contact block) came from the cache,
    # and the file was not written again.
    assert cache.hits == len(first.items) > 0
    assert cache.path.stat().st_mtime_ns == stored
    assert shown(report) == shown(first)


def test_an_edited_file_is_checked_again(site):
    content, settings = site
    path = news(content, "priem", "2026-11-20 10:00", "Приём граждан.")
    assert check_both(content, settings)[0].ok
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "date: 2026-11-20 10:00", "date: 2026-02-31"
        ),
        encoding="utf-8",
    )
    report, cache = check_both(content, settings)
    assert [p.code for p in report.problems] == ["E206"]
    assert cache.hits == len(report.items) - 1


def test_a_deleted_photo_or_linked_file_is_noticed(site):
    content, settings = site
    news(content, "target", "2026-11-19 10:00", "Текст новости.")
    photo = photo_news(
        content,
        "images/2026/zal.jpg",
        "Смотрите [новость]({filename}/news/2026/2026-11-19-target.md).",
    )
    assert check_both(content, settings)[0].ok
    photo.unlink()
    report, _ = check_both(content, settings)
    assert {p.code for p in report.problems} == {"E301"}
    assert "zal.jpg" in str(report.problems[0])
    write_jpeg(photo, 400, 300)
    (content / "news" / "2026" / "2026-11-19-target.md").unlink()
    report, _ = check_both(content, settings)
    assert [p.code for p in report.problems] == ["E301"]
    assert "2026-11-19-target.md" in str(report.problems[0])


def test_a_photo_damaged_later_is_noticed(site):
    content, settings = site
    photo = photo_news(content, "images/zal.jpg", "Текст.")
    assert check_both(content, settings)[0].ok
    photo.write_bytes(b"not a photo at all" * 100)
    report, _ = check_both(content, settings)
    assert [p.code for p in report.problems] == ["E308"]


def test_the_time_of_the_check_is_asked_again(site):
    """A scheduled item becomes published once its date passes, and a date
    more than a year ahead stops being a mistake as it comes closer."""
    content, settings = site
    news(content, "skoro", "2026-12-05 09:00", "Скоро.")
    news(
        content,
        "ssylka",
        "2026-11-30 09:00",
        "См. [новость]({filename}/news/2026/2026-12-05-skoro.md).",
    )
    news(content, "daleko", "2028-01-10 09:00", "Далеко.")
    report, _ = check_both(content, settings, NOW)
    assert sorted(p.code for p in report.problems) == ["E207", "E306"]
    assert "Запланировано на 2026-12-05 09:00" in report.summary()

    later = dt.datetime(2027, 2, 1, 12, 0, tzinfo=TZ)
    report, cache = check_both(content, settings, later)
    assert report.ok, shown(report)
    assert "Запланировано на 2026-12-05" not in report.summary()
    assert "Запланировано на 2028-01-10 09:00" in report.summary()
    assert cache.hits == len(report.items) - 2  # skoro and daleko checked again


def test_a_damaged_cache_is_ignored_and_replaced(site):
    content, settings = site
    _, cache = check_both(content, settings)
    cache.path.write_bytes(b"\x80\x05garbage")
    report, cache = check_both(content, settings)
    assert report.ok
    assert cache.hits == 0
    assert CheckCache(cache.folder, cache.identity).entries.keys() == {
        i.rel for i in report.items
    }


def test_a_deleted_file_leaves_the_cache(site):
    content, settings = site
    path = news(content, "ujdet", "2026-11-20 10:00", "Текст.")
    _, cache = check_both(content, settings)
    assert "news/2026/2026-11-20-ujdet.md" in cache.entries
    path.unlink()
    _, cache = check_both(content, settings)
    stored = CheckCache(cache.folder, cache.identity).entries
    assert "news/2026/2026-11-20-ujdet.md" not in stored
    assert stored


def test_identity_follows_the_settings_the_check_reads(site):
    content, settings = site

    def identity(**changes):
        return SiteCheck(content, {**settings, **changes}, NOW).identity()

    base = identity()
    assert identity(ARTICLE_URL="novosti/{slug}/") != base
    assert identity(PAGE_URL="{slug}.html") != base
    assert identity(STATIC_PATHS=["images", "files"]) != base
    markdown = {**settings["MARKDOWN"], "extensions": ["markdown.extensions.toc"]}
    assert identity(MARKDOWN=markdown) != base
    # What Pelican's own Markdown reader adds to the setting when it starts
    # (our reader leaves it out) changes nothing.
    with_meta = {
        **settings["MARKDOWN"],
        "extensions": [
            *settings["MARKDOWN"].get("extensions", []),
            *settings["MARKDOWN"].get("extension_configs", {}),
            "markdown.extensions.meta",
        ],
    }
    assert identity(MARKDOWN=with_meta) == base
    # Settings the check of a file does not read do not matter.
    assert identity(SITENAME="Другое имя", OUTPUT_PATH="elsewhere") == base


class Watched(dict):
    """Settings that remember which keys were read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


def test_a_files_own_check_reads_no_settings_beyond_its_identity(site):
    """What a file's check may depend on is what `identity` covers: the
    settings are read when the check starts, never while a file is checked."""
    content, settings = site
    news(content, "foto", "2026-11-20 10:00", "Текст <b>с разметкой</b>.")
    watched = Watched(settings)
    check = SiteCheck(content, watched, NOW)
    check.identity()
    watched.read.clear()
    for rel in check.files:
        check._file(rel)
    assert watched.read == set()


def test_invoke_check_keeps_its_cache_in_the_cache_folder(project):
    first = project.invoke("check")
    assert first.returncode == 0, first.stdout + first.stderr
    cache = project.root / "cache"
    newest = max(cache.glob("check-*.pickle"), key=lambda p: p.stat().st_mtime_ns)
    before = newest.stat().st_mtime_ns
    second = project.invoke("check")
    assert (second.returncode, second.stdout) == (0, first.stdout)
    assert newest.stat().st_mtime_ns == before  # nothing changed: not rewritten
    assert not list(cache.glob(".tmp-check-*"))


def test_the_build_reader_takes_results_and_stores_nothing(site):
    """Pelican's reader (reuse_only) takes each file's kept result once,
    drops it from memory, and leaves storing to the build's own check."""
    content, settings = site
    news(content, "priem", "2026-11-20 10:00", "Приём граждан.")
    first, cache = check_both(content, settings)
    stored = cache.path.stat().st_mtime_ns
    news(content, "novaya", "2026-11-21 10:00", "Новая, ещё не проверенная.")
    reader = SiteCheck(content, settings, NOW, cached=True, reuse_only=True)
    items = [reader._file(rel) for rel in reader.files]
    assert "news/2026/2026-11-21-novaya.md" in {i.rel for i in items if i}
    assert reader.cache.hits == len(first.items)
    assert reader.cache.entries == {}
    reader.run()
    assert cache.path.stat().st_mtime_ns == stored


def test_the_build_reader_takes_results_kept_after_it_started(site, monkeypatch):
    """The first build: its reader starts before the build's own check has
    kept anything; once the check has, the reader takes what it kept for
    the files it has not read yet (the same items as its own check), and
    lets go of the rest when every file is read."""
    content, settings = site
    for n in range(6):
        news(content, f"priem-{n}", f"2026-11-{10 + n} 10:00", f"Приём граждан {n}.")
    monkeypatch.setattr("mfc_content.checkcache.LOOK_EVERY", 0)
    reader = SiteCheck(content, settings, NOW, cached=True, reuse_only=True)
    assert reader.cache.entries == {}
    rels = sorted(reader.files)
    # The build reads the news in two processes; the other one reads these.
    elsewhere = [rel for rel in rels if rel.startswith("news/2026/")][-2:]
    reader.cache.read_elsewhere(elsewhere)
    mine = [rel for rel in rels if rel not in elsewhere]
    before = [reader._file(rel) for rel in mine[:3]]
    assert reader.cache.hits == 0
    whole, cache = check_both(content, settings)  # the build's own check
    assert cache.path.is_file()
    assert reader.cache.entries == {}  # loaded when a file is next read
    after = [reader._file(mine[3])]
    assert reader.cache.entries
    assert not set(reader.cache.entries) & {*mine[:4], *elsewhere}
    after += [reader._file(rel) for rel in mine[4:]]
    kept = sum(1 for i in whole.items if i.rel in mine[3:])
    assert reader.cache.hits == kept > 3
    fresh = {i.rel: i for i in check_site(content, settings, NOW).items}
    for item in before + after:
        if item is not None and item.rel in fresh:
            assert item.values == fresh[item.rel].values, item.rel
            assert item.url == fresh[item.rel].url
    reader.cache.release()
    assert reader.cache.entries == {}
