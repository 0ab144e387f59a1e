"""The ``trtsweep`` command line: one module per command over the library (see ``docs/architecture.md``).

Importing this package registers every command on :data:`main` (the console script's entry point).
"""

from trtsweep.cli import diagnose, doctor, imports, inspect, parse, plan, report, run  # noqa: F401 (registers)
from trtsweep.cli.app import UserError, main

__all__ = ["UserError", "main"]
