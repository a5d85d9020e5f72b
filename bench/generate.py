"""Deterministic generator of realistic Russian news items for the benchmark.

    python bench/generate.py N DEST [--flavour ours|plain] [--seed 2013]

writes N news items under DEST/news/YYYY/ (plus the site's contact block and
pages, copied from content/) in one of two flavours of the same corpus:

* ``ours``: YAML front matter, valid against the site's schema;
* ``plain``: Pelican's native ``Key: value`` metadata, for plain Pelican.

The same N and seed always give the same files, byte for byte: varied lengths
(1 to 12 paragraphs), lists, bold text, internal and external links, 1–3 tags
from a pool, about one item in ten with a lead photo and one in thirty with a
gallery (photos from a small shared pool under images/, so derivative
generation is measured once per photo, as on the real site).

A vocabulary as large as real news has (``vary``): the pooled sentences
alone use some 230 distinct words, where 10,000 real news items use tens of
thousands of word forms (the number grows with the text, by Heaps' law). The
search index's size, time and memory grow with it: at 10,000 items the
largest Pagefind run needed 178 MB with the pooled sentences alone, 183 MB
with this corpus's ~59,000 word forms and 197 MB with ~90,000. So some of
the longer words of each sentence are replaced by words of a synthetic
vocabulary: a stem drawn by Zipf's law (rank r with weight 1/r) from
``VOCABULARY`` made-up stems, with the ending of the word it replaces (a
Russian ending, which the index's stemmer strips from it as from a real
word). They are not real words; what they give the build is a realistic
number of distinct ones.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import json
import random
import re
import shutil
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# In the prepositional case: every template says «в {place}».
PLACES = [
    "Астрахани",
    "Ахтубинске",
    "Знаменске",
    "Камызяке",
    "Харабалях",
    "Нариманове",
    "Красном Яре",
    "Володарском",
    "Енотаевке",
    "Лимане",
    "Икряном",
    "Черном Яре",
]
SERVICES = [
    "выдача паспорта гражданина РФ",
    "регистрация по месту жительства",
    "оформление СНИЛС",
    "получение ИНН",
    "регистрация права собственности",
    "выдача справки об отсутствии судимости",
    "оформление материнского капитала",
    "постановка на кадастровый учёт",
    "оформление загранпаспорта",
    "выдача водительского удостоверения",
    "назначение пенсии",
    "получение выписки из ЕГРН",
    "оформление субсидии на оплату ЖКУ",
    "регистрация индивидуального предпринимателя",
    "выдача охотничьего билета",
]
TOPICS = [
    "график работы",
    "новые услуги",
    "приём документов",
    "электронные услуги",
    "госуслуги",
    "материнский капитал",
    "недвижимость",
    "пенсии",
    "бизнес",
    "паспорта",
    "социальная поддержка",
    "выездное обслуживание",
    "праздники",
    "опрос",
    "вакансии",
    "форум",
    "семинар",
    "административная реформа",
    "филиалы",
    "ветераны",
    "многодетные семьи",
    "молодёжь",
    "кадастр",
    "ЕГРН",
    "налоги",
    "МВД",
    "Росреестр",
    "ПФР",
    "ФНС",
    "соцзащита",
]
OPENINGS = [
    "С {date} в {place} начал работу новый офис «Мои документы».",
    "В офисах МФЦ в {place} теперь доступна услуга: {service}.",
    "Сотрудники МФЦ приняли участие в семинаре по теме «{topic}».",
    "Изменился график работы отделения в {place} в праздничные дни.",
    "В {place} можно подать документы на услугу «{service}» без очереди.",
    "Подведены итоги работы многофункционального центра за {year} год.",
]
SENTENCES = [
    "Заявители могут обратиться в любой офис МФЦ независимо от места жительства.",
    "Для получения услуги необходимо предъявить паспорт и заполнить заявление.",
    "Срок предоставления услуги составляет не более 10 рабочих дней.",
    "Консультации предоставляются по телефону +7 8512 668-807.",
    "Предварительная запись ведётся на сайте и по телефону горячей линии.",
    "Государственная пошлина оплачивается до подачи документов.",
    "В {place} работают 5 окон приёма и 2 окна выдачи документов.",
    "По итогам {year} года центр принял более 150 тыс. обращений граждан.",
    "Специалисты помогут заполнить заявление и проверят пакет документов.",
    "Услуга «{service}» предоставляется бесплатно.",
    "Часы приёма: пн–пт 8:00–20:00, сб 9:00–14:00.",
    "Обращаем внимание, что с 1 января изменился порядок подачи заявлений.",
    "Выездное обслуживание доступно ветеранам и людям с инвалидностью.",
    "Подробности можно узнать у администратора зала или на сайте госуслуг.",
    "Оценить качество обслуживания можно в терминале «Ваш контроль».",
    "Заседание провёл директор учреждения И. И. Иванов.",
    "Документы принимаются по адресу: г. Астрахань, ул. Бабефа, д. 8.",
    "Итоги опроса показали, что 87 % заявителей довольны качеством услуг.",
]
EXTERNAL = [
    ("портале госуслуг", "https://www.gosuslugi.ru/"),
    ("сайте Росреестра", "https://rosreestr.gov.ru/"),
    ("сайте правительства Астраханской области", "https://astrobl.ru/"),
]
PHOTO_POOL = 12  # distinct photos shared by all items
# The synthetic vocabulary (module doc): its size, and the share of the
# pooled sentences' longer words replaced by its words. At 10,000 items (1.8
# million words) the corpus then has ~59,000 distinct word forms: about half
# a rough Heaps'-law estimate for general Russian news of that size
# (V ≈ 20·N^0.6 ≈ 110,000), for a narrower subject.
VOCABULARY = 5000
VARIED_SHARE = 0.3
# A lowercase word of six letters or more, not right after a number (a unit
# or a month: «1 января» stays as the typography rules expect it).
VARIED_WORD_RE = re.compile(r"(?<![\w-])(?<!\d )[а-яё]{6,}(?![\w-])")


def _stems(count: int) -> list[str]:
    """``count`` distinct made-up stems of two to four syllables."""
    rng = random.Random(1)
    consonants, vowels = "бвгдзклмнпрстфхчшжц", "аеиоуяыэю"
    stems: dict[str, None] = {}
    while len(stems) < count:
        syllables = rng.choice((2, 2, 3, 3, 4))
        stem = "".join(
            rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables)
        )
        stems[stem + rng.choice("нрлвкст")] = None
    return list(stems)


STEMS = _stems(VOCABULARY)
ZIPF = list(itertools.accumulate(1 / rank for rank in range(1, VOCABULARY + 1)))


def vary(rng: random.Random, sentence: str) -> str:
    """The sentence with some of its longer words replaced by words of the
    synthetic vocabulary (module doc), each keeping the replaced word's
    ending."""

    def replace(match: re.Match) -> str:
        if rng.random() >= VARIED_SHARE:
            return match.group()
        stem = STEMS[bisect.bisect(ZIPF, rng.random() * ZIPF[-1])]
        return stem + match.group()[-2:]

    return VARIED_WORD_RE.sub(replace, sentence)


START = dt.datetime(2013, 9, 20, 9, 0)


def slug_for(n: int) -> str:
    return f"novost-{n:05d}"


def fill(rng: random.Random, template: str, date: dt.datetime) -> str:
    return template.format(
        place=rng.choice(PLACES),
        service=rng.choice(SERVICES),
        topic=rng.choice(TOPICS),
        year=date.year - 1,
        date=f"{date.day}.{date.month:02d}",
    )


def paragraph(rng: random.Random, date: dt.datetime, links: list[str]) -> str:
    sentences = [
        vary(rng, fill(rng, rng.choice(SENTENCES), date))
        for _ in range(rng.randint(2, 6))
    ]
    if rng.random() < 0.25:
        i = rng.randrange(len(sentences))
        sentences[i] = f"**{sentences[i]}**"
    if links and rng.random() < 0.2:
        sentences.append(f"Читайте также [предыдущую новость]({rng.choice(links)}).")
    if rng.random() < 0.15:
        text, url = rng.choice(EXTERNAL)
        sentences.append(f"Подробнее — на [{text}]({url}).")
    return " ".join(sentences)


def bullet_list(rng: random.Random, date: dt.datetime) -> str:
    items = rng.sample(SERVICES, rng.randint(3, 7))
    intro = "Перечень услуг:" if rng.random() < 0.5 else "Необходимые документы:"
    return intro + "\n\n" + "\n".join(f"- {item};" for item in items)


def item(rng: random.Random, n: int, date: dt.datetime, earlier: list[str]):
    """One news item as (metadata dict, Markdown body)."""
    title = fill(rng, rng.choice(OPENINGS), date).rstrip(".")
    body = []
    for _ in range(rng.choice([1, 2, 3, 3, 4, 5, 6, 8, 12])):
        body.append(paragraph(rng, date, earlier[-50:]))
        if rng.random() < 0.2:
            body.append(bullet_list(rng, date))
    meta = {
        "title": title,
        "date": date,
        "summary": fill(rng, rng.choice(SENTENCES), date),
        "tags": rng.sample(TOPICS, rng.randint(1, 3)),
    }
    roll = rng.random()
    if roll < 0.1:
        meta["image"] = f"images/bench/photo-{rng.randrange(PHOTO_POOL):02d}.png"
        meta["image_alt"] = "Зал приёма заявителей в офисе МФЦ"
    if roll < 1 / 30:
        meta["gallery"] = [
            {"photo": f"images/bench/photo-{k:02d}.png", "alt": f"Фото {k + 1}"}
            for k in rng.sample(range(PHOTO_POOL), 5)
        ]
    return meta, "\n\n".join(body) + "\n"


def yaml_front_matter(meta: dict) -> str:
    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # JSON strings are YAML

    lines = ["---", f"title: {quoted(meta['title'])}"]
    lines.append(f"date: {meta['date']:%Y-%m-%d %H:%M}")
    lines.append(f"summary: {quoted(meta['summary'])}")
    lines.append("tags:")
    lines += [f"  - {tag}" for tag in meta["tags"]]
    if "image" in meta:
        lines += [f"image: {meta['image']}", f"image_alt: {meta['image_alt']}"]
    if "gallery" in meta:
        lines.append("gallery:")
        for entry in meta["gallery"]:
            lines += [f"  - photo: {entry['photo']}", f"    alt: {entry['alt']}"]
    return "\n".join([*lines, "---", "", ""])


def plain_metadata(meta: dict, slug: str) -> str:
    return (
        f"Title: {meta['title']}\n"
        f"Slug: {slug}\n"
        f"Date: {meta['date']:%Y-%m-%d %H:%M}\n"
        f"Summary: {meta['summary']}\n"
        f"Tags: {', '.join(meta['tags'])}\n\n"
    )


def png(width: int, height: int, seed: int) -> bytes:
    """A valid RGB PNG with a gradient, written without Pillow."""
    reds = bytes((x * 255 // width + seed * 20) % 256 for x in range(width))
    blue = bytes([128]) * width
    rows = bytearray()
    for y in range(height):
        row = bytearray(3 * width)
        row[0::3], row[1::3], row[2::3] = reds, bytes([y * 255 // height]) * width, blue
        rows += b"\0" + row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes(rows), 6)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", idat),
            chunk(b"IEND", b""),
        )
    )


def generate(count: int, dest: Path, flavour: str = "ours", seed: int = 2013) -> None:
    """Write the corpus; `dest` is a content folder (created, must not exist)."""
    rng = random.Random(seed)
    dest.mkdir(parents=True)
    if flavour == "ours":
        for part in ("blocks", "pages"):
            shutil.copytree(ROOT / "content" / part, dest / part)
        photos = dest / "images" / "bench"
        photos.mkdir(parents=True)
        for k in range(PHOTO_POOL):
            (photos / f"photo-{k:02d}.png").write_bytes(png(1600, 1067, k))
    # Items spread evenly from 2013-09-20 to about 2026-09, newest last.
    step = dt.timedelta(minutes=max(1, (13 * 365 * 24 * 60) // max(count, 1)))
    earlier: list[str] = []
    for n in range(1, count + 1):
        date = START + step * (n - 1)
        meta, body = item(rng, n, date, earlier)
        folder = dest / "news" / f"{date:%Y}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{date:%Y-%m-%d}-{slug_for(n)}.md"
        if flavour == "ours":
            head = yaml_front_matter(meta)
        else:
            head = plain_metadata(meta, slug_for(n))
        (folder / name).write_text(head + body, encoding="utf-8")
        earlier.append(f"/news/{date:%Y}/{slug_for(n)}/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--flavour", choices=["ours", "plain"], default="ours")
    parser.add_argument("--seed", type=int, default=2013)
    args = parser.parse_args()
    generate(args.count, args.dest, args.flavour, args.seed)


if __name__ == "__main__":
    main()
