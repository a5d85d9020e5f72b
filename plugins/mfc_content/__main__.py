"""Command line: ``python -m mfc_content check|build`` (with plugins/ on the path).

The invoke tasks call the same functions in-process; this entry point lets
the test fixtures and scripts run the exact build path in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from .build import run_check, staged_build


def write_snapshot(path: str):
    """on_check for staged_build: what the preview needs of every item."""

    def write(report) -> None:
        items = [item.slim() for item in report.items]
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(items, f, ensure_ascii=False)
        os.replace(path + ".tmp", path)  # whole or not at all

    return write


def stop(signum, frame):
    """SIGTERM (the preview cancels an outdated build): clean up and go."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfc_content")
    parser.add_argument("command", choices=["check", "build"])
    parser.add_argument("-s", "--settings", default="pelicanconf.py")
    parser.add_argument("--content", help="content folder (default: PATH setting)")
    parser.add_argument("--output", help="output folder (default: OUTPUT_PATH)")
    parser.add_argument(
        "--snapshot", help="build: write the check's items here (JSON, preview)"
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        return 0 if run_check(args.settings, args.content) else 1
    signal.signal(signal.SIGTERM, stop)  # the staging folder is removed
    on_check = write_snapshot(args.snapshot) if args.snapshot else None
    return staged_build(args.settings, args.content, args.output, on_check=on_check)


if __name__ == "__main__":
    sys.exit(main())
