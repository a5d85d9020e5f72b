"""EDITORS.md explains every error the check can give, and every property."""

from __future__ import annotations

import re
import tomllib

from mfc_content.problems import CODES
from mfc_content.schema import SCHEMAS
from tests.conftest import ROOT

GUIDE = (ROOT / "EDITORS.md").read_text(encoding="utf-8")
SECTION_RE = re.compile(r"^### (E\d{3})\. (.+)$", re.M)
# Codes no editor's file can produce; they have unit tests instead.
NOT_FROM_A_FILE = {"E199"}


def sections() -> dict[str, str]:
    found = {}
    matches = list(SECTION_RE.finditer(GUIDE))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(GUIDE)
        found[match.group(1)] = (match.group(2), GUIDE[match.end() : end])
    return found


def test_every_error_has_one_section_with_its_title():
    found = sections()
    assert sorted(found) == sorted(CODES)
    for code, (title, _) in found.items():
        assert title == CODES[code], code
    assert len(SECTION_RE.findall(GUIDE)) == len(CODES)


def test_every_section_says_what_it_means_and_how_to_fix_it():
    for code, (_, text) in sections().items():
        assert "**Что это значит.**" in text, code
        assert "**Как исправить.**" in text, code
        example = re.search(r"^`(.+)`$", text, re.M)
        assert example is not None, f"{code}: no example message"


def test_every_error_is_produced_by_a_file_in_the_broken_corpus():
    produced = set()
    for case in (ROOT / "tests" / "broken").glob("*/case.toml"):
        for entry in tomllib.loads(case.read_text(encoding="utf-8"))["expect"]:
            produced.add(entry.rsplit(" ", 1)[1])
    assert produced == set(CODES) - NOT_FROM_A_FILE


def test_every_property_of_every_kind_is_explained():
    for kind, schema in SCHEMAS.items():
        for field in schema:
            assert f"`{field.name}`" in GUIDE, (kind, field.name)
