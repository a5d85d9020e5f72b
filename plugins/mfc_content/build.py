"""The staged build behind ``invoke build`` and ``invoke publish``.

1. Start Pelican, warnings and errors fatal, building into a fresh staging
   folder beside the output folder. The staging folder *is* Pelican's
   OUTPUT_PATH, so plugins that post-process the output on ``finalized``
   write into it.
2. Meanwhile check every content file (``site.check_site``); on any problem
   stop Pelican, print them all and stop: nothing of the build is kept.
3. Only when Pelican succeeded, swap the staging folder and the output folder
   (one atomic ``renameat2(RENAME_EXCHANGE)`` on Linux, two renames
   elsewhere). The old output is kept as the next build's staging folder
   (reuse.py: rewriting files is far cheaper than deleting and creating
   them).

So a failed build leaves the last good output byte for byte as it was, and
the preview server never sees a half-written site. A build stopped by Ctrl+C,
SIGTERM or SIGHUP (a closed terminal or SSH session, ``timeout``, a service
manager) stops Pelican too, and keeps its staging folder as the spare.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from pelican.settings import read_settings

from . import fast
from .problems import ContentError
from .reuse import claim_spare, keep_as_spare, prune_untouched, spare_of
from .site import check_site, current_time, display_path

AT_FDCWD = -100
RENAME_EXCHANGE = 2
STAGING = ".staging-"
TRACEBACK_RE = re.compile(r"^(Traceback \(most recent call last\):|  |\s*\^+\s*$)")


def load_settings(settings_file: str | os.PathLike, content=None) -> dict:
    """Pelican's settings from a file, optionally for another content folder."""
    override = {"PATH": str(Path(content).resolve())} if content else None
    return read_settings(str(settings_file), override=override)


def settings_or_none(settings_file, content, err) -> dict | None:
    """The settings, or None after saying in Russian why they can't be read."""
    try:
        return load_settings(settings_file, content)
    except Exception as error:
        print(
            f"{settings_file}: не удалось прочитать настройки сайта ({error}) — "
            "проверьте, что команда запущена в папке проекта и что папка "
            "content на месте",
            file=err,
        )
        return None


def run_check(settings_file, content=None, *, env=None, out=None, err=None) -> bool:
    """`invoke check`: print every problem, or a short all-clear. True if clean."""
    out, err = out or sys.stdout, err or sys.stderr
    settings = settings_or_none(settings_file, content, err)
    if settings is None:
        return False
    env = os.environ if env is None else env
    now = current_time(settings["TIMEZONE"], env.get("MFC_NOW", ""))
    report = check_site(settings["PATH"], settings, now, cached=True)
    if report.problems:
        tell([*map(str, report.problems), report.summary()], out, err)
    else:
        print(report.summary(), file=out)
    return report.ok


def staged_build(
    settings_file,
    content=None,
    output=None,
    *,
    env=None,
    out=None,
    err=None,
    on_check=None,
) -> int:
    """Check, build into staging, swap on success. Returns an exit status.

    `on_check`, if given, is called with the check's report (good or not)
    before anything built is kept: the preview keeps it (preview.py).
    """
    out, err = out or sys.stdout, err or sys.stderr
    settings_file = Path(settings_file).resolve()
    env = dict(os.environ if env is None else env)
    settings = settings_or_none(settings_file, content, err)
    if settings is None:
        return 2
    output = Path(output or settings["OUTPUT_PATH"]).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    record = fast.record_path(settings_file, settings, output)
    try:
        with stopped_by_signals(), fast.one_build_at_a_time(record, output, out):
            remove_stale_staging(output)
            build = fast.Build.start(settings_file, settings, output, env)
            if not env.get("MFC_FULL_BUILD") and fast.rebuild(
                build, out=out, on_check=on_check
            ):
                return 0
            return _whole_build(build, on_check=on_check, out=out, err=err)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        tell([f"Сборка не удалась: {error}.", *disk_full(output)], out, err)
        return 1
    except Stopped as stopped:
        tell(
            [
                f"Сборка остановлена сигналом {stopped.name}: в папке "
                f"{display_path(output)}/ — последняя удачная сборка."
            ],
            out,
            err,
        )
        return 128 + stopped.signum


def disk_full(output: Path) -> list[str]:
    """What to do when the disk is full (ENOSPC), for whoever runs the build."""
    shown = display_path(output)
    return [
        f"На диске не осталось места. В папке {shown}/ — последняя удачная "
        "сборка. Освободите место и запустите сборку снова; когда сборка не "
        f"идёт, можно удалить папки cache/ и {display_path(spare_of(output))}/ — "
        "следующая сборка будет дольше, но ничего не потеряется."
    ]


class Stopped(BaseException):
    """SIGTERM or SIGHUP during a build (a BaseException, as Ctrl+C's
    KeyboardInterrupt: no ``except Exception`` on the way swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum, self.name = signum, signal.Signals(signum).name


@contextlib.contextmanager
def stopped_by_signals():
    """SIGTERM and SIGHUP stop a build as Ctrl+C does: the cleanup on the way
    out runs (Pelican and its helpers stopped, the staging folder kept as the
    spare, the lock released). Their default action killed this process at
    once and left Pelican, a session of its own, building on. Signals reach
    only the main thread, and a handler the caller set stays (``python -m
    mfc_content build``'s: the preview cancels outdated builds quietly)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise Stopped(signum)

    wanted = [
        signum
        for signum in (signal.SIGTERM, signal.SIGHUP)
        if signal.getsignal(signum) == signal.SIG_DFL
    ]
    before = {signum: signal.signal(signum, stop) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _whole_build(build, *, on_check, out, err) -> int:
    """Pelican and the check, in staging, then the swap (module doc)."""
    settings_file, settings, output, env = (
        build.settings_file,
        build.settings,
        build.output,
        build.env,
    )
    shown = display_path(output)
    notes = output.parent / f"{fast.private_prefix(output)}notes"
    notes.mkdir()
    env["MFC_BUILD_NOTES"] = str(notes)
    staging = Path(
        tempfile.mkdtemp(
            prefix=f"{output.name}{STAGING}{os.getpid()}-", dir=output.parent
        )
    )
    old = staging  # the folder left to keep as the spare tree at the end
    try:
        claim_spare(output, staging)  # the output before last, if kept
        staging.chmod(0o777 & ~current_umask())  # mkdtemp makes it private
        # Pelican starts at once, and the check runs here meanwhile (both
        # cores are busy either way); a problem found stops Pelican before
        # anything of its work is kept.
        pelican = start_pelican(settings_file, settings, staging, env)
        now = current_time(settings["TIMEZONE"], env.get("MFC_NOW", ""))
        report, log = check_and_wait(pelican, settings, now, on_check)
        if not report.ok:
            lines = [*map(str, report.problems), report.summary()]
            tell([*lines, f"Сайт не собран: папка {shown}/ не изменилась."], out, err)
            return 1
        if pelican.returncode == 0:
            # The compressed copies mfc_precompress did not rewrite
            # (reuse.py); pruned before the test below, which a reused
            # folder would pass even if Pelican had written nothing.
            prune_untouched(staging)
        if pelican.returncode != 0 or not any(staging.iterdir()):
            failed = (
                "Сборка не удалась (сообщения Pelican выше) — папка "
                f"{shown}/ не изменилась."
            )
            lines = [without_tracebacks(log), failed]
            if f"[Errno {errno.ENOSPC}]" in log:  # as Python words an OSError
                lines += disk_full(output)
            tell(lines, out, err)
            return pelican.returncode or 1
        if log:
            print(log, file=out)
        old = swap(staging, output)
        fast.keep_record(build, now=now, items=report.items, notes=notes)
        print(f"Сайт собран в {shown}/.", file=out)
        return 0
    finally:
        keep_as_spare(old, output)
        shutil.rmtree(notes, ignore_errors=True)


def check_and_wait(pelican, settings: dict, now, on_check) -> tuple:
    """The whole-site check, run while Pelican builds, then Pelican's log
    when it is done. On a problem (or Ctrl+C) Pelican is stopped, with
    every process it forked."""
    try:
        report = check_site(settings["PATH"], settings, now, cached=True)
        if on_check is not None:
            on_check(report)
        if not report.ok:
            stop(pelican)
            return report, ""
        stdout, stderr = pelican.communicate()
    except BaseException:  # Ctrl+C too: Pelican has a session of its own
        stop(pelican)
        raise
    return report, (stdout + stderr).strip()


def pelican_launcher(parent: int) -> str:
    """`python -m pelican`'s code, with two differences (one line, as `ps`
    shows it).

    - If the build that started it (``parent``) dies, even by SIGKILL (the
      OOM killer, ``kill -9``), Linux sends Pelican SIGTERM
      (``PR_SET_PDEATHSIG``), on which it kills its whole process group: its
      forked helpers, Pagefind, the compression. They went on building into
      a staging folder nobody would swap. (A SIGTERM to the build itself is
      handled there: ``stopped_by_signals``.)
    - A build that succeeded ends at once: at ten thousand items, tearing
      down the interpreter (freeing every item, page and list one by one)
      took half a second after the site was complete. The exit functions
      (mfc_precompress stops its process with one) and logging's flush
      still run; an error (SystemExit) or a crash ends as usual.
    """
    return "; ".join(
        [
            "import atexit, ctypes, logging, os, signal, sys, pelican",
            "signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))",
            "getattr(ctypes.CDLL(None), 'prctl', lambda *_: 0)(1, signal.SIGTERM)",
            # the build may have died before prctl: then nobody waits for this
            f"os.getppid() == {parent} or os.killpg(0, signal.SIGKILL)",
            "pelican.main()",
            "atexit._run_exitfuncs()",
            "logging.shutdown()",
            "sys.stdout.flush()",
            "sys.stderr.flush()",
            "os._exit(0)",
        ]
    )


def start_pelican(settings_file: Path, settings: dict, staging: Path, env: dict):
    """Pelican, building into ``staging``, in a process group of its own."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            pelican_launcher(os.getpid()),
            str(settings["PATH"]),
            "--output",
            str(staging),
            "--settings",
            str(settings_file),
            "--fatal",
            "warnings",
            "--log-handler",
            "plain",
        ],
        cwd=settings_file.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so its forked helpers are stopped with it
    )


def stop(process: subprocess.Popen) -> None:
    """Stop a Pelican started by start_pelican, with every process it forked."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def tell(lines: list[str], out, err) -> None:
    """Print problems to stderr, and to stdout too when that goes elsewhere.

    In a terminal (or with 2>&1) they appear once; when the output is
    captured separately (a cron log, a CI step, a script) both streams carry
    the full list, so no reader of either misses which file is wrong.
    """
    text = "\n".join(lines)
    print(text, file=err)
    if not same_stream(out, err):
        print(text, file=out)


def same_stream(a, b) -> bool:
    """True if two streams write to the same file (or are the same object)."""
    try:
        sa, sb = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (AttributeError, OSError, ValueError):
        return a is b
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def without_tracebacks(log: str) -> str:
    """Pelican's log without Python tracebacks (the last line stays)."""
    kept, skipping = [], False
    for line in log.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "\t")) or not line.strip()):
            continue
        skipping = False
        kept.append(line)
    return "\n".join(kept)


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux); False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE):
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            return False
        raise OSError(code, os.strerror(code), str(b))
    return True


def swap(staging: Path, output: Path) -> Path:
    """Put the staging folder in place of the output folder.

    Returns where the old output now is (nowhere, for a first build).
    """
    if not (output.exists() or output.is_symlink()):
        staging.rename(output)
        return staging
    if exchange(staging, output):
        return staging  # staging now holds the old output
    old = output.with_name(f"{output.name}{STAGING}{os.getpid()}-old")
    output.rename(old)
    try:
        staging.rename(output)
    except OSError:
        old.rename(output)
        raise
    return old


def remove_stale_staging(output: Path) -> None:
    """Delete staging folders left by builds that were killed."""
    pattern = re.compile(re.escape(output.name + STAGING) + r"(\d+)-")
    for path in output.parent.glob(f"{output.name}{STAGING}*"):
        match = pattern.match(path.name)
        if match and not alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def current_umask() -> int:
    """The process's umask (reading it means setting it: set it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (this process counts as running)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["ContentError", "run_check", "staged_build", "swap", "tell"]
