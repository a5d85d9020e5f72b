"""Reading a content file: bytes → text → front matter nodes and body.

The same reader serves ``invoke check`` and the Pelican build, so what the
check accepts is exactly what the build reads. It is lenient where a mistake
is harmless (a UTF-8 BOM, CRLF or CR line ends, trailing spaces, blank lines
before the first ``---``) and precise where it is not: every problem carries
the line of the file it is on.

The YAML is *composed*, not loaded: the nodes keep their line numbers and
their raw text, so ``title: 12:30`` stays the text "12:30" (YAML 1.1 would
make it the number 750) and ``status: yes`` is not turned into ``True``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

import yaml

from .problems import Problem

try:  # libyaml: ~10× faster, needed for `check` to stay fast
    YAML_LOADER = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    YAML_LOADER = yaml.SafeLoader

FENCE = "---"
# A line an editor probably meant as the `---` fence: em/en dashes (Word's
# autocorrect turns --- into —), four dashes, spaced dashes, underscores.
DASHLIKE_RE = re.compile(r"^[\s\-‐‑‒–—―−_=~]+$")
KEY_LINE_RE = re.compile(r"^\s*[\w\-]+\s*:(\s|$)")
TAB_INDENT_RE = re.compile(r"^ *\t")
ODD_SPACES = "\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff"
KEY_SEPARATOR_RE = re.compile(
    rf"^([ {ODD_SPACES}]*)((?:- )?[^:\s{ODD_SPACES}]*:?)([{ODD_SPACES}]*)"
)
CYRILLIC_RE = re.compile(r"[А-Яа-яЁё]")


@dataclass
class Document:
    """A content file split into its parts, with the problems found so far."""

    path: str  # as shown to the editor
    text: str | None = None  # decoded, LF line ends; None if unreadable
    fm_line: int = 0  # file line of the opening ---; 0 when there is none
    root: yaml.Node | None = None  # the front matter's top node
    body: str = ""
    body_line: int = 1  # file line of the body's first line
    problems: list[Problem] = field(default_factory=list)

    def problem(self, line: int, code: str, message: str) -> None:
        self.problems.append(Problem(self.path, max(int(line), 1), code, message))

    @property
    def ok(self) -> bool:
        """The front matter was found and parsed (it may still be invalid)."""
        return self.text is not None and self.fm_line > 0 and not self.problems

    def file_line(self, mark: yaml.Mark | None) -> int:
        """The file line of a YAML mark (marks count from the fence + 1)."""
        if mark is None:
            return self.fm_line
        return self.fm_line + 1 + mark.line


def looks_like_cp1251(data: bytes) -> bool:
    """Whether undecodable bytes read as Russian text in windows-1251."""
    high = [b for b in data if b >= 0x80]
    if not high:
        return False
    text = bytes(high).decode("cp1251", errors="replace")
    cyrillic = sum(1 for ch in text if CYRILLIC_RE.match(ch))
    return cyrillic / len(high) > 0.7


def decode(doc: Document, data: bytes) -> str | None:
    """Decode a file's bytes as UTF-8, or say in Russian why not."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        doc.problem(
            1,
            "E102",
            "файл сохранён в кодировке UTF-16 (в Блокноте она называется "
            "«Юникод») — сохраните его заново в кодировке UTF-8",
        )
        return None
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        doc.problem(
            1,
            "E102",
            "это не текстовый файл, а документ Word или архив, переименованный "
            "в .md — откройте его в Word, скопируйте текст и вставьте в "
            "текстовый файл в кодировке UTF-8",
        )
        return None
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        if looks_like_cp1251(data):
            doc.problem(
                line,
                "E101",
                "файл сохранён в кодировке windows-1251, а не UTF-8 — "
                "сохраните его заново в кодировке UTF-8 (в Блокноте: "
                "«Сохранить как» → «Кодировка: UTF-8»)",
            )
        else:
            doc.problem(
                line,
                "E102",
                "в файле есть байты, которые не читаются как текст UTF-8 — "
                "сохраните файл заново в кодировке UTF-8",
            )
        return None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        doc.problem(
            line,
            "E102",
            "в файле есть нулевые байты: это не текстовый файл — "
            "сохраните текст в обычном текстовом файле в кодировке UTF-8",
        )
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(doc: Document, data: bytes) -> Document:  # noqa: PLR0911  (stops at the first broken layer)
    """Fill in `doc` from the file's bytes; problems go into `doc.problems`."""
    text = decode(doc, data)
    if text is None:
        return doc
    doc.text = text
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        doc.problem(
            1,
            "E103",
            "файл пустой — впишите в него свойства между строками --- и текст, "
            "или удалите файл",
        )
        return doc
    first = lines[start].strip()
    if first != FENCE:
        _missing_opening_fence(doc, start, first)
        return doc
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].strip() in (FENCE, "...")),
        None,
    )
    if end is None:
        _missing_closing_fence(doc, lines, start)
        return doc
    doc.fm_line = start + 1
    doc.body = "\n".join(lines[end + 1 :])
    doc.body_line = end + 2
    front = [_plain_spaces(line) for line in lines[start + 1 : end]]
    tabs = [i for i, line in enumerate(front) if TAB_INDENT_RE.match(line)]
    for i in tabs:
        doc.problem(
            start + 2 + i,
            "E107",
            "в начале строки стоит табуляция — в свойствах отступы делаются "
            "только пробелами: замените табуляцию двумя пробелами",
        )
    if tabs:
        return doc
    try:
        doc.root = yaml.compose("\n".join(front), Loader=YAML_LOADER)
    except yaml.YAMLError as error:
        _yaml_problem(doc, front, error)
        return doc
    if doc.root is not None and not isinstance(doc.root, yaml.MappingNode):
        doc.problem(
            doc.file_line(doc.root.start_mark),
            "E108",
            "между строками --- стоят не свойства — запишите каждое свойство "
            "на своей строке в виде «имя: значение», например «title: Заголовок»",
        )
        doc.root = None
    return doc


def _plain_spaces(line: str) -> str:
    """No-break and other Unicode spaces (pasted from Word) where YAML needs
    plain spaces: in the indentation and after the key's colon; zero-width
    characters before the key are dropped. Lines stay where they are.

    >>> _plain_spaces("\\u00a0\\u00a0- форум")
    '  - форум'
    >>> _plain_spaces("\\u200btitle:\\u00a0Новость")
    'title: Новость'
    """
    match = KEY_SEPARATOR_RE.match(line)
    if not match:
        return line
    indent, key, separator = match.groups()
    indent = re.sub("[\u200b\ufeff]", "", indent)
    return " " * len(indent) + key + " " * len(separator) + line[match.end() :]


def _missing_opening_fence(doc: Document, start: int, first: str) -> None:
    if DASHLIKE_RE.match(first):
        doc.problem(
            start + 1,
            "E104",
            f"первая строка «{first}» должна состоять ровно из трёх дефисов "
            "(---) — замените её на ---",
        )
    elif KEY_LINE_RE.match(first):
        doc.problem(
            start + 1,
            "E104",
            "перед свойствами нет строки --- — добавьте строку из трёх "
            "дефисов (---) в самое начало файла",
        )
    else:
        doc.problem(
            start + 1,
            "E104",
            "файл не начинается со свойств — начните его строкой ---, затем "
            "свойства (title: …, date: …), затем снова строка ---, а после "
            "неё текст",
        )


def _missing_closing_fence(doc: Document, lines: list[str], start: int) -> None:
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and DASHLIKE_RE.match(stripped):
            doc.problem(
                i + 1,
                "E105",
                f"строка «{stripped}» похожа на конец свойств, но должна "
                "состоять ровно из трёх дефисов — замените её на ---",
            )
            return
    blank = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].strip()), None
    )
    where = (
        f" (видимо, после строки {blank})"
        if blank is not None and blank > start + 1
        else ""
    )
    doc.problem(
        start + 1,
        "E105",
        "свойства открыты строкой ---, но не закрыты — добавьте строку --- "
        f"после последнего свойства{where}, перед текстом",
    )


def _yaml_problem(doc: Document, front: list[str], error: yaml.YAMLError) -> None:  # noqa: PLR0912  (a branch per YAML error)
    """Translate a YAML error into a Russian message on the right line."""
    problem = getattr(error, "problem", "") or str(error)
    context = getattr(error, "context", "") or ""
    mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    if "expected ':'" in problem and context_mark is not None:
        mark = context_mark
    index = mark.line if mark is not None else 0
    index = min(max(index, 0), max(len(front) - 1, 0))
    line = front[index] if front else ""
    file_line = doc.fm_line + 1 + index

    # A blank line followed by prose: the closing --- was forgotten.
    blank = next((i for i, text in enumerate(front) if not text.strip()), None)
    if (
        blank is not None
        and blank < index
        and not KEY_LINE_RE.match(line)
        and CYRILLIC_RE.search(line)
    ):
        doc.problem(
            doc.fm_line + 1 + blank,
            "E105",
            "после свойств нет строки ---, и текст новости попал в свойства — "
            f"добавьте строку --- перед строкой {doc.fm_line + 2 + blank}",
        )
        return

    key, _, value = line.partition(":")
    key, value = key.strip(), value.strip()
    if "mapping values are not allowed" in problem:
        if line[:1].isspace() and index > 0:
            message = (
                "строка начинается с пробелов, и YAML считает её продолжением "
                "предыдущей — уберите пробелы в начале строки"
            )
        else:
            message = (
                "в значении есть двоеточие с пробелом — заключите всё значение "
                f"в кавычки: {key}: {quote_suggestion(value)}"
            )
    elif "end of stream" in problem and "quoted scalar" in context:
        message = (
            "кавычка открыта, но не закрыта — поставьте закрывающую кавычку "
            "в конце значения или уберите открывающую"
        )
        file_line = doc.file_line(context_mark) if context_mark else file_line
    elif "did not find expected key" in problem or "expected <block end>" in problem:
        message = (
            "после закрывающей кавычки продолжается текст — если внутри "
            "значения нужны кавычки, используйте «ёлочки»: "
            f"{key}: {quote_suggestion(value.strip(chr(34) + chr(39)))}"
        )
    elif "document start" in problem:
        message = (
            "строка не похожа на свойство «имя: значение» — текст новости "
            "пишется после второй строки ---; если это свойство, поставьте "
            "после имени двоеточие"
        )
    elif "expected ':'" in problem:
        message = (
            "в строке нет двоеточия — каждое свойство записывается как "
            "«имя: значение»; если это продолжение текста предыдущего "
            "свойства, начните строку с двух пробелов"
        )
    elif "alias" in context or "anchor" in context:
        message = (
            "значение начинается со знака * или & — заключите всё значение "
            f"в кавычки: {key}: {quote_suggestion(value)}"
        )
    elif "cannot start any token" in problem:
        message = (
            "значение начинается со служебного знака (@, `, % или |) — "
            f"заключите всё значение в кавычки: {key}: {quote_suggestion(value)}"
        )
    elif "escape" in problem or "hexdecimal" in problem:
        message = (
            "в значении в двойных кавычках стоит обратная косая черта \\ — "
            "уберите её или возьмите значение в одинарные кавычки"
        )
    elif "another document" in problem or "single document" in context:
        message = (
            "внутри свойств есть лишняя строка --- — оставьте только две: "
            "в начале и после последнего свойства"
        )
    else:
        message = (
            "свойства записаны с ошибкой — проверьте двоеточия, отступы и "
            f"кавычки в этой строке и перед ней (YAML: {problem})"
        )
    doc.problem(file_line, "E106", message)


def quote_suggestion(value: str) -> str:
    """The value as a YAML double-quoted string, inner quotes as «ёлочки»."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    value = re.sub(r'"([^"]*)"', r"«\1»", value).replace('"', "«")
    value = value.replace("\\", "/")
    return f'"{value}"'
