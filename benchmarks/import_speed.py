"""Import speed: ``python benchmarks/import_speed.py [--logs 1000]``.

Writes N small real logs (copies of a 7 KB corpus log: TensorRT 8.5.2, a loaded engine's run on a Jetson
Orin), then times ``trtsweep import`` of them (process start-up included) against ``cp -r`` of the same
folder (the file-system floor) in the same run. Target (issue #13): 1,000 small logs in <= 2.5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(os.environ.get("TRTSWEEP_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus")
SOURCE = CORPUS / "files" / "lixiangyu__trt8.5.2_orin_loadEngine_shapes.log"


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logs", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3, help="repetitions; the best is reported")
    args = ap.parse_args()
    if not SOURCE.is_file():
        print(f"corpus log not found: {SOURCE} (set TRTSWEEP_CORPUS)")
        return 2
    with tempfile.TemporaryDirectory(prefix="trtsweep-import-") as tmp:
        logs = Path(tmp) / "logs"
        logs.mkdir()
        for i in range(args.logs):
            shutil.copyfile(SOURCE, logs / f"run{i:04d}.log")
        imports, copies = [], []
        for k in range(args.runs):
            copies.append(timed(["cp", "-r", str(logs), f"{tmp}/copy{k}"]))
            cli = [sys.executable, "-m", "trtsweep.cli", "import", str(logs), "-o", f"{tmp}/run{k}"]
            imports.append(timed(cli))
        best, floor = min(imports), min(copies)
    size = SOURCE.stat().st_size / 1024
    print(f"{args.logs} logs of {size:.1f} KiB, {os.cpu_count()} CPUs, best of {args.runs}:")
    print(f"  trtsweep import  {best:.2f} s  (all: {', '.join(f'{x:.2f}' for x in imports)})")
    print(f"  cp -r            {floor:.2f} s")
    verdict = "met" if best <= 2.5 else "missed"
    print(f"  ratio            {best / floor:.1f}x the copy; target <= 2.5 s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
