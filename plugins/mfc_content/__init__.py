"""Content that editors cannot break: schema, checks, drafts, scheduled news.

The package holds everything between an editor's Markdown file and Pelican:

- ``schema``: the declared schema of each content kind (news, page, contact
  block) and its validation; ``source``: reading a file (encodings, the
  ``---`` fences, YAML with line numbers); ``body``: checks of the text;
  ``site``: the whole-site check behind ``invoke check``; ``problems``: the
  catalogue of Russian error messages (one section each in EDITORS.md);
- ``build``: the staged build (check, Pelican into a staging folder, swap);
  ``reuse``: that folder is the output before last, rewritten in place;
- ``preview`` and ``quick``: ``invoke livereload``, which shows a saved item's
  page first (rendered alone in a fork) and then runs the staged build;
- ``newitem`` and ``legacy``: ``invoke new`` and ``invoke import-legacy``.

As a Pelican plugin it replaces the Markdown reader with one that reads and
validates files exactly as ``invoke check`` does (so the check and the build
can never disagree about a file), and it decides what is published:

- ``status: draft`` items and news dated in the future are left out of a
  production build (they become Pelican drafts, and publishconf.py gives
  drafts no output file);
- with ``SHOW_UNPUBLISHED = True`` (the preview) they are built in their
  final place and carry ``preview_status`` ("draft" or "scheduled") for the
  theme to mark them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import ClassVar

from pelican import signals
from pelican.plugins.yaml_metadata import YAMLMetadataReader
from pelican.utils import SafeDatetime

from . import notes, reuse
from .body import Body, html_findings
from .memo import forget_memos, memo_for, save_memos
from .prefetch import parallel_reading, serial_reading
from .problems import ContentError, Problem
from .schema import Checker, validate
from .site import SiteCheck, current_time, display_path
from .source import Document, parse
from .speed import (
    cache_slugs,
    fast_dates,
    freeze_urls,
    group_period_archives,
    index_item_lists,
    keep_neighbours_beside,
    parallel_articles,
    serial_articles,
    thaw_urls,
)

log = logging.getLogger(__name__)

# Pelican readers for these extensions are replaced by ours.
MARKDOWN_EXTENSIONS = ("md", "markdown", "mkd", "mdown")

_checks: dict[tuple, SiteCheck] = {}


def site_check_for(settings: dict) -> SiteCheck:
    """One SiteCheck per build: the content folder is listed once, and each
    file's check is taken from the last whole-site check where still right
    (checkcache.py; the build's own check, run alongside, keeps it)."""
    key = (settings["PATH"], id(settings))
    if key not in _checks:
        _checks[key] = SiteCheck(
            Path(settings["PATH"]), settings, cached=True, reuse_only=True
        )
    return _checks[key]


def read_contact(settings: dict) -> dict:
    """The contact block's values, validated; ContentError if it is wrong."""
    check = site_check_for(settings)
    rel = settings["CONTACT_BLOCK"]
    path = Path(settings["PATH"]) / rel
    if rel not in check.ctx.files:
        raise ContentError(
            [
                Problem(
                    display_path(path),
                    1,
                    "E115",
                    "файла с контактами нет, а он нужен на каждой странице — "
                    "восстановите его из истории (git checkout -- "
                    f"content/{rel})",
                )
            ]
        )
    doc = parse(Document(display_path(path)), path.read_bytes())
    values = (
        validate(Checker(doc, check.ctx, "contact", rel_path=rel)) if doc.ok else {}
    )
    if doc.problems:
        raise ContentError(doc.problems)
    return values


class ContentReader(YAMLMetadataReader):
    """Markdown with YAML front matter, read and validated like `invoke check`."""

    file_extensions: ClassVar[list[str]] = list(MARKDOWN_EXTENSIONS)

    def read(self, source_path):
        check = site_check_for(self.settings)
        rel = Path(os.path.relpath(source_path, check.content)).as_posix()
        item = check._file(rel)
        if item is None:  # unreadable: the check reported why
            problems = [
                p for p in check.report.problems if p.path == check.display(rel)
            ]
            problems = problems or [
                Problem(check.display(rel), 1, "E199", "файл не прочитан — см. выше")
            ]
        else:
            problems = list(item.doc.problems)
        content = summary_html = ""
        if not problems:
            # The exact HTML is scanned too: the check scans the Markdown.
            # A pure function of the text: cached between builds (memo.py).
            memo = memo_for(self.settings)
            content, findings = memo.get("body", item.doc.body, self._html)
            summary = item.values.get("summary")
            if summary:
                summary_html, found = memo.get("summary", summary, self._html)
                findings = findings + found
            problems = [
                Problem(item.doc.path, item.doc.body_line, f.code, f.message)
                for f in findings
            ]
        if problems:
            # One message: with fatal warnings Pelican stops at the first one.
            log.error("mfc_content: %s", "\n".join(str(p) for p in sorted(problems)))
            raise ContentError(problems)
        return content, self._metadata(item, summary_html)

    def _html(self, text: str) -> tuple[str, list]:
        """Markdown → HTML, and what the scan of that HTML finds in it."""
        html = self._md.reset().convert(text)
        return html, html_findings(html)

    def _metadata(self, item, summary_html: str) -> dict:
        return self.pelican_metadata(self._values(item), summary_html, item.doc.path)

    def _values(self, item) -> dict:
        """The item's values, with the status this build gives it."""
        values = dict(item.values)
        status = item.status
        if self.settings.get("SHOW_UNPUBLISHED"):
            if status in ("draft", "scheduled"):
                values["preview_status"] = status
            values["status"] = (
                "published" if status in ("draft", "scheduled") else status
            )
        else:
            values["status"] = "draft" if status == "scheduled" else status
        return values

    def pelican_metadata(self, values: dict, summary_html: str, path: str) -> dict:
        """What pelican-yaml-metadata makes of `values`, made cheaper.

        It would render the summary with Markdown again (with this same
        converter: `summary_html` is that HTML, from the memo) and parse each
        date back from its ISO text with dateutil: together half of reading
        a file whose HTML is in the memo. Those values are made here as it
        makes them; the rest goes through it. The slug, when not given, comes
        from the file name (FILENAME_METADATA).
        """
        known = {}
        if isinstance(values.get("summary"), str) and summary_html:
            known["summary"] = summary_html
        for key in ("date", "modified"):
            value = values.get(key)
            if type(value) is dt.datetime and value.tzinfo is None:
                known[key] = SafeDatetime(*value.timetuple()[:6], value.microsecond)
        rest = {k: v for k, v in values.items() if k not in known}
        parsed = self._parse_yaml_metadata(rest, path)
        ordered = {
            k: known[k] if k in known else parsed.pop(k)
            for k in values
            if k in known or k in parsed
        }
        return {**ordered, **parsed}


def add_reader(readers) -> None:
    for extension in MARKDOWN_EXTENSIONS:
        readers.reader_classes[extension] = ContentReader


def drop_unpublished(generator) -> None:
    """Unpublished content is never written: no page, feed or sitemap entry.

    In a production build drafts and scheduled news are Pelican drafts.
    Dropping them here (in place, so the template context loses them too) is
    stronger than an empty DRAFT_SAVE_AS, and avoids Pelican's draft writer,
    which needs a category this site does not have.
    """
    for name in ("drafts", "drafts_translations", "draft_pages", "draft_translations"):
        items = getattr(generator, name, None)
        if isinstance(items, list):
            items.clear()


def release_checks(generators=None) -> None:
    """Every file is read: the readers' kept check results are not needed."""
    for check in _checks.values():
        if check.cache is not None:
            check.cache.release()


def forget_checks(pelican) -> None:
    """A new build (e.g. in a long-lived process) lists the content again."""
    _checks.clear()


def register() -> None:
    # initialized: each Pelican run starts from a fresh listing of content/.
    signals.initialized.connect(forget_checks)
    signals.initialized.connect(forget_memos)
    signals.initialized.connect(thaw_urls)
    signals.initialized.connect(keep_neighbours_beside)
    signals.initialized.connect(parallel_articles)
    signals.initialized.connect(parallel_reading)
    signals.initialized.connect(cache_slugs)
    signals.initialized.connect(fast_dates)
    signals.initialized.connect(group_period_archives)
    signals.initialized.connect(reuse.keep_reused_tree)
    # all_generators_finalized: every item's metadata is final, nothing is
    # written yet; from here to the end of the build URLs are kept (speed.py).
    signals.all_generators_finalized.connect(freeze_urls)
    signals.all_generators_finalized.connect(index_item_lists)
    signals.all_generators_finalized.connect(release_checks)
    # readers_init: our reader must replace the Markdown readers before any
    # generator reads a file (pelican-yaml-metadata registers on the same
    # signal; PLUGINS lists this plugin after it, so ours wins).
    signals.readers_init.connect(add_reader)
    # *_generator_finalized: everything is read and sorted, nothing written.
    signals.article_generator_finalized.connect(drop_unpublished)
    signals.page_generator_finalized.connect(drop_unpublished)
    # finalized: first of all, a reused staging folder loses the files this
    # build did not write (reuse.py), before any plugin reads the whole tree;
    # then the notes for the next build start (notes.py); the rest comes
    # last (finish_last).
    signals.finalized.connect(reuse.prune)
    signals.finalized.connect(notes.write_meanwhile)
    notes.register()
    signals.initialized.connect(finish_last)


def finish_last(pelican=None) -> None:
    """On initialized, when every plugin has connected its own receivers:
    what this plugin does on ``finalized`` after the prune runs after all of
    theirs. So the compression and the search index (mfc_precompress,
    mfc_search) start as soon as the output is pruned (and the notes for
    the next build with them, in a forked process: notes.write_meanwhile).

    The build succeeded: keep what it computed for the next one (the notes
    for the fast path, when the staged build asks: ``notes.collect``; the
    memo). The notes are made while items' URLs are still kept (speed.py).
    Connecting again is a no-op (blinker).
    """
    for receiver in (
        notes.collect,
        save_memos,
        thaw_urls,
        serial_articles,
        serial_reading,
    ):
        signals.finalized.connect(receiver)


__all__ = [
    "Body",
    "ContentError",
    "ContentReader",
    "Problem",
    "current_time",
    "read_contact",
    "register",
    "site_check_for",
]
