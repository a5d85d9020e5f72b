"""Python-Markdown's own HTML, sooner: steps that cannot apply are skipped.

Python-Markdown tries every block processor on each block of a text (17
with this site's extensions: headings, lists, tables, quotes ...), then
every inline pattern on each run of its text (15: links, emphasis, code,
HTML ...), in turn, until one applies. Each try is a few Python calls even
when its regular expression finds nothing, and most blocks of a news item
are plain paragraphs of plain sentences that almost none of them can
apply to. Those tries were about half of converting a news item: 0.53 ms a
news item of the benchmark's corpus, 0.27 ms with them skipped, ~2.5 CPU
seconds of a cold build at 10,000 items.

This extension skips a processor or pattern when the text holds none of
the strings every application of it needs: ``#`` for a heading, ``|`` for
a table, ``>`` for a quote, ``[`` for a link, ``<`` for HTML, ``&`` for an
entity, ``*`` or ``_`` for emphasis, and so on. One that cannot apply
leaves the text and the converter's state as they were and passes on to
the next one: exactly what the skip does. So the HTML is the same, byte
for byte, for any text (tests/test_quickmarkdown.py compares them).

The strings are written down for each step's exact class (and regular
expression, where it has one) in Python-Markdown 3.11.3 (``VERIFIED``, the
version pinned in pyproject.toml), after reading each one's code; a step
not in the tables (from another extension) is always tried, and with
another version of Python-Markdown nothing is skipped.

Listed in the ``MARKDOWN`` setting (pelicanconf.py), so the build, ``invoke
check``, the preview and the Markdown memo's key all see it.
"""

from __future__ import annotations

import markdown
from markdown import blockprocessors, util
from markdown.blockparser import BlockParser
from markdown.extensions import Extension, abbr, def_list, footnotes, md_in_html, tables
from markdown.inlinepatterns import (
    AutolinkInlineProcessor,
    AutomailInlineProcessor,
    BacktickInlineProcessor,
    DelimiterProcessor,
    EscapeInlineProcessor,
    HtmlInlineProcessor,
    ImageInlineProcessor,
    ImageReferenceInlineProcessor,
    LinkInlineProcessor,
    ReferenceInlineProcessor,
    ShortImageReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
    SubstituteTagInlineProcessor,
)
from markdown.treeprocessors import InlineProcessor

VERIFIED = "3.11.3"  # the Python-Markdown whose code the tables were read from

# Inline patterns: (class, regular expression) -> a match holds one of these.
LINK = r"(?<!\!)\["
IMAGE = r"\!\["
INLINE_NEEDS = {
    (BacktickInlineProcessor, r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)"): ("`",),
    (EscapeInlineProcessor, r"\\(.)"): ("\\",),
    (footnotes.FootnoteInlineProcessor, r"\[\^([^\]]*)\]"): ("[^",),
    (ReferenceInlineProcessor, LINK): ("[",),
    (LinkInlineProcessor, LINK): ("[",),
    (ShortReferenceInlineProcessor, LINK): ("[",),
    (ImageInlineProcessor, IMAGE): ("![",),
    (ImageReferenceInlineProcessor, IMAGE): ("![",),
    (ShortImageReferenceInlineProcessor, IMAGE): ("![",),
    (AutolinkInlineProcessor, r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>"): ("<",),
    (AutomailInlineProcessor, r"<([^<> !]+@[^@<> ]+)>"): ("<",),
    (SubstituteTagInlineProcessor, r"  \n"): ("  \n",),
    (
        HtmlInlineProcessor,
        r"""(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+"""
        r"""(?:"[^"]*+"|'[^']*+'|[^\s"'=<>]++))?+)*+\s*+/?|!--(?:(?!<!--|-->).)"""
        r"""*--|[?](?:(?!<[?]|[?]>).)*[?]|!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)""",
    ): ("<",),
    (HtmlInlineProcessor, r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)"): ("&",),
    (DelimiterProcessor, r"\*|_"): ("*", "_"),
}

# Block processors: (class, regular expression of its test or run, None for
# one tested by code) -> a block it applies to holds one of these. Those
# whose test always says yes (footnotes, abbreviations, link references,
# Markdown in HTML) search in ``run`` and, finding nothing, put the block
# back and return False, having changed nothing: the same as a skip. The
# table's test keeps what it saw only for its run.
BLOCK_NEEDS = {
    (
        blockprocessors.HashHeaderProcessor,
        r"(?:^|\n)(?P<level>#{1,6})(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)",
    ): ("#",),
    (blockprocessors.SetextHeaderProcessor, r"^.*?\n(?:=+|-+)[ ]*(\n|$)"): (
        "\n=",
        "\n-",
    ),
    (
        blockprocessors.HRProcessor,
        r"^[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|"
        r"(\*+[ ]{0,2}){3,}))(?P=atomicgroup)[ ]*$",
    ): ("-", "_", "*"),
    (def_list.DefListProcessor, r"(^|\n)[ ]{0,3}:[ ]{1,3}(.*?)(\n|$)"): (":",),
    (blockprocessors.BlockQuoteProcessor, r"(^|\n)[ ]{0,3}>[ ]?(.*)"): (">",),
    (tables.TableProcessor, None): ("|",),
    (footnotes.FootnoteBlockProcessor, r"^[ ]{0,3}\[\^([^\]]*)\]:[ ]*(.*)$"): ("[^",),
    (
        abbr.AbbrBlockprocessor,
        r"^[*]\[(?P<abbr>[^\\]*?)\][ ]?:[ ]*\n?[ ]*(?P<title>.*)$",
    ): ("*[",),
    (
        blockprocessors.ReferenceProcessor,
        r"^[ ]{0,3}\[([^\[\]]*)\]:[ ]*(?:\n[ ]*)?([^\s]+)[ ]*(?:\n[ ]*)?"
        r'((["\'])(.*)\4[ ]*|\((.*)\)[ ]*)?$',
    ): ("]:",),
    (md_in_html.MarkdownInHtmlProcessor, None): (util.STX + "wzxhzdk:",),
}


def _regex(step) -> str | None:
    for name in ("SEARCH_RE", "RE"):  # HRProcessor's test uses SEARCH_RE
        found = getattr(step, name, None)
        if found is not None:
            return getattr(found, "pattern", found)
    return None


def inline_needs(pattern) -> tuple[str, ...] | None:
    """What a match of the inline ``pattern`` always holds; None if not known."""
    return INLINE_NEEDS.get((type(pattern), getattr(pattern, "pattern", None)))


def block_needs(processor) -> tuple[str, ...] | None:
    """What a block the ``processor`` applies to always holds; None if not known."""
    kind = type(processor)
    return BLOCK_NEEDS.get((kind, _regex(processor)), BLOCK_NEEDS.get((kind, None)))


class QuickBlockParser(BlockParser):
    """Python-Markdown's BlockParser, skipping processors that cannot apply."""

    _steps = None  # (processor, needs) while a document is parsed

    def parseDocument(self, lines):
        self._steps = [(p, block_needs(p)) for p in self.blockprocessors]
        try:
            return super().parseDocument(lines)
        finally:
            self._steps = None

    def parseBlocks(self, parent, blocks: list[str]) -> None:
        # Python-Markdown's own loop, with the skip added.
        steps = self._steps or [(p, block_needs(p)) for p in self.blockprocessors]
        while blocks:
            for processor, needs in steps:
                if needs is not None:
                    block = blocks[0]
                    for part in needs:
                        if part in block:
                            break
                    else:
                        continue  # cannot apply: the next processor
                if (
                    processor.test(parent, blocks[0])
                    and processor.run(parent, blocks) is not False
                ):
                    break


class QuickInlineProcessor(InlineProcessor):
    """Python-Markdown's InlineProcessor, skipping patterns that cannot match."""

    def run(self, tree, ancestors=None):
        self._patterns = list(self.inlinePatterns)
        self._needs = [inline_needs(pattern) for pattern in self._patterns]
        return super().run(tree, ancestors)

    # Python-Markdown's own loop (a private method: its mangled name), with
    # the skip added: a pattern that cannot match is passed over exactly as
    # one that found nothing (the next pattern, from the start of the text).
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if not isinstance(data, util.AtomicString):
            patterns, all_needs = self._patterns, self._needs
            apply = self._InlineProcessor__applyPattern
            startIndex = 0
            count = len(patterns)
            while patternIndex < count:
                needs = all_needs[patternIndex]
                if needs is not None:
                    for part in needs:
                        if part in data:
                            break
                    else:  # cannot match: the next pattern
                        patternIndex += 1
                        startIndex = 0
                        continue
                data, matched, startIndex = apply(
                    patterns[patternIndex], data, patternIndex, startIndex
                )
                if not matched:
                    patternIndex += 1
        return data


class QuickMarkdownExtension(Extension):
    def extendMarkdown(self, md) -> None:
        if markdown.__version__ != VERIFIED:
            return
        # The processors keep the parser they were made with: its class is
        # changed, not the object, so their nested parsing skips too.
        if type(md.parser) is BlockParser:
            md.parser.__class__ = QuickBlockParser
        md.treeprocessors.register(QuickInlineProcessor(md), "inline", 20)


def makeExtension(**kwargs):  # Python-Markdown's name for it
    return QuickMarkdownExtension(**kwargs)
