"""mfc_content.quickmarkdown gives Python-Markdown's own HTML, byte for byte.

Each text is converted twice, with the site's Markdown settings and with
the same settings without ``mfc_content.quickmarkdown`` (Python-Markdown's
own block parser and inline processor), and the two HTML strings must be
equal: texts made to trip every block processor and inline pattern, every
Markdown file of the project, the benchmark's generated news and random
texts of the characters they look for.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import sys

import markdown
import pytest
from markdown.blockparser import BlockParser
from pelican.settings import read_settings

from mfc_content.quickmarkdown import (
    QuickBlockParser,
    QuickInlineProcessor,
    block_needs,
    inline_needs,
)
from mfc_content.site import markdown_config
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from generate import item

EXTENSION = "mfc_content.quickmarkdown"

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
BLOCKS = [
    "# Заголовок\n\n## Второй ##\n\n###### Шестой\n\n####### не заголовок",
    "Текст\n# заголовок внутри абзаца\nи дальше",
    "Заголовок\n=========\n\nПодзаголовок\n---\n\nТекст\n= не заголовок",
    "Черта:\n\n---\n\n* * *\n\n___\n\n- - -\n\n--\n\n**",
    "> Цитата *с курсивом*\n> > вложенная\n\n>\n\nне цитата > знак",
    "Офис | Часы\n--- | ---\nБабефа | 8–20\n\n| Один |\n| --- |\n| столбец |",
    "Не таблица | черта\nи вторая строка\n\n| только | шапка |",
    "Термин\n: определение\n\nВремя: 8:00\n: ещё",
    "Текст со сноской[^a].\n\n[^a]: Сноска\n    с продолжением.\n\n[^b]:",
    "*[МФЦ]: Многофункциональный центр\n*[ПФР]:\n\nМФЦ и ПФР *[не сокращение]",
    "[ссылка]: https://x.ru/ 'Заголовок'\n[вторая]: <https://y.ru/>\n"
    '  "на новой строке"\n\n[ссылка] и [вторая] и [нет]: не определение',
    '<div markdown="1">\n# Заголовок\n\n* пункт\n</div>\n\n<p>сырой</p>',
    '<section markdown="block">\n> цитата\n</section>\n\n'
    '<span markdown="span">*к*</span>',
    "1. первый\n2. второй\n\n    продолжение второго\n\n3) не пункт\n\n* a\n\n    * b",
    "Абзац\n    с отступом\n\n    код\n    блоком\n\n\tтабуляция",
    "\n\n\n\n",
    "#",
    "|",
    ":",
    ">",
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
    assert type(quick.parser) is QuickBlockParser
    assert isinstance(quick.treeprocessors["inline"], QuickInlineProcessor)
    assert type(plain.parser) is BlockParser
    assert not isinstance(plain.treeprocessors["inline"], QuickInlineProcessor)
    return quick, plain


def same_html(converters, texts) -> int:
    quick, plain = converters
    for text in texts:
        assert quick.reset().convert(text) == plain.reset().convert(text), text
    return len(texts)


def test_every_step_of_the_site_is_skipped_when_it_cannot_apply(converters):
    """A step not in the tables is always tried: correct, but no quicker.
    A Python-Markdown upgrade that changes one shows up here."""
    quick, _ = converters
    patterns = list(quick.inlinePatterns)
    assert [type(p).__name__ for p in patterns if inline_needs(p) is None] == []
    assert len(patterns) == 15
    # These test the start of a block, cheaply, or always apply.
    always = [
        type(p).__name__ for p in quick.parser.blockprocessors if not block_needs(p)
    ]
    assert always == [
        "EmptyBlockProcessor",
        "ListIndentProcessor",
        "DefListIndentProcessor",
        "CodeBlockProcessor",
        "SaneOListProcessor",
        "SaneUListProcessor",
        "ParagraphProcessor",
    ]
    assert len(list(quick.parser.blockprocessors)) == 17


def test_texts_made_to_trip_each_step(converters):
    assert same_html(converters, TRICKY + BLOCKS) == len(TRICKY + BLOCKS)
    # All of them as one document, and inside a list item and a quote.
    whole = "\n\n".join(TRICKY + BLOCKS)
    nested = [
        whole,
        "* " + whole.replace("\n", "\n    "),
        "> " + whole.replace("\n", "\n> "),
    ]
    assert same_html(converters, nested) == 3


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


def test_random_texts_of_the_characters_steps_look_for(converters):
    pieces = [
        *"`\\[]()!<>&*_ :/@#;^{}|-=\"'.\n",
        "  \n",
        "\n\n",
        "    ",
        "**",
        "![",
        "[^",
        "](",
        "]:",
        "*[",
        "---",
        "1. ",
        "* ",
        "https://",
        "&amp;",
        '<div markdown="1">',
        "</div>",
        "слово",
        "МФЦ",
        "a",
    ]
    rng = random.Random(2026)
    texts = ["".join(rng.choices(pieces, k=rng.randint(1, 80))) for _ in range(4000)]
    assert same_html(converters, texts) == 4000


def test_with_another_python_markdown_nothing_is_skipped(monkeypatch):
    monkeypatch.setattr(markdown, "__version__", "3.12.0")
    md = markdown.Markdown(extensions=[EXTENSION])
    assert type(md.parser) is BlockParser
    assert not isinstance(md.treeprocessors["inline"], QuickInlineProcessor)


def test_a_step_of_another_extension_is_always_tried():
    # nl2br's pattern (a line end) is not in the table
    md = markdown.Markdown(extensions=["markdown.extensions.nl2br", EXTENSION])
    assert isinstance(md.treeprocessors["inline"], QuickInlineProcessor)
    unknown = [type(p).__name__ for p in md.inlinePatterns if inline_needs(p) is None]
    assert unknown == ["SubstituteTagInlineProcessor"]
    text = "Приём по записи:\nпн–пт *8:00–20:00*\nсб 9:00–14:00"
    plain = markdown.Markdown(extensions=["markdown.extensions.nl2br"])
    assert md.convert(text) == plain.convert(text)
    assert md.convert(text).count("<br />") == 2
