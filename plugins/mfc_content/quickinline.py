"""Python-Markdown's inline patterns, skipped where they cannot match.

Python-Markdown finds links, emphasis, code and the like in every run of
text by trying each inline pattern in turn (15 with this site's
extensions), each try a few Python calls even when the pattern's regular
expression finds nothing. Most runs of a news item's text are plain
sentences that none of them can match, and those tries are about a third
of converting a news item (0.51 ms a news item of the benchmark's corpus,
0.35 ms without them: 1.6 CPU seconds of a cold build at 10,000 items).

This extension replaces the ``inline`` tree processor with one that skips a
pattern when the text holds none of the characters every match of it
contains: ``[`` for a link, ``<`` for HTML, ``&`` for an entity, ``*`` or
``_`` for emphasis, and so on. A pattern that finds no match leaves the
text as it was and passes on to the next pattern, which is exactly what
the skip does; so the HTML is the same, byte for byte, for any text.

The characters are written down for each pattern's exact class and regular
expression (those of Python-Markdown 3.11, pinned in pyproject.toml); a
pattern not in the table, from another extension or another version, is
always tried, as Python-Markdown does. If the processor's private methods
are not there (another version), the stock processor is left in place.

Listed in the ``MARKDOWN`` setting (pelicanconf.py), so the build, ``invoke
check``, the preview and the Markdown memo's key all see it.
"""

from __future__ import annotations

from markdown import util
from markdown.extensions import Extension
from markdown.extensions.footnotes import FootnoteInlineProcessor
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

# (class, regular expression) -> text of which a match holds at least one.
LINK = r"(?<!\!)\["
IMAGE = r"\!\["
NEEDS = {
    (BacktickInlineProcessor, r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)"): ("`",),
    (EscapeInlineProcessor, r"\\(.)"): ("\\",),
    (FootnoteInlineProcessor, r"\[\^([^\]]*)\]"): ("[^",),
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
PRIVATE = ("_InlineProcessor__handleInline", "_InlineProcessor__applyPattern")


def needs_of(pattern) -> tuple[str, ...] | None:
    """What a match of ``pattern`` always holds; None if not known."""
    return NEEDS.get((type(pattern), getattr(pattern, "pattern", None)))


class QuickInlineProcessor(InlineProcessor):
    """Python-Markdown's InlineProcessor, skipping patterns that cannot match."""

    def run(self, tree, ancestors=None):
        self._needs = [needs_of(pattern) for pattern in self.inlinePatterns]
        return super().run(tree, ancestors)

    # Python-Markdown's own loop (a private method: its mangled name), with
    # the skip added: a pattern that cannot match is passed over exactly as
    # one that found nothing (the next pattern, from the start of the text).
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if not isinstance(data, util.AtomicString):
            patterns, needs = self.inlinePatterns, self._needs
            apply = self._InlineProcessor__applyPattern
            startIndex = 0
            count = len(patterns)
            while patternIndex < count:
                need = needs[patternIndex]
                if need is not None:
                    for text in need:
                        if text in data:
                            break
                    else:
                        patternIndex += 1
                        startIndex = 0
                        continue
                data, matched, startIndex = apply(
                    patterns[patternIndex], data, patternIndex, startIndex
                )
                if not matched:
                    patternIndex += 1
        return data


class QuickInlineExtension(Extension):
    def extendMarkdown(self, md) -> None:
        if all(hasattr(InlineProcessor, name) for name in PRIVATE):
            md.treeprocessors.register(QuickInlineProcessor(md), "inline", 20)


def makeExtension(**kwargs):  # Python-Markdown's name for it
    return QuickInlineExtension(**kwargs)
