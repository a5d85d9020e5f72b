"""The declared schema of each content kind, and its validation.

A schema is a list of fields: a key, whether it is required, and the kind of
value it takes. ``validate`` walks the composed YAML nodes of one document,
reports every problem with the line of its key or value, and returns the
normalised values (plain Python: ``str``, ``datetime``, lists) that the
Pelican reader and the contact block use.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml
from babel.dates import get_month_names

from .source import Document

STR_TAG = "tag:yaml.org,2002:"
NULL_TAG = STR_TAG + "null"
INVALID = object()  # a value that was reported as wrong

DATE_RE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)
# Dates editors type that are not ours: 20.09.2013, 20/09/2013 10:00, 2013.09.20,
# 2013-9-20, 20 сентября 2013 г.
DMY_RE = re.compile(
    r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})\s*(?:г\.?)?"
    r"(?:[ ,T]+(?P<H>\d{1,2})[:.](?P<M>\d{2}))?$"
)
YMD_LOOSE_RE = re.compile(
    r"^(?P<y>\d{4})[./–—-](?P<m>\d{1,2})[./–—-](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2})[:.](?P<M>\d{2})(?::\d{2})?)?$"
)
# «20 сентября 2013»: the month names dates use, from Babel (as mfc_dates).
MONTHS_GENITIVE = list(get_month_names("wide", context="format", locale="ru").values())
MONTHS_PREPOSITIONAL = [
    "январе",
    "феврале",
    "марте",
    "апреле",
    "мае",
    "июне",
    "июле",
    "августе",
    "сентябре",
    "октябре",
    "ноябре",
    "декабре",
]
WORDS_RE = re.compile(
    r"^(?P<d>\d{1,2})\s+(?P<month>[а-яё]+)\s+(?P<y>\d{4})\s*(?:г\.?|года)?"
    r"(?:[ ,]+(?P<H>\d{1,2})[:.](?P<M>\d{2}))?$",
    re.IGNORECASE,
)
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HTML_TAG_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>?")
PLACEHOLDER_RE = re.compile(r"\[\[|\]\]|ВПИШИТЕ")
PHONE_RE = re.compile(r"^\+?[\d\s()\-–.]+$")
EMAIL_RE = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$"
)
PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".avif"}  # made into derivatives
WEB_IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".svg", ".avif"}
EARLIEST_YEAR = 2000  # the MFC and its site are younger than this
MAX_AHEAD = dt.timedelta(days=366)  # scheduling further ahead is a typo
SLUG_MAX = 80

# Keys editors type instead of ours, for "did you mean …".
ALIASES = {
    "заголовок": "title",
    "название": "title",
    "name": "title",
    "дата": "date",
    "published": "date",
    "теги": "tags",
    "тэги": "tags",
    "метки": "tags",
    "темы": "tags",
    "тема": "tags",
    "tag": "tags",
    "category": "tags",
    "описание": "summary",
    "анонс": "summary",
    "кратко": "summary",
    "description": "summary",
    "картинка": "image",
    "фото": "image",
    "изображение": "image",
    "img": "image",
    "picture": "image",
    "photo": "image",
    "cover": "image",
    "alt": "image_alt",
    "подпись": "image_alt",
    "image-alt": "image_alt",
    "imagealt": "image_alt",
    "галерея": "gallery",
    "photos": "gallery",
    "статус": "status",
    "черновик": "status",
    "draft": "status",
    "url": "slug",
    "адрес": "address",
    "телефон": "phone",
    "тел": "phone",
    "tel": "phone",
    "почта": "email",
    "e-mail": "email",
    "mail": "email",
    "часы": "hours",
    "режим": "hours",
    "координаты": "coordinates",
    "coords": "coordinates",
    "изменено": "modified",
    "updated": "modified",
    "источник": "source",
}
STATUS_ALIASES = {
    "черновик": "draft",
    "drafts": "draft",
    "опубликовано": "published",
    "опубликован": "published",
    "publish": "published",
    "public": "published",
    "скрыто": "hidden",
}


@dataclass
class Context:
    """What validation needs to know beyond the file itself.

    Its fields are fixed for a whole check (they come from the settings and
    the theme). What may change while the file does not (other files, the
    photos, the time) is only ever asked through the methods below; while
    ``asked`` is a list, each question and its answer are appended to it, so
    a file's result can be reused later if every answer is still the same
    (``answers_hold``; see checkcache.py).
    """

    now: dt.datetime  # aware, in the site's time zone
    files: set[str]  # every file under content/, as posix paths relative to it
    static_paths: tuple[str, ...] = ("images",)
    page_paths: tuple[str, ...] = ("pages",)
    article_paths: tuple[str, ...] = ("news",)
    templates: frozenset[str] = frozenset()  # the theme's template names
    slug_subs: tuple = ()
    lower_files: dict[str, str] = field(default_factory=dict)
    content: Path | None = None  # the content folder, to look into photos
    asked: list | None = None  # (question, arguments, answer) while recording

    def __post_init__(self):
        self.lower_files = {f.lower(): f for f in self.files}

    def _ask(self, question: str, *args):
        answer = getattr(self, f"_{question}")(*args)
        if self.asked is not None:
            self.asked.append((question, args, answer))
        return answer

    def answers_hold(self, asked: list) -> bool:
        """Whether every question in `asked` still gets the same answer."""
        return all(getattr(self, f"_{q}")(*args) == a for q, args, a in asked)

    def exists(self, path: str) -> bool:
        return self._ask("exists", path)

    def case_twin(self, path: str) -> str | None:
        """The existing file that differs from `path` only by letter case."""
        return self._ask("case_twin", path)

    def photo_problem(self, path: str) -> str:
        """Why the photo content/`path` cannot be published, or ""."""
        return self._ask("photo_problem", path)

    def in_future(self, moment: dt.datetime) -> bool:
        """Whether a moment (site time, naive or aware) is still to come."""
        return self._ask("in_future", moment)

    def ahead_by_more(self, moment: dt.datetime, span: dt.timedelta) -> bool:
        """Whether a naive moment (site time) is more than `span` from now."""
        return self._ask("ahead_by_more", moment, span)

    def _exists(self, path: str) -> bool:
        return path in self.files

    def _case_twin(self, path: str) -> str | None:
        return self.lower_files.get(path.lower())

    def _photo_problem(self, path: str) -> str:
        return photo_problem(self.content / path) if self.content else ""

    def _in_future(self, moment: dt.datetime) -> bool:
        return moment.replace(tzinfo=self.now.tzinfo) > self.now

    def _ahead_by_more(self, moment: dt.datetime, span: dt.timedelta) -> bool:
        return moment - self.now.replace(tzinfo=None) > span


@dataclass
class Checker:
    """One document under validation: reports problems, keeps values."""

    doc: Document
    ctx: Context
    kind: str
    rel_path: str = ""  # posix path relative to content/
    values: dict = field(default_factory=dict)
    lines: dict = field(default_factory=dict)  # key → file line

    def problem(self, node_or_line, code: str, message: str) -> None:
        line = (
            node_or_line
            if isinstance(node_or_line, int)
            else self.doc.file_line(node_or_line.start_mark)
        )
        self.doc.problem(line, code, message)


@dataclass(frozen=True)
class Field:
    """One key of a schema."""

    name: str
    check: Callable  # (checker, field, node) → value, None (absent) or INVALID
    required: bool = False
    label: str = ""  # what it is, in Russian: "заголовок"


# --- Value kinds -------------------------------------------------------------


def scalar_text(ck: Checker, f: Field, node: yaml.Node) -> str | None:
    """A one-value text; None when empty; INVALID when not text."""
    if isinstance(node, yaml.SequenceNode):
        ck.problem(
            node,
            "E204",
            f"«{f.name}» ({f.label}) — это одно значение, а не список — "
            f"запишите его в одну строку: {f.name}: текст",
        )
        return INVALID
    if isinstance(node, yaml.MappingNode):
        ck.problem(
            node,
            "E204",
            f"«{f.name}» ({f.label}) — это одно значение, а под ним записаны "
            "вложенные свойства — уберите отступы у следующих строк или "
            "заключите значение в кавычки",
        )
        return INVALID
    if not node.tag.startswith(STR_TAG):
        ck.problem(
            node,
            "E204",
            f"у значения «{f.name}» стоит служебная пометка {node.tag} — "
            "уберите её (знак ! и слово после него)",
        )
        return INVALID
    if (node.tag == NULL_TAG and node.style in (None, "")) or not node.value.strip():
        return None
    return node.value.strip()


def text(ck: Checker, f: Field, node: yaml.Node):
    value = scalar_text(ck, f, node)
    if value is None or value is INVALID:
        return value
    if PLACEHOLDER_RE.search(value):
        ck.problem(
            node,
            "E216",
            f"в «{f.name}» осталась заготовка «{value[:60]}» — впишите вместо "
            "неё свой текст (без [[ ]] и слова ВПИШИТЕ)",
        )
        return INVALID
    tag = HTML_TAG_RE.search(value)
    if tag:
        ck.problem(
            node,
            "E215",
            f"в «{f.name}» есть HTML-тег «{tag.group()[:40]}» — в свойствах "
            "пишите обычный текст без тегов",
        )
        return INVALID
    return " ".join(value.split()) if f.name != "summary" else value


def text_lines(ck: Checker, f: Field, node: yaml.Node):
    """Text, or a list of text lines joined with "; " (working hours)."""
    if isinstance(node, yaml.SequenceNode):
        parts = [text(ck, f, item) for item in node.value]
        if any(p is INVALID for p in parts):
            return INVALID
        return "; ".join(p for p in parts if p) or None
    return text(ck, f, node)


def parse_date(raw: str) -> tuple[dt.datetime | None, str | None]:
    """Parse our date format; else say how to write it.

    Returns (value, None) or (None, message).

    >>> parse_date("2013-09-20")[0]
    datetime.datetime(2013, 9, 20, 0, 0)
    >>> parse_date("20.09.2013")[1]
    'дата «20.09.2013» записана не в том формате — пишите год-месяц-день: 2013-09-20'
    """
    raw = " ".join(raw.split())
    match = DATE_RE.match(raw)
    if match:
        return _make_date(raw, match.groupdict())
    for regex in (DMY_RE, YMD_LOOSE_RE, WORDS_RE):
        match = regex.match(raw)
        if not match:
            continue
        parts = match.groupdict()
        if "month" in parts:
            word = parts.pop("month").lower()
            if word not in MONTHS_GENITIVE:
                break
            parts["m"] = str(MONTHS_GENITIVE.index(word) + 1)
        value, error = _make_date(raw, parts)
        if error:
            return None, error
        fixed = value.strftime("%Y-%m-%d")
        if parts.get("H"):
            fixed += value.strftime(" %H:%M")
        return None, (
            f"дата «{raw}» записана не в том формате — пишите год-месяц-день: {fixed}"
        )
    if re.search(r"[+-]\d{2}:?\d{2}$|Z$|UTC|MSK|МСК", raw):
        return None, (
            f"в дате «{raw}» указан часовой пояс — пишите астраханское время "
            "без пояса, например 2024-05-17 10:30"
        )
    return None, (
        f"«{raw}» не похоже на дату — пишите год-месяц-день, например "
        "2024-05-17, или с временем: 2024-05-17 10:30"
    )


def _make_date(raw: str, parts: dict) -> tuple[dt.datetime | None, str | None]:
    year, month, day = int(parts["y"]), int(parts["m"]), int(parts["d"])
    hour = int(parts.get("H") or 0)
    minute = int(parts.get("M") or 0)
    second = int(parts.get("S") or 0)
    if not 1 <= month <= 12:
        return None, (
            f"в дате «{raw}» месяц {month}, а месяцев всего 12 — проверьте, "
            "не перепутаны ли месяц и день: пишите год-месяц-день"
        )
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return None, (
            f"даты «{raw}» не бывает: в {MONTHS_PREPOSITIONAL[month - 1]} "
            f"{year} года {days} {_days_word(days)} — исправьте день"
        )
    if hour > 23 or minute > 59 or second > 59:
        return None, (
            f"времени «{hour}:{minute:02d}» не бывает — часы от 0 до 23, "
            "минуты от 00 до 59"
        )
    return dt.datetime(year, month, day, hour, minute, second), None


def _days_word(n: int) -> str:
    return "день" if n % 10 == 1 and n != 11 else "дней"


def date(ck: Checker, f: Field, node: yaml.Node):
    raw = scalar_text(ck, f, node)
    if raw is None or raw is INVALID:
        return raw
    if PLACEHOLDER_RE.search(raw):
        ck.problem(
            node,
            "E216",
            f"в «{f.name}» осталась заготовка — впишите дату, например 2024-05-17",
        )
        return INVALID
    value, error = parse_date(raw)
    if error:
        code = "E206" if "не бывает" in error or "месяцев всего" in error else "E205"
        ck.problem(node, code, error)
        return INVALID
    return value


def slug(ck: Checker, f: Field, node: yaml.Node):
    value = scalar_text(ck, f, node)
    if value is None or value is INVALID:
        return value
    if not SLUG_RE.match(value) or len(value) > SLUG_MAX:
        ck.problem(
            node,
            "E209",
            f"адрес «{value}» можно писать только латинскими строчными буквами, "
            "цифрами и дефисами, не длиннее 80 знаков — например "
            f"«{suggest_slug(value, ck.ctx.slug_subs) or 'novyi-grafik'}»",
        )
        return INVALID
    return value


def status_for(allowed: tuple[str, ...]):
    def status(ck: Checker, f: Field, node: yaml.Node):
        value = scalar_text(ck, f, node)
        if value is None or value is INVALID:
            return value
        normal = value.strip().lower()
        if normal in allowed:
            return normal
        hint = STATUS_ALIASES.get(normal)
        options = " или ".join(allowed)
        fix = (
            f"напишите status: {hint}"
            if hint in allowed
            else f"допустимые значения: {options}"
        )
        ck.problem(node, "E210", f"статуса «{value}» не бывает — {fix}")
        return INVALID

    return status


def tags(ck: Checker, f: Field, node: yaml.Node):  # noqa: PLR0911  (a return per mistake)
    if isinstance(node, yaml.ScalarNode):
        raw = scalar_text(ck, f, node)
        if raw is None or raw is INVALID:
            return raw
        items = [(part, node) for part in re.split(r"[,;]", raw) if part.strip()]
    elif isinstance(node, yaml.SequenceNode):
        items = []
        for item in node.value:
            value = scalar_text(ck, Field("tags", text, label="тема"), item)
            if value is INVALID:
                return INVALID
            if value is None:
                ck.problem(
                    item,
                    "E211",
                    "пустая тема в списке tags — впишите тему после «- » или "
                    "удалите строку",
                )
                return INVALID
            items.append((value, item))
    else:
        ck.problem(
            node,
            "E204",
            "темы (tags) записаны не списком — пишите каждую тему на своей "
            "строке после «- » или все в одну строку через запятую",
        )
        return INVALID
    result = []
    for raw, item in items:
        name = " ".join(raw.split())
        if HTML_TAG_RE.search(name) or PLACEHOLDER_RE.search(name):
            ck.problem(
                item,
                "E211",
                f"тема «{name}» содержит HTML или заготовку — пишите тему "
                "обычными словами",
            )
            return INVALID
        if not suggest_slug(name, ck.ctx.slug_subs):
            ck.problem(
                item,
                "E211",
                f"в теме «{name}» нет ни букв, ни цифр — впишите тему словами",
            )
            return INVALID
        if name not in result:
            result.append(name)
    return result or None


def image_path(ck: Checker, f: Field, node: yaml.Node):
    value = scalar_text(ck, f, node)
    if value is None or value is INVALID:
        return value
    return check_image_reference(ck, node, value)


def check_image_reference(ck: Checker, where, value: str):
    """Validate a reference to a photo (lead image, gallery); return its
    content path. Photos must be JPEG or PNG: only those get responsive
    derivatives (plugins/mfc_images)."""
    found = resolve_image(value, ck.ctx)
    if isinstance(found, tuple):
        code, message = found
        ck.problem(where, code, message)
        return INVALID
    if PurePosixPath(found).suffix.lower() not in PHOTO_EXTENSIONS:
        ck.problem(
            where,
            "E302",
            f"«{found}» — для главной картинки и фотогалереи нужна фотография "
            "в формате JPEG (.jpg) или PNG (.png) — сохраните её в одном из них",
        )
        return INVALID
    return found


def resolve_image(value: str, ctx: Context):  # noqa: PLR0911  (a return per mistake)
    """An image reference → its path under content/, or (code, message)."""
    raw = value.strip()
    if re.match(r"^(https?:)?//", raw, re.IGNORECASE):
        return "E303", (
            f"картинка «{raw[:80]}» взята с другого сайта — сайт не загружает "
            "ничего с чужих адресов: скачайте картинку и положите её в "
            "content/images/"
        )
    if re.match(r"^[a-zA-Z]:[\\/]|^file:|\\", raw):
        return "E304", (
            f"«{raw[:80]}» — это путь к файлу на вашем компьютере — положите "
            "картинку в папку content/images/ и укажите путь от папки content, "
            "например images/2024/foto.jpg"
        )
    path = re.sub(
        r"^(\{static\}|\{attach\}|\{filename\}|\|static\||\|filename\|)", "", raw
    )
    path = path.lstrip("/").split("#")[0].split("?")[0]
    path = str(PurePosixPath(path)) if path else path
    top = path.split("/")[0]
    suffix = PurePosixPath(path).suffix.lower()
    if suffix not in WEB_IMAGE_EXTENSIONS:
        return "E302", (
            f"«{raw[:80]}» — не картинка в формате, который показывают "
            "браузеры — сохраните её как JPEG (.jpg) или PNG (.png)"
        )
    if top not in ctx.static_paths:
        return "E302", (
            f"картинка «{raw[:80]}» лежит не в папке content/images/ — "
            "картинки хранятся только там: перенесите файл и напишите путь "
            "вида images/2024/foto.jpg"
        )
    if not ctx.exists(path):
        twin = ctx.case_twin(path)
        hint = (
            f"есть файл «{twin}»: большие и маленькие буквы в имени должны совпадать"
            if twin
            else "проверьте имя файла и папку или добавьте картинку в content/images/"
        )
        return "E301", f"картинки «{path}» нет в папке content — {hint}"
    if suffix in PHOTO_EXTENSIONS:
        wrong = ctx.photo_problem(path)
        if wrong:
            return "E308", f"картинка «{path}»: {wrong}"
    return path


def photo_problem(path: Path) -> str:
    """Why a JPEG or PNG cannot be published (the site makes its derivatives
    with plugins/mfc_images), or "" when it opens. Only the file's header is
    read: the check stays fast with thousands of photos."""
    try:
        stat = path.stat()
    except OSError:
        return ""
    return _photo_problem(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)  # a photo is often named twice (lead, gallery)
def _photo_problem(path: str, size: int, mtime: int) -> str:
    from mfc_images.derivatives import PhotoError, open_photo  # noqa: PLC0415

    try:
        open_photo(Path(path)).close()
    except PhotoError as error:
        return str(error)
    return ""


def gallery(ck: Checker, f: Field, node: yaml.Node):  # noqa: PLR0911  (a return per mistake)
    example = (
        "под строкой «gallery:» для каждой фотографии две строки: "
        "«  - photo: images/2024/foto1.jpg» и «    alt: что на фото»"
    )
    if not isinstance(node, yaml.SequenceNode):
        if isinstance(node, yaml.ScalarNode) and scalar_text(ck, f, node) is None:
            return None
        ck.problem(
            node,
            "E214",
            "фотогалерея (gallery) — это список фотографий, у каждой путь "
            f"(photo) и описание (alt) — запишите так: {example}",
        )
        return INVALID
    result = []
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            ck.problem(
                item,
                "E214",
                "у каждой фотографии в gallery должны быть photo и alt — "
                "запишите так: - photo: images/2024/foto1.jpg, а на следующей "
                "строке с отступом: alt: что на фото",
            )
            return INVALID
        entry = {}
        for key_node, value_node in item.value:
            key = str(key_node.value).strip().lower()
            if key not in ("photo", "alt"):
                ck.problem(
                    key_node,
                    "E214",
                    f"в фотографии галереи неизвестное свойство «{key_node.value}» "
                    "— у фотографии бывают только photo и alt"
                    + _also(did_you_mean(key, ("photo", "alt"))),
                )
                return INVALID
            if key == "photo":
                raw = scalar_text(ck, Field("photo", text, label="фото"), value_node)
                entry["photo"] = (
                    check_image_reference(ck, value_node, raw)
                    if isinstance(raw, str)
                    else raw
                )
            else:
                entry["alt"] = text(
                    ck, Field("alt", text, label="описание фото"), value_node
                )
        if entry.get("photo") is None:
            ck.problem(
                item,
                "E214",
                "у фотографии в gallery не указан файл — добавьте "
                "photo: images/2024/foto.jpg",
            )
            return INVALID
        if not entry.get("alt"):
            if entry.get("alt") is None:
                ck.problem(
                    item,
                    "E212",
                    "у фотографии в gallery нет описания — добавьте строку "
                    "alt: что изображено на фото (его прочитают незрячим "
                    "посетителям)",
                )
            return INVALID
        if INVALID in entry.values():
            return INVALID
        result.append(entry)
    return result or None


def phone(ck: Checker, f: Field, node: yaml.Node):
    value = text(ck, f, node)
    if not isinstance(value, str):
        return value
    digits = re.sub(r"\D", "", value)
    if not PHONE_RE.match(value) or not 10 <= len(digits) <= 11:
        ck.problem(
            node,
            "E217",
            f"«{value}» не похоже на один номер телефона — укажите один номер "
            "с кодом города, например +7 8512 668-807",
        )
        return INVALID
    return value


def email(ck: Checker, f: Field, node: yaml.Node):
    value = text(ck, f, node)
    if not isinstance(value, str):
        return value
    if value.lower().startswith("mailto:") or not EMAIL_RE.match(value):
        ck.problem(
            node,
            "E218",
            f"«{value}» не похоже на адрес электронной почты — напишите "
            "один адрес без пробелов и без «mailto:», например "
            "mfc.astrakhan@astrobl.ru",
        )
        return INVALID
    return value


def page_file(ck: Checker, f: Field, node: yaml.Node):
    value = text(ck, f, node)
    if not isinstance(value, str):
        return value
    path = str(PurePosixPath(value.strip().lstrip("/")))
    path = re.sub(r"^(content/)", "", path)
    if not ck.ctx.exists(path):
        twin = ck.ctx.case_twin(path)
        hint = f"есть файл «{twin}»" if twin else "укажите путь от папки content"
        ck.problem(
            node,
            "E301",
            f"страницы «{value}» для ссылки «Как добраться» нет — {hint}, "
            "например pages/kak-dobratsya.md",
        )
        return INVALID
    if path.split("/")[0] not in ck.ctx.page_paths or not path.endswith(".md"):
        ck.problem(
            node,
            "E307",
            f"«{value}» — не страница сайта — укажите файл страницы из "
            "папки content/pages/, например pages/kak-dobratsya.md",
        )
        return INVALID
    return path


def template(ck: Checker, f: Field, node: yaml.Node):
    """A theme template for a special page (e.g. search): it must exist."""
    value = text(ck, f, node)
    if not isinstance(value, str):
        return value
    if not SLUG_RE.match(value) or value not in ck.ctx.templates:
        known = ", ".join(sorted(ck.ctx.templates)) or "нет"
        ck.problem(
            node,
            "E301",
            f"шаблона «{value}» в теме нет — уберите строку template (её "
            f"задают разработчики; шаблоны темы: {known})",
        )
        return INVALID
    return value


def coordinates(ck: Checker, f: Field, node: yaml.Node):
    example = "coordinates: 46.3497, 48.0408 (широта, долгота)"
    if isinstance(node, yaml.SequenceNode):
        raw = [getattr(item, "value", "") for item in node.value]
    elif isinstance(node, yaml.ScalarNode):
        value = scalar_text(ck, f, node)
        if value is None or value is INVALID:
            return value
        raw = re.split(r"[,;\s]+", value.strip())
    else:
        raw = []
    try:
        lat, lon = (float(str(x).replace(",", ".")) for x in raw)
    except (TypeError, ValueError):
        ck.problem(
            node,
            "E219",
            "координаты записаны неверно — напишите два числа через запятую: "
            + example,
        )
        return INVALID
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        ck.problem(
            node,
            "E219",
            f"координат {lat}, {lon} не бывает: широта от -90 до 90, долгота "
            f"от -180 до 180 — {example}",
        )
        return INVALID
    return (lat, lon)


# --- Schemas -----------------------------------------------------------------

NEWS = (
    Field("title", text, required=True, label="заголовок"),
    Field("date", date, required=True, label="дата публикации"),
    Field("slug", slug, label="адрес страницы"),
    Field("summary", text, label="краткое описание"),
    Field("tags", tags, label="темы"),
    Field("image", image_path, label="картинка"),
    Field("image_alt", text, label="описание картинки"),
    Field("gallery", gallery, label="фотогалерея"),
    Field("status", status_for(("published", "draft")), label="статус"),
    Field("modified", date, label="дата изменения"),
    Field("source", text, label="источник"),
)
PAGE = (
    Field("title", text, required=True, label="заголовок"),
    Field("slug", slug, label="адрес страницы"),
    Field("summary", text, label="краткое описание"),
    Field("status", status_for(("published", "draft", "hidden")), label="статус"),
    Field("modified", date, label="дата изменения"),
    Field("template", template, label="шаблон оформления"),
)
CONTACT = (
    Field("name", text, required=True, label="название организации"),
    Field("address", text, required=True, label="адрес"),
    Field("phone", phone, required=True, label="телефон"),
    Field("email", email, required=True, label="электронная почта"),
    Field("directions", page_file, required=True, label="страница «Как добраться»"),
    Field("hours", text_lines, label="часы работы"),
    Field("coordinates", coordinates, label="координаты"),
)
SCHEMAS = {"news": NEWS, "page": PAGE, "contact": CONTACT}
KIND_NAMES = {"news": "новости", "page": "страницы", "contact": "блока контактов"}


def did_you_mean(name: str, known) -> str:
    """ "возможно, вы имели в виду «title»", or "" when nothing is close.

    >>> did_you_mean("titel", ["title", "date"])
    'возможно, вы имели в виду «title»'
    >>> did_you_mean("дата", ["title", "date"])
    'возможно, вы имели в виду «date»'
    """
    known = list(known)
    target = ALIASES.get(name)
    if target not in known:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        target = close[0] if close else None
    return f"возможно, вы имели в виду «{target}»" if target else ""


def _also(hint: str) -> str:
    return f"; {hint}" if hint else ""


def suggest_slug(value: str, subs=()) -> str:
    """A valid slug for `value`: transliterated, as Pelican makes them.

    >>> suggest_slug("Форум в Ельце")
    'forum-v-eltse'
    """
    return _slug(value, tuple(tuple(pair) for pair in subs))


@functools.lru_cache(maxsize=8192)  # tags and titles repeat across a site
def _slug(value: str, subs: tuple) -> str:
    from pelican.utils import slugify  # noqa: PLC0415  (slow import, rarely needed)

    result = slugify(value, regex_subs=subs or DEFAULT_SUBS)
    result = re.sub(r"[^a-z0-9-]", "", result).strip("-")
    if len(result) > SLUG_MAX:
        result = result[:SLUG_MAX].rsplit("-", 1)[0]
    return result


DEFAULT_SUBS = (
    (r"[^\w\s-]", ""),
    (r"(?u)\A\s*", ""),
    (r"(?u)\s*\Z", ""),
    (r"[-\s]+", "-"),
)


def validate(ck: Checker) -> dict:
    """Check a document's front matter against the schema of its kind.

    Problems go into ``ck.doc.problems``; the valid values are returned.
    """
    doc, kind = ck.doc, ck.kind
    schema = SCHEMAS[kind]
    fields = {f.name: f for f in schema}
    seen: dict[str, int] = {}
    pairs = doc.root.value if doc.root is not None else []
    for key_node, value_node in pairs:
        line = doc.file_line(key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            ck.problem(
                key_node,
                "E108",
                "имя свойства должно быть словом, например title — уберите "
                "лишние знаки в начале строки",
            )
            continue
        name = key_node.value.strip().lower()
        if name in seen:
            ck.problem(
                key_node,
                "E109",
                f"свойство «{key_node.value}» уже указано в строке {seen[name]} — "
                "оставьте одно из двух",
            )
            continue
        seen[name] = line
        f = fields.get(name)
        if f is None:
            hint = did_you_mean(name, fields) or "уберите его или исправьте имя"
            ck.problem(
                key_node,
                "E201",
                f"неизвестное свойство «{key_node.value}» у {KIND_NAMES[kind]} — "
                f"{hint} (свойства {KIND_NAMES[kind]}: {', '.join(fields)})",
            )
            continue
        ck.lines[name] = line
        value = f.check(ck, f, value_node)
        if value is None:
            if f.required:
                ck.problem(
                    key_node,
                    "E203",
                    f"«{name}» ({f.label}) не заполнено — впишите значение "
                    f"после «{name}: »",
                )
            continue
        ck.values[name] = value
    for f in schema:
        if f.required and f.name not in seen:
            doc.problem(
                doc.fm_line,
                "E202",
                f"не хватает свойства «{f.name}» ({f.label}) — добавьте строку "
                f"«{f.name}: …» между строками ---",
            )
    _cross_field(ck)
    return {k: v for k, v in ck.values.items() if v is not INVALID}


def _cross_field(ck: Checker) -> None:
    values, lines, doc = ck.values, ck.lines, ck.doc
    if "image" in lines and "image_alt" not in values and "image_alt" not in lines:
        doc.problem(
            lines["image"],
            "E212",
            "у картинки нет описания — добавьте строку image_alt: что "
            "изображено на картинке (его прочитают незрячим посетителям)",
        )
    if "image_alt" in lines and "image" not in lines:
        doc.problem(
            lines["image_alt"],
            "E213",
            "описание картинки (image_alt) есть, а самой картинки (image) нет — "
            "добавьте строку image: images/… или уберите image_alt",
        )
    alt = values.get("image_alt")
    if isinstance(alt, str) and re.search(
        r"\.(jpe?g|png|gif|webp|heic)$|^(img|dsc|photo|фото)[_\- ]?\d+", alt, re.I
    ):
        doc.problem(
            lines["image_alt"],
            "E212",
            f"описание картинки «{alt}» похоже на имя файла — опишите словами, "
            "что на ней изображено",
        )
    published = values.get("date")
    if isinstance(published, dt.datetime):
        if published.year < EARLIEST_YEAR:
            doc.problem(
                lines["date"],
                "E207",
                f"год {published.year} — слишком давно для новости МФЦ — "
                "проверьте год в дате",
            )
        elif ck.ctx.ahead_by_more(published, MAX_AHEAD):
            doc.problem(
                lines["date"],
                "E207",
                f"дата {published:%Y-%m-%d} больше чем через год — новость до "
                "тех пор не появится на сайте: проверьте год в дате",
            )
    modified = values.get("modified")
    both = isinstance(modified, dt.datetime) and isinstance(published, dt.datetime)
    if both and modified < published:
        doc.problem(
            lines["modified"],
            "E208",
            f"дата изменения {modified:%Y-%m-%d} раньше даты публикации "
            f"{published:%Y-%m-%d} — исправьте одну из них",
        )
