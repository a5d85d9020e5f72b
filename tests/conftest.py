"""Shared fixtures: one fixture site, built once per test session.

The fixture site is the real ``content/`` plus generated news items (enough
to paginate), built by the real Pelican command with the project's settings,
in a C locale (so Russian dates cannot come from the OS), with warnings fatal.
"""

from __future__ import annotations

import datetime as dt
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


# A draft: in no list, feed, sitemap or search index (in production: no page).
DRAFT_NEWS = """\
---
title: Сотрудники МФЦ провели субботник
date: 2020-06-01
status: draft
summary: Черновик новости о субботнике.
---

Сотрудники МФЦ вышли на субботник и убрали сквер у здания на улице Бабефа.
"""

# Published in production only next year: absent from the production build.
FUTURE_NEWS = """\
---
title: МФЦ отметит юбилей
date: {date}
summary: Новость о юбилее, которая выйдет в будущем.
tags:
  - юбилей
---

В следующем году многофункциональный центр отметит юбилей работы с заявителями.
"""

# Two items in one year (two month archives), one with a lead image, a
# modification date and characters that need escaping in attributes.
EXTRA_NEWS = {
    "2021-03-15-novyi-zal": """\
---
title: 'Новый зал приёма: "окна" & талоны без очереди'
date: 2021-03-15 09:30
modified: 2021-05-01 12:00
summary: 'Открыт новый зал приёма заявителей: "окна" & электронная очередь.'
image: images/test/zal.png
image_alt: Новый зал приёма заявителей с окнами и табло очереди
tags:
  - зал приёма
---

В МФЦ открыт новый зал приёма заявителей с двенадцатью окнами и табло очереди.
""",
    "2021-04-02-grafik": """\
---
title: График работы МФЦ в праздничные дни
date: 2021-04-02
summary: Как работает МФЦ в майские праздники.
tags:
  - зал приёма
---

В праздничные дни МФЦ работает по особому графику.
""",
}


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


def write_generated_news(content: Path, count: int) -> None:
    """Add `count` dated news items in 2020, two tags alternating."""
    folder = content / "news" / "2020"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, count + 1):
        month, day = 1 + (n - 1) // 28, 1 + (n - 1) % 28
        text = NEWS_TEMPLATE.format(
            n=n, month=month, day=day, tag="приём документов" if n % 2 else "услуги"
        )
        (folder / f"2020-{month:02d}-{day:02d}-testovaia-novost-{n}.md").write_text(
            text, encoding="utf-8"
        )


def write_news(content: Path, name: str, text: str) -> None:
    """Add one news item, ``name`` being the file name without ``.md``."""
    folder = content / "news" / name[:4]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(text, encoding="utf-8")


def future_date() -> dt.date:
    return dt.date.today() + dt.timedelta(days=400)


def png(width: int, height: int) -> bytes:
    """A plain blue PNG image of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    row = b"\x00" + b"\x0b\x3d\x91" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
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
def site(tmp_path_factory) -> Site:
    """The fixture site, built once for the whole session."""
    base = tmp_path_factory.mktemp("site")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    write_generated_news(content, GENERATED_NEWS)
    write_news(content, "2020-06-01-subbotnik", DRAFT_NEWS)
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
    """The real content, a draft, a future item and two more items (one with a
    lead image), built with the production settings (publishconf.py)."""
    base = tmp_path_factory.mktemp("published")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    write_news(content, "2020-06-01-subbotnik", DRAFT_NEWS)
    future = future_date()
    write_news(content, f"{future}-yubilei", FUTURE_NEWS.format(date=future))
    for name, text in EXTRA_NEWS.items():
        write_news(content, name, text)
    (content / "images" / "test").mkdir(parents=True)
    (content / "images" / "test" / "zal.png").write_bytes(png(600, 315))
    output = base / "output"
    output.mkdir()
    (output / "stale.html").write_text("left over from an old build")
    result = build_site(content, output, "publishconf.py", MFC_SITEURL=PUBLISHED_URL)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"production build failed:\n{log}"
    return Site(content=content, output=output, log=log)
