"""``invoke new "Заголовок"``: a correctly named news file from the template.

The file is ``content/news/<year>/<date>-<slug>.md``: today's date in the
site's time zone (Europe/Astrakhan) and a slug transliterated from the title
the way Pelican makes slugs. The template (``templates/news.md``) leaves a
``[[ВПИШИТЕ …]]`` placeholder for the text, which ``invoke check`` refuses
until the editor replaces it. An existing file is never overwritten.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template

import yaml

from .schema import HTML_TAG_RE, PLACEHOLDER_RE, SLUG_RE, parse_date, suggest_slug
from .site import current_time, display_path

TEMPLATE = Path(__file__).parent / "templates" / "news.md"
NEW_SLUG_MAX = 60  # file names stay readable; the check allows up to 80


class NewsError(Exception):
    """Why a news file was not created (Russian, for the editor)."""


def yaml_scalar(value: str) -> str:
    """`value` as YAML: plain when it reads back unchanged, else double-quoted.

    >>> yaml_scalar("Новый график работы")
    'Новый график работы'
    >>> yaml_scalar("Приём: новые правила")
    '"Приём: новые правила"'
    """
    try:
        plain = yaml.safe_load(f"key: {value}") == {"key": value}
    except yaml.YAMLError:
        plain = False
    if plain and value[:1] not in "\"'!&*%@`|>[{#-?,":
        return value
    return json.dumps(value, ensure_ascii=False)


def short_slug(title: str, subs=()) -> str:
    """A slug from a title, cut at a word boundary to at most 60 characters.

    >>> short_slug("Сотрудники МФЦ приняли участие в международном форуме в Ельце")
    'sotrudniki-mfts-priniali-uchastie-v-mezhdunarodnom-forume-v'
    """
    slug = suggest_slug(title, subs)
    if len(slug) > NEW_SLUG_MAX:
        slug = slug[: NEW_SLUG_MAX + 1].rsplit("-", 1)[0]
    return slug


def news_path(content: Path, settings: dict, date, slug: str) -> Path:
    folder = Path(content) / settings.get("ARTICLE_PATHS", ["news"])[0] / f"{date:%Y}"
    return folder / f"{date:%Y-%m-%d}-{slug}.md"


def same_slug(path: Path) -> list[Path]:
    """Other news files of the same year with the same slug (same URL)."""
    slug = path.stem[len("YYYY-MM-DD-") :]
    if not path.parent.is_dir():
        return []
    return [
        p
        for p in path.parent.iterdir()
        if p != path and re.fullmatch(r"\d{4}-\d{2}-\d{2}-" + re.escape(slug), p.stem)
    ]


def create_news(
    title: str, settings: dict, *, slug: str = "", date: str = "", now=None
) -> Path:
    """Create a news file from the template; return its path."""
    title = " ".join((title or "").split())
    if not title:
        raise NewsError('Укажите заголовок новости: invoke new "Заголовок новости"')
    if HTML_TAG_RE.search(title) or PLACEHOLDER_RE.search(title):
        raise NewsError("Заголовок пишется обычным текстом, без HTML и [[ ]].")
    now = now or current_time(settings.get("TIMEZONE", "Europe/Astrakhan"))
    if date:
        when, error = parse_date(date)
        if error:
            raise NewsError(f"--date: {error}")
        date_text = f"{when:%Y-%m-%d %H:%M}" if ":" in date else f"{when:%Y-%m-%d}"
    else:
        when = now.replace(tzinfo=None)
        date_text = f"{when:%Y-%m-%d}"
    subs = settings.get("SLUG_REGEX_SUBSTITUTIONS", ())
    slug = slug.strip() or short_slug(title, subs)
    if not slug:
        raise NewsError(
            "Из заголовка не получился адрес новости (в нём нет букв и цифр) — "
            "укажите адрес латиницей: --slug novyi-grafik"
        )
    if not SLUG_RE.match(slug):
        raise NewsError(
            f"Адрес «{slug}» пишется латинскими строчными буквами, цифрами и "
            f"дефисами, например «{short_slug(slug, subs) or 'novyi-grafik'}»."
        )
    path = news_path(Path(settings["PATH"]), settings, when, slug)
    if path.exists():
        raise NewsError(
            f"Файл {display_path(path)} уже есть, он не перезаписан — откройте "
            "его или выберите другой адрес: --slug другой-адрес"
        )
    twins = same_slug(path)
    if twins:
        raise NewsError(
            f"Новость с адресом «{slug}» за {when:%Y} год уже есть: "
            f"{display_path(twins[0])} — выберите другой адрес: --slug другой-адрес"
        )
    text = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        title=yaml_scalar(title), date=date_text, year=f"{when:%Y}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8", newline="\n") as f:  # never overwrite
        f.write(text)
    return path
