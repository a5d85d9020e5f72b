"""`invoke livereload`: the editor's preview, the edited page first.

One long-lived process serves output/ (livereload's Tornado server, which
makes the browser reload) and watches content/, the theme, the plugins and
the settings for changes, with inotify (watchfiles) rather than by polling
every file.

On every change it runs the full staged build (build.py: check everything,
Pelican into a staging folder, swap; or, when only some items' text
changed, the fast rebuild of fast.py, which writes only their pages and
search parts) in a child process, and reloads the browser when it is
done. When the change is one news item or page that was already there, it
first renders just that page (quick.py) in a fork of this process, where
Pelican and the plugins are already imported, puts it in place in output/
and reloads the browser: the editor sees the new text at once, and the
whole site (lists, tags, search) seconds later.

- A file with a problem gets no quick page: its problems are printed as
  ``invoke check`` prints them, and output/ stays as it was (the full build
  would refuse the site for the same problems, so it is not run).
- New, deleted and renamed files, the contact block, the theme, plugins and
  settings, several files saved at once: the full build only.
- A change while a full build runs stops that build (its staging folder is
  removed) and starts again from the new state: output/ only ever holds a
  complete build, plus the quick pages made since. The stopped build's end
  is not waited for before the quick page is rendered, only before it is
  put in place; the next full build starts when it has ended.
- The quick check compares the file with the rest of the site as the last
  whole-site check saw it; until that check has seen every other change,
  there is no quick path.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from .build import load_settings, same_stream
from .quick import CONTENT_ERROR, WRITTEN, quick_candidate, render_one
from .site import Item, ignore_matcher

# The inotify watcher: act when this long (ms) has passed without another
# event, so an editor's save (often rename, write and close: system calls a
# fraction of a millisecond apart) is one change. watchfiles looks every
# STEP_MS and yields after a look that found nothing new, so the preview
# starts 1-2 steps after the save: 20-40 ms (its default step, 50, cost
# the editor 100-170 ms of every preview).
STEP_MS = 20
# What the preview's build runs (plugins/ on sys.path, see tasks.py).
BUILD_MODULE = "mfc_content"
IGNORED_NAMES = ("*.pyc", "*.pyo", "*.swp", "*.swx", "4913", ".#*")
# Seconds a build told to stop (SIGTERM) has before it is killed.
GRACE = 10


def preload(settings: dict) -> None:
    """Import what a quick render needs, once, in the long-lived process."""
    import markdown  # noqa: PLC0415
    import pelican.generators  # noqa: PLC0415
    import pelican.writers  # noqa: PLC0415, F401
    from pelican.plugins._utils import load_plugins  # noqa: PLC0415

    load_plugins(settings)  # imports them; registering is each build's
    extensions = settings.get("MARKDOWN", {}).get("extension_configs", {})
    markdown.Markdown(extensions=list(extensions))
    try:
        from babel import Locale  # noqa: PLC0415

        Locale.parse(settings.get("DEFAULT_LANG", "ru")).months  # noqa: B018
    except Exception:  # only a head start; the render loads what it needs
        pass


class Preview:
    """The state of the preview: what is built, what is running, what waits."""

    def __init__(self, settings_file: str, root: Path, out=None, err=None):
        self.root = root
        self.settings_file = str(Path(settings_file).resolve())
        self.settings = load_settings(self.settings_file)
        self.content = Path(self.settings["PATH"]).resolve()
        self.output = Path(self.settings["OUTPUT_PATH"]).resolve()
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.ignored = ignore_matcher(
            [*self.settings.get("IGNORE_FILES", []), *IGNORED_NAMES]
        )
        self.snapshot: dict[str, Item] | None = None
        self.dirty: set[Path] = set()  # changed since the snapshot's check
        self.pending: set[Path] = set()  # changed, not handled yet
        self.need_full = False
        self.quick: tuple[int, int, str] | None = None  # pid, pidfd, rel
        self.full: tuple[subprocess.Popen, int, Path] | None = None
        # A build told to stop that has not ended yet: process, pidfd, timer.
        self.stopping: tuple[subprocess.Popen, int, object] | None = None
        self.work = Path(tempfile.mkdtemp(prefix="mfc-preview-"))
        self.loop = None
        self.reload = lambda: None
        self.builds = 0
        preload(self.settings)

    # --- What to watch ------------------------------------------------------

    def watched(self) -> list[Path]:
        """What is watched: the site's sources, and the folder where a full
        build writes the check's snapshot (read as soon as it is there, so
        that it is not read on the editor's time: 10,000 items take 0.1 s)."""
        paths = [Path(self.settings_file), self.content, self.work]
        paths.append(Path(self.settings["THEME"]).resolve())
        paths += [(self.root / p).resolve() for p in self.settings["PLUGIN_PATHS"]]
        return [p for p in paths if p.exists()]

    def relevant(self, path: str) -> bool:
        parts = Path(path).parts
        if "__pycache__" in parts or ".git" in parts:
            return False
        name = parts[-1] if parts else ""
        return self.ignored(name) is None

    # --- Events (all on the server's IOLoop thread) ---------------------------

    def start(self, loop, reload) -> None:
        """Begin: the first full build."""
        self.loop, self.reload = loop, reload
        self.need_full = True
        self.step()

    def changed(self, paths: set[Path]) -> None:
        snapshots = {p for p in paths if p.parent == self.work}
        if self.full is not None and self.full[2] in snapshots:
            self.read_snapshot(self.full[2])  # the running build's check is done
        paths -= snapshots
        if not paths:
            return
        self.pending |= paths
        self.dirty |= paths
        self.cancel_full()
        self.step()

    def step(self) -> None:
        if self.quick is not None:
            return  # called again when it ends
        if self.pending:
            paths, self.pending = self.pending, set()
            self.need_full = True
            rel = self.quick_path(paths)
            if rel is not None:
                self.start_quick(rel)
                return
        if self.need_full and self.full is None and self.stopping is None:
            self.start_full()

    def quick_path(self, paths: set[Path]) -> str | None:
        """The content file to render first, when the quick path applies."""
        if self.snapshot is None or len(paths) != 1 or self.dirty != paths:
            return None
        if not self.output.is_dir():
            return None  # no good build yet: no page of one item on its own
        (path,) = paths
        if not path.is_file():
            return None  # deleted or renamed away
        rel = quick_candidate(self.content, self.settings, path)
        if rel is None or rel not in self.snapshot or not self.snapshot[rel].url:
            return None  # not an item, or a new one
        return rel

    # --- The quick page -----------------------------------------------------

    def start_quick(self, rel: str) -> None:
        self.flush()
        started = time.monotonic()
        stopping = self.stopping[1] if self.stopping else None
        # The child's garbage collector would touch every object of this
        # process, copying its memory page by page: they are frozen here,
        # and the child, short-lived, collects nothing.
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            gc.disable()
            self.quick_child(rel, stopping)  # never returns
        gc.unfreeze()
        fd = os.pidfd_open(pid)
        self.quick = (pid, fd, rel)
        self.loop.add_handler(fd, lambda *_: self.quick_done(started), self.loop.READ)

    def quick_child(self, rel: str, stopping: int | None) -> None:
        """In the forked process: render, then leave without any cleanup of
        the parent's (its server, threads and files are not ours). The page
        is put in place only once the build being stopped, if any (its
        pidfd: `stopping`), has ended: it could still swap in its output."""
        status = 3
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            out = _fresh_stream(1, self.out)
            err = out if same_stream(self.out, self.err) else _fresh_stream(2, self.err)
            sys.stdout, sys.stderr = out, err
            status = render_one(
                load_settings(self.settings_file),
                rel,
                self.snapshot,
                self.output,
                out=out,
                err=err,
                ready=lambda: ended(stopping, GRACE + 5),
            )
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(status)

    def quick_done(self, started: float) -> None:
        pid, fd, rel = self.quick
        self.loop.remove_handler(fd)
        os.close(fd)
        _, status = os.waitpid(pid, 0)
        self.quick = None
        code = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        if code == WRITTEN:
            self.say(
                f"Страница обновлена ({seconds:.1f} с): content/{rel} — весь сайт "
                "собирается, браузер обновится ещё раз."
            )
            self.reload()
        elif code == CONTENT_ERROR and not self.pending:
            # The whole-site check would stop at the same problems.
            self.need_full = False
            self.say("Исправьте файл и сохраните его снова.")
        self.step()

    # --- The full build -----------------------------------------------------

    def start_full(self) -> None:
        self.need_full = False
        self.builds += 1
        snapshot = self.work / f"check-{self.builds}.json"
        env = dict(os.environ)
        plugins = [
            str((self.root / p).resolve()) for p in self.settings["PLUGIN_PATHS"]
        ]
        env["PYTHONPATH"] = os.pathsep.join(
            [*plugins, *filter(None, [env.get("PYTHONPATH")])]
        )
        self.flush()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                BUILD_MODULE,
                "build",
                "--settings",
                self.settings_file,
                "--snapshot",
                str(snapshot),
            ],
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # cancelled as one group (with Pelican)
        )
        fd = os.pidfd_open(process.pid)
        self.full = (process, fd, snapshot)
        self.loop.add_handler(fd, lambda *_: self.full_done(), self.loop.READ)

    def full_done(self) -> None:
        process, fd, snapshot = self.full
        self.loop.remove_handler(fd)
        os.close(fd)
        code = process.wait()
        self.full = None
        self.read_snapshot(snapshot)
        if code == 0:
            self.reload()
        else:
            self.say("Исправьте файл и сохраните его снова.")
        self.step()

    def cancel_full(self) -> None:
        """Tell an outdated build to stop (output/ stays as it was), without
        waiting: its end is `stopped`, or it is killed after GRACE s."""
        if self.full is None:
            return
        process, fd, snapshot = self.full
        self.full = None
        self.loop.remove_handler(fd)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # it removes its staging folder
        timer = self.loop.call_later(GRACE, kill_group, process)
        self.stopping = (process, fd, timer)
        self.loop.add_handler(fd, lambda *_: self.stopped(), self.loop.READ)
        # Its check may have finished: then its view of the site is good.
        self.read_snapshot(snapshot)
        self.need_full = True
        self.say("Файлы изменились во время сборки — сайт будет собран заново.")

    def stopped(self) -> None:
        """The build told to stop has ended (it may have finished first)."""
        process, fd, timer = self.stopping
        self.loop.remove_handler(fd)
        self.loop.remove_timeout(timer)
        os.close(fd)
        self.stopping = None
        if process.wait() == 0:
            self.reload()
        self.step()

    def read_snapshot(self, path: Path) -> None:
        """The finished check's items: the quick path's view of the site."""
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # stopped before its check finished: keep the old one
        finally:
            path.unlink(missing_ok=True)
        self.snapshot = {d["rel"]: Item.from_slim(d) for d in items}
        self.dirty = set(self.pending)

    # --- Helpers ------------------------------------------------------------

    def say(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def flush(self) -> None:
        for stream in (self.out, self.err):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()

    def stop(self) -> None:
        """On exit: no build outlives the preview."""
        for build in (self.full, self.stopping):
            if build is not None:
                end_group(build[0])
        if self.quick is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.quick[0], signal.SIGTERM)
        for path in self.work.glob("*"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.work.rmdir()


def _fresh_stream(fd: int, like) -> io.TextIOWrapper:
    """A new text stream on `fd` (the parent's may be locked by a thread)."""
    return io.TextIOWrapper(
        io.FileIO(fd, "w", closefd=False),
        encoding=getattr(like, "encoding", None) or "utf-8",
        errors=getattr(like, "errors", None) or "strict",
        line_buffering=True,
    )


def ended(pidfd: int | None, timeout: float) -> bool:
    """Whether the process of `pidfd` (None: no process) has ended, waiting
    for it up to `timeout` seconds."""
    if pidfd is None:
        return True
    readable, _, _ = select.select([pidfd], [], [], timeout)
    return bool(readable)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL to a build that did not stop when told (not reaped yet)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def end_group(process: subprocess.Popen, grace: float = GRACE) -> None:
    """Stop a build started in a session of its own: SIGTERM (it removes its
    staging folder and stops its Pelican), SIGKILL if it has not ended
    within `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        kill_group(process)
        process.wait()


def serve(settings_file: str, host: str, port: int, root: Path) -> None:
    """Serve output/ with livereload, watch with inotify, rebuild as above."""
    import watchfiles  # noqa: PLC0415  (preview-only dependencies)
    from livereload import Server  # noqa: PLC0415
    from livereload.handlers import LiveReloadHandler  # noqa: PLC0415
    from livereload.watcher import Watcher  # noqa: PLC0415

    preview = Preview(settings_file, root)

    class InotifyWatcher(Watcher):
        """livereload's watcher slot: events from watchfiles, no polling."""

        def __init__(self) -> None:
            super().__init__()
            self._tasks = {"preview": {}}  # so livereload adds no watch of its own
            self.stopping = threading.Event()

        def examine(self):
            return None, None

        def start(self, callback) -> bool:
            from tornado.ioloop import IOLoop  # noqa: PLC0415

            loop = IOLoop.current()
            thread = threading.Thread(target=self.run, args=(loop,), daemon=True)
            thread.start()
            loop.add_callback(preview.start, loop, LiveReloadHandler.reload_waiters)
            return True  # livereload must not poll

        def run(self, loop) -> None:
            for changes in watchfiles.watch(
                *preview.watched(),
                watch_filter=lambda _, path: preview.relevant(path),
                step=STEP_MS,
                stop_event=self.stopping,
                raise_interrupt=False,
            ):
                paths = {Path(path) for _, path in changes}
                loop.add_callback(preview.changed, paths)

    def interrupt(signum, frame):
        raise KeyboardInterrupt  # livereload stops its server; builds stop below

    signal.signal(signal.SIGTERM, interrupt)
    server = Server(watcher=InotifyWatcher())
    try:
        server.serve(host=host, port=port, root=str(preview.output))
    finally:
        preview.stop()
