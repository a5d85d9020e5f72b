"""``invoke import-legacy``: news pages saved from the old site → news items.

An old page, saved as text (like ``shared/seed/old-site-news-2013-09-20.txt``)
or as HTML, starts with the contact block shown on every page of the old
site, then (sometimes) the title, then the date line ``20.09.2013``, then the
text: one paragraph per line, list items starting with "- ". The importer

- drops the contact header and reads the date line;
- takes the title line when the page has one (the HTML ``<h1>``), else the
  ``--title`` given, else asks (one page, at a terminal), else derives it
  from the first sentence and says so;
- keeps paragraphs and lists (a list may follow a paragraph line directly),
  escaping what Markdown would misread;
- records where the item came from in ``source:``;
- writes ``content/news/<year>/<date>-<slug>.md``, never over an existing
  file, and runs the content check on what it wrote.
"""

from __future__ import annotations

import glob
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .newitem import news_path, same_slug, short_slug, yaml_scalar
from .schema import MONTHS_GENITIVE, parse_date
from .site import check_site, display_path

LEGACY_SUFFIXES = {".txt", ".html", ".htm"}
CONTACT_LINE_RE = re.compile(
    r"^\s*(адрес|телефон|тел\.|факс|эл\.\s*почта|e-?mail|как добраться|"
    r"режим работы|часы работы|график работы)\b",
    re.IGNORECASE,
)
DATE_LINE_RE = re.compile(
    r"^\s*(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\s*(?:г\.?)?"
    r"(?:\s*,?\s*(?P<H>\d{1,2}):(?P<M>\d{2}))?\s*$"
)
DATE_WORDS_LINE_RE = re.compile(
    r"^\s*(?P<d>\d{1,2})\s+(?P<month>[а-яё]+)\s+(?P<y>\d{4})\s*(?:г\.?|года)?"
    r"(?:\s*,?\s*(?P<H>\d{1,2}):(?P<M>\d{2}))?\s*$",
    re.IGNORECASE,
)
BULLET_RE = re.compile(r"^\s*[-–—•·▪●*]\s+(?P<text>\S.*)$")
NUMBERED_RE = re.compile(r"^\s*(?P<n>\d{1,3})[.)]\s+(?P<text>\S.*)$")
FOOTER_RE = re.compile(
    r"^\s*(©|\(c\)\s|все права защищены|версия для (печати|слабовидящих)|"
    r"поделиться|просмотров:|назад к (списку|новостям)|вернуться к|"
    r"распечатать)",
    re.IGNORECASE,
)
ABBREVIATION_RE = re.compile(r"(?:^|\s)(г|ул|д|пр|им|т|др|тел|каб|корп|стр|н|с)\.$")
TITLE_MAX = 120
# HTML elements whose text is not the news (menus, scripts), and elements
# that end a line of text.
SKIP_TAGS = frozenset(
    [
        "script",
        "style",
        "nav",
        "header",
        "footer",
        "form",
        "noscript",
        "aside",
        "select",
        "button",
        "template",
        "svg",
        "head",
    ]
)
BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "li",
        "br",
        "tr",
        "dd",
        "dt",
        "section",
        "article",
        "main",
        "blockquote",
        "table",
        "ul",
        "ol",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "time",
    ]
)


class LegacyError(Exception):
    """A page that cannot be imported (Russian, for the editor)."""


@dataclass
class LegacyPage:
    """What the importer understood of one old page."""

    source: str
    date: object  # datetime
    title: str | None
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def markdown(self) -> str:
        """The text as Markdown: paragraphs and lists, blank lines between."""
        parts = []
        for kind, value in self.blocks:
            if kind == "p":
                parts.append(escape_markdown(value))
            elif kind == "ul":
                parts.append("\n".join(f"- {escape_markdown(i)}" for i in value))
            else:
                parts.append("\n".join(f"{n}. {escape_markdown(i)}" for n, i in value))
        return "\n\n".join(parts) + "\n"


def escape_markdown(text: str) -> str:
    """Plain text that Markdown will show as it is.

    >>> escape_markdown("# 1 место_в *рейтинге* <b>")
    '\\\\# 1 место\\\\_в \\\\*рейтинге\\\\* &lt;b>'
    >>> escape_markdown("2013. Итоги года")
    '2013\\\\. Итоги года'
    """
    text = " ".join(text.replace("\xa0", " ").split())
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([`*_\[\]])", r"\\\1", text)
    text = text.replace("<", "&lt;")
    text = re.sub(r"^([#>+=|])", r"\\\1", text)
    text = re.sub(r"^(\d+)([.)])(\s)", r"\1\\\2\3", text)
    return re.sub(r"^([-*])(\s)", r"\\\1\2", text)


def decode_legacy(data: bytes) -> str:
    """Old pages are UTF-8 or windows-1251 (the old site's own encoding)."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    declared = re.search(rb"charset=[\"']?([\w-]+)", data[:2048], re.IGNORECASE)
    encodings = ["utf-8", "cp1251"]
    if declared:
        name = declared.group(1).decode("ascii", "replace").lower()
        if name in ("windows-1251", "cp1251"):
            encodings.reverse()
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LegacyError("файл не читается ни как UTF-8, ни как windows-1251")


class _HtmlText(HTMLParser):
    """Visible text of an HTML page as lines; the first <h1>; the source URL."""

    SKIP = SKIP_TAGS
    BLOCKS = BLOCK_TAGS

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.h1: str | None = None
        self.in_h1 = False
        self.h1_parts: list[str] = []
        self.url: str | None = None
        self.og_title: str | None = None
        self.lists: list[list] = []  # [kind, counter]

    def flush(self):
        text = " ".join("".join(self.current).split())
        if text:
            self.lines.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and (attrs.get("rel") or "").lower() == "canonical":
            self.url = attrs.get("href")
        if tag == "meta" and attrs.get("property") == "og:url" and not self.url:
            self.url = attrs.get("content")
        if tag == "meta" and attrs.get("property") == "og:title":
            self.og_title = attrs.get("content")
        if tag in self.SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "h1" and self.h1 is None:
            self.flush()
            self.in_h1 = True
            return
        if tag in ("ul", "ol"):
            self.flush()
            self.lists.append([tag, 0])
        elif tag == "li":
            self.flush()
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self.current.append(f"{self.lists[-1][1]}. ")
            else:
                self.current.append("- ")
        elif tag in self.BLOCKS:
            self.flush()

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "h1" and self.in_h1:
            self.in_h1 = False
            self.h1 = " ".join("".join(self.h1_parts).split()) or None
            return
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in self.BLOCKS or tag in ("ul", "ol"):
            self.flush()

    def handle_data(self, data):
        if self.skip:
            return
        if self.in_h1:
            self.h1_parts.append(data)
        else:
            self.current.append(data)

    def close(self):
        super().close()
        self.flush()


def read_legacy(path: Path) -> LegacyPage:
    """Understand one old page; LegacyError when it has no date line."""
    text = decode_legacy(path.read_bytes())
    title = None
    source = path.name
    if path.suffix.lower() in (".html", ".htm") or re.match(
        r"\s*<(!doctype|html)", text, re.I
    ):
        parser = _HtmlText()
        parser.feed(text)
        parser.close()
        lines = parser.lines
        title = parser.h1 or parser.og_title
        source = parser.url or source
    else:
        lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    start = None
    for i, line in enumerate(lines):
        if DATE_LINE_RE.match(line) or DATE_WORDS_LINE_RE.match(line):
            start = i
            break
    if start is None:
        raise LegacyError(
            "не найдена строка с датой публикации (например 20.09.2013) — "
            "добавьте её перед текстом новости"
        )
    date = _date(lines[start])
    header = [
        line
        for line in lines[:start]
        if line and not CONTACT_LINE_RE.match(line) and "@" not in line
    ]
    if title is None and header and not path.suffix.lower().startswith(".htm"):
        title = header[-1]
    body = [line for line in lines[start + 1 :]]
    while body and (not body[-1].strip() or FOOTER_RE.match(body[-1])):
        body.pop()
    page = LegacyPage(source=source, date=date, title=title, blocks=_blocks(body))
    if not page.blocks:
        raise LegacyError("после строки с датой нет текста новости")
    return page


def _date(line: str):
    match = DATE_LINE_RE.match(line) or DATE_WORDS_LINE_RE.match(line)
    parts = match.groupdict()
    month = parts.get("month")
    if month is not None:
        if month.lower() not in MONTHS_GENITIVE:
            raise LegacyError(f"строка с датой «{line.strip()}»: неизвестный месяц")
        parts["m"] = MONTHS_GENITIVE.index(month.lower()) + 1
    raw = f"{parts['y']}-{int(parts['m']):02d}-{int(parts['d']):02d}"
    if parts.get("H"):
        raw += f" {int(parts['H']):02d}:{parts['M']}"
    value, error = parse_date(raw)
    if value is None:
        raise LegacyError(f"строка с датой «{line.strip()}»: {error}")
    return value


def _blocks(lines: list[str]) -> list[tuple[str, object]]:
    blocks: list[tuple[str, object]] = []
    for line in lines:
        if not line.strip():
            continue
        bullet, numbered = BULLET_RE.match(line), NUMBERED_RE.match(line)
        if bullet:
            if not blocks or blocks[-1][0] != "ul":
                blocks.append(("ul", []))
            blocks[-1][1].append(bullet.group("text"))
        elif numbered and (
            (blocks and blocks[-1][0] == "ol") or numbered.group("n") == "1"
        ):
            if not blocks or blocks[-1][0] != "ol":
                blocks.append(("ol", []))
            blocks[-1][1].append((int(numbered.group("n")), numbered.group("text")))
        else:
            blocks.append(("p", line.strip()))
    return blocks


def derive_title(page: LegacyPage) -> str:
    """A title from the first sentence of the text, at most 120 characters."""
    first = next((v for k, v in page.blocks if k == "p"), "") or "Новость"
    first = " ".join(first.split())
    sentence = first
    for match in re.finditer(r"[.!?](\s|$)", first):
        head = first[: match.start() + 1]
        if not ABBREVIATION_RE.search(head):
            sentence = head.rstrip(".")
            break
    if len(sentence) > TITLE_MAX:
        sentence = sentence[:TITLE_MAX].rsplit(" ", 1)[0]
        if sentence.count("«") > sentence.count("»"):
            sentence = sentence[: sentence.rindex("«")].rstrip()
        sentence = sentence.rstrip(",;:—– ") + "…"
    return sentence


def _free_target(content, settings, page, slug: str, written: list[Path]) -> Path:
    """The news file for a page, with an address no other news of its year has.

    An address taken in this import, or by another day's news of the same
    year, gets "-2", "-3"…; an existing file of the same name is returned as
    it is (the caller skips it: the page was imported before).
    """
    slug = slug or "novost"
    taken = {(p.parent, p.stem[11:]) for p in written}
    number = 1
    while True:
        candidate = slug if number == 1 else f"{slug}-{number}"
        target = news_path(content, settings, page.date, candidate)
        number += 1
        if target in written or (target.parent, candidate) in taken:
            continue
        if target.exists() or not same_slug(target):
            return target


def write_item(target: Path, page: LegacyPage, title: str) -> None:
    """Write one imported news item; never over an existing file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    date = page.date
    date_text = f"{date:%Y-%m-%d %H:%M}" if date.hour or date.minute else f"{date:%F}"
    front = (
        "---\n"
        f"title: {yaml_scalar(title)}\n"
        f"date: {date_text}\n"
        f"source: {yaml_scalar(page.source)}\n"
        "---\n\n"
    )
    with open(target, "x", encoding="utf-8", newline="\n") as f:
        f.write(front + page.markdown())


def expand_sources(source: str) -> list[Path]:
    """A file, a folder (its .txt/.html pages) or a glob → the pages, sorted."""
    path = Path(source)
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.suffix.lower() in LEGACY_SUFFIXES]
    elif glob.has_magic(source):
        found = [Path(p) for p in glob.glob(source, recursive=True)]
        found = [p for p in found if p.is_file()]
    elif path.is_file():
        found = [path]
    else:
        raise LegacyError(f"{source}: нет такого файла или папки")
    return sorted(found)


def import_legacy(
    source: str,
    settings: dict,
    *,
    title: str = "",
    slug: str = "",
    ask: Callable[[str], str] | None = None,
    out=None,
    err=None,
) -> int:
    """Import old pages; print progress and the check; return an exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        files = expand_sources(source)
    except LegacyError as error:
        print(error, file=err)
        return 1
    if not files:
        print(f"{source}: страниц старого сайта (.txt, .html) не найдено", file=err)
        return 1
    if (title or slug) and len(files) > 1:
        print("--title и --slug можно указать только для одной страницы", file=err)
        return 1
    content = Path(settings["PATH"])
    subs = settings.get("SLUG_REGEX_SUBSTITUTIONS", ())
    width = len(str(len(files)))
    written: list[Path] = []
    skipped = failed = 0
    for n, path in enumerate(files, 1):
        prefix = f"[{n:>{width}}/{len(files)}] {path}"
        try:
            page = read_legacy(path)
        except (LegacyError, OSError) as error:
            print(f"{prefix}: не импортирована — {error}", file=err)
            failed += 1
            continue
        note = ""
        page_title = " ".join((title or page.title or "").split())
        if not page_title:
            derived = derive_title(page)
            page_title = (ask(derived) if ask and len(files) == 1 else "") or derived
            if page_title == derived:
                note = " (заголовок взят из первого предложения — проверьте его)"
        target = _free_target(
            content, settings, page, slug or short_slug(page_title, subs), written
        )
        if target.exists():
            print(
                f"{prefix}: пропущена — файл {display_path(target)} уже есть", file=out
            )
            skipped += 1
            continue
        write_item(target, page, page_title)
        written.append(target)
        print(f"{prefix} → {display_path(target)}{note}", file=out)
    problems = []
    if written:
        rels = {p.resolve().relative_to(content.resolve()).as_posix() for p in written}
        problems = check_site(content, settings, only=rels).problems
        for problem in problems:
            print(problem, file=err)
    print(
        f"Импортировано: {len(written)}, пропущено (файл уже есть): {skipped}, "
        f"не удалось: {failed}, ошибок проверки: {len(problems)}.",
        file=out,
    )
    return 0 if not failed and not problems else 1
