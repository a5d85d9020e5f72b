"""Checks of the text (Markdown body) of news items and pages.

The body is scanned as written, without rendering, so that ``invoke check``
stays fast: code spans and fenced code are blanked out first (a ``<script>``
shown as code is harmless), then links, images and raw HTML are found with
their lines. A body that could hide something from that scan (raw HTML,
character references, a script-like scheme) is also rendered with the site's
Markdown settings and the HTML is scanned exactly, as the build does.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from .schema import Checker, resolve_image

FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN_RE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
PLACEHOLDER_LINE_RE = re.compile(r"\[\[.*?\]\]|\[\[|ВПИШИТЕ")
ATX_H1_RE = re.compile(r"^ {0,3}#(?!#)")
SETEXT_H1_RE = re.compile(r"^ {0,3}=+\s*$")
LIST_ITEM_RE = re.compile(r"^ {0,3}([-*+]|\d{1,3}[.)])\s+\S")
ATX_RE = re.compile(r"^ {0,3}#{1,6}(\s|$)")
# Starts with "![" or "[" (an image or a link), not with an optional "!":
# a pattern with a fixed first character is found much faster.
LINK_RE = re.compile(
    r"(?:!\[|\[)(?P<text>(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<url><[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
REF_DEF_RE = re.compile(r"^ {0,3}\[(?P<text>[^\]]+)\]:\s*(?P<url><[^>\n]*>|\S+)", re.M)
INTERNAL_PREFIX_RE = re.compile(
    r"^(\{(filename|static|attach)\}|\|(filename|static|attach)\|)"
)
OTHER_PELICAN_RE = re.compile(r"^(\{(tag|category|author|index)\}|\|(tag|category)\|)")
SAFE_SCHEMES = ("http", "https", "mailto", "tel", "ftp", "sms")
# Elements that load a file into the page: it must be the site's own.
EMBEDDED_TAGS = {"img", "video", "audio", "source", "track", "input"}
DANGEROUS_TAGS = {
    "script": "программа",
    "iframe": "встроенная чужая страница",
    "frame": "встроенная чужая страница",
    "frameset": "встроенные чужие страницы",
    "object": "встроенный объект",
    "embed": "встроенный объект",
    "applet": "встроенная программа",
    "base": "смена адреса всех ссылок",
    "meta": "служебный тег страницы",
    "link": "подключение внешнего файла",
    "portal": "встроенная чужая страница",
    "form": "форма, которая отправила бы данные посетителей неизвестно куда",
    "style": "оформление, которое может сломать вид всего сайта",
}
URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "poster",
    "data",
    "background",
    "cite",
    "xlink:href",
    "lowsrc",
    "dynsrc",
    "longdesc",
    "codebase",
    "ping",
    "manifest",
    "srcset",
}
SCRIPT_SCHEME_RE = re.compile(r"^(javascript|vbscript|livescript|data):")
# Markdown "extra" attribute lists: {: onclick="…" } puts an attribute on HTML.
ATTR_LIST_RE = re.compile(r"\{:?[^}\n]*=[^}\n]*\}")
ATTR_PAIR_RE = re.compile(r"([\w:-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s}]+)")
# What could hide from the source scan and needs the rendered HTML scanned.
SUSPICIOUS_RE = re.compile(r"<|&#|script:|data:|\{[^}\n]*=")
SQUEEZED_BYTES = bytes(range(0x21))  # U+0000 to U+0020: see squeeze


@dataclass
class Finding:
    """A dangerous construct in HTML: problem code, message, what to look for."""

    code: str
    message: str
    needle: str  # text to find the source line by
    line: int = 0  # line in the scanned text, when known


@dataclass
class Target:
    """A link or image in the body."""

    line: int
    url: str
    image: bool = False  # embedded in the page (img, video…), not a link
    alt: str | None = None
    needs_alt: bool = True  # an image that must be described


def squeeze(text: str) -> str:
    """The text without spaces and control characters (U+0000 to U+0020),
    which could split a word such as "script:". They are the one-byte
    characters of UTF-8, so they are deleted as bytes: a quarter of the time
    of a regex."""
    return (
        text.encode("utf-8", "surrogatepass")
        .translate(None, SQUEEZED_BYTES)
        .decode("utf-8", "surrogatepass")
    )


def dangerous_url(value: str, image: bool = False) -> bool:
    """Whether a URL runs code when followed, however it is disguised.

    >>> dangerous_url("JaVa&#83;cript:alert(1)"), dangerous_url(" java\\tscript:x")
    (True, True)
    >>> dangerous_url("https://gosuslugi.ru/")
    False
    >>> dangerous_url("data:image/png;base64,AA", image=True)
    False
    """
    normal = squeeze(html.unescape(value)).lower()
    match = SCRIPT_SCHEME_RE.match(normal)
    if not match:
        return False
    if match.group(1) == "data":
        return not (
            image and re.match(r"data:image/(png|jpe?g|gif|webp|avif)[;,]", normal)
        )
    return True


class _Scanner(HTMLParser):
    """Collects dangerous tags and attributes, and link targets, with lines."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings: list[Finding] = []
        self.targets: list[Target] = []

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        tag = tag.lower()
        if tag in DANGEROUS_TAGS:
            self.findings.append(
                Finding(
                    "E402",
                    f"в тексте есть тег <{tag}> ({DANGEROUS_TAGS[tag]}) — такие "
                    "теги на сайте запрещены: уберите его (для видео или карты "
                    "дайте обычную ссылку на них)",
                    f"<{tag}",
                    line,
                )
            )
        names = {name.lower() for name, _ in attrs}
        for raw_name, raw_value in attrs:
            name, value = raw_name.lower(), raw_value or ""
            if name.startswith("on"):
                self.findings.append(
                    Finding(
                        "E403",
                        f"у тега <{tag}> есть атрибут {name} — это программа, а "
                        f"программы на сайте запрещены: уберите {name}=…",
                        name,
                        line,
                    )
                )
            elif (
                (name in URL_ATTRS or "javascript" in value.lower())
                and any(
                    dangerous_url(part.strip().split(" ")[0], tag == "img")
                    for part in (value.split(",") if name == "srcset" else [value])
                )
            ) or (
                name == "style"
                and re.search(
                    r"expression\s*\(|url\s*\(\s*['\"]?\s*javascript", value, re.I
                )
            ):
                self.findings.append(_script_url_finding(value, line))
            if name == "href" and tag == "a":
                self.targets.append(Target(line, value))
            elif name in ("src", "poster") and tag in EMBEDDED_TAGS:
                self.targets.append(
                    Target(
                        line,
                        value,
                        image=True,
                        alt=dict(attrs).get("alt") if "alt" in names else None,
                        needs_alt=tag == "img",
                    )
                )
        if tag == "img" and "src" not in names:
            self.targets.append(Target(line, "", True, dict(attrs).get("alt")))

    handle_startendtag = handle_starttag


def _script_url_finding(value: str, line: int) -> Finding:
    shown = " ".join(value.split())[:40]
    return Finding(
        "E404",
        f"ссылка «{shown}» запускает программу — такие ссылки на сайте "
        "запрещены: укажите обычный адрес, который начинается с https://",
        value.strip()[:12],
        line,
    )


def scan_html(text: str) -> tuple[list[Finding], list[Target]]:
    """Dangerous constructs and link targets in HTML (or Markdown) text."""
    scanner = _Scanner()
    try:
        scanner.feed(text)
        scanner.close()
    except Exception:
        scanner.findings.append(
            Finding("E402", "HTML в тексте не разбирается — уберите HTML-теги", "<")
        )
    return scanner.findings, scanner.targets


# What every finding of scan_html needs in the HTML. A forbidden tag: "<" and
# its name. An "on…" attribute: "on" after white space, a quote or "/" (where
# HTMLParser starts an attribute's name). A script link or style: "script",
# "data:" or "expression" once squeezed (as dangerous_url squeezes a URL).
# Entities ("&") could spell any of these, the style check's
# case-insensitive regex also takes "ſ" for "s" and "ı" or "İ" (lowered:
# "i" and U+0307) for "i", and HTMLParser raises only on "<!" or "<?"
# constructs: with any of those, the HTML is scanned.
RISKY_TAG_RE = re.compile(rf"<(?:{'|'.join(DANGEROUS_TAGS)})")
ON_ATTRIBUTE_RE = re.compile(r"on(?<=[\s'\"/]on)")  # "on" first: found faster
RISKY_MARKS = ("&", "<!", "<?", "\u017f", "\u0131", "\u0307")
RISK_WORDS = ("script", "data:", "expression")


def html_findings(html_text: str) -> list[Finding]:
    """``scan_html(html_text)[0]``, without parsing HTML that holds none of
    what a finding needs (nearly every news item): a fifth of a millisecond
    less per item."""
    lowered = html_text.lower()
    if not (
        any(mark in lowered for mark in RISKY_MARKS)
        or ON_ATTRIBUTE_RE.search(lowered)
        or RISKY_TAG_RE.search(lowered)
    ):
        # Lowered first: the same as lowering after, for these ASCII words.
        squeezed = squeeze(lowered)
        if not any(word in squeezed for word in RISK_WORDS):
            return []
    return scan_html(html_text)[0]


def text_findings(text: str) -> list[Finding]:
    """Script links and attribute lists in a short Markdown text (a summary)."""
    found = []
    masked = mask_code(text)
    urls = [m.group("url").strip("<>") for m in LINK_RE.finditer(masked)]
    urls += [m.group("url").strip("<>") for m in REF_DEF_RE.finditer(masked)]
    found += [_script_url_finding(url, 0) for url in urls if dangerous_url(url)]
    for match in ATTR_LIST_RE.finditer(masked):
        for key, raw in ATTR_PAIR_RE.findall(match.group()):
            value = raw.strip("\"'")
            if key.lower().startswith("on"):
                found.append(
                    Finding(
                        "E403",
                        f"в фигурных скобках {{: …}} задан атрибут {key} — это "
                        f"программа, а программы на сайте запрещены: уберите {key}=…",
                        key,
                    )
                )
            elif dangerous_url(value):
                found.append(_script_url_finding(value, 0))
    return found


def mask_code(text: str) -> str:
    """Blank out fenced code and code spans, keeping every line in place."""
    if "`" not in text and "~~~" not in text:
        return text  # neither a fence nor a code span (most news items)
    lines = text.split("\n")
    fence = None
    for i, line in enumerate(lines):
        match = FENCE_RE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * 3
            lines[i] = ""
        elif fence is not None:
            if line.strip().startswith(fence):
                fence = None
            lines[i] = ""
    masked = "\n".join(lines)
    return CODE_SPAN_RE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), masked)


@dataclass
class BodyReport:
    """What the cross-file checks need from one body."""

    links: list[tuple[int, str]] = field(default_factory=list)  # (line, /path)
    files: list[tuple[int, str]] = field(default_factory=list)  # (line, content path)


class Body:
    """Checks one document's body; problems go to the checker's document."""

    def __init__(self, ck: Checker, markdown_factory=None):
        self.ck = ck
        self.doc = ck.doc
        self.markdown_factory = markdown_factory
        self.report = BodyReport()
        self.masked = mask_code(self.doc.body)
        starts = [0]
        starts.extend(m.end() for m in re.finditer("\n", self.masked))
        self._starts = starts

    def line_at(self, offset: int) -> int:
        return self.doc.body_line + bisect.bisect_right(self._starts, offset) - 1

    def problem(self, line: int, code: str, message: str) -> None:
        self.doc.problem(line, code, message)

    def check(self) -> BodyReport:
        body = self.doc.body
        if not COMMENT_RE.sub("", body).strip():
            self.problem(
                self.doc.body_line - 1,
                "E401",
                "после строки --- нет текста — напишите текст под свойствами "
                "(пустая страница на сайте не нужна)",
            )
            return self.report
        self._placeholders()
        self._headings()
        self._glued_lists()
        targets = self._markdown_targets()
        found = []
        if "<" in self.masked:
            findings, html_targets = scan_html(self.masked)
            for f in findings:
                f.line = self.doc.body_line + f.line - 1
            found.extend(findings)
            for t in html_targets:
                t.line = self.doc.body_line + t.line - 1
            targets.extend(html_targets)
        for t in targets:
            if dangerous_url(t.url, t.image):
                found.append(_script_url_finding(t.url, t.line))
        found.extend(self._attribute_lists())
        if not any(f.code in ("E402", "E403", "E404") for f in found):
            found.extend(self._rendered_findings())
        seen = set()
        for f in found:
            key = (f.code, f.line, f.message)
            if key not in seen:
                seen.add(key)
                self.problem(f.line, f.code, f.message)
        for t in targets:
            if not dangerous_url(t.url, t.image):
                self._target(t)
        return self.report

    def _placeholders(self) -> None:
        for match in PLACEHOLDER_LINE_RE.finditer(self.masked):
            shown = " ".join(match.group().split())[:60]
            self.problem(
                self.line_at(match.start()),
                "E216",
                f"в тексте осталась заготовка «{shown}» — напишите вместо неё "
                "свой текст (без [[ ]] и слова ВПИШИТЕ)",
            )
            return  # one is enough: the editor will see the rest

    def _headings(self) -> None:
        lines = self.masked.split("\n")
        for i, line in enumerate(lines):
            setext = SETEXT_H1_RE.match(line) and i > 0 and lines[i - 1].strip() != ""
            if ATX_H1_RE.match(line) or setext:
                self.problem(
                    self.doc.body_line + i,
                    "E405",
                    "в тексте заголовок первого уровня — заголовок страницы "
                    "берётся из title; для подзаголовков пишите ## в начале "
                    "строки, а повтор заголовка уберите",
                )
                return

    def _glued_lists(self) -> None:
        """A list typed right under a paragraph line merges into the paragraph."""
        in_list, previous = False, ""
        for i, line in enumerate(self.masked.split("\n")):
            if not line.strip():
                previous = ""
                continue
            if LIST_ITEM_RE.match(line):
                if previous and not in_list and not ATX_RE.match(previous):
                    self.problem(
                        self.doc.body_line + i,
                        "E406",
                        "список начинается сразу под строкой текста, и на сайте "
                        "он слипнется с ней в один абзац — оставьте пустую строку "
                        "перед первым пунктом списка",
                    )
                    return
                in_list = True
            elif not previous and not line[:1].isspace():
                in_list = False
            previous = line

    def _markdown_targets(self) -> list[Target]:
        targets = []
        for match in LINK_RE.finditer(self.masked):
            url = match.group("url").strip("<>")
            image = match.group().startswith("!")
            targets.append(
                Target(self.line_at(match.start()), url, image, match.group("text"))
            )
        for match in REF_DEF_RE.finditer(self.masked) if "]:" in self.masked else ():
            targets.append(
                Target(self.line_at(match.start()), match.group("url").strip("<>"))
            )
        return targets

    def _attribute_lists(self) -> list[Finding]:
        """Markdown "extra" attribute lists: {: onclick="…" } sets attributes."""
        found = []
        for match in ATTR_LIST_RE.finditer(self.masked):
            line = self.line_at(match.start())
            for key, raw in ATTR_PAIR_RE.findall(match.group()):
                name, value = key.lower(), raw.strip("\"'")
                if name.startswith("on"):
                    found.append(
                        Finding(
                            "E403",
                            f"в фигурных скобках {{: …}} задан атрибут {name} — "
                            "это программа, а программы на сайте запрещены: "
                            f"уберите {name}=…",
                            name,
                            line,
                        )
                    )
                elif dangerous_url(value):
                    found.append(_script_url_finding(value, line))
        return found

    def _rendered_findings(self) -> list[Finding]:
        """Render suspicious bodies and scan the HTML exactly."""
        squeezed = squeeze(self.masked).lower()
        if not SUSPICIOUS_RE.search(squeezed) or self.markdown_factory is None:
            return []
        rendered = self.markdown_factory().reset().convert(self.doc.body)
        findings, _ = scan_html(rendered)
        for f in findings:
            f.line = self._source_line(f.needle)
        return findings

    def _source_line(self, needle: str) -> int:
        index = self.doc.body.lower().find(needle.lower()[:8]) if needle else -1
        return self.line_at(index) if index >= 0 else self.doc.body_line

    # --- Link targets ------------------------------------------------------

    def _target(self, t: Target) -> None:  # noqa: PLR0911, PLR0912  (a branch per kind of link)
        url = html.unescape(t.url.strip())
        if t.image and t.needs_alt and (t.alt is None or not t.alt.strip()):
            self.problem(
                t.line,
                "E212",
                "у картинки в тексте нет описания — впишите в квадратные "
                "скобки, что на ней изображено: ![что на фото](…) (его "
                "прочитают незрячим посетителям)",
            )
        if not url or url.startswith("#"):
            return
        if INTERNAL_PREFIX_RE.match(url):
            self._content_reference(t, url)
            return
        if OTHER_PELICAN_RE.match(url):
            return
        if re.match(r"^[a-zA-Z]:[\\/]|^file:|^\\\\", url):
            self.problem(
                t.line,
                "E304",
                f"«{url[:60]}» — это путь к файлу на вашем компьютере, на сайте он "
                "не откроется — положите файл в content/images/ и сошлитесь "
                "на него так: {static}/images/…",
            )
            return
        parts = urlsplit(url)
        if parts.scheme:
            if t.image:
                code, message = resolve_image(url, self.ck.ctx)
                self.problem(t.line, code, message)
            elif parts.scheme.lower() not in SAFE_SCHEMES:
                self.problem(
                    t.line,
                    "E304",
                    f"ссылка «{url[:60]}» с неизвестной схемой «{parts.scheme}:» — "
                    "пишите полный адрес, который начинается с https://",
                )
            return
        if url.startswith("//"):
            if t.image:
                code, message = resolve_image(url, self.ck.ctx)
                self.problem(t.line, code, message)
            return
        if url.startswith("/"):
            if t.image:
                found = resolve_image(url, self.ck.ctx)
                if isinstance(found, tuple):
                    self.problem(t.line, *found)
                return
            self.report.links.append((t.line, url))
            return
        self._relative(t, url)

    def _relative(self, t: Target, url: str) -> None:
        path = unquote(urlsplit(url).path)
        if re.match(r"^(www\.|[\w-]+\.(ru|рф|com|org|net)\b)", path, re.I):
            fix = f"добавьте в начало https://: https://{url[:60]}"
        elif path.endswith((".md", ".markdown")):
            fix = (
                "ссылку на другую новость или страницу пишите так: "
                "{filename}/news/2024/2024-05-17-adres.md"
            )
        elif t.image:
            fix = "картинку указывайте так: {static}/images/2024/foto.jpg"
        else:
            fix = (
                "пишите полный адрес страницы сайта, например /news/2024/adres/, "
                "или {filename}/… для файла из папки content"
            )
        self.problem(
            t.line,
            "E304",
            f"ссылка «{url[:60]}» относительная и на сайте не откроется — {fix}",
        )

    def _content_reference(self, t: Target, url: str) -> None:
        """{filename}/… and {static}/… links: the file must exist."""
        prefix = INTERNAL_PREFIX_RE.match(url).group()
        raw = url[len(prefix) :]
        path = unquote(raw.split("#")[0].split("?")[0])
        if path.startswith("/"):
            resolved = PurePosixPath(path.lstrip("/"))
        else:
            here = PurePosixPath(self.ck.rel_path).parent
            resolved = PurePosixPath(*normalise_parts((here / path).parts))
        rel = str(resolved)
        if t.image:
            found = resolve_image("/" + rel, self.ck.ctx)
            if isinstance(found, tuple):
                self.problem(t.line, *found)
                return
        if not self.ck.ctx.exists(rel):
            twin = self.ck.ctx.case_twin(rel)
            hint = (
                f"есть файл «{twin}»: большие и маленькие буквы должны совпадать"
                if twin
                else "проверьте путь: он пишется от папки content, например "
                "{filename}/news/2013/2013-09-20-forum-v-eltse.md"
            )
            self.problem(
                t.line,
                "E301",
                f"ссылка «{url[:80]}» ведёт на файл, которого нет — {hint}",
            )
            return
        top = rel.split("/", maxsplit=1)[0]
        ctx = self.ck.ctx
        published = (
            top in ctx.static_paths
            if "static" in prefix or "attach" in prefix
            else top in ctx.static_paths
            or (
                top in (*ctx.article_paths, *ctx.page_paths)
                and rel.endswith((".md", ".markdown", ".mkd", ".mdown"))
            )
        )
        if not published:
            self.problem(
                t.line,
                "E301",
                f"ссылка «{url[:80]}» ведёт на файл, который не публикуется на "
                "сайте — ссылайтесь на новости ({filename}/news/…), страницы "
                "({filename}/pages/…) и картинки ({static}/images/…)",
            )
            return
        self.report.files.append((t.line, rel))


def normalise_parts(parts) -> list[str]:
    """Path parts with "." dropped and ".." applied (never above the top)."""
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        elif part not in (".", ""):
            out.append(part)
    return out


__all__ = [
    "Body",
    "BodyReport",
    "dangerous_url",
    "mask_code",
    "normalise_parts",
    "scan_html",
    "text_findings",
]
