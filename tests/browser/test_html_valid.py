"""The whole output validates with the current Nu HTML checker (vnu-jar, npm)."""

from __future__ import annotations

import shutil
import subprocess

from tests.conftest import ROOT

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def vnu(*paths) -> subprocess.CompletedProcess:
    java = shutil.which("java")
    assert java, "java is missing: apt-get install default-jre-headless (.ci/run)"
    assert VNU.is_file(), f"{VNU} is missing: run `npm ci` (.ci/run does)"
    return subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--skip-non-html", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_whole_output_is_valid_html(site, published_site):
    """Both the fixture site and the production build: 0 errors."""
    result = vnu(site.output, published_site.output)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""


def test_the_checker_does_report_errors(tmp_path):
    """The check above can fail: an invalid page is reported with its name."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="ru"><head><title>x</title></head>'
        "<body><p><div>блок в абзаце</p></div></body></html>",
        encoding="utf-8",
    )
    result = vnu(tmp_path)
    assert result.returncode != 0
    assert "bad.html" in result.stdout + result.stderr
