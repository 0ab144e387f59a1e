"""The ``trtsweep`` command line: one module per command over the library (see ``docs/architecture.md``).

Importing this package registers every command on :data:`main` (the console script's entry point).
"""

import trtsweep.cli.history  # noqa: F401 (registers)
from trtsweep.cli import (  # noqa: F401 (registers)
    compare,
    diagnose,
    doctor,
    imports,
    inspect,
    parse,
    plan,
    report,
    run,
)
from trtsweep.cli.app import UserError, main

__all__ = ["UserError", "main"]
