"""The whole-site check behind ``invoke check`` (and the first step of a build).

It reads every file under ``content/`` once, checks each against the schema
of its kind and its body, then checks the site as a whole: two files with one
address, page addresses taken by sections of the site, links to pages that
do not exist or are not published. It never runs Pelican, so it is fast.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import fnmatch
import functools
import hashlib
import json
import os
import re
import sys
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from .body import Body, BodyReport, scan_html, text_findings
from .checkcache import CheckCache
from .problems import Problem, plural
from .schema import (
    SLUG_RE,
    Checker,
    Context,
    parse_date,
    suggest_slug,
    validate,
)
from .source import Document, decode, looks_like_cp1251, parse

MARKDOWN_EXTENSIONS = (".md", ".markdown", ".mkd", ".mdown")
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".avif"}
NEWS_NAME_RE = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.+)$")
SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Top-level URL segments that belong to the site's sections and tools.
RESERVED_SEGMENTS = {
    "news",
    "tags",
    "archive",
    "search",
    "drafts",
    "feeds",
    "theme",
    "images",
    "pagefind",
    "category",
    "author",
    "page",
    "static",
}
# Generated files and folders a link may point into without a content file.
GENERATED_PREFIXES = ("feeds/", "theme/", "pagefind/", "search/")
GENERATED_FILES = {"404.html", "sitemap.xml", "robots.txt", "favicon.ico", "search/"}
WRONG_EXTENSION_HINTS = {
    ".txt": "переименуйте его в .md (в Проводнике Windows включите "
    "«Вид → Расширения имён файлов», чтобы увидеть .txt)",
    ".docx": "это документ Word: скопируйте текст в файл .md",
    ".doc": "это документ Word: скопируйте текст в файл .md",
    ".rtf": "это документ Word: скопируйте текст в файл .md",
    ".odt": "это документ: скопируйте текст в файл .md",
    ".html": "перенесите текст в файл .md или импортируйте страницу старого "
    "сайта командой invoke import-legacy",
    ".htm": "перенесите текст в файл .md или импортируйте страницу старого "
    "сайта командой invoke import-legacy",
}


def theme_templates(settings: dict) -> frozenset[str]:
    """Names of the theme's page templates (article, page, search…)."""
    folder = Path(settings.get("THEME", "theme")) / "templates"
    return frozenset(p.stem for p in folder.glob("*.html"))


def reserved_segments(settings: dict) -> set[str]:
    """First URL segments that belong to the site's sections, not to pages.

    The fixed ones, plus whatever the settings generate: URL and SAVE_AS
    patterns, direct templates (``SEARCH_SAVE_AS`` when search is one),
    feeds, the theme's static folder and the static paths.
    """
    reserved = set(RESERVED_SEGMENTS)
    reserved |= set(settings.get("STATIC_PATHS", []))
    reserved.add(settings.get("THEME_STATIC_DIR", "theme"))
    names = [k for k in settings if k.endswith(("_URL", "_SAVE_AS"))]
    names += [f"{t.upper()}_SAVE_AS" for t in settings.get("DIRECT_TEMPLATES", [])]
    names += [k for k in settings if k.startswith(("FEED_", "TAG_FEED_"))]
    for name in names:
        value = settings.get(name)
        skip = name.startswith(("PAGE_", "DRAFT_PAGE_", "SITE"))
        if skip or not isinstance(value, str) or "://" in value:
            continue
        first = value.lstrip("/").split("/")[0]
        if first and "{" not in first and "." not in first:
            reserved.add(first)
    return reserved


def current_time(timezone: str, override: str | None = None) -> dt.datetime:
    """Now in the site's time zone, or the moment given in ``MFC_NOW``.

    ``MFC_NOW`` ("2025-01-05 09:30", Astrakhan time, or ISO 8601 with an
    offset) builds the site as it will be at that moment: scheduled news
    dated before it are published. Tests and operators use it.
    """
    tz = zoneinfo.ZoneInfo(timezone)
    raw = override if override is not None else os.environ.get("MFC_NOW", "")
    if not raw.strip():
        return dt.datetime.now(tz)
    value, _ = parse_date(raw)
    if value is not None:
        return value.replace(tzinfo=tz)
    try:
        return dt.datetime.fromisoformat(raw.strip()).astimezone(tz)
    except ValueError:
        raise ValueError(
            f"MFC_NOW={raw!r}: expected 'YYYY-MM-DD HH:MM' or ISO 8601"
        ) from None


def markdown_config(settings: dict) -> dict:
    """Python-Markdown's arguments as the site's reader uses them.

    Those of the MARKDOWN setting, every configured extension listed, and
    without the ``meta`` extension, which Pelican's own Markdown reader adds
    to the setting when it starts and pelican-yaml-metadata (our reader's
    base) leaves out: front matter is YAML, never Markdown's meta lines.
    """
    config = copy.deepcopy(settings.get("MARKDOWN", {}))
    configs = config.get("extension_configs", {})
    extensions = list(config.get("extensions", []))
    extensions += [e for e in configs if e not in extensions]
    return {
        "extensions": [e for e in extensions if e != "markdown.extensions.meta"],
        "extension_configs": configs,
        "output_format": config.get("output_format", "html5"),
    }


def markdown_factory(config: dict):
    """A function returning one Markdown converter (`config`: its arguments,
    see `markdown_config`), made when first needed."""
    converter = None

    def factory():
        nonlocal converter
        if converter is None:
            from markdown import Markdown  # noqa: PLC0415  (only for suspicious bodies)

            converter = Markdown(**copy.deepcopy(config))
        return converter

    return factory


def readable(name: str) -> str:
    """A file name as its author wrote it, even if not saved as UTF-8.

    Names from old Windows programs arrive as undecodable bytes (surrogates);
    they are read as windows-1251 when that gives Russian text.

    >>> name = b"\\xcd\\xee\\xe2\\xee\\xf1\\xf2\\xfc".decode("utf-8", "surrogateescape")
    >>> readable(name)
    'Новость'
    """
    data = name.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if looks_like_cp1251(data):
        return data.decode("cp1251", "replace")
    return data.decode("utf-8", "replace")


# A relative path that os.path.relpath would write differently: an empty,
# "." or ".." part, or a leading or trailing "/".
NOT_PLAIN_REL_RE = re.compile(r"(?:^|/)\.{0,2}(?:/|$)")


def display_path(path: Path) -> str:
    """The path as the editor should see it: relative to the project if inside.

    A file name that is not valid UTF-8 (saved by an old Windows program) is
    shown with replacement characters instead of breaking the output.
    """
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        shown = str(path)
    if shown.startswith(".."):
        shown = str(path)
    return readable(shown)


@dataclass
class Item:
    """One news item or page, as far as the whole-site checks need it."""

    rel: str
    kind: str
    doc: Document
    values: dict
    body: BodyReport
    url: str | None = None
    status: str = "published"  # published, draft, scheduled, hidden
    date: dt.datetime | None = None
    slug_line: int = 1  # where a problem with its address is shown

    def slim(self) -> dict:
        """What checks of other files need of this one, as plain data."""
        return {
            "rel": self.rel,
            "kind": self.kind,
            "path": self.doc.path,
            "url": self.url,
            "status": self.status,
            "date": self.date.isoformat() if self.date else None,
            "tags": [str(t) for t in self.values.get("tags") or []],
        }

    @classmethod
    def from_slim(cls, data: dict) -> Item:
        date = data["date"]
        return cls(
            data["rel"],
            data["kind"],
            Document(data["path"]),
            {"tags": data["tags"]},
            BodyReport(),
            url=data["url"],
            status=data["status"],
            date=dt.datetime.fromisoformat(date) if date else None,
        )


@dataclass
class Report:
    """The result of a check: every problem, and what was checked."""

    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    items: list[Item] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """What an editor reads at the end of `invoke check`."""
        lines = []
        drafts = [i for i in self.items if i.status == "draft"]
        scheduled = [i for i in self.items if i.status == "scheduled"]
        for item in drafts:
            lines.append(f"Черновик (не публикуется): {item.doc.path}")
        for item in sorted(scheduled, key=lambda i: i.date):
            lines.append(
                f"Запланировано на {item.date:%Y-%m-%d %H:%M}: {item.doc.path}"
            )
        if self.problems:
            paths = {p.path for p in self.problems}
            n, m = len(self.problems), len(paths)
            lines.append(
                f"Найдено {n} {plural(n, 'ошибка', 'ошибки', 'ошибок')} в {m} "
                f"{plural(m, 'файле', 'файлах', 'файлах')}. Исправьте и "
                "запустите проверку снова; что значит каждая ошибка — в EDITORS.md."
            )
        else:
            n = self.files
            lines.append(
                f"Проверено {n} {plural(n, 'файл', 'файла', 'файлов')}: ошибок нет."
            )
        return "\n".join(lines)


def ignore_matcher(patterns):
    """One compiled regex for Pelican's ``IGNORE_FILES`` shell patterns: its
    ``match`` is a name's answer (not None: ignored). The content folder's
    listing asks it of every name, twenty thousand at ten thousand items."""
    if not patterns:
        return lambda name: None
    joined = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)
    return re.compile(joined).match


class SiteCheck:
    """Checks a content folder with the given (Pelican) settings.

    The settings are read here, once: a file's own check (``_file``) uses
    only what ``identity`` covers, so its result can be kept between runs
    (``cached``, see checkcache.py; ``reuse_only``: use what is kept, keep
    nothing). The cross-file checks may read more.
    """

    def __init__(
        self,
        content: Path,
        settings: dict,
        now: dt.datetime | None = None,
        *,
        cached: bool = False,
        reuse_only: bool = False,
    ):
        self.content = Path(content)
        self.settings = settings
        self.now = now or current_time(settings.get("TIMEZONE", "Europe/Astrakhan"))
        self.article_paths = tuple(settings.get("ARTICLE_PATHS", ["news"]))
        self.page_paths = tuple(settings.get("PAGE_PATHS", ["pages"]))
        self.static_paths = tuple(settings.get("STATIC_PATHS", ["images"]))
        self.contact = settings.get("CONTACT_BLOCK", "blocks/contact.md")
        self._ignore = ignore_matcher(settings.get("IGNORE_FILES", [".*"]))
        self.markdown_config = markdown_config(settings)
        self.markdown = markdown_factory(self.markdown_config)
        self.article_url = settings.get("ARTICLE_URL")
        self.page_url = settings.get("PAGE_URL")
        self.reserved = reserved_segments(settings)
        self.files = self._walk()
        self.ctx = Context(
            now=self.now,
            files=set(self.files),
            static_paths=self.static_paths,
            page_paths=self.page_paths,
            article_paths=self.article_paths,
            templates=theme_templates(settings),
            slug_subs=tuple(map(tuple, settings.get("SLUG_REGEX_SUBSTITUTIONS", ()))),
            content=self.content,
        )
        self.report = Report()
        self.cache = (
            CheckCache(
                Path(settings.get("CACHE_PATH", "cache")),
                self.identity(),
                reuse_only=reuse_only,
            )
            if cached
            else None
        )

    def identity(self) -> str:
        """What a file's own check depends on besides the file and the
        answers its Context gives: the code, libraries and settings."""
        parts = {
            "code": _package_digest(),
            "libraries": [
                f"python={sys.version}",
                *(
                    f"{name}={metadata.version(name)}"
                    for name in ("pelican", "markdown", "pyyaml", "babel")
                ),
            ],
            "contact": self.contact,
            "paths": [self.article_paths, self.page_paths, self.static_paths],
            "templates": sorted(self.ctx.templates),
            "slug_subs": self.ctx.slug_subs,
            "markdown": self.markdown_config,
            "urls": [self.article_url, self.page_url],
            "reserved": sorted(self.reserved),
        }
        text = json.dumps(parts, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _ignored(self, name: str) -> bool:
        return self._ignore(name) is not None

    def _walk(self) -> list[str]:
        found = []
        for folder, dirs, files in os.walk(self.content):
            dirs[:] = sorted(d for d in dirs if not self._ignored(d))
            rel_folder = os.path.relpath(folder, self.content)
            for name in sorted(files):
                if self._ignored(name):
                    continue
                rel = name if rel_folder == "." else f"{rel_folder}/{name}"
                found.append(rel.replace(os.sep, "/"))
        return found

    def _under(self, rel: str, roots: tuple[str, ...]) -> bool:
        return any(rel == r or rel.startswith(r.rstrip("/") + "/") for r in roots)

    def display(self, rel: str) -> str:
        """display_path(self.content / rel), without a relpath per file: the
        content folder's own relative path is worked out once."""
        base = self._display_base
        if base is None or NOT_PLAIN_REL_RE.search(rel):
            return display_path(self.content / rel)
        shown = rel if base == "." else f"{base}/{rel}"
        if shown.startswith(".."):
            return readable(str(self.content / rel))
        return readable(shown)

    @functools.cached_property
    def _display_base(self) -> str | None:
        """The content folder relative to the working folder, or None where
        display_path must do it all (another drive on Windows)."""
        try:
            return os.path.relpath(self.content)
        except ValueError:
            return None

    # --- Running -------------------------------------------------------------

    def run(self, only: set[str] | None = None) -> Report:
        """Check every file (or only `only`, still against the whole site)."""
        report = self.report
        if not self.content.is_dir():
            report.problems.append(
                Problem(
                    display_path(self.content),
                    1,
                    "E114",
                    "папки с содержимым сайта нет — проверьте, что команда "
                    "запущена в папке проекта",
                )
            )
            return report
        if self.contact not in self.ctx.files:
            report.problems.append(
                Problem(
                    self.display(self.contact),
                    1,
                    "E115",
                    "файла с контактами нет, а он нужен на каждой странице — "
                    "восстановите его из истории (git checkout -- "
                    f"content/{self.contact})",
                )
            )
        for rel in self.files:
            report.files += 1
            try:
                item = self._file(rel)
            except Exception as error:
                report.problems.append(
                    Problem(
                        self.display(rel),
                        1,
                        "E199",
                        "при чтении файла произошла непредвиденная ошибка "
                        f"({type(error).__name__}: {error}) — проверьте файл; "
                        "если не понятно, что в нём не так, покажите это "
                        "сообщение разработчикам",
                    )
                )
                continue
            if item is not None:
                report.items.append(item)
        self._site_wide()
        problems = report.problems
        for item in report.items:
            problems.extend(item.doc.problems)
        if only is not None:
            wanted = {self.display(rel) for rel in only}
            problems[:] = [p for p in problems if p.path in wanted]
        report.problems = sorted(set(problems))
        if self.cache is not None:
            self.cache.save()
        return report

    def run_one(self, rel: str, others: list[Item]) -> Report:
        """Check one file against the rest of the site as `others` describe it.

        `others` are the items of an earlier whole-site check (`Item.slim`);
        the report holds this file's problems only, exactly those the
        whole-site check would report for it if no other file had changed.
        """
        report = self.report
        report.files = 1
        item = self._file(rel)
        if item is not None:
            report.items.append(item)
            everything = [o for o in others if o.rel != rel] + [item]
            self._site_wide(everything, [item])
            report.problems.extend(item.doc.problems)
        report.problems = sorted(set(report.problems))
        return report

    def _file(self, rel: str) -> Item | None:
        path = PurePosixPath(rel)
        suffix = path.suffix
        display = self.display(rel)
        if rel == self.contact:
            return self._document(rel, "contact")
        if self._under(rel, self.article_paths) or self._under(rel, self.page_paths):
            kind = "news" if self._under(rel, self.article_paths) else "page"
            if suffix in MARKDOWN_EXTENSIONS:
                return self._document(rel, kind)
            self._wrong_extension(display, suffix)
            return None
        if self._under(rel, self.static_paths):
            self._static(rel, display)
            return None
        top = rel.split("/", maxsplit=1)[0]
        where = (
            "в папке blocks/ бывает только файл contact.md"
            if top == "blocks"
            else "файлы вне папок news/, pages/ и images/ на сайт не попадают"
        )
        self.report.problems.append(
            Problem(
                display,
                1,
                "E111",
                f"файл лежит не на своём месте: {where} — новости кладите в "
                "content/news/<год>/, страницы в content/pages/, картинки в "
                "content/images/",
            )
        )
        return None

    def _wrong_extension(self, display: str, suffix: str) -> None:
        if suffix.lower() in MARKDOWN_EXTENSIONS:
            hint = (
                f"расширение «{suffix}» написано большими буквами — переименуйте в .md"
            )
        elif suffix.lower() in IMAGE_EXTENSIONS:
            hint = (
                "картинки хранятся в папке content/images/ — перенесите файл "
                "туда и укажите путь к нему в новости"
            )
        else:
            hint = WRONG_EXTENSION_HINTS.get(
                suffix.lower(), "сохраните текст в файле с расширением .md"
            )
        shown = f"с расширением «{suffix}»" if suffix else "без расширения"
        self.report.problems.append(
            Problem(
                display,
                1,
                "E110",
                f"файл {shown} не будет прочитан: сайт собирается только из "
                f"файлов .md — {hint}",
            )
        )

    def _static(self, rel: str, display: str) -> None:
        path = PurePosixPath(readable(rel))
        for part in path.parts:
            if not SAFE_NAME_RE.match(part):
                good = suggest_slug(PurePosixPath(part).stem, self.ctx.slug_subs)
                good = (good or "foto") + (
                    path.suffix.lower() if part == path.name else ""
                )
                self.report.problems.append(
                    Problem(
                        display,
                        1,
                        "E112",
                        f"в имени «{part}» есть русские буквы, пробелы или "
                        "другие знаки — называйте файлы и папки картинок "
                        "латиницей, цифрами и дефисами, например "
                        f"«{good}»",
                    )
                )
                return
        if path.suffix.lower() in MARKDOWN_EXTENSIONS:
            self.report.problems.append(
                Problem(
                    display,
                    1,
                    "E111",
                    "файл .md в папке картинок на сайт не попадёт — новости "
                    "кладите в content/news/<год>/, страницы в content/pages/",
                )
            )
        if path.suffix.lower() == ".svg":
            text = (self.content / rel).read_bytes().decode("utf-8", "replace")
            findings, _ = scan_html(text)
            for finding in findings:
                self.report.problems.append(
                    Problem(
                        display, max(finding.line, 1), finding.code, finding.message
                    )
                )

    def _document(self, rel: str, kind: str) -> Item | None:
        shown = self.display(rel)
        try:
            data = (self.content / rel).read_bytes()
        except OSError as error:
            self.report.problems.append(
                Problem(
                    shown,
                    1,
                    "E114",
                    f"файл не удалось прочитать ({error.strerror or error}) — "
                    "закройте программу, в которой он открыт, проверьте, что это "
                    "обычный файл, и запустите проверку снова",
                )
            )
            return None
        if kind == "contact":  # read_contact reads it whole where it is used
            return self._check_document(rel, kind, Document(shown), data)
        if self.cache is not None:
            item = self.cache.get(rel, shown, data, self.ctx)
            if item is not None:
                return _with_body(item, data)
            self.ctx.asked = []
        try:
            item = self._check_document(rel, kind, Document(shown), data)
            asked = self.ctx.asked
        finally:
            self.ctx.asked = None
        # Its text and YAML nodes are not needed any more: a light item.
        item = _light(item)
        if self.cache is not None:
            self.cache.put(rel, shown, data, asked, _without_body(item))
        return item

    def _check_document(
        self, rel: str, kind: str, doc: Document, data: bytes
    ) -> Item | None:
        parse(doc, data)
        ck = Checker(doc, self.ctx, kind, rel_path=rel)
        if not doc.ok:
            if kind == "contact":
                self.report.problems.extend(doc.problems)
                return None
            return Item(
                rel, kind, doc, {}, BodyReport(), slug_line=doc_line(doc, "slug")
            )
        values = validate(ck)
        if kind == "contact":
            self.report.problems.extend(doc.problems)
            return None
        summary = values.get("summary")
        if isinstance(summary, str):
            for finding in text_findings(summary):
                doc.problem(doc_line(doc, "summary"), finding.code, finding.message)
        body = Body(ck, self.markdown).check()
        item = Item(rel, kind, doc, values, body, slug_line=doc_line(doc, "slug"))
        if kind == "news":
            self._news_path(item)
        else:
            self._page_path(item)
        return item

    # --- Names, places and addresses ------------------------------------------

    def _news_path(self, item: Item) -> None:
        doc, values = item.doc, item.values
        path = PurePosixPath(readable(item.rel))
        date = values.get("date")
        match = NEWS_NAME_RE.match(path.stem)
        slug = values.get("slug")
        title = values.get("title", "")
        if not match:
            good = f"{date:%Y-%m-%d}" if date else "2024-05-17"
            good += "-" + (
                slug
                or suggest_slug(path.stem, self.ctx.slug_subs)
                or suggest_slug(title, self.ctx.slug_subs)
                or "novost"
            )
            doc.problem(
                1,
                "E112",
                f"имя файла «{path.name}» должно начинаться с даты публикации — "
                f"переименуйте его, например в «{good}.md»",
            )
        else:
            name_date, error = parse_date(match.group("date"))
            if error:
                doc.problem(1, "E206", f"в имени файла {error}")
            elif date and name_date.date() != date.date():
                doc.problem(
                    doc_line(doc, "date"),
                    "E113",
                    f"в имени файла дата {name_date:%Y-%m-%d}, а в свойстве date "
                    f"{date:%Y-%m-%d} — исправьте одну из них, чтобы они совпадали",
                )
            name_slug = match.group("slug")
            if not SLUG_RE.match(name_slug):
                good = suggest_slug(name_slug, self.ctx.slug_subs) or suggest_slug(
                    title, self.ctx.slug_subs
                )
                doc.problem(
                    1,
                    "E112",
                    f"после даты в имени файла «{name_slug}» — это адрес новости "
                    "на сайте, он пишется латинскими строчными буквами, цифрами и "
                    f"дефисами — переименуйте файл в «{match.group('date')}-{good}"
                    f"{path.suffix}»",
                )
            slug = slug or name_slug
        year = date.year if date else None
        if year and (len(path.parts) != 3 or path.parts[1] != str(year)):
            folder = "/".join(path.parts[:-1])
            doc.problem(
                1,
                "E111",
                f"новость за {year} год лежит в папке content/{folder}/ — "
                f"перенесите файл в папку content/{path.parts[0]}/{year}/",
            )
        slug = slug or suggest_slug(path.stem, self.ctx.slug_subs)
        if date and slug:
            item.date = date
            item.url = _format_url(self.article_url, slug=slug, date=date)
        status = values.get("status", "published")
        if status == "published" and date and self.ctx.in_future(date):
            status = "scheduled"
        item.status = status

    def _page_path(self, item: Item) -> None:
        path = PurePosixPath(readable(item.rel))
        slug = item.values.get("slug")
        if not SAFE_NAME_RE.match(path.name) or not SLUG_RE.match(path.stem):
            good = slug or suggest_slug(path.stem, self.ctx.slug_subs) or "stranitsa"
            item.doc.problem(
                1,
                "E112",
                f"имя файла «{path.name}» — адрес страницы на сайте, он пишется "
                "латинскими строчными буквами, цифрами и дефисами — "
                f"переименуйте файл в «{good}{path.suffix}»",
            )
        dated = NEWS_NAME_RE.match(path.stem)  # FILENAME_METADATA applies to pages too
        slug = slug or (dated.group("slug") if dated else None)
        slug = slug or suggest_slug(path.stem, self.ctx.slug_subs)
        item.status = item.values.get("status", "published")
        if slug:
            item.url = _format_url(self.page_url, slug=slug)
            segment = item.url.strip("/").split("/")[0]
            own_section = item.values.get("template") == segment  # e.g. search
            if segment in self.reserved and not own_section:
                item.doc.problem(
                    doc_line(item.doc, "slug"),
                    "E502",
                    f"адрес страницы /{segment}/ занят разделом сайта — дайте "
                    "странице другой адрес: переименуйте файл или укажите "
                    "slug: другой-адрес",
                )

    # --- The site as a whole -------------------------------------------------------

    def _site_wide(
        self, everything: list[Item] | None = None, targets: list[Item] | None = None
    ) -> None:
        """Checks across files, of `targets` (default: every item) against
        `everything` (default: every item of this check)."""
        everything = self.report.items if everything is None else everything
        targets = everything if targets is None else targets
        checked = {id(i) for i in targets}
        items = [i for i in everything if i.url]
        by_url: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            by_url[item.url].append(item)
        for url, same in by_url.items():
            if len(same) < 2:
                continue
            for item in same:
                if id(item) not in checked:
                    continue
                others = ", ".join(o.doc.path for o in same if o is not item)
                item.doc.problem(
                    item.slug_line,
                    "E501",
                    f"адрес /{url} уже занят файлом {others} — у двух новостей "
                    "(страниц) не может быть одного адреса: измените имя файла "
                    "или slug одной из них",
                )
        known = self._known_urls(items)
        by_rel = {i.rel: i for i in everything}
        for item in targets:
            for line, link in item.body.links:
                self._link(item, line, link, known, by_url)
            for line, rel in item.body.files:
                target = by_rel.get(rel)
                if target is not None:
                    self._unpublished(item, line, target, f"{{filename}}{rel}")

    def _known_urls(self, items: list[Item]) -> set[str]:
        s = self.settings
        known = {"", "404.html"}
        known |= {
            _format_url(s.get(k)) for k in ("INDEX_URL", "ARCHIVES_URL", "TAGS_URL")
        }
        published = [i for i in items if i.kind == "news" and i.status == "published"]
        per_page = int(s.get("DEFAULT_PAGINATION") or 10)
        pages = max(1, -(-len(published) // per_page))
        index = _format_url(s.get("INDEX_URL"))
        known |= {f"{index}page/{n}/" for n in range(2, pages + 1)}
        # Each year, month and tag once (ten thousand items share a few
        # hundred of them); a year's address from any date in it.
        years, months, tags = {}, {}, set()
        for item in published:
            years.setdefault(item.date.year, item.date)
            months.setdefault((item.date.year, item.date.month), item.date)
            tags.update(item.values.get("tags", ()))
        for date in years.values():
            known.add(_format_url(s.get("YEAR_ARCHIVE_URL"), date=date))
        known |= {f"{index}{date:%Y/%m}/" for date in months.values()}  # months
        for tag in tags:
            tag_slug = suggest_slug(tag, self.ctx.slug_subs)
            known.add(_format_url(s.get("TAG_URL"), slug=tag_slug))
        known |= {"search/"}
        return {k for k in known if k is not None}

    def _link(self, item, line, link, known, by_url) -> None:
        parts = urlsplit(link)
        path = unquote(parts.path).lstrip("/")
        if path.endswith("index.html"):
            path = path[: -len("index.html")]
        if path and not path.endswith("/") and not PurePosixPath(path).suffix:
            path += "/"
        if path.startswith(("drafts/",)):
            item.doc.problem(
                line,
                "E306",
                f"ссылка «{link}» ведёт на черновик — черновики не публикуются: "
                "дайте ссылку на опубликованную новость",
            )
            return
        if path in by_url:
            target = by_url[path][0]
            self._unpublished(item, line, target, link)
            return
        if (
            path in known
            or path.startswith(GENERATED_PREFIXES)
            or path in GENERATED_FILES
        ):
            return
        top = path.split("/")[0]
        if top in self.static_paths:
            if path not in self.ctx.files:
                item.doc.problem(
                    line,
                    "E305",
                    f"ссылка «{link}» ведёт на файл, которого нет в content/ — "
                    "проверьте имя файла и папку",
                )
            return
        candidates = sorted(known | set(by_url))
        close = difflib.get_close_matches(path, candidates, n=1, cutoff=0.6)
        hint = (
            f"возможно, вы имели в виду /{close[0]}"
            if close
            else "проверьте адрес: откройте нужную страницу в просмотре сайта "
            "и скопируйте адрес оттуда"
        )
        item.doc.problem(
            line,
            "E305",
            f"ссылка «{link}» ведёт на страницу, которой нет на сайте — {hint}",
        )

    def _unpublished(self, item: Item, line: int, target: Item, link: str) -> None:
        if item.status == "draft" or target is item:
            return
        if target.status == "draft":
            item.doc.problem(
                line,
                "E306",
                f"ссылка «{link}» ведёт на черновик {target.doc.path} — он не "
                "опубликован, и ссылка не откроется: опубликуйте его или "
                "уберите ссылку",
            )
        elif target.status == "scheduled" and (
            item.date is None or (target.date and target.date > item.date)
        ):
            item.doc.problem(
                line,
                "E306",
                f"ссылка «{link}» ведёт на новость, которая появится только "
                f"{target.date:%Y-%m-%d %H:%M} — до тех пор ссылка не откроется: "
                "поставьте этой новости дату не раньше той или уберите ссылку",
            )


def _light(item: Item) -> Item:
    """A checked item without its text and YAML nodes: what later steps
    (and the cache) need of it."""
    doc = item.doc
    light = Document(
        doc.path,
        fm_line=doc.fm_line,
        body=doc.body,
        body_line=doc.body_line,
        problems=list(doc.problems),
    )
    return dataclasses.replace(item, doc=light)


def _without_body(item: Item) -> Item:
    """What the cache stores: not the body, which is cut from the same
    bytes again on reuse (a fifth of the size to load)."""
    if item.doc.fm_line == 0:  # the fences were not found: no body
        return item
    return dataclasses.replace(item, doc=dataclasses.replace(item.doc, body=None))


def _with_body(item: Item, data: bytes) -> Item:
    """A stored item with its body again: the lines after the front matter."""
    if item.doc.body is None:
        text = decode(Document(item.doc.path), data)
        item.doc.body = "\n".join(text.split("\n")[item.doc.body_line - 1 :])
    return item


@functools.cache
def _package_digest() -> str:
    """SHA-256 of this package's code (the check's own rules)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def doc_line(doc: Document, key: str) -> int:
    """The file line of `key` in a document's front matter, else its first line."""
    if doc.root is not None:
        for key_node, _ in doc.root.value:
            if str(getattr(key_node, "value", "")).strip().lower() == key:
                return doc.file_line(key_node.start_mark)
    return max(doc.fm_line, 1)


class _Defaults(dict):
    def __missing__(self, key):
        return ""


def _format_url(pattern: str | None, **fields) -> str | None:
    if pattern is None:
        return None
    return pattern.format_map(_Defaults(fields))


def check_site(
    content, settings: dict, now: dt.datetime | None = None, only=None, *, cached=False
) -> Report:
    """Check a content folder; see `SiteCheck` (and checkcache.py for `cached`)."""
    return SiteCheck(Path(content), settings, now, cached=cached).run(only)
