#!/usr/bin/env python3
"""Test tool: the trtsweep CLI with write errors injected (ENOSPC), for the fault-injection tests.

    python tests/fault_runner.py SEED RATE trtsweep-args...

Each write trtsweep makes into a step folder (``engines/``, ``runs/``) or to ``results.*`` fails with
probability RATE (seeded), as a full disk would make it fail. Nothing in the product knows about this.
"""

import errno
import random
import sys
from pathlib import Path


def main() -> None:
    seed, rate, args = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
    from trtsweep.store import runfolder, table

    rng = random.Random(seed)
    original = runfolder.atomic_write_bytes

    def faulty(path: Path, data: bytes, durable: bool = True) -> None:
        parts = Path(path).parts
        inside = "engines" in parts or "runs" in parts or Path(path).name.startswith("results.")
        if inside and rng.random() < rate:
            raise OSError(errno.ENOSPC, "No space left on device (injected)", str(path))
        original(path, data, durable)

    runfolder.atomic_write_bytes = faulty  # atomic_write_text/json call it through the module
    table.atomic_write_bytes = faulty
    from trtsweep.cli import main as cli

    sys.argv = ["trtsweep", *args]
    cli()


if __name__ == "__main__":
    main()
