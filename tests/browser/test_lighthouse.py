"""Lighthouse (mobile, simulated throttling) on four page kinds.

Lighthouse exits 0 whatever the scores, so the JSON is read and the
thresholds asserted here. The JSON of each run and a summary table go to
reports/lighthouse/ and reports/lighthouse.md.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, REPORTS
from tests.conftest import RICH_ITEM_URL, ROOT

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
PAGES = {
    "home": "/",
    "news-list": "/news/",
    "news-item": "/news/2013/forum-v-eltse/",
    "news-item-gallery": RICH_ITEM_URL,  # lead photo, 2 in the text, gallery of 5
    "kak-dobratsya": "/kak-dobratsya/",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
GALLERY_PAGE_BYTES = 300 * 1024  # issue 8: a news item with 5 photos, on a phone
THRESHOLDS = {
    "performance": 95,
    "accessibility": 100,
    "best-practices": 100,
    "seo": 100,
}
METRICS = (
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
    "speed-index",
)


def run_lighthouse(url: str, output, user_data_dir) -> dict:
    """One Lighthouse run, its chromium kept inside ``user_data_dir``.

    Lighthouse stops chromium with a kill, so chromium leaves its singleton
    socket folder behind in TMPDIR: TMPDIR is pointed into the profile, which
    pytest's tmp_path_factory removes, instead of /tmp.
    """
    temp = user_data_dir / "tmp"
    temp.mkdir(exist_ok=True)
    flags = [f for f in CHROMIUM_FLAGS if f != "--headless"]
    flags += ["--headless=new", f"--user-data-dir={user_data_dir}"]
    result = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--form-factor=mobile",
            "--throttling-method=simulate",
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            f"--output-path={output}",
            f"--chrome-flags={' '.join(flags)}",
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(output.read_text(encoding="utf-8"))


def failing_audits(report: dict) -> list[str]:
    """Scored audits below 1, to say why a category missed its threshold."""
    lines = []
    for category in report["categories"].values():
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                lines.append(
                    f"{category['id']}: {audit['id']} = {audit['score']} "
                    f"{audit.get('displayValue', '')}".rstrip()
                )
    return lines


def write_summary(reports: dict[str, dict]) -> str:
    header = ["page", "URL", *CATEGORIES, "FCP", "LCP", "TBT", "CLS", "SI"]
    rows = [
        "# Lighthouse (mobile, simulated throttling)",
        "",
        f"Lighthouse {next(iter(reports.values()))['lighthouseVersion']}, "
        f"thresholds: {', '.join(f'{k} ≥ {v}' for k, v in THRESHOLDS.items())}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for name, report in reports.items():
        scores = [round(report["categories"][c]["score"] * 100) for c in CATEGORIES]
        metrics = [report["audits"][m]["displayValue"] for m in METRICS]
        rows.append(
            "| " + " | ".join([name, PAGES[name], *map(str, scores), *metrics]) + " |"
        )
    for name, report in reports.items():
        failing = failing_audits(report)
        if failing:
            rows += ["", f"## {name}: audits below 1", ""]
            rows += [f"- {line}" for line in failing]
    text = "\n".join(rows) + "\n"
    (REPORTS / "lighthouse.md").write_text(text, encoding="utf-8")
    return text


@pytest.fixture(scope="module")
def lighthouse_reports(base_url, tmp_path_factory) -> dict[str, dict]:
    """Lighthouse on each page, one after another (they share 2 cores)."""
    assert LIGHTHOUSE.is_file(), f"{LIGHTHOUSE} is missing: run `npm ci` (.ci/run)"
    folder = REPORTS / "lighthouse"
    folder.mkdir(parents=True, exist_ok=True)
    reports = {}
    for name, path in PAGES.items():
        profile = tmp_path_factory.mktemp(f"chromium-{name}")
        reports[name] = run_lighthouse(
            base_url + path, folder / f"{name}.json", profile
        )
    write_summary(reports)
    return reports


@pytest.mark.parametrize("name", list(PAGES))
def test_lighthouse_scores(lighthouse_reports, name, capsys):
    report = lighthouse_reports[name]
    assert report["finalDisplayedUrl"].endswith(PAGES[name])
    assert not report.get("runtimeError"), report.get("runtimeError")
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    with capsys.disabled():
        print(f"\nLighthouse {name} ({PAGES[name]}): {scores}")
    low = {c: s for c, s in scores.items() if s < THRESHOLDS[c]}
    assert low == {}, "\n".join(failing_audits(report))


def test_lighthouse_news_item_with_a_gallery_transfers_under_300_kb(
    lighthouse_reports, capsys
):
    """Lighthouse's own measure (mobile: 412 px at 1.75×, the first screen)."""
    audit = lighthouse_reports["news-item-gallery"]["audits"]["total-byte-weight"]
    with capsys.disabled():
        print(
            f"\nLighthouse news-item-gallery total-byte-weight: {audit['numericValue']}"
        )
    assert 0 < audit["numericValue"] < GALLERY_PAGE_BYTES
