"""What the commands print: progress on stderr, a JSON document or French lines on stdout."""

from __future__ import annotations

import json
import sys


def progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr)


def print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def print_report(report: dict, lines: list[str], as_json: bool) -> None:
    """An import or update report: JSON with ``--json``, else its French description."""
    if as_json:
        print_json(report)
    else:
        print("\n".join(lines))
