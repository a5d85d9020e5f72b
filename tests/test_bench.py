"""bench/: the corpus generator and the runner's quick mode (what CI runs).

Speed itself is never asserted here (GUIDE: measured by the benchmark, not by
timed tests); these tests prove the benchmark measures the real thing.
"""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from generate import generate
from run import NO_COPIES, NO_SEARCH, check_features, plain_command

from mfc_content.build import run_check


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_corpus_is_deterministic_varied_and_valid(tmp_path, capsys):
    generate(120, tmp_path / "one")
    generate(120, tmp_path / "two")
    one = tree(tmp_path / "one")
    assert one == tree(tmp_path / "two")
    news = [text.decode() for name, text in one.items() if name.startswith("news/")]
    assert len(news) == 120
    assert any("\n- " in text for text in news)  # lists
    assert any("](https://" in text for text in news)  # links to other sites
    assert any("](/news/" in text for text in news)  # links to earlier items
    assert any("\nimage: images/bench/" in text for text in news)
    assert any("\ngallery:\n  - photo: images/bench/" in text for text in news)
    assert len({len(text) // 1000 for text in news}) > 3  # varied lengths
    # A vocabulary that grows with the text, as real news's does (the pooled
    # sentences alone: 234 distinct words in these 120 items, 2,300 now).
    words = {w for text in news for w in re.findall("[а-яё]+", text.lower())}
    assert len(words) > 1500
    assert run_check(ROOT / "pelicanconf.py", tmp_path / "one")
    assert "ошибок нет" in capsys.readouterr().out


def test_the_plain_flavour_has_the_same_items_in_pelican_metadata(tmp_path):
    generate(30, tmp_path / "ours")
    generate(30, tmp_path / "plain", "plain")
    ours = sorted((tmp_path / "ours" / "news").rglob("*.md"))
    plain = sorted((tmp_path / "plain" / "news").rglob("*.md"))
    assert [p.name for p in ours] == [p.name for p in plain]
    text = plain[0].read_text(encoding="utf-8")
    assert text.startswith("Title: ")
    assert "\nSlug: novost-00001\n" in text
    assert (
        ours[0].read_text(encoding="utf-8").split("---\n")[2].lstrip()
        == text.split("\n\n", 1)[1]
    )


def test_the_comparison_build_is_plain_pelican_with_its_typogrify_on(tmp_path):
    generate(20, tmp_path / "plain", "plain")
    pages = {}
    for typogrify in (False, True):
        out = tmp_path / f"out-{typogrify}"
        subprocess.run(
            plain_command(tmp_path / "plain", out, typogrify),
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
        pages[typogrify] = {
            str(p.relative_to(out)): p.read_text(encoding="utf-8")
            for p in out.rglob("*.html")
        }
    assert pages[True].keys() == pages[False].keys()  # the same site
    for name, page in pages[True].items():
        if name.startswith("news/"):  # typogrify's widont: no last word alone
            assert page.count("&nbsp;") > pages[False][name].count("&nbsp;"), name


def test_quick_run_reports_every_step_with_ratios(tmp_path):
    report = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--report", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    data = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert data["machine"]["cores"] >= 1
    assert data["machine"]["cpu"]
    (size,) = data["results"]
    assert size["n"] == 200
    assert size["html_pages"] > 200
    steps = size["steps"]
    assert list(steps) == [
        "plain",
        "plain_typogrify",
        "cold",
        "cold_no_search",
        "cold_no_copies",
        "cold_core",
        "warm",
        "edit",
        "edit_newest",
        "whole",
        "check",
        "check_cold",
        "search",
        "preview",
    ]
    assert steps["plain"]["ratio"] == 1.0
    assert steps["plain"]["cpu_ratio"] == 1.0
    for step in steps.values():
        assert step["seconds"] > 0
        assert step["peak_rss_mib"] > 10  # a real Python process was measured
    # CPU time counts every process of the step: Pelican's forked helpers,
    # Pagefind and the compression make ours use more of it than its wall time
    # on two cores; plain Pelican, one process, uses about its wall time.
    assert steps["preview"]["cpu_seconds"] is None
    assert 0.5 * steps["plain"]["seconds"] < steps["plain"]["cpu_seconds"]
    assert steps["plain"]["cpu_seconds"] < 1.2 * steps["plain"]["seconds"]
    assert steps["cold"]["cpu_seconds"] > steps["cold"]["seconds"]
    # The comparison builds without a feature (the runner checks each one's
    # output lacks it, and the full build's has both): less work than all on.
    assert steps["cold_core"]["cpu_seconds"] < steps["cold"]["cpu_seconds"]
    text = (report / "README.md").read_text(encoding="utf-8")
    assert text.count("| 200 |") == 14
    assert "| CPU time | × plain |" in text
    assert "| preview: edited page served |" in text
    assert "edited page visible in the preview" in text
    assert "cores" in text
    svg = ET.parse(report / "time.svg").getroot()
    assert len(svg.findall("{http://www.w3.org/2000/svg}polyline")) == 14


def test_the_runner_checks_what_each_comparison_build_turned_off(tmp_path):
    # What a full production build has: the search bundle and the copies.
    (tmp_path / "pagefind").mkdir()
    (tmp_path / "pagefind" / "pagefind.js").write_text("", encoding="utf-8")
    (tmp_path / "index.html").write_text("<p>", encoding="utf-8")
    (tmp_path / "index.html.br").write_bytes(b"")
    check_features(tmp_path, ())
    for off in [(NO_SEARCH,), (NO_COPIES,), (NO_SEARCH, NO_COPIES)]:
        with pytest.raises(RuntimeError, match="yet has what it turns off"):
            check_features(tmp_path, off)
    (tmp_path / "index.html.br").unlink()
    check_features(tmp_path, (NO_COPIES,))
    with pytest.raises(RuntimeError, match="lacks what"):
        check_features(tmp_path, ())
    (tmp_path / "pagefind" / "pagefind.js").unlink()
    check_features(tmp_path, (NO_SEARCH, NO_COPIES))
    with pytest.raises(RuntimeError, match="lacks what"):
        check_features(tmp_path, (NO_COPIES,))
