"""Fault injection at scale: ``python benchmarks/fault_injection.py [--trials 50] [--rate 0.08]``.

Runs the trials of ``tests/fault_injection.py``: a two-GPU sweep (8 variants) through the trtexec double
with random ENOSPC write errors in step folders and results, and in half the trials a ``kill -9`` of
trtsweep at a random moment; then a clean resume. Prints how many trials ended consistent (exit 0/1, every
passed status with its record, results.csv equal to the records, no finished step run again).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fault_injection import trial  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--rate", type=float, default=0.08, help="probability that one write fails")
    ap.add_argument("--first-seed", type=int, default=1000)
    args = ap.parse_args()
    start = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="trtsweep-faults-") as tmp:
        for i in range(args.trials):
            seed = args.first_seed + i
            t = trial(Path(tmp) / str(seed), seed, args.rate)
            results.append(t)
            mark = "ok" if not t.problems else "INCONSISTENT: " + "; ".join(t.problems[:3])
            print(f"seed {seed}: first {'killed' if t.first_exit is None else 'exit ' + str(t.first_exit)}, "
                  f"resume exit {t.resume_exit}: {mark}", flush=True)
    bad = [t for t in results if t.problems]
    exits = Counter(("killed" if t.first_exit is None else t.first_exit, t.resume_exit) for t in results)
    print(f"\n{len(results)} trials in {time.monotonic() - start:.0f} s, write-error rate {args.rate}: "
          f"{len(results) - len(bad)} consistent, {len(bad)} inconsistent; "
          f"{sum(t.first_exit is None for t in results)} killed with -9")
    print("(first run, resume) exits: " + ", ".join(f"{k}: {n}" for k, n in sorted(exits.items(), key=str)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
