"""mfc_content's pieces on their own: dates, URLs, reading files, the schema."""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
import logging
import random
import shutil

import pytest
import yaml

import mfc_content.site as site_module
from mfc_blocks import Contact, load_contact
from mfc_content.body import dangerous_url, html_findings, mask_code, scan_html
from mfc_content.build import load_settings, run_check
from mfc_content.legacy import escape_markdown
from mfc_content.newitem import short_slug, yaml_scalar
from mfc_content.problems import Problem, plural
from mfc_content.schema import ALIASES, SCHEMAS, did_you_mean, parse_date
from mfc_content.site import check_site, current_time, reserved_segments
from mfc_content.source import Document, parse
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("2013-09-20", dt.datetime(2013, 9, 20)),
        ("2013-09-20 10:30", dt.datetime(2013, 9, 20, 10, 30)),
        ("2013-09-20 9:05", dt.datetime(2013, 9, 20, 9, 5)),
        ("2013-09-20T10:30:15", dt.datetime(2013, 9, 20, 10, 30, 15)),
        ("2024-02-29", dt.datetime(2024, 2, 29)),  # a leap year
        ("  2013-09-20  ", dt.datetime(2013, 9, 20)),
    ],
)
def test_dates_we_accept(raw, value):
    assert parse_date(raw) == (value, None)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        # what editors type → what the message tells them to write
        ("20.09.2013", "пишите год-месяц-день: 2013-09-20"),
        ("20.09.2013 10:30", "пишите год-месяц-день: 2013-09-20 10:30"),
        ("20/09/2013", "2013-09-20"),
        ("2013.09.20", "2013-09-20"),
        ("2013-9-2", "2013-09-02"),
        ("20 сентября 2013 г.", "2013-09-20"),
        ("2013–09–20", "2013-09-20"),  # Word's en dashes
        # impossible dates
        ("2013-02-31", "в феврале 2013 года 28 дней"),
        ("2024-02-30", "в феврале 2024 года 29 дней"),
        ("2013-04-31", "в апреле 2013 года 30 дней"),
        ("31.02.2013", "в феврале 2013 года 28 дней"),
        ("2013-13-01", "месяцев всего 12"),
        ("2013-09-20 24:00", "не бывает"),
        # not a date at all
        ("вчера", "не похоже на дату"),
        ("2013-09-20 10:00+03:00", "часовой пояс"),
    ],
)
def test_dates_we_refuse_say_how_to_write_them(raw, says):
    value, message = parse_date(raw)
    assert value is None
    assert says in message


@pytest.mark.parametrize(
    ("url", "image", "dangerous"),
    [
        ("javascript:alert(1)", False, True),
        ("JavaScript:alert(1)", False, True),
        (" javascript:alert(1)", False, True),
        ("java\tscript:alert(1)", False, True),
        ("jav&#97;script:alert(1)", False, True),
        ("&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:x", False, True),
        ("vbscript:msgbox", False, True),
        ("data:text/html,<script>alert(1)</script>", False, True),
        ("data:image/svg+xml,<svg onload=alert(1)>", True, True),
        ("data:image/png;base64,iVBOR", True, False),
        ("https://www.gosuslugi.ru/", False, False),
        ("/news/2013/forum-v-eltse/", False, False),
        ("mailto:mfc.astrakhan@astrobl.ru", False, False),
        ("tel:+78512668807", False, False),
        ("#main", False, False),
    ],
)
def test_script_urls_are_recognised_however_written(url, image, dangerous):
    assert dangerous_url(url, image) is dangerous


HTML_ATOMS = (
    *("<", ">", "/", "/>", " ", "\t", "\n", "\xa0", "=", '"', "'", ":", ";", ","),
    *("<p>", "</p>", "<a ", "<img ", "<div style=", "<form", "iframe", "SCRIPT"),
    *("href=", "src=", "srcset=", "style=", "on", "ON", "click", "strong", "data"),
    *("java", "script", "scr", "ipt", "javascript:", "image/png", "expression("),
    *("expreſſion", "ıon", "İ", "url(", "url(javascript", "&", "#", "x6a", "amp"),
    *("!", "--", "[", "]", "?", "x", "р", "Σ", "K", "vb", "live", "meta"),
)


def test_html_is_parsed_for_findings_whenever_it_could_hold_one():
    """html_findings skips HTMLParser for HTML with none of what a finding
    needs: on texts made to be near misses, it finds what scan_html finds."""
    rnd = random.Random(8)
    texts = [
        "<p>Центр <strong>«Мои документы»</strong> работает</p>",
        '<p><a href="/news/2013/forum/">форум</a> <img alt="фото" src="/i.jpg"></p>',
        '<a href="java\nscript:alert(1)">x</a>',
        '<a href="java&#115;cript:alert(1)">x</a>',
        '<p style="width: expreſſion(alert(1))">x</p>',
        "<img src=x/onerror=alert(1)>",
    ]
    texts += [
        "".join(rnd.choice(HTML_ATOMS) for _ in range(rnd.randint(0, 20)))
        for _ in range(60000)
    ]
    found = 0
    for text in texts:
        wanted = scan_html(text)[0]
        assert html_findings(text) == wanted, repr(text)
        found += bool(wanted)
    assert found > 1000  # the texts do hold findings


@pytest.mark.parametrize(
    ("typed", "kind", "meant"),
    [
        ("titel", "news", "title"),
        ("tittle", "news", "title"),
        ("data", "news", "date"),
        ("tag", "news", "tags"),
        ("заголовок", "news", "title"),
        ("дата", "news", "date"),
        ("теги", "news", "tags"),
        ("картинка", "news", "image"),
        ("alt", "news", "image_alt"),
        ("телефон", "contact", "phone"),
        ("e-mail", "contact", "email"),
        ("adress", "contact", "address"),
    ],
)
def test_unknown_keys_get_did_you_mean(typed, kind, meant):
    keys = [f.name for f in SCHEMAS[kind]]
    assert did_you_mean(typed, keys) == f"возможно, вы имели в виду «{meant}»"


def test_aliases_point_at_real_keys():
    every_key = {f.name for schema in SCHEMAS.values() for f in schema}
    assert set(ALIASES.values()) <= every_key


def read(text: str | bytes) -> Document:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse(Document("x.md"), data)


@pytest.mark.parametrize(
    "data",
    [
        b"---\ntitle: a\ndate 2013\n---\n",  # LF
        b"---\r\ntitle: a\r\ndate 2013\r\n---\r\n",  # CRLF
        b"---\rtitle: a\rdate 2013\r---\r",  # old Mac CR
        b"\xef\xbb\xbf---\ntitle: a\ndate 2013\n---\n",  # BOM
    ],
)
def test_yaml_error_lines_are_file_lines_whatever_the_line_ends(data):
    doc = read(data)
    assert [(p.line, p.code) for p in doc.problems] == [(3, "E106")]


def test_line_numbers_count_blank_lines_before_the_front_matter():
    doc = read("\n\n---\ntitle: a\ntitle: b\n---\n\nТекст\n")
    assert doc.fm_line == 3
    key_lines = [doc.file_line(k.start_mark) for k, _ in doc.root.value]
    assert key_lines == [4, 5]
    assert doc.body_line == 7


def test_yaml_values_are_taken_as_written():
    """YAML 1.1 would read 12:30 as 750 and yes as True; we keep the text."""
    doc = read("---\ntitle: 12:30\nsummary: yes\n---\n\nТекст\n")
    values = {k.value: v.value for k, v in doc.root.value}
    assert values == {"title": "12:30", "summary": "yes"}


def test_yaml_tags_are_never_constructed():
    doc = read("---\ntitle: !!python/object/apply:os.system ['true']\n---\n\nТ\n")
    assert doc.problems == []  # composed, not loaded: nothing ran
    assert doc.root.value[0][1].tag.endswith("os.system")


def test_code_is_masked_line_for_line():
    text = "a `<script>` b\n```\n<iframe>\n```\nc"
    masked = mask_code(text)
    assert masked.count("\n") == text.count("\n")
    assert "<" not in masked
    assert masked.endswith("c")


def test_problem_is_one_line():
    problem = Problem(
        "content/x.md", 3, "E106", "что-то не так\nв двух строках — исправьте"
    )
    assert str(problem) == (
        "content/x.md:3: что-то не так в двух строках — исправьте [E106]"
    )
    with pytest.raises(ValueError, match="unknown problem code"):
        Problem("x", 1, "E999", "—")


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (1, "ошибка"),
        (2, "ошибки"),
        (5, "ошибок"),
        (11, "ошибок"),
        (21, "ошибка"),
        (104, "ошибки"),
    ],
)
def test_russian_plurals(n, word):
    assert plural(n, "ошибка", "ошибки", "ошибок") == word


@pytest.mark.parametrize(
    "title",
    [
        "Новый график работы",
        "Приём документов: новые правила",
        '"Мои документы" открылись',
        "#МФЦ30 — праздник",
        "- дефис в начале",
        "12:30",
        "yes",
        "Сотрудники МФЦ приняли участие в международном форуме в Ельце",
        "Кавычки 'одинарные' и \\ обратная косая черта",
    ],
)
def test_titles_written_by_new_and_import_read_back_unchanged(title):
    assert yaml.safe_load(f"title: {yaml_scalar(title)}") == {"title": title}


def test_slugs_from_titles_are_short_and_ascii():
    slug = short_slug("Сотрудники МФЦ приняли участие в международном форуме в Ельце")
    assert slug.isascii()
    assert len(slug) <= 60
    assert not slug.endswith("-")


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("# 1 в рейтинге", "\\# 1 в рейтинге"),
        ("1. Итоги года", "1\\. Итоги года"),
        ("Рейтинг *звёзд* и _подчерк_", "Рейтинг \\*звёзд\\* и \\_подчерк\\_"),
        ("a < b", "a &lt; b"),
        ("[в скобках]", "\\[в скобках\\]"),
        ("обычный\xa0текст  с   пробелами", "обычный текст с пробелами"),
    ],
)
def test_imported_text_is_escaped_for_markdown(text, markdown):
    assert escape_markdown(text) == markdown


def test_mfc_now_sets_the_moment_of_the_build():
    now = current_time("Europe/Astrakhan", "2025-01-05 09:30")
    assert (now.year, now.month, now.day, now.hour, now.minute) == (2025, 1, 5, 9, 30)
    assert now.utcoffset() == dt.timedelta(hours=4)
    with pytest.raises(ValueError, match="MFC_NOW"):
        current_time("Europe/Astrakhan", "завтра")


def test_missing_content_folder_is_reported(tmp_path, capsys):
    settings = load_settings(ROOT / "pelicanconf.py")
    report = check_site(tmp_path / "content", settings)
    assert [p.code for p in report.problems] == ["E114"]
    assert not run_check(ROOT / "pelicanconf.py", tmp_path / "content")
    assert "папка content на месте" in capsys.readouterr().err


def test_unexpected_error_is_reported_against_the_file(tmp_path, monkeypatch):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)

    def explode(self, rel, kind):
        raise RuntimeError("boom")

    monkeypatch.setattr(site_module.SiteCheck, "_document", explode)
    report = check_site(content, load_settings(ROOT / "pelicanconf.py", content))
    assert {p.code for p in report.problems} == {"E199"}
    assert any(p.path.endswith("2013-09-20-forum-v-eltse.md") for p in report.problems)
    assert all("RuntimeError: boom" in p.message for p in report.problems)


# --- The contact block goes through the same schema ---------------------------


def contact_settings(tmp_path, text: str) -> dict:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "blocks" / "contact.md").write_text(text, encoding="utf-8")
    return load_settings(ROOT / "pelicanconf.py", content)


def test_contact_block_is_validated_and_keeps_its_api(tmp_path):
    text = (ROOT / "content/blocks/contact.md").read_text(encoding="utf-8")
    text = text.replace(
        "# hours: ...", "hours:\n  - пн–пт 8:00–20:00\n  - сб 9:00–14:00"
    )
    text = text.replace(
        "---\n# Контакты", "---\ncoordinates: 46.3497, 48.0408\n# Контакты"
    )
    contact = load_contact(contact_settings(tmp_path, text))
    assert isinstance(contact, Contact)
    assert contact.phone_href == "tel:+78512668807"
    assert contact.email_href == "mailto:mfc.astrakhan@astrobl.ru"
    assert contact.directions == "pages/kak-dobratsya.md"
    assert contact.hours == "пн–пт 8:00–20:00; сб 9:00–14:00"
    assert contact.coordinates == (46.3497, 48.0408)


def test_broken_contact_block_is_logged_in_russian_not_raised(tmp_path, caplog):
    text = (ROOT / "content/blocks/contact.md").read_text(encoding="utf-8")
    settings = contact_settings(tmp_path, text.replace("email: ", "e-mail: "))
    with caplog.at_level(logging.ERROR):
        contact = load_contact(settings)
    assert contact.email == ""
    message = caplog.text
    assert "mfc_blocks:" in message
    assert "contact.md:6: неизвестное свойство «e-mail»" in message
    assert "возможно, вы имели в виду «email»" in message
    assert "contact.md:1: не хватает свойства «email»" in message


@pytest.mark.parametrize(
    "module",
    ["problems", "source", "schema", "body", "site", "newitem", "legacy"],
)
def test_docstring_examples_are_true(module):
    imported = importlib.import_module(f"mfc_content.{module}")
    result = doctest.testmod(imported, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_sections_from_the_settings_are_reserved():
    settings = dict(load_settings(ROOT / "publishconf.py"))
    assert {"news", "tags", "archive", "search", "feeds", "images"} <= (
        reserved_segments(settings)
    )
    settings["DIRECT_TEMPLATES"] = [*settings["DIRECT_TEMPLATES"], "uslugi"]
    settings["USLUGI_SAVE_AS"] = "uslugi/index.html"
    assert "uslugi" in reserved_segments(settings)
    assert not any(":" in s for s in reserved_segments(settings))


def test_a_page_may_be_its_own_section_with_its_template(tmp_path):
    """A search page made as content (template: search) may live at /search/."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    (theme / "templates" / "search.html").write_text("{% extends 'page.html' %}")
    page = content / "pages" / "search.md"
    page.write_text("---\ntitle: Поиск\ntemplate: search\n---\n\nПоиск.\n", "utf-8")
    settings = {**load_settings(ROOT / "pelicanconf.py", content), "THEME": str(theme)}
    assert check_site(content, settings).ok
    page.write_text("---\ntitle: Поиск\n---\n\nПоиск.\n", "utf-8")
    assert [p.code for p in check_site(content, settings).problems] == ["E502"]
