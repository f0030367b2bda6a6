"""The command line, ``python -m geo``: one module per family of commands, French messages, no tracebacks.

``parser`` builds the argument parser and runs a command; ``output`` prints JSON or French lines; the
other modules each add their commands (``add_commands``).
"""

from geo.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
