"""Parse speed and memory on huge verbose logs: ``python benchmarks/parse_speed.py``.

Builds a >= 100 MB verbose trtexec log from a real corpus log (its verbose build section repeated, so it is
still one run with a real header and a real performance summary), then times ``trtsweep parse`` on it
against ``grep -c .`` on the same file in the same process run, and prints the ratio and the peak RSS of
the parse. Then the peak RSS on a 1 GB log built the same way.

Targets (issue #4): parse time <= 3x grep's time; peak RSS < 200 MB.
Options: ``--size-mb N`` for the first log (default 100), ``--big-mb N`` for the second (default 1024,
0 to skip), ``--keep DIR`` to keep the generated logs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# The real corpus is read where it is (never shipped): $TRTSWEEP_CORPUS, else ../shared/corpus.
_CORPUS_DIR = os.environ.get("TRTSWEEP_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS = Path(_CORPUS_DIR) / "files"
SOURCE = CORPUS / "hackcn__trt10.16.1_result-02.log"  # verbose FP16 build, TensorRT 10.16.1
RUN_SOURCE = CORPUS / "hackcn__trt10.16.1_result-03.log"  # verbose run with a performance summary


def build_log(path: Path, size_mb: int) -> int:
    """Write a one-run verbose log of at least ``size_mb`` MiB; returns its size in bytes."""
    build_lines = SOURCE.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    run_lines = RUN_SOURCE.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    verbose = [ln for ln in build_lines if "] [V] " in ln]
    head_end = next(i for i, ln in enumerate(run_lines) if "] [V] " in ln)
    target = size_mb * 1024 * 1024
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(run_lines[:head_end])
        block = "".join(verbose)
        written = sum(len(x) for x in run_lines[:head_end])
        while written < target:
            fh.write(block)
            written += len(block)
        fh.writelines(run_lines[head_end:])
    return path.stat().st_size


# The least any Python parser must do: start an interpreter and read every line once.
_PY_LOOP = "import sys\nn = 0\nfor _ in open(sys.argv[1], 'rb'): n += 1\nprint(n)"


def run_measured(argv: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of one child process, from its own rusage (wait4)."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: become the command
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execvp(argv[0], argv)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(argv)} exited with {code}")
    return elapsed, usage.ru_maxrss * 1024  # Linux reports KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--big-mb", type=int, default=1024)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="trtsweep-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    trtsweep = [sys.executable, "-m", "trtsweep.cli", "parse", "--format", "json"]

    log = workdir / f"verbose-{args.size_mb}mb.log"
    size = build_log(log, args.size_mb)
    grep_s, _ = run_measured(["grep", "-c", ".", str(log)])
    loop_s, _ = run_measured([sys.executable, "-c", _PY_LOOP, str(log)])
    parse_s, parse_rss = run_measured([*trtsweep, str(log)])
    print(f"log: {size / 2**20:.0f} MiB, one verbose TensorRT 10.16.1 run")
    print(f"grep -c .      : {grep_s:.3f} s (reference)")
    print(f"python loop    : {loop_s:.3f} s = {loop_s / grep_s:.2f}x grep "
          "(second reference: a Python process that only counts the lines)")
    print(f"trtsweep parse : {parse_s:.3f} s = {parse_s / grep_s:.2f}x grep (target <= 3x), "
          f"{parse_s / loop_s:.2f}x the Python loop")
    print(f"peak RSS parse : {parse_rss / 2**20:.0f} MiB (target < 200 MiB)")
    if not args.keep:
        log.unlink()

    if args.big_mb:
        big = workdir / f"verbose-{args.big_mb}mb.log"
        size = build_log(big, args.big_mb)
        grep_s, _ = run_measured(["grep", "-c", ".", str(big)])
        parse_s, parse_rss = run_measured([*trtsweep, str(big)])
        print(f"log: {size / 2**20:.0f} MiB")
        print(f"trtsweep parse : {parse_s:.3f} s = {parse_s / grep_s:.2f}x grep; "
              f"peak RSS {parse_rss / 2**20:.0f} MiB (target < 200 MiB)")
        if not args.keep:
            big.unlink()


if __name__ == "__main__":
    main()
