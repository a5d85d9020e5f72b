"""Shared fixtures: one fixture site, built once per test session.

The fixture site is the real ``content/`` plus generated news items (enough
to paginate), built by the real Pelican command with the project's settings,
in a C locale (so Russian dates cannot come from the OS), with warnings fatal.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
GENERATED_NEWS = 25  # with the seed item: 26 items, three list pages of 10
# One generated item has photos and text the typography must leave alone.
RICH_ITEM_NUMBER = 24
RICH_ITEM_URL = "/news/2020/testovaia-novost-24/"

NEWS_TEMPLATE = """\
---
title: Тестовая новость номер {n}
date: 2020-{month:02d}-{day:02d} 10:{n:02d}
summary: Краткое описание тестовой новости номер {n}.
tags:
  - {tag}
---

Текст тестовой новости номер {n}. Приём документов ведётся в обычном режиме.
"""


def build_site(
    content: Path, output: Path, settings: str = "pelicanconf.py", **env: str
):
    """Run Pelican like `invoke build` does, in a locale without Russian."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "LANGUAGE": "", **env}
    env.pop("LC_TIME", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pelican",
            str(content),
            "-o",
            str(output),
            "-s",
            settings,
            "--fatal",
            "warnings",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


RICH_ITEM_BODY = """
На фото - сотрудники центра.

<figure>
<img src="{{static}}/images/2020/test-photo.png"
  alt="Сотрудники МФЦ принимают документы" width="{width}" height="{height}">
<figcaption>Приём документов в центре "Мои документы"</figcaption>
</figure>

Пример кода: `a - "b" в 1-2`. Телефон: +7 8512 668-807, почта:
mfc.astrakhan@astrobl.ru, сайт: <https://example.org/a-b?x=1-2>.
Центр "Мои документы" работает с 9:00-18:00.

![Здание МФЦ на улице Бабефа]({{static}}/images/2020/test-building.png)
"""
PHOTO_SIZE = (640, 360)


def write_png(path: Path, width: int, height: int) -> None:
    """Write a small gradient picture as a PNG, with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\0"  # filter type "none", then RGB pixels
        + b"".join(
            bytes((x * 255 // width, 90, y * 255 // height)) for x in range(width)
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def write_generated_news(content: Path, count: int) -> None:
    """Add `count` dated news items in 2020, two tags alternating; item
    RICH_ITEM_NUMBER also has photos, code, a phone, an e-mail and a URL."""
    folder = content / "news" / "2020"
    folder.mkdir(parents=True, exist_ok=True)
    for name, size in (("test-photo", PHOTO_SIZE), ("test-building", (320, 200))):
        write_png(content / "images" / "2020" / f"{name}.png", *size)
    for n in range(1, count + 1):
        month, day = 1 + (n - 1) // 28, 1 + (n - 1) % 28
        text = NEWS_TEMPLATE.format(
            n=n, month=month, day=day, tag="приём документов" if n % 2 else "услуги"
        )
        if n == RICH_ITEM_NUMBER:
            width, height = PHOTO_SIZE
            text += RICH_ITEM_BODY.format(width=width, height=height)
        (folder / f"2020-{month:02d}-{day:02d}-testovaia-novost-{n}.md").write_text(
            text, encoding="utf-8"
        )


@dataclass
class Site:
    """A built site: its output folder and the build's log."""

    content: Path
    output: Path
    log: str
    _cache: dict = field(default_factory=dict)

    def file(self, url: str) -> Path:
        """The output file a site-relative URL is served from."""
        path = self.output / url.lstrip("/")
        if url.endswith("/") or url == "":
            path = path / "index.html"
        return path

    def page(self, url: str) -> BeautifulSoup:
        """Parsed HTML of the page at `url` (e.g. "/news/")."""
        if url not in self._cache:
            html = self.file(url).read_text(encoding="utf-8")
            self._cache[url] = BeautifulSoup(html, "html.parser")
        return self._cache[url]

    def html_files(self) -> list[Path]:
        return sorted(self.output.rglob("*.html"))

    def url_of(self, path: Path) -> str:
        rel = path.relative_to(self.output).as_posix()
        return "/" + rel.removesuffix("index.html")


@pytest.fixture(scope="session")
def rich_item() -> str:
    """URL of the generated news item with photos."""
    return RICH_ITEM_URL


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """The fixture site, built once for the whole session."""
    base = tmp_path_factory.mktemp("site")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    write_generated_news(content, GENERATED_NEWS)
    output = base / "output"
    result = build_site(content, output)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"build failed:\n{log}"
    return Site(content=content, output=output, log=log)


def text_of(node) -> str:
    """Visible text with whitespace (including no-break spaces) collapsed."""
    return " ".join(node.get_text(" ").split())


PUBLISHED_URL = "https://mfc.example.test"


@pytest.fixture(scope="session")
def published_site(tmp_path_factory) -> Site:
    """The real content built with the production settings (publishconf.py)."""
    base = tmp_path_factory.mktemp("published")
    output = base / "output"
    output.mkdir()
    (output / "stale.html").write_text("left over from an old build")
    result = build_site(
        ROOT / "content", output, "publishconf.py", MFC_SITEURL=PUBLISHED_URL
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"production build failed:\n{log}"
    return Site(content=ROOT / "content", output=output, log=log)
