"""``python -m trtsweep.cli``."""

from trtsweep.cli import main

main()
