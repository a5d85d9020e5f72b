"""Editors can't break the site: the corpus of broken and harmless files.

tests/broken/<case>/ holds what an editor got wrong: files laid over the
real content/ (``content/…``) and ``case.toml`` with what happened and every
problem the check must report (``path:line: CODE``, path relative to
content/). tests/harmless/<case>/ holds mistakes that do no harm: they must
build, and come out right.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mfc_content.build import load_settings
from mfc_content.problems import CODES
from mfc_content.site import check_site
from tests.conftest import ROOT, build_site, text_of, tree_hash

BROKEN = ROOT / "tests" / "broken"
HARMLESS = ROOT / "tests" / "harmless"
BROKEN_CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())
HARMLESS_CASES = sorted(p.name for p in HARMLESS.iterdir() if p.is_dir())
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def case_meta(base: Path, name: str) -> dict:
    return tomllib.loads((base / name / "case.toml").read_text(encoding="utf-8"))


def lay_over(content: Path, base: Path, name: str) -> dict:
    """Apply a case to a content folder: delete what it deletes, add its files."""
    meta = case_meta(base, name)
    for rel in meta.get("delete", []):
        (content / rel).unlink()
    if (base / name / "content").is_dir():
        shutil.copytree(
            base / name / "content", content, dirs_exist_ok=True, symlinks=True
        )
    return meta


def expected(meta: dict) -> set[tuple[str, int, str]]:
    result = set()
    for entry in meta["expect"]:
        where, code = entry.rsplit(": ", 1)
        path, line = where.rsplit(":", 1)
        result.add((path, int(line), code))
    return result


def case_paths(meta: dict) -> set[str]:
    return {path for path, _, _ in expected(meta)}


# --- The check itself, in-process: exact file, line and code ----------------------


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_check_reports_every_mistake_with_file_and_line(case, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    meta = lay_over(content, BROKEN, case)
    report = check_site(content, load_settings(ROOT / "pelicanconf.py", content))

    got = {
        (Path(os.path.relpath(p.path, content)).as_posix(), p.line, p.code)
        for p in report.problems
    }
    assert got == expected(meta), "\n".join(str(p) for p in report.problems)
    for problem in report.problems:
        line = str(problem)
        # path:line: что не так — как исправить [code]
        assert re.fullmatch(
            re.escape(f"{problem.path}:{problem.line}: ") + r".+ — .+ \[E\d{3}\]", line
        ), line
        assert "\n" not in line
        assert CYRILLIC.search(problem.message), line
        assert problem.code in CODES


# --- The real commands: invoke check / build / publish in a copy of the project ---


def run_case(project, case: str, *tasks: str) -> list[subprocess.CompletedProcess]:
    meta = lay_over(project.content, BROKEN, case)
    try:
        return [project.invoke(task) for task in tasks], meta
    finally:
        project.restore()


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_invoke_check_and_build_refuse_and_keep_output(case, project):
    good = tree_hash(project.output)
    (check, build), meta = run_case(project, case, "check", "build")

    for result in (check, build):
        log = result.stdout + result.stderr
        assert result.returncode != 0, log
        for path in case_paths(meta):
            assert f"content/{path}:" in log, f"{path} not named:\n{log}"
        assert "Traceback" not in log, log
    assert "Сайт не собран" in build.stderr
    assert tree_hash(project.output) == good, "a refused build changed output/"
    assert not list(project.root.glob("output.staging-*"))


@pytest.mark.parametrize("case", ["yaml-colon-in-title", "script-tag", "link-to-draft"])
def test_invoke_publish_refuses_too(case, project):
    good = tree_hash(project.output)
    (publish,), _ = run_case(project, case, "publish")
    assert publish.returncode != 0
    assert tree_hash(project.output) == good


def test_all_errors_of_all_files_come_out_in_one_run(project):
    """Several broken files at once: every problem of every file, one run."""
    cases = [
        "unknown-key-typo",  # two problems in one file
        "news-name-without-date",
        "contact-email-typo",
        "page-slug-news",
    ]
    wanted = set()
    for case in cases:
        meta = lay_over(project.content, BROKEN, case)
        wanted |= {f"content/{p}:{line}: " for p, line, _ in expected(meta)}
    try:
        result = project.invoke("check")
    finally:
        project.restore()
    assert result.returncode != 0
    for where in wanted:
        assert where in result.stderr, where
    printed = [
        line for line in result.stderr.splitlines() if line.startswith("content/")
    ]
    files = {line.split(":")[0] for line in printed}
    assert len(files) == 4
    assert f"Найдено {len(printed)} ошибок в {len(files)} файлах" in result.stderr


# Pelican run directly (not through invoke) still refuses: the site's reader
# validates every file it reads, and the contact block is validated too.
DIRECT_PELICAN_CASES = [
    "yaml-colon-in-title",
    "unknown-key-typo",
    "encoding-windows-1251",
    "date-31-february",
    "script-tag",
    "onclick-attribute-list",
    "placeholder-left-from-new",
    "contact-phone-letters",
]


@pytest.mark.parametrize("case", DIRECT_PELICAN_CASES)
def test_pelican_alone_refuses_broken_files(case, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    meta = lay_over(content, BROKEN, case)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pelican",
            str(content),
            "-o",
            str(tmp_path / "output"),
            "-s",
            "pelicanconf.py",
            "--fatal",
            "warnings",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    log = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, log
    for path, _, code in expected(meta):
        assert Path(path).name in log, log
        assert f"[{code}]" in log, log


# --- Harmless input builds, and comes out right -------------------------------------


@pytest.fixture(scope="module")
def harmless_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("harmless")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    metas = {case: lay_over(content, HARMLESS, case) for case in HARMLESS_CASES}
    report = check_site(content, load_settings(ROOT / "pelicanconf.py", content))
    assert report.ok, "\n".join(str(p) for p in report.problems)
    result = build_site(content, base / "output")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    from tests.conftest import Site  # noqa: PLC0415

    return Site(content=content, output=base / "output", log=log), metas


@pytest.mark.parametrize("case", HARMLESS_CASES)
def test_harmless_input_builds_correctly(case, harmless_site):
    site, metas = harmless_site
    meta = metas[case]
    soup = site.page(meta["url"])
    article = soup.select_one("main article")
    assert text_of(article.find("h1")) == meta["title"]
    if "tags" in meta:
        tags = [text_of(a) for a in article.select(".mfc-tag-list a")]
        assert tags == meta["tags"]
    if "list_items" in meta:
        assert len(article.select(".mfc-prose li")) == meta["list_items"]
    if "paragraphs" in meta:
        assert len(article.select(".mfc-prose > p")) == meta["paragraphs"]
    if "datetime" in meta:
        assert article.find("time")["datetime"] == meta["datetime"]
    for src in meta.get("images", []):
        assert article.find("img", src=src) is not None
        assert site.file(src).is_file()
    for href in meta.get("links", []):
        link = article.find("a", href=re.compile(re.escape(href.rstrip("/"))))
        assert link is not None, href
        assert site.file(link["href"].rstrip("/") + "/").is_file()


def test_code_shown_as_code_is_not_refused(harmless_site):
    site, _ = harmless_site
    prose = site.page("/news/2013/ssylki/").select_one(".mfc-prose")
    assert "<script>" in text_of(prose.find("code"))
    assert prose.find("script") is None
