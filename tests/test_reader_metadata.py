"""The site's reader gives Pelican exactly the metadata pelican-yaml-metadata
would, though it makes the summary's HTML and the dates itself.

`ContentReader.pelican_metadata` skips the plugin's second Markdown rendering
of the summary (the memo has it) and its dateutil round trip of each date.
For every item of a generated corpus (dates with and without a time, with
`modified`, tags, photos, summaries with markup) and the real content, in
the preview and in production, its result is compared with the plugin's
own: the same keys in the same order, equal values of the same types.
"""

from __future__ import annotations

import sys

import pytest

from mfc_content import ContentReader
from mfc_content.build import load_settings
from mfc_content.site import SiteCheck
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from generate import generate


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    content = tmp_path_factory.mktemp("reader") / "content"
    generate(120, content)
    # A summary with markup and an item with a modification date.
    path = min(content.glob("news/*/*.md"))  # the oldest item
    text = path.read_text(encoding="utf-8")
    date_line = next(line for line in text.splitlines() if line.startswith("date:"))
    text = text.replace(
        date_line, date_line + "\nmodified: 2026-10-01 08:15", 1
    ).replace('summary: "', 'summary: "«*Важно*» — ', 1)
    path.write_text(text, encoding="utf-8")
    return content


@pytest.mark.parametrize("settings_file", ["pelicanconf.py", "publishconf.py"])
@pytest.mark.parametrize("where", ["corpus", "real"])
def test_metadata_are_the_plugins_own(corpus, settings_file, where):
    content = corpus if where == "corpus" else ROOT / "content"
    settings = load_settings(ROOT / settings_file, content)
    report = SiteCheck(content, settings).run()
    assert report.ok, report.problems[:3]
    reader = ContentReader(settings)
    compared = 0
    for item in report.items:
        values = reader._values(item)
        summary = values.get("summary")
        html = reader._html(summary)[0] if summary else ""
        ours = reader.pelican_metadata(values, html, item.doc.path)
        plugins = reader._parse_yaml_metadata(values, item.doc.path)
        assert list(ours) == list(plugins), item.rel
        for key, value in plugins.items():
            assert ours[key] == value, (item.rel, key)
            assert type(ours[key]) is type(value), (item.rel, key)
        compared += 1
    assert compared == len(report.items) > (100 if where == "corpus" else 1)
    if where == "corpus":
        modified = [i for i in report.items if "modified" in i.values]
        assert modified
