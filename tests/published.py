"""What a content folder says should be published, read from the files
themselves (YAML front matter and file names), independently of Pelican: the
expectation that feeds, the sitemap and the search index are checked against.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mfc_typography import typographize

TIMEZONE = zoneinfo.ZoneInfo("Europe/Astrakhan")
NEWS_FILE = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.+)\.md$")
FRONT_MATTER = re.compile(r"\A\ufeff?---\s*\n(.*?)^---\s*$", re.S | re.M)


@dataclass
class Item:
    """A news item or a page, as its file describes it."""

    path: Path
    url: str  # site-relative, e.g. "/news/2013/forum-v-eltse/"
    title: str
    summary: str = ""
    date: dt.datetime | None = None
    modified: dt.datetime | None = None
    tags: list[str] = field(default_factory=list)
    draft: bool = False


def front_matter(path: Path) -> dict:
    match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    assert match, f"{path}: no front matter"
    return yaml.safe_load(match.group(1)) or {}


def when(value) -> dt.datetime | None:
    """A front-matter date ("2013-09-20" or "2021-03-15 09:30") in Astrakhan."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        moment = dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=moment.tzinfo or TIMEZONE)


def shown(text) -> str:
    """Front-matter text as the site shows it: Russian typography applied
    (the site's filter), whitespace collapsed."""
    return " ".join(typographize(str(text)).split())


def news(content: Path) -> list[Item]:
    """Every news item in the folder, newest first, drafts included."""
    items = []
    for path in (content / "news").rglob("*.md"):
        meta = front_matter(path)
        name = NEWS_FILE.search(path.name)
        date = when(meta.get("date", name["date"]))
        slug = meta.get("slug", name["slug"])
        tags = meta.get("tags") or []
        items.append(
            Item(
                path=path,
                url=f"/news/{date:%Y}/{slug}/",
                title=meta["title"],
                summary=shown(meta.get("summary", "")),
                date=date,
                modified=when(meta.get("modified")),
                tags=[tags] if isinstance(tags, str) else list(tags),
                draft=meta.get("status") == "draft",
            )
        )
    return sorted(items, key=lambda item: item.date, reverse=True)


def published_news(content: Path) -> list[Item]:
    """The news a production build must publish: no drafts, nothing future."""
    now = dt.datetime.now(dt.UTC)
    return [item for item in news(content) if not item.draft and item.date <= now]


def unpublished_news(content: Path) -> list[Item]:
    published = {item.url for item in published_news(content)}
    return [item for item in news(content) if item.url not in published]


def published_pages(content: Path) -> list[Item]:
    """The pages a production build must publish: no drafts."""
    return [item for item in pages(content) if not item.draft]


def pages(content: Path) -> list[Item]:
    """Every page, drafts included; its URL is its file name."""
    items = []
    for path in sorted((content / "pages").glob("*.md")):
        meta = front_matter(path)
        slug = meta.get("slug", path.stem)
        items.append(
            Item(
                path=path,
                url=f"/{slug}/",
                title=meta["title"],
                summary=shown(meta.get("summary", "")),
                date=when(meta.get("date")),
                modified=when(meta.get("modified")),
                draft=meta.get("status") == "draft",
            )
        )
    return items
