"""Deploy, roll back and list releases on one or more web servers over SSH.

Several hosts are handled in two phases: the new release is uploaded to
every host (not live anywhere), and only when every upload has succeeded is
`current` switched on every host. An upload failure on any host removes the
new release everywhere and leaves every host on the release it served.
"""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from .config import SSHConfig
from .errors import DeployError
from .releases import new_release_id, release_time, rollback_target, to_prune
from .remote import HostState, Remote
from .rsync import Changes, classify, parse_item, rsync_argv
from .site import site_files

REDIRECTS_DIR = ".nginx/"  # the redirect map nginx reads (deploy/nginx)


class Progress:
    """Upload progress on one line of a terminal, or every quarter in a log."""

    def __init__(self, label: str, total: int, stream: TextIO):
        self.label, self.total, self.stream = label, max(total, 1), stream
        self.tty = stream.isatty()
        self.shown = -1

    def update(self, done: int) -> None:
        percent = min(100, done * 100 // self.total)
        if self.tty:
            self.stream.write(
                f"\r  {self.label}: {done}/{self.total} files ({percent}%)"
            )
            self.stream.flush()
        elif percent // 25 > self.shown:
            self.shown = percent // 25
            print(f"  {self.label}: {done}/{self.total} files", file=self.stream)

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")


def upload(
    remote: Remote,
    output: Path,
    release: str,
    *,
    state: HostState,
    previous: set[str],
    total: int,
) -> Changes:
    """rsync the site into incoming/<release>, linking against earlier releases."""
    path = remote.path
    # The live release first (most files match it), then the newest others.
    others = [r for r in reversed(state.releases) if r != state.live]
    bases = ([state.live] if state.live else []) + others
    argv = rsync_argv(
        str(output),
        remote.host.remote_path(f"{path}/incoming/{release}"),
        remote.ssh_command(),
        [f"{path}/releases/{r}" for r in bases],
        remote.config.bwlimit,
    )
    progress = Progress(str(remote), total, sys.stderr)
    items, tail = [], []
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    ) as process:
        for line in process.stdout:
            item = parse_item(line.rstrip("\n"))
            if item:
                items.append(item)
                progress.update(len(items))
            else:
                tail.append(line)
        err = process.stderr.read()
        code = process.wait()
    progress.done()
    if code != 0:
        raise DeployError(
            f"{remote}: upload failed (rsync exit status {code}): "
            f"{err.strip() or 'no message'}"
        )
    return classify(items, previous, "".join(tail))


def deploy(config: SSHConfig, output: Path, out: TextIO = sys.stdout) -> str:
    """Put the built site in `output` live on every host; the new release's name."""
    config.check()
    files = site_files(output)
    release = new_release_id()
    remotes = [Remote(host, config) for host in config.hosts]
    started = time.monotonic()
    print(f"Deploying {len(files)} files as release {release}", file=out)
    with ExitStack() as stack:
        for remote in remotes:
            stack.callback(remote.lock("deploy " + release).release)
        states, live_files = {}, {}
        for remote in remotes:
            states[remote], removed, live_files[remote] = remote.prepare()
            for name in removed:
                print(f"  {remote}: removed the cut-off upload {name}", file=out)

        # Phase 1: upload everywhere; nothing is live yet.
        changes: dict[Remote, Changes] = {}
        try:
            for remote in remotes:
                print(f"  {remote}: uploading", file=out)
                changes[remote] = upload(
                    remote,
                    output,
                    release,
                    state=states[remote],
                    previous=live_files[remote],
                    total=len(files),
                )
                remote.finalize(release, states[remote].live)
        except (DeployError, KeyboardInterrupt) as error:
            problems = _discard(remotes, release)
            raise DeployError(
                f"{error}\nNothing was switched: every host still serves the "
                "release it served before." + problems
            ) from error

        # Phase 2: switch everywhere.
        switch_all(remotes, release, states)

        # The release is live everywhere: what follows can only warn.
        for remote in remotes:
            _after_switch(remote, changes[remote], out)
            stale = to_prune([*states[remote].releases, release], release, config.keep)
            try:
                remote.remove(stale)
            except DeployError as error:
                print(f"  WARNING: {error} (the next deploy tries again)", file=out)
            else:
                if stale:
                    print(
                        f"  {remote}: removed old releases {', '.join(stale)}",
                        file=out,
                    )
    seconds = time.monotonic() - started
    for remote in remotes:
        print(f"{remote}: release {release} is live.", file=out)
        print(f"  {changes[remote].summary()}", file=out)
        for line in changes[remote].details():
            print(line, file=out)
    print(f"Deployed in {seconds:.1f} s.", file=out)
    return release


def _after_switch(remote: Remote, changes: Changes, out: TextIO) -> None:
    touched = changes.added + changes.changed + changes.removed
    if not any(p.startswith(REDIRECTS_DIR) for p in touched):
        return
    if remote.config.reload:
        try:
            remote.reload()
            print(f"  {remote}: redirects changed, web server reloaded", file=out)
        except DeployError as error:
            print(f"  WARNING: {error}", file=out)
    else:
        print(
            f"  {remote}: the redirect map changed: reload nginx there "
            "(or set `reload` in the deploy config to do it on every deploy)",
            file=out,
        )


def _discard(remotes: list[Remote], release: str) -> str:
    """Remove an unfinished release everywhere; a note on what could not be."""
    problems = []
    for remote in remotes:
        try:
            remote.remove([release])
        except DeployError as error:
            problems.append(
                f"\n  {error} (harmless: it was never live, and is pruned later)"
            )
    return "".join(problems)


def switch_all(
    remotes: list[Remote], release: str, states: dict[Remote, HostState]
) -> None:
    """Switch `current` on every host; on a failure, switch the others back."""
    switched = []
    for remote in remotes:
        try:
            remote.switch(release)
        except DeployError as error:
            notes = []
            for other in switched:
                before = states[other].live
                try:
                    if before:
                        other.switch(before)
                        notes.append(f"{other}: switched back to {before}")
                except DeployError as again:
                    notes.append(f"{other}: could NOT switch back: {again}")
            raise DeployError(
                f"{error}\n" + "\n".join(notes or ["no host was switched"])
            ) from error
        switched.append(remote)


def rollback(config: SSHConfig, to: str | None = None, out: TextIO = sys.stdout) -> str:
    """Switch every host to release `to`, or to the one before the live one."""
    config.check()
    remotes = [Remote(host, config) for host in config.hosts]
    with ExitStack() as stack:
        for remote in remotes:
            stack.callback(remote.lock("rollback").release)
        states = {remote: remote.state() for remote in remotes}
        first = states[remotes[0]]
        target = rollback_target(first.releases, first.live, to)
        for remote in remotes:
            if target not in states[remote].releases:
                raise DeployError(
                    f"{remote}: release {target} is not there; nothing was switched"
                )
        for remote in remotes:
            remote.carry(states[remote].live, target)
        switch_all(remotes, target, states)
        for remote in remotes:
            if config.reload:
                try:
                    remote.reload()
                except DeployError as error:
                    print(f"  WARNING: {error}", file=out)
            print(
                f"{remote}: release {target} is live (was {states[remote].live}).",
                file=out,
            )
    return target


def list_releases(config: SSHConfig, out: TextIO = sys.stdout) -> dict:
    """Print every host's releases, newest first, marking the live one."""
    config.check()
    result = {}
    for host in config.hosts:
        remote = Remote(host, config)
        state = remote.state()
        result[str(remote)] = state
        print(f"{remote}:{remote.path}", file=out)
        if not state.releases:
            print("  no releases yet", file=out)
        for name in reversed(state.releases):
            mark = "*" if name == state.live else " "
            when = release_time(name).strftime("%Y-%m-%d %H:%M:%S UTC")
            live = "  live" if name == state.live else ""
            print(f"  {mark} {name}  deployed {when}{live}", file=out)
        for name in state.incoming:
            print(
                f"    {name}  incomplete upload (the next deploy removes it)", file=out
            )
    return result
