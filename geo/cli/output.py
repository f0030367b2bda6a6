"""What the commands print: progress on stderr, a JSON document or French lines on stdout."""

from __future__ import annotations

import sys

from geo.formats.strict_json import json_text
from geo.sources.pipeline import Report

__all__ = ["json_text", "print_json", "print_report", "progress"]


def progress(fraction: float, message: str = "") -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr)


def print_json(obj) -> None:
    print(json_text(obj, indent=2, default=str))


def print_report(report: Report, as_json: bool) -> None:
    """An import or update report: its JSON form with ``--json``, else its French description."""
    if as_json:
        print_json(report.to_dict())
    else:
        print("\n".join(report.lines()))
