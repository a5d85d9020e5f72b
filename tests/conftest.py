"""Shared fixtures: one fixture site, built once per test session.

The fixture site is the real ``content/`` plus generated news items (enough
to paginate), built the way `invoke build` builds (content check, Pelican
with warnings fatal into a staging folder, swap), with the project's
settings, in a C locale (so Russian dates cannot come from the OS).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import zlib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.photos import write_jpeg, write_photo_png

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


# A draft: in no list, feed, sitemap or search index (in production: no page).
DRAFT_NEWS = """\
---
title: Сотрудники МФЦ провели субботник
date: 2019-06-01
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
    """Build like `invoke build` does (same build driver), without Russian locale."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "LANGUAGE": "", **env}
    env.pop("LC_TIME", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "plugins"), *filter(None, [env.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mfc_content",
            "build",
            "--content",
            str(content),
            "--output",
            str(output),
            "--settings",
            settings,
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
# The rich item also has a lead photo and a gallery of five, made like a
# phone makes them (tests/photos.py): name → (stored width, height, how).
GALLERY = {
    "images/2020/gallery/lead.jpg": (4000, 3000, "jpeg-rotated"),
    "images/2020/gallery/zal.jpg": (4000, 3000, "jpeg"),
    "images/2020/gallery/okna.jpg": (1200, 900, "jpeg"),
    "images/2020/gallery/shema.png": (1000, 700, "png"),
    "images/2020/gallery/malenkoe.jpg": (300, 200, "jpeg"),
}
GALLERY_ALTS = [
    "Очередь у окон приёма в новом зале",
    "Зал приёма заявителей с табло электронной очереди",
    "Окна приёма документов крупным планом",
    "Схема расположения окон в зале",
    "Вывеска центра «Мои документы» у входа",
]
LEAD_ALT = "Сотрудник МФЦ принимает документы у заявителя"
RICH_ITEM_FRONT = "image: {lead}\nimage_alt: {lead_alt}\ngallery:\n{entries}"


def write_gallery_photos(content: Path) -> None:
    """The rich item's photos: 4000 px wide, EXIF orientation and GPS."""
    for seed, (name, (width, height, how)) in enumerate(GALLERY.items()):
        path = content / name
        if how == "png":
            write_photo_png(path, width, height, seed)
        else:
            rotated = how == "jpeg-rotated"
            write_jpeg(path, width, height, orientation=6 if rotated else 1, seed=seed)


def rich_item_front() -> str:
    entries = "".join(
        f"  - photo: {name}\n    alt: {alt}\n"
        for name, alt in zip(GALLERY, GALLERY_ALTS, strict=True)
    )
    return RICH_ITEM_FRONT.format(
        lead=next(iter(GALLERY)), lead_alt=LEAD_ALT, entries=entries
    )


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
    if count >= RICH_ITEM_NUMBER:
        write_gallery_photos(content)
    for n in range(1, count + 1):
        month, day = 1 + (n - 1) // 28, 1 + (n - 1) % 28
        text = NEWS_TEMPLATE.format(
            n=n, month=month, day=day, tag="приём документов" if n % 2 else "услуги"
        )
        if n == RICH_ITEM_NUMBER:
            width, height = PHOTO_SIZE
            text = text.replace("\n---\n\n", f"\n{rich_item_front()}---\n\n", 1)
            text += RICH_ITEM_BODY.format(width=width, height=height)
        (folder / f"2020-{month:02d}-{day:02d}-testovaia-novost-{n}.md").write_text(
            text, encoding="utf-8"
        )


# Unpublished items: in the preview they are marked; in production absent.
# Every one carries UNPUBLISHED_MARK (and its slug), so a test can search the
# whole production output, feeds, sitemap and search index included, for it.
UNPUBLISHED_MARK = "zzunpublished"


def astrakhan_now() -> dt.datetime:
    return dt.datetime.now(zoneinfo.ZoneInfo("Europe/Astrakhan"))


def write_unpublished(content: Path) -> dict[str, str]:
    """Add a draft news item, a scheduled one (in 30 days) and a draft page.

    Returns their URLs by kind.
    """
    when = astrakhan_now() + dt.timedelta(days=30)
    items = {
        "draft": (
            f"news/2020/2020-02-01-{UNPUBLISHED_MARK}-draft.md",
            "---\ntitle: Черновик новости {m}\ndate: 2020-02-01\nstatus: draft\n"
            "tags:\n  - {m}-draft-tag\n---\n\nТекст черновика {m}.\n",
            f"/news/2020/{UNPUBLISHED_MARK}-draft/",
        ),
        "scheduled": (
            f"news/{when:%Y}/{when:%Y-%m-%d}-{UNPUBLISHED_MARK}-scheduled.md",
            f"---\ntitle: Запланированная новость {{m}}\ndate: {when:%Y-%m-%d} 09:30\n"
            "tags:\n  - {m}-scheduled-tag\n---\n\nТекст будущей новости {m}.\n",
            f"/news/{when:%Y}/{UNPUBLISHED_MARK}-scheduled/",
        ),
        "draft_page": (
            f"pages/{UNPUBLISHED_MARK}-page.md",
            "---\ntitle: Черновик страницы {m}\nstatus: draft\n---\n\n"
            "Текст черновика страницы {m}.\n",
            f"/{UNPUBLISHED_MARK}-page/",
        ),
    }
    for path, text, _ in items.values():
        target = content / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.format(m=UNPUBLISHED_MARK), encoding="utf-8")
    return {kind: url for kind, (_, _, url) in items.items()}


def write_news(content: Path, name: str, text: str) -> None:
    """Add one news item, ``name`` being the file name without ``.md``."""
    folder = content / "news" / name[:4]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(text, encoding="utf-8")


def future_date() -> dt.date:
    return dt.date.today() + dt.timedelta(days=200)


@dataclass
class Site:
    """A built site: its output folder and the build's log."""

    content: Path
    output: Path
    log: str
    image_cache: Path | None = None  # the photo derivatives' cache it used
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
    write_news(content, "2019-06-01-subbotnik", DRAFT_NEWS)
    output = base / "output"
    cache = base / "image-cache"
    result = build_site(content, output, MFC_IMAGE_CACHE=str(cache))
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"build failed:\n{log}"
    return Site(content=content, output=output, log=log, image_cache=cache)


def text_of(node) -> str:
    """Visible text with whitespace (including no-break spaces) collapsed."""
    return " ".join(node.get_text(" ").split())


PUBLISHED_URL = "https://mfc.example.test"


@pytest.fixture(scope="session")
def published_site(tmp_path_factory) -> Site:
    """The real content, plus unpublished items (a draft and a scheduled news
    item, a draft page, a draft and a future item with tags) and two more items
    (one with a lead image), built with the production settings."""
    base = tmp_path_factory.mktemp("published")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    write_unpublished(content)
    write_news(content, "2019-06-01-subbotnik", DRAFT_NEWS)
    future = future_date()
    write_news(content, f"{future}-yubilei", FUTURE_NEWS.format(date=future))
    for name, text in EXTRA_NEWS.items():
        write_news(content, name, text)
    write_png(content / "images" / "test" / "zal.png", 600, 315)
    output = base / "output"
    output.mkdir()
    (output / "stale.html").write_text("left over from an old build")
    cache = base / "image-cache"
    result = build_site(
        content,
        output,
        "publishconf.py",
        MFC_SITEURL=PUBLISHED_URL,
        MFC_IMAGE_CACHE=str(cache),
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"production build failed:\n{log}"
    return Site(content=content, output=output, log=log, image_cache=cache)


def tree_hash(root: Path) -> str:
    """A digest of a folder: every path, its kind, and every file's bytes."""
    digest = hashlib.sha256()
    if not root.exists():
        return "missing"
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest.update(f"L {rel} -> {os.readlink(path)}\n".encode())
        elif path.is_dir():
            digest.update(f"D {rel}\n".encode())
        else:
            digest.update(f"F {rel} {path.stat().st_mode & 0o777:o}\n".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


PROJECT_FILES = ["tasks.py", "pelicanconf.py", "publishconf.py"]
PROJECT_FOLDERS = ["plugins", "theme", "content"]


@dataclass
class Project:
    """A copy of the project in a temporary folder, driven by `invoke` tasks."""

    root: Path

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def output(self) -> Path:
        return self.root / "output"

    def invoke(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """Run `invoke ARGS` in the project, as an editor would (no terminal)."""
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", **env}
        return subprocess.run(
            [sys.executable, "-m", "invoke", *args],
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )

    def restore(self, folder: str = "content") -> None:
        """Put a folder back as it is in the repository."""
        shutil.rmtree(self.root / folder)
        copy_folder(folder, self.root)


def copy_folder(name: str, root: Path) -> None:
    """The repository's folder `name` copied into `root` (no bytecode)."""
    shutil.copytree(
        ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__")
    )


def copy_project(root: Path, folders=PROJECT_FOLDERS) -> Project:
    """The project's settings and tasks, and `folders`, copied into `root`."""
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, root / name)
    for name in folders:
        copy_folder(name, root)
    return Project(root)


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Project:
    """The project copied to a temporary folder, with a good build in output/.

    Tests that change its content or theme restore them when done.
    """
    proj = copy_project(tmp_path_factory.mktemp("project"))
    result = proj.invoke("build")
    assert result.returncode == 0, result.stdout + result.stderr
    return proj
