"""``python -m trtsweep``."""

from trtsweep.cli import main

main()
