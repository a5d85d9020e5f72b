"""Benchmark runner: our build against plain Pelican, on the same corpus.

    .venv/bin/python bench/run.py                      # N = 1000, 5000, 10000
    .venv/bin/python bench/run.py --sizes 1000 5000 --repeat 3
    .venv/bin/python bench/run.py --quick              # N = 200, once (CI)

For each N it generates the corpus (bench/generate.py) in both flavours,
copies the project into a temporary folder with that corpus as content/, and
then, REPEAT times, interleaved so that noise from other work on the machine
falls on all of them alike, times and measures the peak memory of

1. plain Pelican 4.12 (simple theme, no plugins, no typogrify), output empty;
   and, for comparison only, the same with Pelican's own ``TYPOGRIFY = True``
   (the issue's "42 s with typogrify": our build typesets every text too);
2. ``invoke publish`` (our full production build), output (both copies,
   plugins/mfc_content/reuse.py) and cache empty; old outputs and caches are
   moved aside and deleted only after the last measurement (``discard``);
   and, for comparison only, the same without the search index, without the
   ``.gz`` and ``.br`` copies, and without both (``VARIANTS``: the issue's
   target is for every feature on; these show what each feature costs);
3. ``invoke publish`` again, nothing changed (plugins/mfc_content/fast.py:
   nothing is written);
4. ``invoke publish`` after one item's text was edited (an item in the middle
   of the archive: its page and its part of the search index), and after the
   newest item's text was edited (its text is in the feeds, written again
   too);
   then ``invoke publish --full``: every page read and rendered again (over
   the output before last), as any other change of the content makes it;
5. ``invoke check`` (as an editor runs it after the build: the check
   results the build kept are used for files that did not change,
   plugins/mfc_content/checkcache.py), and again with that cache emptied;
6. the search-indexing step alone (``mfc_search.build_index`` on output/);
7. the editor's preview: ``invoke livereload`` is started and has built the
   site; then one item's text is saved, and the step is the time from the
   save to the server answering with that item's page carrying the new text
   (the quick path of plugins/mfc_content/preview.py); peak memory is the
   server process's.

``--steps`` runs only some of them (``--steps preview``); ratios then need
``plain`` among them.

Every measurement is one fresh process, started from here (after ``sync``:
no step pays for writing back what an earlier one wrote) and reaped with
``os.wait4``, so its peak memory (``ru_maxrss``) is its own: the largest
resident set of any process in its tree (the Pagefind binary, for example, is
a process of its own; the figure is not a sum). Times are wall-clock,
interpreter start-up included, as a person waiting for the command sees them.
CPU time is the user and system time of the whole tree (every process of the
step, each waited for by its parent): plain Pelican uses one core, ours both,
so the two ratios tell how much of the wall-clock ratio is work and how much
is the second core (the preview step has none: its server runs on).

Results: the median of each measurement and its ratio to (1), written to
REPORT/README.md (a Markdown table and the machine), REPORT/results.json and
REPORT/time.svg (time against N); REPORT is bench/report (committed: the
figures the README links to), or bench/results/quick with --quick.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

PYTHON = sys.executable
INVOKE = str(Path(PYTHON).with_name("invoke"))
# What is copied of the project: everything the build reads.
PROJECT_FILES = ("pelicanconf.py", "publishconf.py", "tasks.py")
PROJECT_DIRS = ("plugins", "theme")

STEPS = (
    ("plain", "plain Pelican 4.12, cold (reference)"),
    ("plain_typogrify", "plain Pelican 4.12 with typogrify, cold (for comparison)"),
    ("cold", "ours: `invoke publish`, cold"),
    ("cold_no_search", "ours, cold, without the search index (for comparison)"),
    ("cold_no_copies", "ours, cold, without the .gz and .br copies (for comparison)"),
    ("cold_core", "ours, cold, without both (for comparison)"),
    ("warm", "ours: `invoke publish`, nothing changed"),
    ("edit", "ours: `invoke publish` after editing one item"),
    ("edit_newest", "ours: `invoke publish` after editing the newest item"),
    ("whole", "ours: `invoke publish --full` (every page)"),
    ("check", "`invoke check`"),
    ("check_cold", "`invoke check`, its cache emptied first"),
    ("search", "search indexing alone (Pagefind)"),
    ("preview", "preview: edited page served"),
)
# Cold builds with a feature turned off, for comparison only: the issue's
# target is for every feature on, and these show, in the same run, what the
# search index and the compressed copies cost. The lines are appended to the
# bench copy's publishconf.py for that one build (``variant_settings``).
NO_SEARCH = "SEARCH_INDEX = False"
NO_COPIES = 'PLUGINS = [p for p in PLUGINS if p != "mfc_precompress"]'
VARIANTS = {
    "cold_no_search": (NO_SEARCH,),
    "cold_no_copies": (NO_COPIES,),
    "cold_core": (NO_SEARCH, NO_COPIES),
}
PREVIEW_READY = "Сайт собран"  # what `invoke livereload` says after a build
PREVIEW_TIMEOUT = 3600  # seconds for its first build (a slow shared machine)


def machine() -> dict:
    """What the figures were measured on."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    pelican = subprocess.run(
        [PYTHON, "-c", "import pelican; print(pelican.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram / 2**30, 1),
        "python": platform.python_version(),
        "pelican": pelican,
        "system": platform.platform(terse=True),
        "measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "load_start": round(os.getloadavg()[0], 2),
    }


Sample = tuple[float, int, float | None]  # wall seconds, peak RSS bytes, CPU seconds


def cpu_seconds(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def measure(cmd: list[str], cwd: Path, env: dict | None = None) -> Sample:
    """Run `cmd` in a fresh process: (wall seconds, peak RSS in bytes, CPU
    seconds of its whole tree).

    What earlier steps wrote is flushed to the disk first, untimed: the
    kernel writes dirty pages back some 30 s after they were written, so a
    step would otherwise pay for the step before it (a cold build of ours
    leaves ~0.5 GB), and the order of the steps would decide who pays.
    """
    os.sync()
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n"
            + output.decode(errors="replace")[-4000:]
        )
    return elapsed, usage.ru_maxrss * 1024, cpu_seconds(usage)  # RSS in KiB


def prepare(n: int, work: Path) -> tuple[Path, Path]:
    """The project copy with N generated items, and the plain corpus."""
    site = work / "site"
    site.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, site / name)
    for name in PROJECT_DIRS:
        shutil.copytree(
            ROOT / name, site / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    generate(n, site / "content", "ours")
    generate(n, work / "plain", "plain")
    return site, work / "plain"


def plain_command(plain: Path, output: Path, typogrify: bool = False) -> list[str]:
    """Plain Pelican on the plain corpus; with ``typogrify``, Pelican's own
    TYPOGRIFY setting on (its ``-e``), nothing else changed."""
    args = ["-s", str(HERE / "plainconf.py"), "-o", str(output)]
    if typogrify:
        args += ["-e", "TYPOGRIFY=true"]
    return [PYTHON, "-m", "pelican", str(plain), *args]


def edited_item(site: Path) -> Path:
    """The item whose text step 4 edits: one in the middle of the archive."""
    items = sorted((site / "content" / "news").rglob("*.md"))
    return items[len(items) // 2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def item_url(site: Path, item: Path) -> str:
    """The preview address of a news file (news/YYYY/YYYY-MM-DD-slug.md)."""
    year, slug = item.parent.name, item.stem[len("YYYY-MM-DD-") :]
    return f"news/{year}/{slug}/"


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def preview_served(site: Path, target: Path, rep: int, env: dict) -> tuple[float, int]:
    """Step 7: seconds from saving `target` to its new page being served by
    `invoke livereload`, and the server process's peak memory."""
    port = free_port()
    log_path = site.parent / "livereload.log"
    log = log_path.open("w+", encoding="utf-8")
    proc = subprocess.Popen(
        [INVOKE, "livereload", "--port", str(port)],
        cwd=site,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + PREVIEW_TIMEOUT
        while PREVIEW_READY not in log_path.read_text("utf-8"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "invoke livereload did not build the site:\n"
                    + log_path.read_text("utf-8")[-4000:]
                )
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/{item_url(site, target)}"
        token = f"previewmark{rep + 1}x{time.time_ns()}"
        text = target.read_text(encoding="utf-8")
        target.write_text(text + f"\nОбновлено: {token}.\n", encoding="utf-8")
        started = time.perf_counter()
        while token not in fetch(url):
            if time.perf_counter() - started > PREVIEW_TIMEOUT:
                raise RuntimeError("the edited page was never served")
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server stops its build too
        _, _, usage = os.wait4(proc.pid, 0)
        log.close()
    return elapsed, usage.ru_maxrss * 1024, None  # the server's CPU: not the step's


def discard(path: Path, work: Path) -> None:
    """Move a folder out of the way; it is deleted with the work folder, after
    every measurement.

    Deleting it here would slow the next steps, ours and plain Pelican's
    alike, by what the file system does after mass deletions: ext4 without a
    journal skips inodes freed in the last minutes, one by one, when it
    allocates new ones (plugins/mfc_content/reuse.py).
    """
    if path.exists():
        trash = work / "trash"
        trash.mkdir(exist_ok=True)
        path.rename(trash / f"{path.name}-{len(list(trash.iterdir()))}")


@contextlib.contextmanager
def variant_settings(site: Path, lines: tuple[str, ...]):
    """The bench copy's publishconf.py with `lines` appended, while in the block."""
    settings = site / "publishconf.py"
    original = settings.read_text(encoding="utf-8")
    settings.write_text(original + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    try:
        yield
    finally:
        settings.write_text(original, encoding="utf-8")


def features(output: Path) -> dict[str, bool]:
    """For each line a variant may add: does the build at `output` have what
    that line turns off? (The search bundle: pelicanconf.py's SEARCH_INDEX_DIR.)"""
    return {
        NO_SEARCH: (output / "pagefind" / "pagefind.js").is_file(),
        NO_COPIES: next(output.rglob("*.html.br"), None) is not None,
    }


def check_features(output: Path, off: tuple[str, ...]) -> None:
    """A variant measured what it says it measured, and the full build too."""
    for line, present in features(output).items():
        if present and line in off:
            raise RuntimeError(
                f"{output}: built with `{line}`, yet has what it turns off"
            )
        if not present and line not in off:
            raise RuntimeError(f"{output}: lacks what `{line}` would turn off")


def cold_start(site: Path, work: Path) -> None:
    """No output (neither copy, plugins/mfc_content/reuse.py) and no cache."""
    for name in ("output", "output.spare", "cache"):
        discard(site / name, work)


def run_size(
    n: int, repeat: int, work: Path, env: dict, steps: tuple[str, ...] = ()
) -> dict:
    site, plain = prepare(n, work)
    target = edited_item(site)
    original = target.read_text(encoding="utf-8")
    newest = max((site / "content" / "news").rglob("*.md"))
    newest_text = newest.read_text(encoding="utf-8")
    steps = steps or tuple(key for key, _ in STEPS)
    samples: dict[str, list[Sample]] = {key: [] for key, _ in STEPS if key in steps}
    plain_out = work / "plain-output"
    publish = [INVOKE, "publish"]
    index_alone = (
        "import sys; sys.path.insert(0, 'plugins');"
        "from mfc_search import build_index; build_index('output')"
    )

    def run(key: str, cmd: list[str], cwd: Path = site) -> None:
        if key in steps:
            samples[key].append(measure(cmd, cwd, env))

    for rep in range(repeat):
        discard(plain_out, work)
        run("plain", plain_command(plain, plain_out), work)
        discard(plain_out, work)
        run("plain_typogrify", plain_command(plain, plain_out, typogrify=True), work)
        target.write_text(original, encoding="utf-8")
        newest.write_text(newest_text, encoding="utf-8")
        for key, off in VARIANTS.items():
            if key in steps:
                cold_start(site, work)
                with variant_settings(site, off):
                    run(key, publish)
                check_features(site / "output", off)
        cold_start(site, work)
        run("cold", publish)
        if "cold" in steps:
            check_features(site / "output", ())
        run("warm", publish)
        edit = f"\nДополнение к новости, правка {rep + 1}.\n"
        target.write_text(original + edit, encoding="utf-8")
        run("edit", publish)
        newest.write_text(newest_text + edit, encoding="utf-8")
        run("edit_newest", publish)
        run("whole", [*publish, "--full"])
        run("check", [INVOKE, "check"])
        for kept in (site / "cache").glob("check-*.pickle"):
            kept.unlink()
        run("check_cold", [INVOKE, "check"])
        run("search", [PYTHON, "-c", index_alone])
        if "preview" in steps:
            samples["preview"].append(preview_served(site, target, rep, env))
        print(
            f"N={n} run {rep + 1}/{repeat}: "
            + ", ".join(f"{k} {v[-1][0]:.2f} s" for k, v in samples.items() if v),
            file=sys.stderr,
            flush=True,
        )
    pages = sum(1 for _ in (site / "output").rglob("*.html"))
    return summary(n, repeat, pages, samples)


def summary(n: int, repeat: int, pages: int, samples: dict[str, list]) -> dict:
    """Medians and ratios to plain Pelican of one N's samples."""
    result = {"n": n, "repeat": repeat, "html_pages": pages, "steps": {}}
    plain_runs = samples.get("plain")
    base_time = statistics.median(t for t, _, _ in plain_runs) if plain_runs else None
    base_rss = statistics.median(m for _, m, _ in plain_runs) if plain_runs else None
    base_cpu = statistics.median(c for _, _, c in plain_runs) if plain_runs else None
    for key, values in samples.items():
        seconds = statistics.median(t for t, _, _ in values)
        rss = statistics.median(m for _, m, _ in values)
        cpus = [c for _, _, c in values if c is not None]
        cpu = statistics.median(cpus) if cpus else None
        result["steps"][key] = {
            "seconds": round(seconds, 3),
            "all_seconds": [round(t, 3) for t, _, _ in values],
            "ratio": round(seconds / base_time, 3) if base_time else None,
            "peak_rss_mib": round(rss / 2**20, 1),
            "rss_ratio": round(rss / base_rss, 3) if base_rss else None,
            "cpu_seconds": None if cpu is None else round(cpu, 3),
            "cpu_ratio": round(cpu / base_cpu, 3) if cpu and base_cpu else None,
        }
    return result


def table(results: list[dict]) -> str:
    lines = [
        "| N | step | median time | × plain | peak memory | × plain "
        "| CPU time | × plain |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for key, label in STEPS:
            s = result["steps"].get(key)
            if s is None:
                continue
            cpu = s.get("cpu_seconds")
            lines.append(
                f"| {result['n']:,} | {label} | {s['seconds']:.2f} s "
                f"| {_ratio(s['ratio'])} | {s['peak_rss_mib']:.0f} MiB "
                f"| {_ratio(s['rss_ratio'])} "
                f"| {'—' if cpu is None else f'{cpu:.2f} s'} "
                f"| {_ratio(s.get('cpu_ratio'))} |"
            )
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# The targets at the largest N: (step, what, limit), ratios to plain.
TARGETS = (
    ("cold", "seconds", 1.0, "full production build, cold"),
    ("edit", "seconds", 0.15, "rebuild after editing one item"),
    ("check", "seconds", 0.1, "`invoke check`"),
    ("cold", "rss", 1.5, "peak memory of the full build"),
)
PREVIEW_TARGET = 1.0  # seconds from the save to the edited page (issue 7)


def targets(results: list[dict]) -> str:
    result = max(results, key=lambda r: r["n"])
    lines = [
        f"Targets (issue 7) at N = {result['n']:,}:",
        "",
        "| target | limit | measured | met |",
        "| --- | ---: | ---: | --- |",
    ]
    for key, what, limit, label in TARGETS:
        step = result["steps"].get(key)
        ratio = step and (step["ratio"] if what == "seconds" else step["rss_ratio"])
        if ratio is None:
            continue
        met = "yes" if ratio <= limit else "**no**"
        lines.append(f"| {label} | ≤ {limit:.2f}× | {ratio:.2f}× | {met} |")
    preview = result["steps"].get("preview")
    if preview:
        met = "yes" if preview["seconds"] <= PREVIEW_TARGET else "**no**"
        lines.append(
            f"| edited page visible in the preview | ≤ {PREVIEW_TARGET:.1f} s "
            f"| {preview['seconds']:.2f} s | {met} |"
        )
    return "\n".join(lines)


def svg_plot(results: list[dict]) -> str:
    """Time against N for every step, as a small self-contained SVG."""
    width, height, left, bottom, top, right = 720, 420, 70, 50, 20, 250
    sizes = [r["n"] for r in results]
    top_time = max(s["seconds"] for r in results for s in r["steps"].values())
    x_max, y_max = max(sizes), top_time * 1.1 or 1
    colours = [
        "#000000",
        "#c0392b",
        "#e67e22",
        "#27ae60",
        "#2980b9",
        "#8e44ad",
        "#16a085",
        "#7f6000",
        "#34495e",
        "#d35400",
        "#7f8c8d",
        "#b7950b",
        "#1abc9c",
        "#5d6d7e",
    ]

    def x(n: float) -> float:
        return left + (width - left - right) * n / x_max

    def y(t: float) -> float:
        return height - bottom - (height - bottom - top) * t / y_max

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<line x1="{left}" y1="{y(0)}" x2="{x(x_max)}" y2="{y(0)}" stroke="#000"/>',
        f'<line x1="{left}" y1="{y(0)}" x2="{left}" y2="{top}" stroke="#000"/>',
        f'<text x="{(left + x(x_max)) / 2}" y="{height - 10}" '
        'text-anchor="middle">news items (N)</text>',
        f'<text x="15" y="{top + 10}">seconds</text>',
    ]
    for n in sizes:
        out.append(
            f'<text x="{x(n):.1f}" y="{y(0) + 18}" text-anchor="middle">{n:,}</text>'
        )
    for k in range(5):
        t = y_max * k / 4
        out.append(
            f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.1f}</text>'
        )
    shown = [(k, label) for k, label in STEPS if all(k in r["steps"] for r in results)]
    for (key, label), colour in zip(shown, colours, strict=False):
        points = " ".join(
            f"{x(r['n']):.1f},{y(r['steps'][key]['seconds']):.1f}" for r in results
        )
        dash = ' stroke-dasharray="6 4"' if key.startswith("plain") else ""
        for r in results:  # a dot per measurement (one N draws no line)
            out.append(
                f'<circle cx="{x(r["n"]):.1f}" cy="{y(r["steps"][key]["seconds"]):.1f}"'
                f' r="3" fill="{colour}"/>'
            )
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        legend_y = top + 20 * (shown.index((key, label)) + 1)
        out.append(
            f'<line x1="{width - right + 15}" y1="{legend_y - 4}" '
            f'x2="{width - right + 40}" y2="{legend_y - 4}" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        short = label.replace("`", "").replace("ours: ", "")
        out.append(f'<text x="{width - right + 45}" y="{legend_y}">{short}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def load_sentence(info: dict) -> str:
    """How busy the machine was: other work slows every step alike."""
    if "load_start" not in info:
        return "(The machine's load was not recorded: read ratios rather than seconds.)"
    return (
        f"Load average (1 min): {info['load_start']} at the start, "
        f"{info.get('load_end', '?')} at the end, on {info['cores']} cores. "
        "A high figure at the end need not be other work: Pagefind writes its "
        "bundle from a hundred or more threads, and the load average counts "
        "each one that runs or waits for the disk. Other work on the machine "
        "would slow the reference and ours alike, so read ratios rather than "
        "seconds."
    )


def write_report(results: list[dict], info: dict, command: str, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "results.json").write_text(
        json.dumps({"machine": info, "command": command, "results": results}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    (dest / "time.svg").write_text(svg_plot(results), encoding="utf-8")
    when = info.get("measured") or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    repeats = ", ".join(f"{r['n']:,}: {r['repeat']}" for r in results)
    text = f"""# Benchmark: our build against plain Pelican

Measured {when} UTC with

    {command}

on {info["cpu"]}, {info["cores"]} cores, {info["ram_gib"]} GiB RAM,
{info["system"]}, Python {info["python"]}, Pelican {info["pelican"]}.
{load_sentence(info)}

Medians of the runs (per N: {repeats}); every run measured all the steps in
turn, so the reference and ours saw the same load. Ratios are to plain
Pelican, cold, at the same N. Peak memory is the largest resident set of any
one process of the step. CPU time is the user and system time of all the
step's processes: plain Pelican runs on one core, ours on both, so a step's
CPU ratio above its time ratio is work the second core absorbed. The
corpus is bench/generate.py's: the same items for both, with YAML front
matter for ours and Pelican's own `Key: value` metadata for plain Pelican
(which then needs no plugin to read it).

{table(results)}

{targets(results)}

![time against N](time.svg)

Every run's times are in [results.json](results.json).
"""
    (dest / "README.md").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="N=200, one run (CI)")
    parser.add_argument(
        "--steps",
        nargs="+",
        choices=[key for key, _ in STEPS],
        help="measure only these steps (default: all)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        help="where to write the report (default bench/report; with --quick, "
        "bench/results/quick, not committed)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--from-json", type=Path, help="only rewrite the report from a results.json"
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat = [200], 1
    if args.report is None:
        partial = "results/quick" if args.quick else "results/steps"
        args.report = HERE / (partial if args.quick or args.steps else "report")
    if args.from_json:
        saved = json.loads(args.from_json.read_text(encoding="utf-8"))
        write_report(saved["results"], saved["machine"], saved["command"], args.report)
        return
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    info = machine()
    work = Path(tempfile.mkdtemp(prefix="mfc-bench-"))
    results = []
    command = " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]])
    try:
        for n in args.sizes:
            results.append(
                run_size(n, args.repeat, work / str(n), env, tuple(args.steps or ()))
            )
            # After every N: a long run cut short still leaves its figures.
            info["load_end"] = round(os.getloadavg()[0], 2)
            write_report(results, info, command, args.report)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(table(results))


if __name__ == "__main__":
    main()
