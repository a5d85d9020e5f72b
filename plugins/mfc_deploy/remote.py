"""One web server over SSH: its releases, the lock, the `current` switch.

The layout on each host, under the deploy path::

    releases/<id>/      complete releases; `current` points at one of them
    incoming/<id>/      an upload in progress: never served, and removed by
                        the next deploy if its upload was cut off
    current -> releases/<id>    switched atomically (rename of a symlink)
    releases/<id>/.nginx/carried  fingerprinted files hard-linked in from the
                        release that was live before (see CARRY_SCRIPT)
    .deploy.lock        flock(1) lock file, held while a deploy runs
    .deploy.owner       who holds the lock, for the message a second deploy gets

Every remote step is a short POSIX sh script run with ``sh -c`` over ssh;
the arguments are passed as positional parameters, never pasted into code.
"""

from __future__ import annotations

import getpass
import os
import shlex
import socket
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime

from .config import Host, SSHConfig
from .errors import DeployError, DeployLocked
from .releases import is_release_id

SSH_OPTIONS = [
    "-o", "BatchMode=yes",  # never ask for a password: agent or key only
    "-o", "ConnectTimeout=15",
    "-o", "ServerAliveInterval=15",
    "-o", "ServerAliveCountMax=4",
]  # fmt: skip

LOCK_SCRIPT = r"""
set -eu
p=$1
mkdir -p "$p/releases" "$p/incoming"
if ! command -v flock >/dev/null; then
    echo "flock (util-linux) is missing on this host" >&2; exit 2
fi
exec 9>>"$p/.deploy.lock"
if ! flock -n 9; then
    printf 'MFC-BUSY %s\n' "$(cat "$p/.deploy.owner" 2>/dev/null || echo 'unknown')"
    exit 0
fi
printf '%s\n' "$2" > "$p/.deploy.owner"
echo MFC-LOCKED
cat >/dev/null
rm -f "$p/.deploy.owner"
"""

STATE_SCRIPT = r"""
set -eu
p=$1
[ -d "$p" ] || exit 0
live=$(readlink "$p/current" 2>/dev/null || true)
echo "live ${live##*/}"
for d in "$p"/releases/*/; do [ -d "$d" ] && echo "release $(basename "$d")"; done
for d in "$p"/incoming/*/; do [ -d "$d" ] && echo "incoming $(basename "$d")"; done
exit 0
"""

# The release's own files: without those carried in from another release.
FILES_SCRIPT = r"""
set -eu
cd "$1/releases/$2"
carried=.nginx/carried
[ -f "$carried" ] || carried=/dev/null
find . \( -type f -o -type l \) -print | sed 's|^\./||' |
    grep -vxF -e .nginx/carried -f "$carried" || true
"""

# Zero downtime for assets: a page fetched from the live release just before
# the switch asks for its fingerprinted styles, scripts and Pagefind files
# just after it. So before `current` moves from $2 to $3, the live release's
# own fingerprinted files that $3 lacks are hard-linked into $3 (no copy, no
# space) and listed in $3/.nginx/carried; they are carried one switch only.
# nginx never serves .nginx/.
CARRY_SCRIPT = r"""
set -eu
cd "$1/releases"
live=$2 target=$3
[ -n "$live" ] && [ -d "$live" ] && [ "$live" != "$target" ] || exit 0
mkdir -p "$target/.nginx"
touch "$target/.nginx/carried"
count=0
( cd "$live" && find . -type f -regextype posix-extended \( \
    -regex '.*\.[0-9a-f]{8,64}\.[a-z0-9]+' -o -regex '\./pagefind/.*\.pf_[a-z]+' \) |
    sed 's|^\./||' ) > "$target/.nginx/carry.tmp"
while IFS= read -r f; do
    [ -e "$target/$f" ] && continue
    grep -qxF -e "$f" "$live/.nginx/carried" 2>/dev/null && continue
    case $f in */*) mkdir -p "$target/${f%/*}" ;; esac
    ln "$live/$f" "$target/$f"
    printf '%s\n' "$f" >> "$target/.nginx/carried"
    count=$((count + 1))
done < "$target/.nginx/carry.tmp"
rm -f "$target/.nginx/carry.tmp"
echo "$count"
"""

# Under the lock: remove uploads cut off by killed deploys, then report the
# state and the live release's own files, in one connection.
PREPARE_SCRIPT = r"""
set -eu
p=$1
for d in "$p"/incoming/*/; do
    [ -d "$d" ] || continue
    rm -rf "$d"
    echo "removed $(basename "$d")"
done
sh -c "$STATE" state "$p"
live=$(readlink "$p/current" 2>/dev/null || true)
[ -n "$live" ] || exit 0
sh -c "$FILES" files "$p" "${live##*/}" | sed 's/^/file /'
"""

FINALIZE_SCRIPT = r"""
set -eu
cd "$1"
[ -d "incoming/$2" ] || { echo "the upload incoming/$2 is missing" >&2; exit 3; }
chmod 755 "incoming/$2"
mv -T "incoming/$2" "releases/$2"
"""

# ln -s to a temporary name, then rename(2) over `current`: at every moment
# `current` is either the old or the new release, never missing.
SWITCH_SCRIPT = r"""
set -eu
cd "$1"
[ -d "releases/$2" ] || { echo "release $2 does not exist here" >&2; exit 3; }
ln -sfn "releases/$2" ".current.$2.tmp"
mv -T ".current.$2.tmp" current
readlink current
"""

REMOVE_SCRIPT = r"""
set -eu
p=$1; shift
live=$(readlink "$p/current" 2>/dev/null || true)
for id in "$@"; do
    if [ "$live" = "releases/$id" ]; then
        echo "refusing to remove the live release $id" >&2; exit 3
    fi
    rm -rf "$p/releases/$id" "$p/incoming/$id"
done
"""


@dataclass
class HostState:
    live: str | None
    releases: list[str]
    incoming: list[str]


class Remote:
    """Commands on one host, through the system's ssh client."""

    def __init__(self, host: Host, config: SSHConfig):
        self.host = host
        self.config = config
        self.path = host.path_or(config.path)

    def __str__(self) -> str:
        return str(self.host)

    def ssh_command(self) -> list[str]:
        """ssh and its options, without the destination (rsync's -e)."""
        argv = ["ssh", "-p", str(self.host.port), *SSH_OPTIONS]
        if self.config.key:
            key = os.path.expanduser(self.config.key)
            argv += ["-i", key, "-o", "IdentitiesOnly=yes"]
        if self.config.known_hosts:
            known = os.path.expanduser(self.config.known_hosts)
            argv += ["-o", f"UserKnownHostsFile={known}"]
            argv += ["-o", "StrictHostKeyChecking=yes"]
        return argv

    def _argv(self, script: str, *args: str) -> list[str]:
        # umask 022: folders this creates must be readable by the web server.
        remote = shlex.join(["sh", "-c", "umask 022\n" + script, "mfc-deploy", *args])
        return [*self.ssh_command(), self.host.destination, remote]

    def run(self, script: str, *args: str, what: str) -> str:
        """Run a script on the host; its stdout, or a DeployError saying `what`."""
        try:
            result = subprocess.run(
                self._argv(script, *args),
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise DeployError(f"{self}: {what} timed out") from error
        if result.returncode != 0:
            detail = result.stderr.strip() or f"exit status {result.returncode}"
            raise DeployError(f"{self}: {what} failed: {detail}")
        return result.stdout

    # --- queries ----------------------------------------------------------

    def state(self) -> HostState:
        return self._parse_state(
            self.run(STATE_SCRIPT, self.path, what="reading releases")
        )

    @staticmethod
    def _parse_state(out: str) -> HostState:
        live, releases, incoming = None, [], []
        for line in out.split("\n"):
            key, _, value = line.partition(" ")
            if key == "live" and value:
                live = value
            elif key == "release" and is_release_id(value):
                releases.append(value)
            elif key == "incoming" and value:
                incoming.append(value)
        return HostState(live, sorted(releases), sorted(incoming))

    # --- changes ------------------------------------------------------------

    def prepare(self) -> tuple[HostState, list[str], set[str]]:
        """Remove cut-off uploads; the state, their names, the live files."""
        script = (
            f"STATE={shlex.quote(STATE_SCRIPT)}\nFILES={shlex.quote(FILES_SCRIPT)}\n"
        )
        out = self.run(script + PREPARE_SCRIPT, self.path, what="preparing")
        removed, files, rest = [], set(), []
        for line in out.split("\n"):
            key, _, value = line.partition(" ")
            if key == "removed":
                removed.append(value)
            elif key == "file":
                files.add(value)
            else:
                rest.append(line)
        return self._parse_state("\n".join(rest)), removed, files

    def finalize(self, release: str, live: str | None) -> None:
        """Move the finished upload into releases/, with the live one's assets."""
        carry = f'sh -c {shlex.quote(CARRY_SCRIPT)} carry "$1" "$3" "$2" >/dev/null'
        self.run(
            FINALIZE_SCRIPT + carry + "\n",
            self.path,
            release,
            live or "",
            what="completing the upload",
        )

    def carry(self, live: str | None, target: str) -> int:
        """Hard-link the live release's fingerprinted files into `target`."""
        if not live:
            return 0
        out = self.run(CARRY_SCRIPT, self.path, live, target, what="keeping old assets")
        return int(out.strip() or 0)

    def switch(self, release: str) -> None:
        self.run(SWITCH_SCRIPT, self.path, release, what=f"switching to {release}")

    def remove(self, releases: list[str]) -> None:
        if releases:
            self.run(REMOVE_SCRIPT, self.path, *releases, what="removing releases")

    def reload(self) -> None:
        """Run the configured reload command (e.g. reload nginx)."""
        if self.config.reload:
            self.run(
                'exec sh -c "$1"',
                self.config.reload,
                what=f"reload ({self.config.reload})",
            )

    # --- the lock -----------------------------------------------------------

    def lock(self, action: str) -> HostLock:
        return HostLock(self, action).acquire()


class HostLock:
    """The deploy lock of one host, held by an open ssh session.

    The remote side holds flock(1) on .deploy.lock while its stdin is open,
    so the lock goes away with the deploy however it ends, killed included:
    there is never a stale lock to remove by hand.
    """

    def __init__(self, remote: Remote, action: str):
        self.remote = remote
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        self.owner = (
            f"{action} by {getpass.getuser()}@{socket.gethostname()} "
            f"(pid {os.getpid()}), started {started}"
        )
        self.process: subprocess.Popen | None = None

    def acquire(self) -> HostLock:
        remote = self.remote
        self.process = subprocess.Popen(
            remote._argv(LOCK_SCRIPT, remote.path, self.owner),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = self.process.stdout.readline().strip()
        if first == "MFC-LOCKED":
            return self
        _, err = self.process.communicate(timeout=30)
        if first.startswith("MFC-BUSY"):
            owner = first.removeprefix("MFC-BUSY").strip()
            raise DeployLocked(
                f"{remote}: another deploy is running there: {owner}. "
                "Nothing was changed. Wait until it finishes, then run this "
                "again (the lock goes away by itself when that deploy ends, "
                "even if it was killed)."
            )
        detail = err.strip() or f"ssh exit status {self.process.returncode}"
        raise DeployError(f"{remote}: cannot connect to take the deploy lock: {detail}")

    def release(self) -> None:
        if self.process is None:
            return
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            self.process.stdout.close()
            self.process.stderr.close()
            self.process = None
