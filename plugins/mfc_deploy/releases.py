"""Release names and the choices made from a host's list of releases.

A release is named by the UTC time its deploy started, to the millisecond
(``20261127T101112.123Z``), so names sort in deploy order and say when.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .errors import DeployError

RELEASE_RE = re.compile(r"^\d{8}T\d{6}\.\d{3}Z$")
RELEASE_FORMAT = "%Y%m%dT%H%M%S"


def new_release_id(now: datetime | None = None) -> str:
    """A release name for a deploy starting now.

    >>> new_release_id(datetime(2026, 11, 27, 10, 11, 12, 123456, tzinfo=UTC))
    '20261127T101112.123Z'
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{now.strftime(RELEASE_FORMAT)}.{now.microsecond // 1000:03d}Z"


def is_release_id(name: str) -> bool:
    return bool(RELEASE_RE.match(name))


def release_time(release: str) -> datetime:
    """When a release was deployed, from its name."""
    return datetime.strptime(release[:15], RELEASE_FORMAT).replace(tzinfo=UTC)


def to_prune(releases: list[str], live: str | None, keep: int) -> list[str]:
    """Releases to delete: all but the `keep` newest, never the live one.

    >>> to_prune(["a1", "a2", "a3", "a4"], live="a2", keep=2)
    ['a1']
    """
    ordered = sorted(releases)
    kept = set(ordered[-keep:]) | ({live} if live else set())
    return [r for r in ordered if r not in kept]


def rollback_target(releases: list[str], live: str | None, wanted: str | None) -> str:
    """The release a rollback switches to: `wanted`, or the one before `live`."""
    ordered = sorted(releases)
    if wanted:
        if not is_release_id(wanted):
            raise DeployError(
                f"{wanted!r} is not a release name (like 20261127T101112.123Z): "
                "`invoke releases` lists them"
            )
        if wanted not in ordered:
            raise DeployError(
                f"release {wanted} does not exist: `invoke releases` lists them"
            )
        if wanted == live:
            raise DeployError(f"release {wanted} is already live")
        return wanted
    if live is None:
        raise DeployError("nothing is live yet: there is nothing to roll back")
    older = [r for r in ordered if r < live]
    if not older:
        raise DeployError(
            f"release {live} is the oldest one kept: there is no previous "
            "release to roll back to"
        )
    return older[-1]
