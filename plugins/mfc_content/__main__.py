"""Command line: ``python -m mfc_content check|build`` (with plugins/ on the path).

The invoke tasks call the same functions in-process; this entry point lets
the test fixtures and scripts run the exact build path in a subprocess.
"""

from __future__ import annotations

import argparse
import sys

from .build import run_check, staged_build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfc_content")
    parser.add_argument("command", choices=["check", "build"])
    parser.add_argument("-s", "--settings", default="pelicanconf.py")
    parser.add_argument("--content", help="content folder (default: PATH setting)")
    parser.add_argument("--output", help="output folder (default: OUTPUT_PATH)")
    args = parser.parse_args(argv)
    if args.command == "check":
        return 0 if run_check(args.settings, args.content) else 1
    return staged_build(args.settings, args.content, args.output)


if __name__ == "__main__":
    sys.exit(main())
