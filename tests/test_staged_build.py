"""The staged build: output/ is replaced only by a complete, successful build."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mfc_content.build import remove_stale_staging, swap, tell
from mfc_content.reuse import spare_of
from tests.conftest import copy_project, tree_hash


def test_pelican_failure_after_a_clean_check_keeps_output(project):
    """A broken template passes the content check but fails Pelican."""
    good = tree_hash(project.output)
    template = project.root / "theme" / "templates" / "article.html"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            "{{ article.content }}", "{{ article.content|no_such_filter }}"
        ),
        encoding="utf-8",
    )
    try:
        result = project.invoke("build")
    finally:
        project.restore("theme")
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "no_such_filter" in log
    assert "Сборка не удалась" in log
    assert "Traceback" not in log
    assert tree_hash(project.output) == good
    assert not list(project.root.glob("output.staging-*"))


POST_BUILD_PLUGIN = """
import logging, os
from pelican import signals

def finalized(pelican):
    out = pelican.settings["OUTPUT_PATH"]
    with open(os.path.join(out, "post-build.txt"), "w") as f:
        f.write(out)
    if os.environ.get("POST_BUILD_WARNS"):
        logging.getLogger(__name__).warning("post_build: something looks wrong")

def register():
    signals.finalized.connect(finalized)
"""


@contextlib.contextmanager
def extra_plugin(project, name: str, source: str):
    """The project with one more plugin (`source`, as plugins/`name`), until
    the end of the block."""
    plugin = project.root / "plugins" / name
    plugin.mkdir()
    (plugin / "__init__.py").write_text(source, encoding="utf-8")
    conf = project.root / "pelicanconf.py"
    original = conf.read_text(encoding="utf-8")
    conf.write_text(original + f'\nPLUGINS = [*PLUGINS, "{name}"]\n', "utf-8")
    try:
        yield
    finally:
        conf.write_text(original, encoding="utf-8")
        project.restore("plugins")


def with_post_build_plugin(project, **env):
    """Build with a plugin that, like a search indexer, writes on `finalized`."""
    with extra_plugin(project, "post_build", POST_BUILD_PLUGIN):
        return project.invoke("build", **env)


def test_post_build_steps_write_into_staging_and_land_in_output(project):
    result = with_post_build_plugin(project)
    assert result.returncode == 0, result.stderr
    written_to = (project.output / "post-build.txt").read_text(encoding="utf-8")
    assert os.path.basename(written_to).startswith("output.staging-")
    project.invoke("build")  # back to the plain site


def test_warnings_are_fatal_even_after_rendering(project):
    good = tree_hash(project.output)
    result = with_post_build_plugin(project, POST_BUILD_WARNS="1")
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "something looks wrong" in log
    assert tree_hash(project.output) == good


def test_successful_build_replaces_output_whole(project):
    stale = project.output / "stale-page.html"
    stale.write_text("from an old build", encoding="utf-8")
    result = project.invoke("build")
    assert result.returncode == 0, result.stderr
    assert "Сайт собран в output/" in result.stdout
    assert not stale.exists()
    assert (project.output / "index.html").is_file()
    assert not list(project.root.glob("output.staging-*"))
    mode = (project.output).stat().st_mode & 0o777
    assert mode & 0o055 == 0o055  # readable by the web server, like before


def test_swap_exchanges_whole_folders(tmp_path):
    output, staging = tmp_path / "output", tmp_path / "output.staging-1-x"
    output.mkdir()
    (output / "old.html").write_text("old")
    staging.mkdir()
    (staging / "new.html").write_text("new")
    swap(staging, output)
    assert [p.name for p in output.iterdir()] == ["new.html"]
    # The old output is left where the staging folder was, for the caller to delete.
    assert [p.name for p in staging.iterdir()] == ["old.html"]


def test_swap_into_a_first_build(tmp_path):
    output, staging = tmp_path / "output", tmp_path / "output.staging-1-x"
    staging.mkdir()
    (staging / "index.html").write_text("first")
    swap(staging, output)
    assert (output / "index.html").read_text() == "first"
    assert not staging.exists()


def test_staging_left_by_a_killed_build_is_removed(tmp_path):
    output = tmp_path / "output"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f"output.staging-{dead.stdout.strip()}-abc"
    live = tmp_path / f"output.staging-{os.getpid()}-def"
    stale.mkdir()
    live.mkdir()
    remove_stale_staging(output)
    assert not stale.exists()
    assert live.exists()


def test_problems_reach_both_streams_once_each(tmp_path):
    """Captured separately (cron, CI), both streams list the problems; in a
    terminal or with 2>&1 they are printed once."""
    with (tmp_path / "out").open("w") as out, (tmp_path / "err").open("w") as err:
        tell(["a.md:1: что-то — исправьте [E106]"], out, err)
    assert (tmp_path / "out").read_text() == (tmp_path / "err").read_text()
    with (tmp_path / "both").open("w") as both:
        tell(["a.md:1: что-то — исправьте [E106]"], both, both)
    assert (tmp_path / "both").read_text().count("a.md:1:") == 1


SLOW_PLUGIN = """
import os, time
from pelican import signals

def initialized(pelican):
    path = os.environ["SLOW_BUILD_PID"]
    with open(path + ".new", "w") as f:
        f.write(str(os.getpid()))
    os.replace(path + ".new", path)
    time.sleep(120)  # a long build: the signal comes meanwhile

def register():
    signals.initialized.connect(initialized)
"""


# `invoke` as a terminal starts it: SIGHUP at its default action (a test
# run under nohup, as a CI job may be, would otherwise pass it on ignored,
# and a build started with nohup rightly keeps running after a hangup).
FROM_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'invoke', *sys.argv[1:]])"
)


def stop_group(pelican: int) -> bool:
    """Kill the process group of the Pelican `pelican`; True if anything of
    it was still running."""
    try:
        os.killpg(pelican, signal.SIGKILL)
    except OSError:
        return False
    return True


def running(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its reaper does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


@dataclass
class SlowBuild:
    process: subprocess.Popen  # `invoke build --full`, as from a terminal
    pelican: int  # the pid of its Pelican, asleep in SLOW_PLUGIN
    left_running: bool = False  # set on the way out of `slow_build`


@contextlib.contextmanager
def slow_build(project, tmp_path):
    """A build whose Pelican sleeps, once Pelican runs. On the way out the
    build and whatever of Pelican's group is left are killed (the test
    fails all the same if it relied on them stopping)."""
    pid_file = tmp_path / "pelican.pid"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "SLOW_BUILD_PID": str(pid_file)}
    with extra_plugin(project, "slow_build", SLOW_PLUGIN):
        process = subprocess.Popen(
            [sys.executable, "-c", FROM_A_TERMINAL, "build", "--full"],
            cwd=project.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        build = None
        try:
            deadline = time.monotonic() + 60
            while not pid_file.exists():
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "Pelican never started"
                time.sleep(0.05)
            build = SlowBuild(process, int(pid_file.read_text()))
            yield build
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
            if build is not None:
                build.left_running = stop_group(build.pelican)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_build_stopped_by_a_signal_stops_pelican_and_keeps_output(
    project, tmp_path, signum
):
    """SIGTERM (timeout, a service manager) and SIGHUP (a dropped SSH session):
    the build stops Pelican with all its helpers, says so, and the output
    stays the last good build; the staging folder becomes the spare."""
    good = tree_hash(project.output)
    with slow_build(project, tmp_path) as build:
        build.process.send_signal(signum)
        stdout, stderr = build.process.communicate(timeout=60)
    assert not build.left_running, "Pelican was left running"
    name = signal.Signals(signum).name
    assert build.process.returncode == 128 + signum
    assert f"Сборка остановлена сигналом {name}" in stderr
    assert "Traceback" not in stdout + stderr
    assert tree_hash(project.output) == good
    assert not list(project.root.glob("output.staging-*"))
    assert spare_of(project.output).is_dir()
    result = project.invoke("build")
    assert result.returncode == 0, result.stdout + result.stderr
    assert tree_hash(project.output) == good


def test_pelican_stops_when_the_build_is_killed(project, tmp_path):
    """SIGKILL of the build (the OOM killer, kill -9) can't be handled: then
    Linux tells Pelican, which stops with its whole process group, instead
    of building on into a staging folder nobody will swap."""
    good = tree_hash(project.output)
    with slow_build(project, tmp_path) as build:
        assert running(build.pelican)
        build.process.kill()
        build.process.communicate()
        deadline = time.monotonic() + 10
        while running(build.pelican) and time.monotonic() < deadline:
            time.sleep(0.05)
        stopped = not running(build.pelican)
    assert stopped, "Pelican went on after the build was killed"
    assert tree_hash(project.output) == good
    result = project.invoke("build")  # and the next build cleans up
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list(project.root.glob("output.staging-*"))
    assert tree_hash(project.output) == good


@pytest.fixture
def small_disk(tmp_path):
    """A real file system of 16 MiB (tmpfs: the tests run as root, as CI
    does), unmounted when the test is done."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True
    )
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)


def test_a_full_disk_keeps_output_and_says_what_to_do(small_disk):
    """The disk fills up during a build: output/ stays the last good build,
    the message says in Russian what happened and what may be deleted, and
    once there is room again the next build succeeds."""
    project = copy_project(small_disk)
    assert project.invoke("build").returncode == 0
    before = tree_hash(project.root / "output")
    item = project.content / "news" / "2013" / "2013-09-20-forum-v-eltse.md"
    text = item.read_text(encoding="utf-8")
    item.write_text(
        re.sub(r"(?m)^title: .*$", "title: Заголовок после уборки диска", text),
        encoding="utf-8",
    )
    filler = small_disk / "filler"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    with open(filler, "wb") as file:  # leaves ~100 KB: less than a build needs
        file.write(b"\0" * (free - 100 * 1024))
    result = project.invoke("build")
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "На диске не осталось места" in said
    assert "output/ — последняя удачная сборка" in said
    assert "cache/ и output.spare/" in said
    assert tree_hash(project.root / "output") == before
    filler.unlink()
    result = project.invoke("build")
    assert result.returncode == 0, result.stdout + result.stderr
    page = project.root / "output" / "news" / "2013" / "forum-v-eltse" / "index.html"
    assert "Заголовок после уборки" in page.read_text(encoding="utf-8")
