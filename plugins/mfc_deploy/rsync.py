"""The rsync upload of one release: its command line and what it reports.

Pelican writes every output file anew, so modification times say nothing:
``--checksum`` compares contents, and ``--link-dest`` hard-links every file
identical to one in an earlier release instead of sending it. Permissions
are normalised (``--chmod=D755,F644``) so the web server can read them
whatever the build machine's umask, and times are not kept (``-rlpD``, not
``-a``), which would defeat the link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINK_DESTS = 20  # rsync's own limit
ITEM_RE = re.compile(r"^(?P<flags>[<>ch.*][fdLDS]\S*) +(?P<size>\d+) (?P<path>.+)$")
SENT_RE = re.compile(r"^Total bytes sent: (\d+)", re.M)


def rsync_argv(
    source: str,
    destination: str,
    ssh_command: list[str],
    link_dests: list[str],
    bwlimit: int | None = None,
) -> list[str]:
    """The rsync command that uploads `source` into an empty release folder."""
    argv = [
        "rsync",
        "-rlpD",
        "--checksum",
        "--chmod=D755,F644",
        "--itemize-changes",
        "--itemize-changes",  # twice: unchanged (linked) files are listed too
        "--out-format=%i %l %n",
        "--stats",
        "--no-human-readable",
        "--timeout=120",
        "-e",
        " ".join(_quote(a) for a in ssh_command),
    ]
    argv += [f"--link-dest={d}" for d in link_dests[:MAX_LINK_DESTS]]
    if bwlimit:
        argv.append(f"--bwlimit={int(bwlimit)}")
    return [*argv, source.rstrip("/") + "/", destination.rstrip("/") + "/"]


def _quote(arg: str) -> str:
    import shlex  # noqa: PLC0415

    return shlex.quote(arg)


@dataclass
class Changes:
    """What a new release changes, compared with the live one."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    bytes_sent: int = 0
    bytes_new: int = 0  # size of the added and changed files

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged "
            f"(hard-linked); {human_bytes(self.bytes_sent)} sent"
        )

    def details(self, limit: int = 15) -> list[str]:
        """Lines naming the changed files, at most `limit` of each kind."""
        lines = []
        for mark, paths in (
            ("+", self.added),
            ("~", self.changed),
            ("-", self.removed),
        ):
            for path in sorted(paths)[:limit]:
                lines.append(f"  {mark} {path}")
            if len(paths) > limit:
                lines.append(f"  {mark} … and {len(paths) - limit} more")
        return lines


def human_bytes(count: int) -> str:
    """Bytes for people.

    >>> human_bytes(1536)
    '1.5 KiB'
    """
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def parse_item(line: str) -> tuple[str, int, str] | None:
    """(flags, size, path) of one itemised file line, None for anything else."""
    match = ITEM_RE.match(line)
    if not match or match["flags"][1] == "d":
        return None
    return match["flags"], int(match["size"]), match["path"]


def classify(
    items: list[tuple[str, int, str]], previous: set[str], stats: str
) -> Changes:
    """Turn rsync's itemised lines into a Changes against the live release.

    A file rsync hard-linked (``hf``) or found identical (``.f``) is
    unchanged; one it sent is changed when the live release has that path,
    added when not. What the live release has and the upload lacks is removed.
    """
    changes = Changes()
    seen = set()
    for flags, size, path in items:
        seen.add(path)
        if flags[0] in "h.":
            changes.unchanged += 1
        elif path in previous:
            changes.changed.append(path)
            changes.bytes_new += size
        else:
            changes.added.append(path)
            changes.bytes_new += size
    changes.removed = sorted(previous - seen)
    match = SENT_RE.search(stats)
    changes.bytes_sent = int(match.group(1)) if match else 0
    return changes
