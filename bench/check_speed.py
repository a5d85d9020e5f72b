"""Benchmark: how long `invoke check` takes for N news items.

    .venv/bin/python bench/check_speed.py            # 1000 items
    .venv/bin/python bench/check_speed.py 100 1000 5000

For each N it copies the project to a temporary folder, adds N valid news
items (a few paragraphs, a summary, tags, links to other items, an image;
one in twenty with inline HTML, which the check renders to scan it exactly),
then times

- ``invoke check`` as an editor runs it (a new process: Python, invoke and
  Pelican's settings start up too), best and median of 5 runs, each with
  the kept results of earlier checks removed first (every file checked);
- the same with the kept results of the previous run (cache/check-*.pickle,
  plugins/mfc_content/checkcache.py): what an editor waits after changing
  a file or two, median of 5 runs;
- the check alone, in-process (``check_site``, nothing kept), median of 5 runs.

The target is under 2 s for 1,000 items. Results are printed and written to
bench/results/check.json (not committed).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))

from mfc_content.build import load_settings  # noqa: E402
from mfc_content.site import check_site  # noqa: E402

RUNS = 5
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a3d6ef0a0000000049454e44ae426082"
)
PARAGRAPH = (
    "Многофункциональный центр предоставления государственных и муниципальных "
    "услуг Астраханской области сообщает о новом порядке приёма документов. "
    "Заявители могут обратиться в любой офис МФЦ с паспортом и СНИЛС; срок "
    "оказания услуги — от 5 до 10 рабочих дней."
)


def item(n: int) -> tuple[str, str]:
    year = 2014 + n % 12
    month, day = 1 + n % 12, 1 + n % 28
    date = f"{year}-{month:02d}-{day:02d}"
    previous = n - 1
    link = (
        f"См. также [другую новость](/news/{2014 + previous % 12}/novost-{previous}/)"
        f" и [форум]({{filename}}/news/2013/2013-09-20-forum-v-eltse.md).\n\n"
        if previous >= 0
        else ""
    )
    html = "Важно: <strong>возьмите паспорт</strong>.\n\n" if n % 20 == 0 else ""
    text = (
        f"---\ntitle: Новость номер {n} о работе МФЦ\ndate: {date} 10:{n % 60:02d}\n"
        f"summary: Краткое описание новости номер {n}.\n"
        f"tags:\n  - услуги\n  - тема {n % 30}\n"
        f"image: images/bench/foto.png\nimage_alt: Зал приёма МФЦ\n---\n\n"
        f"{PARAGRAPH}\n\n{PARAGRAPH}\n\n- первый пункт;\n- второй пункт.\n\n"
        f"{html}{link}{PARAGRAPH}\n"
    )
    return f"news/{year}/{date}-novost-{n}.md", text


def make_project(n: int) -> Path:
    base = Path(tempfile.mkdtemp(prefix="mfc-bench-"))
    for name in ("tasks.py", "pelicanconf.py", "publishconf.py"):
        shutil.copy2(ROOT / name, base / name)
    for name in ("plugins", "theme", "content"):
        shutil.copytree(
            ROOT / name, base / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    (base / "content/images/bench").mkdir(parents=True)
    (base / "content/images/bench/foto.png").write_bytes(PNG)
    for i in range(n):
        rel, text = item(i)
        path = base / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return base


def time_command(base: Path, *, kept: bool) -> list[float]:
    times = []
    for _ in range(RUNS):
        if not kept:
            for path in (base / "cache").glob("check-*.pickle"):
                path.unlink()
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "invoke", "check"],
            cwd=base,
            capture_output=True,
            text=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"the generated content does not pass:\n{result.stderr}")
    return times


def time_in_process(base: Path) -> list[float]:
    settings = load_settings(base / "pelicanconf.py")
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        report = check_site(base / "content", settings)
        times.append(time.perf_counter() - start)
        assert report.ok, report.problems[:5]
    return times


def main(sizes: list[int]) -> None:
    results = []
    print(
        f"{'items':>7} {'invoke check: best':>20} {'median':>8} {'kept':>8} "
        f"{'in-process':>11}"
    )
    for n in sizes:
        base = make_project(n)
        try:
            command = time_command(base, kept=False)
            kept = time_command(base, kept=True)
            alone = time_in_process(base)
        finally:
            shutil.rmtree(base, ignore_errors=True)
        row = {
            "items": n,
            "invoke_check_best_s": round(min(command), 3),
            "invoke_check_median_s": round(statistics.median(command), 3),
            "invoke_check_kept_median_s": round(statistics.median(kept), 3),
            "check_in_process_median_s": round(statistics.median(alone), 3),
        }
        results.append(row)
        print(
            f"{n:>7} {row['invoke_check_best_s']:>19.3f}s "
            f"{row['invoke_check_median_s']:>7.3f}s "
            f"{row['invoke_check_kept_median_s']:>7.3f}s "
            f"{row['check_in_process_median_s']:>10.3f}s"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "check.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000])
