"""Russian typography (mfc_typography): each rule, the HTML driver, the site.

In the expected strings "~" stands for a no-break space (U+00A0), so a
difference is visible in the test table and in a failure message.
"""

import doctest
import random
import re

import pytest
from markupsafe import Markup

import mfc_typography
from mfc_typography import (
    abbreviations,
    dashes,
    initials,
    number_units,
    numero,
    quotes,
    ranges,
    ru_typography,
    short_words,
    typographize,
    wrap_readers,
)
from tests.conftest import ROOT, text_of

NBSP = "\u00a0"


def nb(text: str) -> str:
    """Write a no-break space as "~" in test tables."""
    return text.replace("~", NBSP)


RULE_CASES = [
    # --- 1. one- and two-letter words
    (short_words, "Форум прошёл в Ельце", "Форум прошёл в~Ельце"),
    (short_words, "и на сайте, и по телефону", "и~на~сайте, и~по~телефону"),
    (short_words, "В ходе форума", "В~ходе форума"),
    (short_words, "не позднее", "не~позднее"),
    (short_words, "из-за погоды", "из-за погоды"),  # "за" belongs to "из-за"
    (short_words, "субъектов РФ и регионов", "субъектов РФ и~регионов"),
    (short_words, "Так и есть", "Так и~есть"),
    (short_words, "word in English", "word in English"),  # Latin is left alone
    # --- 2. a spaced hyphen between words is an em dash
    (dashes, "Москва - столица", "Москва~— столица"),
    (dashes, "МФЦ -- это центр", "МФЦ~— это центр"),
    (dashes, "МФЦ — это центр", "МФЦ~— это центр"),
    (dashes, "МФЦ – это центр", "МФЦ~— это центр"),
    (dashes, "IT-технологий", "IT-технологий"),  # a hyphen inside a word stays
    (dashes, "научно-образовательных", "научно-образовательных"),
    # --- 3. ranges take an en dash without spaces
    (ranges, "18-19 сентября", "18–19 сентября"),
    (ranges, "с 9:00-18:00", "с 9:00–18:00"),
    (ranges, "2013 - 2026 годы", "2013–2026 годы"),
    (ranges, "2013—2026", "2013–2026"),
    (ranges, "пн-пт", "пн-пт"),
    (ranges, "1,5-2 часа", "1,5–2 часа"),
    (ranges, "дата 2013-09-20", "дата 2013-09-20"),  # an ISO date is no range
    (ranges, "COVID-19", "COVID-19"),
    (ranges, "в 1990-е годы", "в 1990-е годы"),
    # --- 4. quotes: «ёлочки» outside, „лапки“ inside
    (quotes, 'центр "Мои документы"', "центр «Мои документы»"),
    (quotes, '"Форум "Стратегия" в Ельце"', "«Форум „Стратегия“ в Ельце»"),
    (quotes, "«уже» правильно", "«уже» правильно"),
    (quotes, 'форум «Центр "Мои документы"»', "форум «Центр „Мои документы“»"),
    (quotes, '("в скобках")', "(«в скобках»)"),
    (quotes, 'рост 5 " 3', 'рост 5 " 3'),  # a lone quote between spaces
    # --- 5. no-break spaces: numbers, abbreviations, №, initials
    (number_units, "20 сентября 2013 г.", "20~сентября 2013~г."),
    (number_units, "в 2013 году", "в 2013~году"),
    (number_units, "5 кг, 100 руб., 20 %", "5~кг, 100~руб., 20~%"),
    (number_units, "3 млн рублей", "3~млн рублей"),
    (number_units, "20 субъектов", "20 субъектов"),  # not a unit
    (number_units, "1 мая", "1~мая"),
    (abbreviations, "г. Астрахань", "г.~Астрахань"),
    (abbreviations, "ул. Бабефа, д. 8", "ул.~Бабефа, д.~8"),
    (abbreviations, "т. е. центр", "т.~е. центр"),
    (abbreviations, "в 2013 г. Затем", "в 2013 г. Затем"),  # year, not a town
    (numero, "приказ № 5", "приказ №~5"),
    (numero, "приказ №5", "приказ №~5"),
    (numero, "§ 3", "§~3"),
    (initials, "И. И. Иванов", "И.~И.~Иванов"),
    (initials, "И.И. Иванов", "И.~И.~Иванов"),
    (initials, "Иванов И. И.", "Иванов~И.~И."),
    (initials, "А. Пушкин", "А.~Пушкин"),
    (initials, "в РФ. Вот", "в РФ. Вот"),
]


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    RULE_CASES,
    ids=[f"{rule.__name__}:{text}" for rule, text, _ in RULE_CASES],
)
def test_rule(rule, text, expected):
    assert rule(nb(text)) == nb(expected)


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    RULE_CASES,
    ids=[f"{rule.__name__}:{text}" for rule, text, _ in RULE_CASES],
)
def test_rule_is_idempotent(rule, text, expected):
    once = rule(nb(text))
    assert rule(once) == once


HTML_CASES = [
    # The seed item's first sentence.
    (
        "<p>18-19 сентября 2013 года в г. Ельце прошел форум</p>",
        "<p>18–19~сентября 2013~года в~г.~Ельце прошел форум</p>",
    ),
    # Quotes across inline tags.
    (
        '<p>центр "<em>Мои документы</em>"</p>',
        "<p>центр «<em>Мои документы</em>»</p>",
    ),
    # A short word before a link stays with the link.
    (
        '<p>форум в <a href="/x/">Ельце</a></p>',
        '<p>форум в~<a href="/x/">Ельце</a></p>',
    ),
    # Attributes are never touched.
    (
        '<p><a href="/a - b/" title="в г. &quot;Ельце&quot; - 1-2">ссылка</a></p>',
        '<p><a href="/a - b/" title="в г. &quot;Ельце&quot; - 1-2">ссылка</a></p>',
    ),
    # Code, pre, kbd, samp, script, style are left alone.
    (
        '<p>Введите <code>a - "b" в 1-2</code> и <kbd>Ctrl - C</kbd></p>',
        '<p>Введите <code>a - "b" в 1-2</code> и~<kbd>Ctrl - C</kbd></p>',
    ),
    (
        '<pre><code>x = "в г. Ельце" - 1-2\n</code></pre>',
        '<pre><code>x = "в г. Ельце" - 1-2\n</code></pre>',
    ),
    ('<script>var a = "в" - 1;</script>', '<script>var a = "в" - 1;</script>'),
    ('<style>a { content: "в - и" }</style>', '<style>a { content: "в - и" }</style>'),
    # Phone numbers are never altered, wherever they are.
    ("<p>+7 8512 668-807</p>", "<p>+7 8512 668-807</p>"),
    ("<p>тел. 8 (8512) 66-88-07</p>", "<p>тел.~8 (8512) 66-88-07</p>"),
    ("<p>звоните 66-88-07</p>", "<p>звоните 66-88-07</p>"),
    ("<p>8-800-100-70-10</p>", "<p>8-800-100-70-10</p>"),
    (
        '<p><a href="tel:+78512668807">+7 8512 668-807</a></p>',
        '<p><a href="tel:+78512668807">+7 8512 668-807</a></p>',
    ),
    # E-mail addresses and URLs in the text are left alone.
    (
        "<p>пишите на mfc.astrakhan@astrobl.ru - ответим</p>",
        "<p>пишите на~mfc.astrakhan@astrobl.ru~— ответим</p>",
    ),
    (
        "<p>см. https://example.org/a-b?x=1-2&amp;y=в и www.mfc-30.ru/1-2</p>",
        "<p>см.~https://example.org/a-b?x=1-2&amp;y=в и~www.mfc-30.ru/1-2</p>",
    ),
    # No rule joins across a paragraph boundary.
    ("<p>и</p>\n<p>- слово</p>", "<p>и</p>\n<p>- слово</p>"),
    ('<p>"начало</p><p>конец"</p>', "<p>«начало</p><p>конец»</p>"),
    # Comments are left alone.
    ("<!-- в - 1-2 --><p>в городе</p>", "<!-- в - 1-2 --><p>в~городе</p>"),
    # Plain text (a title).
    (
        'Сотрудники МФЦ приняли участие в форуме "Стратегия" 18-19 сентября',
        "Сотрудники МФЦ приняли участие в~форуме «Стратегия» 18–19~сентября",
    ),
]


@pytest.mark.parametrize(("html", "expected"), HTML_CASES)
def test_typographize_html(html, expected):
    assert typographize(nb(html)) == nb(expected)


@pytest.mark.parametrize(("html", "expected"), HTML_CASES)
def test_typographize_is_idempotent(html, expected):
    once = typographize(nb(html))
    assert typographize(once) == once


def test_private_use_characters_in_the_input_survive():
    text = "в \ue000 и \ue001 - \ue002"
    assert typographize(text).replace(NBSP, " ").replace("—", "-") == text


def test_ru_typography_filter_keeps_each_value_s_type():
    """The theme's filter remembers its results (the contact block's values
    are the same on every page); a safe value stays safe, a plain one plain,
    whichever came first."""
    text = 'г. Астрахань, ул. Бабефа, д. 8 - "МФЦ"'
    expected = nb("г.~Астрахань, ул.~Бабефа, д.~8~— «МФЦ»")
    for _ in range(2):
        safe = ru_typography(Markup(text))
        plain = ru_typography(text)
        assert (safe, type(safe)) == (expected, Markup)
        assert (plain, type(plain)) == (expected, str)
    assert ru_typography("") == ""
    assert ru_typography(None) is None


def test_docstring_examples_hold():
    result = doctest.testmod(mfc_typography, raise_on_error=False)
    assert result.failed == 0
    assert result.attempted >= 10


# --- On the built site -------------------------------------------------------
ITEM = "/news/2013/forum-v-eltse/"


def test_seed_item_text_is_typographized(site):
    prose = site.page(ITEM).select_one("main .mfc-prose")
    first = prose.find("p").get_text()
    assert first.startswith(nb("18–19~сентября 2013~года в~г.~Ельце"))
    assert "«Стратегия совершенствования" in first
    assert '"' not in prose.get_text()


def test_seed_summary_is_typographized(site):
    summary = site.page("/news/page/3/").select(".mfc-news-card__summary")[-1]
    assert summary.get_text().startswith(nb("18–19~сентября 2013~года в~Ельце"))


def test_titles_are_typographized_in_the_page_and_plain_in_head(site):
    soup = site.page(ITEM)
    h1 = soup.find("h1")
    assert nb("в~международном форуме") in h1.get_text()
    source = site.file(ITEM).read_text(encoding="utf-8")
    head = source[: source.index("</head>")]
    title = head[head.index("<title>") + 7 : head.index("</title>")]
    # Plain text: no tags, no character references, the page's own title.
    assert "<" not in title
    assert "&" not in title
    assert " ".join(title.split()).startswith(text_of(h1) + " — ")
    for meta in soup.select("head meta[content]"):
        assert "<" not in meta["content"], meta


def test_contact_block_address_keeps_its_parts_together(site):
    address = site.page("/").select_one("header .mfc-contact__value")
    assert nb("г.~Астрахань, ул.~Бабефа, д.~8") in address.get_text()


def test_fixture_rich_item_keeps_code_phone_email_and_url(site, rich_item):
    prose = site.page(rich_item).select_one("main .mfc-prose")
    assert prose.find("code").get_text() == 'a - "b" в 1-2'
    text = text_of(prose)
    assert "+7 8512 668-807" in text
    assert "mfc.astrakhan@astrobl.ru" in text
    assert "https://example.org/a-b?x=1-2" in text
    assert "«Мои документы»" in text
    link = prose.find("a", href="https://example.org/a-b?x=1-2")
    assert link is not None


# --- The Pelican hook --------------------------------------------------------
class FakeGenerator:
    """What wrap_readers uses of a generator: its readers and Jinja env."""

    def __init__(self, readers):
        self.readers = readers
        self.env = type("Env", (), {"filters": {}})()


def test_reader_output_is_typographized_once_and_cached(tmp_path):
    from pelican.readers import Readers  # noqa: PLC0415
    from pelican.settings import read_settings  # noqa: PLC0415

    content = tmp_path / "content"
    content.mkdir()
    (content / "item.md").write_text(
        '---\ntitle: Форум "Стратегия" в Ельце\nsummary: Форум в Ельце - итоги\n'
        "---\n\nФорум прошёл 18-19 сентября в г. Ельце.\n",
        encoding="utf-8",
    )
    settings = read_settings(
        str(ROOT / "pelicanconf.py"),
        override={
            "PATH": str(content),
            "CACHE_PATH": str(tmp_path / "cache"),
            "CACHE_CONTENT": True,
            "LOAD_CONTENT_CACHE": True,
            "TYPOGRIFY": False,
        },
    )
    readers = Readers(settings, "article")
    generator = FakeGenerator(readers)
    wrap_readers(generator)
    wrap_readers(generator)  # a second generator_init must not wrap twice
    assert generator.env.filters["ru_typography"] is ru_typography
    item = readers.read_file(str(content), "item.md")
    assert item.title == nb("Форум «Стратегия» в~Ельце")
    assert item.summary == nb("<p>Форум в~Ельце~— итоги</p>")
    assert nb("18–19~сентября в~г.~Ельце") in item.content
    readers.save_cache()

    # A new build that reads from the cache gets the typographized text
    # without running the filter again (its readers are not even wrapped).
    cached = Readers(settings, "article").read_file(str(content), "item.md")
    assert cached.title == item.title
    assert cached.content == item.content


# --- Speed without a different result ------------------------------------
# The rules' regexes start with a character class or a literal, so Python's
# engine can skip ahead (mfc_typography, "Rules"). These are the same rules
# written the plain way, look-behind first: each fast one must find exactly
# what its plain one finds.
_NB = r"[^\s\ue001]"
_NUMBER = r"\d+(?:[:.,]\d+)?"
PLAIN_RULES = {
    ranges: lambda t: re.sub(
        rf"(?<![\w.,:\-\u2013])({_NUMBER})[ \u00a0]?[\-\u2013\u2014][ \u00a0]?"
        rf"({_NUMBER})(?![\w\-\u2013]|[.,:]\d)",
        "\\1\u2013\\2",
        t,
    ),
    dashes: lambda t: re.sub(
        rf"(?<={_NB})\s+(?:-{{1,3}}|[\u2013\u2014])(?=\s)", NBSP + "\u2014", t
    ),
    abbreviations: lambda t: re.sub(
        r"(?<![\w.\-])(?<!\d\s)([а-я]{1,5})\.\s+(?=[\w«\"\ue000\ue002])",
        lambda m: m[1] + "." + NBSP if m[1] in mfc_typography.ABBREVIATIONS else m[0],
        t,
    ),
    initials: lambda t: re.sub(
        r"(?<!\w)([А-ЯЁ]\.)\s*(?=[А-ЯЁ]\.)"
        r"|(?<!\w)([А-ЯЁ]\.)\s+(?=[А-ЯЁ][а-яё])"
        r"|(?<!\w)([А-ЯЁ][а-яё]+)\s+(?=[А-ЯЁ]\.\s*[А-ЯЁ]\.)",
        lambda m: (m[1] or m[2] or m[3]) + NBSP,
        t,
    ),
    short_words: lambda t: re.sub(
        rf"(?<![\w\-.])([а-яё]{{1,2}}|[А-ЯЁ][а-яё]?)\s+(?={_NB})", "\\1" + NBSP, t
    ),
}
RULE_ATOMS = (
    *("а", "б", "в", "И", "Ё", "ё", "г", "ул", "просп", "корп", "т", "ст", "мкр"),
    *("Иванов", "x", "_", "7", "12", "2013", "9:00", "1.5", ":", ",", ".", "-"),
    *("--", "---", "\u2013", "\u2014", " ", "  ", "\n", NBSP, "«", '"', "А.", "с."),
    *(mfc_typography.INLINE, mfc_typography.BLOCK, mfc_typography.OPAQUE),
)


def random_texts(atoms, count, longest, seed):
    """Deterministic strings of atoms, from empty to ``longest`` atoms."""
    rnd = random.Random(seed)
    for _ in range(count):
        yield "".join(rnd.choice(atoms) for _ in range(rnd.randint(0, longest)))


@pytest.mark.parametrize("rule", PLAIN_RULES, ids=lambda rule: rule.__name__)
def test_a_fast_rule_finds_what_its_plain_pattern_finds(rule):
    plain = PLAIN_RULES[rule]
    samples = [text for _, text, _ in RULE_CASES] + [
        "Форум прошёл в г. Ельце 18 - 19 сентября, пн-пт 9:00 - 18:00, И.И. Иванов."
    ]
    for text in [*samples, *random_texts(RULE_ATOMS, 8000, 25, seed=7)]:
        assert rule(text) == plain(text), repr(text)


WIDONT_ATOMS = (
    *("a", "б", "слово", ".", " ", "  ", "\n", "\t", NBSP, "<", ">"),
    *("<p>", "</p>", "</P>", "<li>", "</li>", "</h2>", "</h7>", "</dd>", "</dt>"),
    *("<em>", "</em>", "<b>", "</b>", "<i>", "</i>", "<strong>", "</strong>"),
    *("</span>", "</span >", "<br>", '<a href="x">', "</a>", '<abbr title="t">'),
    *("<div>", "</div>", "<b x<y>"),
)


@pytest.mark.parametrize("look_back", [1, 3, 8, 9, 10, 16, 256])
def test_fast_widont_gives_typogrify_s_widont_result(monkeypatch, look_back):
    from typogrify.filters import widont  # noqa: PLC0415

    monkeypatch.setattr(mfc_typography, "WIDONT_LOOK_BACK", look_back)
    samples = [typographize(html) for html, _ in HTML_CASES] + [
        "<p>Форум прошёл в Ельце</p>\n<ul>\n<li>первый пункт</li>\n<li>ещё</li>\n</ul>",
        '<p>Читайте <a href="/x/">новость дня</a>.</p><p><em>Итоги года </em> </p>',
    ]
    for text in [*samples, *random_texts(WIDONT_ATOMS, 6000, 40, seed=look_back)]:
        assert mfc_typography.fast_widont(text) == widont(text), repr(text)


def test_a_build_s_typogrify_pass_is_typogrify_s_own():
    from pelican.settings import read_settings  # noqa: PLC0415
    from typogrify.filters import typogrify  # noqa: PLC0415

    settings = read_settings(str(ROOT / "pelicanconf.py"))
    settings[mfc_typography.TYPOGRIFY_HERE] = True
    finish = mfc_typography._finisher(settings)
    ignore = settings["TYPOGRIFY_IGNORE_TAGS"]
    omit = dict.fromkeys(settings["TYPOGRIFY_OMIT_FILTERS"], False)
    atoms = (*WIDONT_ATOMS, "<pre>", "</pre>", "<code>", "</code>", '"', " - ")
    for text in random_texts(atoms, 4000, 30, seed=11):
        assert finish(text) == typogrify(typographize(text), ignore, **omit), text


# The masking regex written the plain way: look-behinds first, one
# case-insensitive pattern (mfc_typography, "Protected fragments").
_SEP = r"[ \u00a0\-]"
PLAIN_PHONE = (
    rf"\+\d{{1,3}}(?:[ \u00a0()\-]{{0,2}}\d){{9,12}}(?!\d)"
    rf"|(?<![\d+])8{_SEP}?\(\d{{3,5}}\)(?:{_SEP}{{0,2}}\d){{5,7}}(?!\d)"
    rf"|(?<![\d+])8{_SEP}800(?:{_SEP}?\d){{7}}(?!\d)"
    rf"|(?<![\d+(])\(\d{{3,5}}\)(?:{_SEP}{{0,2}}\d){{5,7}}(?!\d)"
    r"|(?<![\w+\-])\d{1,3}(?:-\d{2}){2}(?![\w\-])"
)
PLAIN_URL = r"(?:https?|ftp)://[^\s<>\"«»]+|(?<![\w.@])www\.[^\s<>\"«»]+"
PLAIN_EMAIL = r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"


def plain_mask_re(urls, emails):
    tag = mfc_typography.TAG[1:]
    skip = "|".join(mfc_typography.SKIP_TAGS)
    opaque = (
        [PLAIN_EMAIL] * emails + [PLAIN_URL] * urls + [PLAIN_PHONE, "[\ue000-\ue002]"]
    )
    return re.compile(
        rf"(?P<skip><(?P<skipname>{skip})\b{tag}.*?</(?P=skipname)\s*>)"
        r"|(?P<comment><!--.*?-->|<![^>]*>|<\?[^>]*>)"
        rf"|(?P<tag></?(?P<tagname>[a-zA-Z][\w:\-]*){tag})"
        rf"|(?P<opaque>{'|'.join(opaque)})",
        re.S | re.I,
    )


MASK_ATOMS = (
    *("<p>", "</p>", "<CODE>", "</code>", "<code x='>'>", "</CODE >", "<pre>"),
    *("</pre>", "<svg>", "</svg>", "<Kbd>", "</kbd>", "<!-- c -->", "<!x>", "<?p?>"),
    *('<a href="http://x.ru">', "</a>", "<b x='<'>", "<", ">", '"', "'", "«"),
    *("http://", "HTTPS://", "ftp://", "www.", "WWW.", "w", "ſ", "x", "а", "_"),
    *("@", "mail", ".", "-", "+7", "8", "800", "(", ")", " ", NBSP, "12", "3"),
    *("-45", "8512", "668-807", mfc_typography.INLINE, mfc_typography.OPAQUE),
    *("8-800-100-70-10", "8 (8512) 66-88-07", "(8512) 66-88-07", "+7 8512 668-807"),
)


@pytest.mark.parametrize("urls", [False, True])
@pytest.mark.parametrize("emails", [False, True])
def test_the_fast_mask_finds_what_the_plain_mask_finds(urls, emails):
    fast = mfc_typography.MASK_RES[urls, emails]
    plain = plain_mask_re(urls, emails)
    samples = [html for html, _ in HTML_CASES]
    for text in [*samples, *random_texts(MASK_ATOMS, 8000, 30, seed=urls + 2 * emails)]:
        found = [
            (m.span(), m["tagname"], m["skipname"], m["comment"] is None)
            for m in fast.finditer(text)
        ]
        wanted = [
            (m.span(), m["tagname"], m["skipname"], m["comment"] is None)
            for m in plain.finditer(text)
        ]
        assert found == wanted, repr(text)
