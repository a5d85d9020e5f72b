"""The quicker inline processor gives Python-Markdown's own HTML, byte for byte.

Each text is converted twice, with the site's Markdown settings and with
the same settings without ``mfc_content.quickinline`` (Python-Markdown's
own processor), and the two HTML strings must be equal: texts made to
trip every inline pattern, every Markdown file of the project, the
benchmark's generated news and random texts of the characters the
patterns look for.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import sys

import markdown
import pytest
from markdown.treeprocessors import InlineProcessor
from pelican.settings import read_settings

from mfc_content.quickinline import QuickInlineProcessor, needs_of
from mfc_content.site import markdown_config
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from generate import item

EXTENSION = "mfc_content.quickinline"

TRICKY = [
    "Обычная фраза без разметки.",
    "Код: `a < b && c` и ``двойной ` обратный``, \\`не код\\`.",
    "Экранирование: \\*не курсив\\*, \\_и это\\_, \\[не ссылка\\], \\\\ и \\&.",
    "Ссылки: [портал](https://www.gosuslugi.ru/ 'Госуслуги'), [сноска][1], [1].\n\n"
    '[1]: https://mfc.astrobl.ru/ "МФЦ"',
    "Картинки: ![зал](images/zal.jpg), ![ссылкой][pic], ![pic].\n\n[pic]: images/p.png",
    "Не картинка: !(скобки) и ! [пробел](x).",
    "Адреса: <https://mfc.astrobl.ru/>, <mfc.astrakhan@astrobl.ru>, <не адрес>.",
    "Строка с переносом  \nвторая строка\\\nтретья.",
    'HTML: <span class="x">текст</span>, <!-- комментарий -->, <br/>, a<b, 3 > 2.',
    "Сущности: &nbsp;, &#8212;, &#x2014;, &amp;, & одинокий, &неправильная;.",
    "Выделение: *курсив*, **жирный**, ***оба***, _курсив_, __жирный__, snake_case.",
    "Вложенное: **жирный [ссылка *курсив*](https://x.ru/)** и *`код` в курсиве*.",
    "Сноска[^1] и ещё одна[^note].\n\n[^1]: Текст сноски.\n[^note]: *Вторая* сноска.",
    "Сокращение МФЦ в тексте.\n\n*[МФЦ]: Многофункциональный центр",
    "| Офис | Часы |\n| --- | --- |\n| **Бабефа, 8** | 8:00–20:00 |\n",
    "Термин\n:   Определение с [ссылкой](https://x.ru/).",
    "Абзац с атрибутами {: .lead }\n\n## Заголовок {: #main-title }",
    '<div markdown="1">*Внутри* HTML [ссылка](https://x.ru/)</div>',
    "- пункт *один*\n- пункт `два`\n    1. вложенный [три](x)\n",
    "    код блоком *не курсив*\n\n```\nограждённый **код**\n```",
    "* * *\n\n_ _ _\n\n**",
    "Звёздочки * вокруг * пробелов и _ подчёркивания _ тоже.",
    "Ссылка с <угловыми> в тексте: [a <b> c](https://x.ru/?a=1&b=2).",
]


@pytest.fixture(scope="module")
def converters():
    settings = read_settings(str(ROOT / "pelicanconf.py"))
    ours = markdown_config(settings)
    assert EXTENSION in ours["extensions"]
    stock = copy.deepcopy(ours)
    stock["extensions"].remove(EXTENSION)
    stock["extension_configs"].pop(EXTENSION, None)
    quick, plain = markdown.Markdown(**ours), markdown.Markdown(**stock)
    assert isinstance(quick.treeprocessors["inline"], QuickInlineProcessor)
    assert not isinstance(plain.treeprocessors["inline"], QuickInlineProcessor)
    return quick, plain


def same_html(converters, texts) -> int:
    quick, plain = converters
    for text in texts:
        assert quick.reset().convert(text) == plain.reset().convert(text), text
    return len(texts)


def test_every_inline_pattern_of_the_site_is_skipped_when_it_cannot_match(
    converters,
):
    """A pattern not in the table is always tried: correct, but no quicker.
    A Python-Markdown upgrade that changes a pattern shows up here."""
    quick, _ = converters
    unknown = [type(p).__name__ for p in quick.inlinePatterns if needs_of(p) is None]
    assert unknown == []
    assert len(list(quick.inlinePatterns)) == 15


def test_texts_made_to_trip_each_pattern(converters):
    assert same_html(converters, TRICKY) == len(TRICKY)
    # Each text alone and all of them as one document.
    assert same_html(converters, ["\n\n".join(TRICKY)]) == 1


def test_the_projects_markdown_files(converters):
    """The content, the broken and harmless examples of the content checks
    (scripts, HTML, bad links, odd encodings), the guides."""
    files = [
        path
        for folder in ("content", "tests", "plugins", "bench")
        for path in (ROOT / folder).rglob("*.md")
        if path.is_file()  # not the broken link of tests/broken
    ] + [ROOT / "EDITORS.md", ROOT / "README.md"]
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    assert same_html(converters, texts) >= 150


def test_the_benchmarks_news(converters):
    rng = random.Random(7)
    date = dt.datetime(2024, 1, 1, 9, 0)
    texts, earlier = [], []
    for n in range(300):
        _, body = item(rng, n, date + dt.timedelta(hours=n), earlier)
        earlier.append(f"news/2024/novost-{n:05d}/")
        texts.append(body)
    assert same_html(converters, texts) == 300


def test_random_texts_of_the_characters_patterns_look_for(converters):
    pieces = [
        *"`\\[]()!<>&*_ :/@#;^{}|-=\"'.\n",
        "  \n",
        "**",
        "![",
        "[^",
        "](",
        "https://",
        "&amp;",
        "слово",
        "МФЦ",
        "a",
    ]
    rng = random.Random(2026)
    texts = ["".join(rng.choices(pieces, k=rng.randint(1, 60))) for _ in range(3000)]
    assert same_html(converters, texts) == 3000


def test_without_the_private_methods_python_markdowns_processor_stays(
    monkeypatch,
):
    monkeypatch.delattr(InlineProcessor, "_InlineProcessor__handleInline")
    md = markdown.Markdown(extensions=[EXTENSION])
    assert type(md.treeprocessors["inline"]) is InlineProcessor


def test_a_pattern_of_another_extension_is_always_tried():
    # nl2br's pattern (a line end) is not in the table
    md = markdown.Markdown(extensions=["markdown.extensions.nl2br", EXTENSION])
    assert isinstance(md.treeprocessors["inline"], QuickInlineProcessor)
    assert [type(p).__name__ for p in md.inlinePatterns if needs_of(p) is None] == [
        "SubstituteTagInlineProcessor"
    ]
    text = "Приём по записи:\nпн–пт *8:00–20:00*\nсб 9:00–14:00"
    plain = markdown.Markdown(extensions=["markdown.extensions.nl2br"])
    assert md.convert(text) == plain.convert(text)
    assert md.convert(text).count("<br />") == 2
