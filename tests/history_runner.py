#!/usr/bin/env python3
"""Test tool: ``trtsweep`` pausing inside ``history add``'s transaction (kill and concurrency tests).

    python tests/history_runner.py MODE MARKER trtsweep-args...

After the repeats, metrics and layers are written (inside the open transaction, before COMMIT) the
process writes MARKER and then ``hang``s (to be killed) or sleeps a second (``slow``: another writer
must wait for it). Nothing in the product knows about this.
"""

import sys
import time
from pathlib import Path


def main() -> None:
    mode, marker, args = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    from trtsweep.store import history

    original = history.History._insert_repeats

    def paused(self, cur, run, variant_pk, repeats):  # noqa: ANN001 - same signature as the original
        original(self, cur, run, variant_pk, repeats)
        marker.write_text("in transaction\n")
        time.sleep(3600 if mode == "hang" else 1.0)

    history.History._insert_repeats = paused
    from trtsweep.cli import main as cli

    sys.argv = ["trtsweep", *args]
    cli()


if __name__ == "__main__":
    main()
