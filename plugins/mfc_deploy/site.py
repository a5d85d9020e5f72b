"""The built site that a deploy takes: checks and its list of files."""

from __future__ import annotations

from pathlib import Path

from .errors import DeployError


def site_files(output: Path) -> list[str]:
    """Paths of the files of a built site, refusing a folder that is not one."""
    if not (output / "index.html").is_file():
        raise DeployError(
            f"{output} holds no built site (no index.html): run `invoke publish`"
        )
    return sorted(
        p.relative_to(output).as_posix()
        for p in output.rglob("*")
        if p.is_file() or p.is_symlink()
    )
