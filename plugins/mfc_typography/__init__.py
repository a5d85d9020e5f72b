"""Russian typography for titles, summaries and text (DESIGN.md, rules 1–7).

Each rule is a small pure function on text: it takes a string and returns the
string with one rule applied, and running it twice changes nothing. They work
on plain text and on *masked* HTML: ``typographize`` replaces every tag,
comment, entity-free protected fragment (``code``, ``pre``, ``kbd``, ``samp``,
``script``, ``style``, URLs, e-mail addresses, phone numbers) by a one-character
placeholder from Unicode's private use area, runs the rules once over the whole
document, and puts the fragments back. So the rules never see attributes,
code or URLs, and quotes or no-break spaces work across inline tags
(``"<em>Мои документы</em>"`` → ``«<em>Мои документы</em>»``).

Placeholders: ``INLINE`` for inline tags (they do not break a phrase),
``BLOCK`` for every other tag (a paragraph boundary: no rule joins across it),
``OPAQUE`` for protected fragments (a "word" no rule looks into).

The plugin applies ``typographize`` to what a reader returns (the HTML text,
the title and the summary), through the build cache of pure text functions
(``mfc_content.memo``): text typographized by an earlier build under the
same code and settings is not processed again. Typogrify (``widont`` only,
pelicanconf.py) runs afterwards, as Pelican would run it, but inside the
same cached step: with ``TYPOGRIFY`` on, the plugin turns Pelican's own
(uncached) pass off for the build and makes it here. The filter is also
available in templates as ``|ru_typography`` (for the contact block).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

from babel.dates import get_month_names
from markupsafe import Markup
from pelican import signals
from typogrify.filters import process_ignores, typogrify, widont

from mfc_content.memo import memo_for

log = logging.getLogger(__name__)

NBSP = "\u00a0"
EM_DASH = "\u2014"
EN_DASH = "\u2013"

INLINE = "\ue000"
BLOCK = "\ue001"
OPAQUE = "\ue002"
PLACEHOLDER_RE = re.compile("[\ue000-\ue002]")

# Elements whose text is phrasing content: they do not end a phrase.
INLINE_TAGS = frozenset(
    (
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "data",
        "del",
        "dfn",
        "em",
        "i",
        "img",
        "ins",
        "mark",
        "q",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
        "wbr",
    )
)
# Elements whose whole content is left alone: inline ones (a "word" to the
# rules) and block ones (a paragraph boundary).
SKIP_INLINE_TAGS = ("code", "kbd", "samp", "svg", "math")
SKIP_BLOCK_TAGS = ("pre", "script", "style", "textarea")
SKIP_TAGS = SKIP_INLINE_TAGS + SKIP_BLOCK_TAGS

# --- Protected fragments -------------------------------------------------
# Every alternative of the masking regex starts with a literal or a
# character class, its look-behind (if any) after that first character:
# Python's engine then rejects most positions of the text at the first
# character, which makes the scan two to three times faster. Letters are
# matched in either case, as re.IGNORECASE would ("ſ" is an "s" to it).
#
# A telephone number, as people write them in Russia: +7 8512 668-807,
# 8 (8512) 66-88-07, 8-800-100-70-10, 66-88-07. The digit counts keep
# ranges (2013-2026) and dates (2013-09-20) out.
_SEP = r"[ \u00a0\-]"
PHONE = (
    rf"\+\d{{1,3}}(?:[ \u00a0()\-]{{0,2}}\d){{9,12}}(?!\d)"
    rf"|8(?<![\d+]8){_SEP}?\(\d{{3,5}}\)(?:{_SEP}{{0,2}}\d){{5,7}}(?!\d)"
    rf"|8(?<![\d+]8){_SEP}800(?:{_SEP}?\d){{7}}(?!\d)"
    rf"|\((?<![\d+(]\()\d{{3,5}}\)(?:{_SEP}{{0,2}}\d){{5,7}}(?!\d)"
    r"|\d(?<![\w+\-]\d)\d{0,2}(?:-\d{2}){2}(?![\w\-])"
)
URL = (
    r"(?:[hH][tT][tT][pP][sSſ]?|[fF][tT][pP])://[^\s<>\"«»]+"
    r"|[wW](?<![\w.@][wW])[wW][wW]\.[^\s<>\"«»]+"
)
EMAIL = r"[\w.+\-](?<![\w.+\-][\w.+\-])[\w.+\-]*@[\w\-]+(?:\.[\w\-]+)+"
TAG = r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>"


def _mask_re(*, urls: bool, emails: bool) -> re.Pattern:
    """The masking regex; URL and e-mail patterns only where the text can
    hold one (they are the costly part of the scan)."""
    opaque = [PHONE, r"[\ue000-\ue002]"]
    if urls:
        opaque.insert(0, URL)
    if emails:
        opaque.insert(0, EMAIL)
    return re.compile(
        rf"""
        <(?i:
            (?P<skipname>{"|".join(SKIP_TAGS)})\b{TAG[1:]}.*?</(?P=skipname)\s*>
           |(?P<comment>!--.*?-->|![^>]*>|\?[^>]*>)
           |/?(?P<tagname>[a-zA-Z][\w:\-]*){TAG[1:]}
        )
        |{"|".join(opaque)}
        """,
        re.S | re.X,
    )


MASK_RES = {
    (urls, emails): _mask_re(urls=urls, emails=emails)
    for urls in (False, True)
    for emails in (False, True)
}
URL_HINTS = ("://", "www.", "WWW.")


# --- Rules ----------------------------------------------------------------
# Each regex starts with a character class or a literal (a look-behind, where
# the rule needs one, comes after the first character): Python's engine then
# skips to the next position where that character occurs, instead of trying
# the whole pattern at every position of the text. This halves the rules'
# time; the matches are the same.
# "Not a space and not a paragraph boundary", for the rules' look-arounds.
_NB = r"[^\s\ue001]"

QUOTE_RE = re.compile('["«»„“\ue001]')
_OPENING_CONTEXT = frozenset(" \t\n\r\u00a0([{«„/\u2014\u2013-" + BLOCK)


def _next_significant(text: str, start: int) -> str:
    """The character at `start` or after it, skipping inline-tag placeholders."""
    i = start
    while i < len(text) and text[i] == INLINE:
        i += 1
    return text[i] if i < len(text) else BLOCK


def quotes(text: str) -> str:
    """Straight quotes become «ёлочки» outside and „лапки“ inside.

    >>> quotes('Центр "Мои документы"')
    'Центр «Мои документы»'
    >>> quotes('"Форум "Стратегия" в Ельце"')
    '«Форум „Стратегия“ в Ельце»'

    A quote after a space, a bracket or another opening quote opens, any
    other closes; one with spaces on both sides is left alone. Nesting starts
    again at every paragraph.
    """
    if '"' not in text:
        return text
    out: list[str] = []
    depth = 0
    before = BLOCK  # the last character written, inline tags skipped
    last = 0
    for match in QUOTE_RE.finditer(text):
        char, pos = match.group(), match.start()
        segment = text[last:pos]
        out.append(segment)
        before = segment.rstrip(INLINE)[-1:] or before
        last = match.end()
        if char == BLOCK:
            depth = 0
        elif char in "«„":
            depth += 1
        elif char in "»“":
            depth = max(depth - 1, 0)
        elif before in _OPENING_CONTEXT:
            if not _next_significant(text, last).isspace():
                depth += 1
                char = "«" if depth == 1 else "„"
        else:
            char = "»" if depth <= 1 else "“"
            depth = max(depth - 1, 0)
        out.append(char)
        before = char
    out.append(text[last:])
    return "".join(out)


_NUMBER = r"\d+(?:[:.,]\d+)?"
RANGE_RE = re.compile(
    # The first number, not right after a word, a number or a dash.
    r"(\d(?<![\w.,:\-\u2013]\d)\d*(?:[:.,]\d+)?)"
    rf"[ \u00a0]?[\-\u2013\u2014][ \u00a0]?({_NUMBER})"
    r"(?![\w\-\u2013]|[.,:]\d)"
)


def ranges(text: str) -> str:
    """A range of numbers or times takes an en dash without spaces.

    >>> ranges("пн-пт 9:00-18:00, 2013 - 2026 годы")
    'пн-пт 9:00–18:00, 2013–2026 годы'
    """
    return RANGE_RE.sub(rf"\1{EN_DASH}\2", text)


# White space after a character that is not one, a hyphen or dash, a space.
DASH_RE = re.compile(rf"\s(?<={_NB}\s)\s*(?:-{{1,3}}|[\u2013\u2014])(?=\s)")


def dashes(text: str) -> str:
    """A hyphen (or dash) between spaces becomes an em dash, bound to the
    word before it.

    >>> dashes("Москва - столица")
    'Москва\\xa0— столица'
    """
    return DASH_RE.sub(NBSP + EM_DASH, text)


# Month names as dates use them («20 сентября»), from Babel as mfc_dates does.
MONTHS = tuple(get_month_names("wide", context="format", locale="ru").values())
# Units and words that stay on the line of the number before them. Entries
# ending in a dot need no word boundary after them.
UNITS = (
    "г.",
    "гг.",
    "год",
    "года",
    "году",
    "годом",
    "годах",
    "лет",
    "в.",
    "вв.",
    "век",
    "века",
    "руб.",
    "рубль",
    "рубля",
    "рублей",
    "коп.",
    "копеек",
    "тыс.",
    "млн",
    "млрд",
    "трлн",
    "₽",
    "%",
    "‰",
    "°C",
    "°С",
    "°",
    "мг",
    "кг",
    "г",
    "т",
    "мм",
    "см",
    "м",
    "км",
    "м²",
    "км²",
    "га",
    "мл",
    "л",
    "с",
    "мин.",
    "мин",
    "ч",
    "час",
    "часа",
    "часов",
    "шт.",
    "чел.",
    "человек",
    "дня",
    "дней",
    "день",
)
_UNIT_ALT = "|".join(
    re.escape(u) + ("" if u.endswith(".") or not u[-1].isalnum() else r"(?!\w)")
    for u in sorted(MONTHS + UNITS, key=len, reverse=True)
)
NUMBER_UNIT_RE = re.compile(rf"(\d)\s+(?=(?:{_UNIT_ALT}))")


def number_units(text: str) -> str:
    """A number keeps its unit, month or «г.» on the same line.

    >>> number_units("20 сентября 2013 г., 5 кг, 100 руб.")
    '20\\xa0сентября 2013\\xa0г., 5\\xa0кг, 100\\xa0руб.'
    """
    return NUMBER_UNIT_RE.sub(rf"\1{NBSP}", text)


ABBREVIATIONS = (
    "г",
    "ул",
    "д",
    "пр",
    "просп",
    "пер",
    "пл",
    "наб",
    "ш",
    "обл",
    "мкр",
    "корп",
    "стр",
    "кв",
    "каб",
    "оф",
    "им",
    "ст",
    "тел",
    "рис",
    "см",
    "т",
    "п",
    "с",
    "гл",
    "разд",
    "ч",
)


def _abbreviation_re() -> re.Pattern:
    """The dot and white space after an abbreviation: the whole word before
    the dot (not after a letter, digit, dot or hyphen, nor after a number and
    a space) is one of ABBREVIATIONS, found by a look-behind per length."""
    lengths: dict[int, list[str]] = {}
    for word in ABBREVIATIONS:
        lengths.setdefault(len(word), []).append(re.escape(word))
    behind = "|".join(
        rf"(?<=(?<![\w.\-])(?<!\d\s)(?:{'|'.join(words)})\.)"
        for _, words in sorted(lengths.items())
    )
    return re.compile(rf"\.(?:{behind})\s+(?=[\w«\"\ue000\ue002])")


ABBREVIATION_RE = _abbreviation_re()


def abbreviations(text: str) -> str:
    """An abbreviation such as «г.», «ул.», «д.» stays with what follows.

    >>> abbreviations("г. Астрахань, ул. Бабефа, д. 8, т. е. центр")
    'г.\\xa0Астрахань, ул.\\xa0Бабефа, д.\\xa08, т.\\xa0е. центр'
    """
    return ABBREVIATION_RE.sub("." + NBSP, text)


NUMERO_RE = re.compile(r"([№§])[ \u00a0]*(?=\d)")


def numero(text: str) -> str:
    """The number sign is followed by a no-break space.

    >>> numero("приказ №5, § 3")
    'приказ №\\xa05, §\\xa03'
    """
    return NUMERO_RE.sub(rf"\1{NBSP}", text)


INITIALS_RE = re.compile(
    r"([А-ЯЁ](?<!\w[А-ЯЁ])"  # every case starts with a capital, not in a word
    r"(?:\.(?=\s*[А-ЯЁ]\.)"  # И. И.
    r"|\.(?=\s+[А-ЯЁ][а-яё])"  # И. Иванов
    r"|[а-яё]+(?=\s+[А-ЯЁ]\.\s*[А-ЯЁ]\.)))"  # Иванов И. И.
    r"\s*"
)


def initials(text: str) -> str:
    """Initials stay together and with the surname.

    >>> initials("И.И. Иванов и Петров П. П.")
    'И.\\xa0И.\\xa0Иванов и Петров\\xa0П.\\xa0П.'
    """
    return INITIALS_RE.sub(rf"\1{NBSP}", text)


# White space after a word of one or two letters (not after a letter, a digit,
# a hyphen or a dot), before a character that is not one.
_SHORT = r"(?<![\w\-.])[а-яёА-ЯЁ]"
SHORT_WORD_RE = re.compile(rf"\s(?:(?<={_SHORT}\s)|(?<={_SHORT}[а-яё]\s))\s*(?={_NB})")


def short_words(text: str) -> str:
    """One- and two-letter words (в, на, и, не…) stay with the next word.

    >>> short_words("Форум прошёл в Ельце и на сайте")
    'Форум прошёл в\\xa0Ельце и\\xa0на\\xa0сайте'
    """
    return SHORT_WORD_RE.sub(NBSP, text)


# The order matters: quotes first (later rules see «), ranges before dashes
# (a spaced hyphen between numbers is a range), short words last.
RULES: tuple[Callable[[str], str], ...] = (
    quotes,
    ranges,
    dashes,
    number_units,
    abbreviations,
    numero,
    initials,
    short_words,
)


# --- Driver ----------------------------------------------------------------
def _mask(html: str) -> tuple[str, list[str]]:
    """Replace tags and protected fragments with placeholders."""
    saved: list[str] = []

    def keep(match: re.Match) -> str:
        saved.append(match.group())
        name = match.group("tagname")
        if name is not None:
            return INLINE if name.lower() in INLINE_TAGS else BLOCK
        skipped = match.group("skipname")
        if skipped is not None:
            return OPAQUE if skipped.lower() in SKIP_INLINE_TAGS else BLOCK
        if match.group("comment") is not None:
            return BLOCK
        return OPAQUE

    mask_re = MASK_RES[any(hint in html for hint in URL_HINTS), "@" in html]
    return mask_re.sub(keep, html), saved


def _unmask(text: str, saved: list[str]) -> str:
    fragments = iter(saved)
    return PLACEHOLDER_RE.sub(lambda _: next(fragments), text)


def typographize(html: str) -> str:
    """Apply every rule to the text of an HTML fragment (or plain text).

    >>> typographize('<p><a href="tel:+78512668807">+7 8512 668-807</a> - "в часы"</p>')
    '<p><a href="tel:+78512668807">+7 8512 668-807</a>\\xa0— «в\\xa0часы»</p>'
    """
    if not html:
        return html
    text, saved = _mask(html)
    for rule in RULES:
        text = rule(text)
    return _unmask(text, saved)


def ru_typography(value: str | None) -> Markup | str | None:
    """Jinja filter: typographize a value, keeping it safe for templates."""
    if not value:
        return value
    result = _typographized(str(value))
    return Markup(result) if isinstance(value, Markup) else result


@functools.lru_cache(maxsize=256)
def _typographized(text: str) -> str:
    """typographize, remembered: the theme gives the filter the same few
    values (the contact block's) on every one of thousands of pages."""
    return typographize(text)


# --- Pelican glue ----------------------------------------------------------
TYPOGRAPHIC_METADATA = ("title", "summary")
_WRAPPED = "_mfc_typography_wrapped"
# Set when this plugin makes Pelican's typogrify pass (see take_over_typogrify).
TYPOGRIFY_HERE = "MFC_TYPOGRIFY"


# --- typogrify's widont, in less time ------------------------------------
# widont (typogrify.filters.widont) puts a no-break space before the last
# word of each paragraph: its match ends at a closing p, h1-h6, li, dt or dd
# tag, or at the end of the text. Its regex has no fixed first character, so
# Python's engine tries it at every position of the text: a quarter of a
# millisecond for a news item, 2.5 core-seconds at ten thousand. No match
# can cross such a closing tag (only an inline tag, which ends at its first
# ">", can come before the white space, and these tags hold a "<"), so the
# text is cut after each one. In each piece, the one match it can hold is
# found by reading back from the closing tag: the white space and closing
# inline tags widont allows there, the last word, the white space before it
# (WIDONT_TAIL_RE reads the piece reversed). widont itself then runs on the
# short window that starts at the character or inline tag before that white
# space. A text with a "<" that no ">" closes before the next "<" is given
# to widont whole. The result is widont's, byte for byte
# (tests/test_typography.py compares them).
WIDONT_END_RE = re.compile(r"</(?:p|h[1-6]|li|dt|dd)>")
WIDONT_TAIL_RE = re.compile(r"(?:\s|>(?:a|me|naps|gnorts|i|b)/<)*([^<>\s]*)(\s*)")
WIDONT_LOOK_BACK = 256  # characters read back before taking the whole piece
LONGEST_INLINE_CLOSE = len("</strong>")
UNCLOSED_TAG_RE = re.compile(r"<[^>]*<")
# The filters typogrify applies besides widont; this site omits them all.
TYPOGRIFY_OTHER_FILTERS = frozenset(("amp", "smartypants", "caps", "initial_quotes"))


def _widont_window(text: str, piece: int, close: int) -> int | None:
    """Where widont's match before the closing tag at ``close`` can start
    (at or after ``piece``, the start of the piece), or None if it has none."""
    start = max(piece, close - WIDONT_LOOK_BACK)
    backwards = text[start:close][::-1]
    tail = WIDONT_TAIL_RE.match(backwards)  # always matches, maybe nothing
    if start > piece and tail.end() + LONGEST_INLINE_CLOSE >= len(backwards):
        return piece  # it may go on before where the reading started
    if not (tail[1] and tail[2]) or tail.end() == close - piece:
        # No last word, no white space before it, or that white space starts
        # the piece (after the text's start or a closing tag: neither is
        # what widont takes before white space).
        return None
    before = close - tail.end() - 1  # the character before the white space
    char = text[before]
    if char == "<":
        return None
    if char != ">":
        return before
    tag = text.rfind("<", piece, before)  # the tag that may end there
    return tag if tag >= 0 else None


def fast_widont(text: str) -> str:
    """typogrify's ``widont(text)``, the same result, reading little of it."""
    if UNCLOSED_TAG_RE.search(text):
        return widont(text)
    out: list[str] = []
    piece = kept = 0  # the current piece's start; text[:kept] is in out
    for end in WIDONT_END_RE.finditer(text):
        start = _widont_window(text, piece, end.start())
        if start is not None:
            out += (text[kept:start], widont(text[start : end.end()]))
            kept = end.end()
        piece = end.end()
    out += (text[kept:piece], widont(text[piece:]))
    return "".join(out)


def _finisher(settings) -> Callable[[str], str]:
    """typographize, then typogrify as Pelican's reader would run it."""
    if not settings.get(TYPOGRIFY_HERE):
        return typographize
    ignore = settings["TYPOGRIFY_IGNORE_TAGS"]
    omitted = set(settings["TYPOGRIFY_OMIT_FILTERS"])
    omit = dict.fromkeys(omitted, False)

    def finish(text: str) -> str:
        return typogrify(typographize(text), ignore, **omit)

    if omitted & (TYPOGRIFY_OTHER_FILTERS | {"widont"}) != TYPOGRIFY_OTHER_FILTERS:
        return finish

    def finish_widont(text: str) -> str:
        # typogrify(), its other filters omitted: widont on what it processes.
        return "".join(
            fast_widont(part) if process else part
            for part, process in process_ignores(typographize(text), ignore)
        )

    return finish_widont


def _wrap_read(read, settings):
    finish = _finisher(settings)

    def read_with_typography(source_path):
        content, metadata = read(source_path)
        # A pure function of the text: cached between builds (mfc_content.memo).
        memo = memo_for(settings)
        if content:
            content = memo.get("typography", content, finish)
        for key in TYPOGRAPHIC_METADATA:
            if isinstance(metadata.get(key), str):
                metadata[key] = memo.get("typography", metadata[key], finish)
        return content, metadata

    return read_with_typography


def take_over_typogrify(pelican) -> None:
    """Pelican typogrifies every item on every build; do it here, cached."""
    settings = pelican.settings
    if settings.get("TYPOGRIFY"):
        settings["TYPOGRIFY"] = False
        settings[TYPOGRIFY_HERE] = True


def wrap_readers(generator) -> None:
    """Typographize what each reader of this generator returns."""
    readers = getattr(generator, "readers", None)
    for reader in getattr(readers, "readers", {}).values():
        if not getattr(reader, _WRAPPED, False):
            reader.read = _wrap_read(reader.read, reader.settings)
            setattr(reader, _WRAPPED, True)
    generator.env.filters["ru_typography"] = ru_typography


def register() -> None:
    # generator_init is sent once a generator's readers exist (after every
    # readers_init receiver, e.g. pelican-yaml-metadata's, has chosen the
    # reader classes) and before any file is read. Wrapping the readers'
    # output puts the typographized text into Pelican's reader cache.
    signals.generator_init.connect(wrap_readers)
    # initialized: before any generator exists, so no reader runs Pelican's pass.
    signals.initialized.connect(take_over_typogrify)
