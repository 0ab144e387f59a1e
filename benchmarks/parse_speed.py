"""Parse speed, memory and start-up of ``trtsweep parse`` in one run: ``python benchmarks/parse_speed.py``.

Three ~100 MB logs are built from real corpus logs, each one trtexec run with a real head (option echo,
device block) and a real tail (summary, status line); the middle is one kind of real line, repeated:

* verbose-heavy: the ``[V]`` lines of a verbose TensorRT 10.16.1 build (``hackcn__trt10.16.1_result-02.log``);
* trace-heavy: the per-iteration ``[I] Average on 10 runs - GPU latency: ...`` lines of a 10.16.1 run
  (``hackcn__trt10.16.1_result-03.log``, the run every shape is built around);
* summary-only: that run's performance-summary metric lines (``Latency: min = ...`` to ``Total GPU Compute
  Time: ...``), so every line is one the parser reads in full (without the ``Throughput`` line, which would
  start a new run).

On each, in the same run, these are timed as child processes, stdout written to a file (GNU grep stops at
the first match when its output is ``/dev/null``, so a benchmark that sends it there measures nothing):
``trtsweep parse --format json``; TREx's ``parse_trtexec_log.py`` (NVIDIA/TensorRT
``tools/experimental/trt-engine-explorer/utils/``) when ``--trex PATH`` or ``$TREX_PARSE_LOG`` names a local
copy, its two passes (``parse_build_log`` + ``parse_profiling_log``, what trtsweep reads in one); a bare
Python loop over the lines; and ``grep -c .``. Each is run ``--repeat`` times and the fastest run counts.

Then a 1 GB verbose log (time and peak RSS) and the wall time of ``trtsweep parse`` on a tiny log, with
what the interpreter and the imports cost of it.

Targets (issue #13): on each shape parse <= 3x the Python loop and <= 0.5x TREx; 1 GB verbose log < 4 s with
peak RSS < 200 MiB; a tiny log <= 80 ms wall.
Options: ``--size-mb N`` (default 100), ``--big-mb N`` (default 1024, 0 to skip), ``--repeat N`` (3),
``--tiny-runs N`` (15), ``--trex PATH``, ``--keep DIR`` to keep the generated logs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# The real corpus is read where it is (never shipped): $TRTSWEEP_CORPUS, else ../shared/corpus.
_CORPUS_DIR = os.environ.get("TRTSWEEP_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS = Path(_CORPUS_DIR) / "files"
VERBOSE_SOURCE = CORPUS / "hackcn__trt10.16.1_result-02.log"  # verbose FP16 build, TensorRT 10.16.1
RUN_SOURCE = CORPUS / "hackcn__trt10.16.1_result-03.log"  # verbose run: trace and performance summary
TINY_SOURCE = CORPUS / "idein__trt8.5.2_orin_nano_fp16_summary_tail.log"  # a 17-line summary tail

_METRIC_STARTS = ("Latency:", "End-to-End Host Latency:", "Enqueue Time:", "H2D Latency:",
                  "GPU Compute Time:", "D2H Latency:", "Total Host Walltime:", "Total GPU Compute Time:")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)


def _text(line: str) -> str:
    """A log line without its timestamp and tag."""
    return line.split("] ", 2)[-1] if line.startswith("[") else line


def _write(path: Path, head: list[str], block: list[str], tail: list[str], size_mb: int) -> int:
    """head + block repeated up to ``size_mb`` MiB + tail; returns the file size in bytes."""
    target = size_mb * 1024 * 1024
    chunk = "".join(block)
    if not chunk:
        sys.exit(f"no lines to repeat for {path.name}: has the corpus changed?")
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(head)
        written = sum(len(x) for x in head)
        while written < target:
            fh.write(chunk)
            written += len(chunk)
        fh.writelines(tail)
    return path.stat().st_size


def build_verbose(path: Path, size_mb: int) -> int:
    run = _lines(RUN_SOURCE)
    verbose = [ln for ln in _lines(VERBOSE_SOURCE) if "] [V] " in ln]
    cut = next(i for i, ln in enumerate(run) if "] [V] " in ln)
    return _write(path, run[:cut], verbose, run[cut:], size_mb)


def build_trace(path: Path, size_mb: int) -> int:
    run = _lines(RUN_SOURCE)
    trace = [i for i, ln in enumerate(run) if "] Average on " in ln]
    return _write(path, run[:trace[0]], [run[i] for i in trace], run[trace[-1] + 1:], size_mb)


def build_summary(path: Path, size_mb: int) -> int:
    run = _lines(RUN_SOURCE)
    metric = [i for i, ln in enumerate(run) if "] [I] " in ln and _text(ln).startswith(_METRIC_STARTS)]
    return _write(path, run[:metric[0]], [run[i] for i in metric], run[metric[-1] + 1:], size_mb)


SHAPES: list[tuple[str, Callable[[Path, int], int]]] = [
    ("verbose-heavy", build_verbose), ("trace-heavy", build_trace), ("summary-only", build_summary),
]

# The least any Python parser must do: start an interpreter and read every line once.
_PY_LOOP = "import sys\nn = 0\nfor _ in open(sys.argv[1], 'rb'): n += 1\nprint(n)"

# TREx's parser reads a plain file through trex.archiving.get_reader(None, name), i.e. open(name) and
# readlines(). That module imports tensorrt; where it cannot be imported, an equivalent reader stands in,
# so that TREx's own parsing code is what gets timed.
_TREX = r'''
import importlib.util, sys, types
parser_path, log, which = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    import trex.archiving  # noqa: F401
except Exception:
    class _Reader:
        def __init__(self, name): self.name = name
        def __enter__(self): self.fh = open(self.name); return self
        def readlines(self): return self.fh.readlines()
        def __exit__(self, *exc): self.fh.close()
    arch = types.ModuleType("trex.archiving")
    arch.EngineArchive = object
    arch.get_reader = lambda tea, name: _Reader(name)
    pkg = types.ModuleType("trex")
    pkg.archiving = arch
    sys.modules.update({"trex": pkg, "trex.archiving": arch})
spec = importlib.util.spec_from_file_location("parse_trtexec_log", parser_path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
out = mod.parse_build_log(log, None) if which == "build" else mod.parse_profiling_log(log, None)
print(sorted(out))
'''


def run_measured(argv: list[str], out_dir: Path) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of one child process; its stdout goes to a file, never /dev/null."""
    with open(out_dir / "child.out", "wb") as out:
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child: become the command
            try:
                os.dup2(out.fileno(), 1)
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = (out_dir / "child.out").read_text(errors="replace")[-500:]
        sys.exit(f"{' '.join(argv)} exited with {code}\n{err}")
    return elapsed, usage.ru_maxrss * 1024  # Linux reports KiB


def best(argv: list[str], out_dir: Path, repeat: int) -> tuple[float, int]:
    runs = [run_measured(argv, out_dir) for _ in range(repeat)]
    return min(t for t, _ in runs), max(r for _, r in runs)


def trex_parser(arg: str | None) -> Path | None:
    path = arg or os.environ.get("TREX_PARSE_LOG")
    if not path:
        return None
    p = Path(path)
    if p.is_dir():  # a TensorRT checkout or the trt-engine-explorer folder
        for cand in (p / "utils" / "parse_trtexec_log.py",
                     p / "tools/experimental/trt-engine-explorer/utils/parse_trtexec_log.py"):
            if cand.is_file():
                return cand
        return None
    return p if p.is_file() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--big-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tiny-runs", type=int, default=15)
    ap.add_argument("--trex", default=None, help="TREx's parse_trtexec_log.py (or a folder holding it)")
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="trtsweep-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    trtsweep = [py, "-m", "trtsweep.cli", "parse", "--format", "json"]
    trex = trex_parser(args.trex)
    print(f"python {sys.version.split()[0]} ({py}); {os.cpu_count()} CPUs; best of {args.repeat} runs each")
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        # An installed package has its bytecode cached; without the cache every start-up recompiles the
        # sources (tens of ms), which is not what a user's start-up costs.
        print("PYTHONDONTWRITEBYTECODE was set: unset for the child processes, so that they use bytecode "
              "caches as an installed package does")
    run_measured([*trtsweep, str(TINY_SOURCE)], workdir)  # warm-up: bytecode caches, file cache
    if trex is None:
        print("TREx: not available (give --trex PATH to its parse_trtexec_log.py, or set $TREX_PARSE_LOG); "
              "its columns are left out")
    else:
        print(f"TREx: {trex}")

    for name, build in SHAPES:
        log = workdir / f"{name}-{args.size_mb}mb.log"
        size = build(log, args.size_mb)
        grep_s, _ = best(["grep", "-c", ".", str(log)], workdir, args.repeat)
        loop_s, _ = best([py, "-c", _PY_LOOP, str(log)], workdir, args.repeat)
        parse_s, parse_rss = best([*trtsweep, str(log)], workdir, args.repeat)
        lines = (workdir / "child.out").read_text().count("\n")
        print(f"\n{name}: {size / 2**20:.0f} MiB")
        print(f"  grep -c .        : {grep_s:7.3f} s")
        print(f"  python line loop : {loop_s:7.3f} s")
        if trex is not None:
            b_s, _ = best([py, "-c", _TREX, str(trex), str(log), "build"], workdir, args.repeat)
            p_s, _ = best([py, "-c", _TREX, str(trex), str(log), "profiling"], workdir, args.repeat)
            print(f"  TREx             : {b_s + p_s:7.3f} s (parse_build_log {b_s:.3f} s + "
                  f"parse_profiling_log {p_s:.3f} s)")
        print(f"  trtsweep parse   : {parse_s:7.3f} s, peak RSS {parse_rss / 2**20:.0f} MiB, "
              f"{lines} lines of JSON")
        ratios = [f"{parse_s / loop_s:.2f}x the python loop (target <= 3x)", f"{parse_s / grep_s:.1f}x grep"]
        if trex is not None:
            ratios.append(f"{parse_s / (b_s + p_s):.2f}x TREx's two passes (target <= 0.5x), "
                          f"{parse_s / p_s:.2f}x its profiling pass alone")
        print("  ratios           : " + "; ".join(ratios))
        if not args.keep:
            log.unlink()

    if args.big_mb:
        big = workdir / f"verbose-{args.big_mb}mb.log"
        size = build_verbose(big, args.big_mb)
        parse_s, parse_rss = best([*trtsweep, str(big)], workdir, 1)
        loop_s, _ = best([py, "-c", _PY_LOOP, str(big)], workdir, 1)
        print(f"\nverbose-heavy {size / 2**20:.0f} MiB: trtsweep parse {parse_s:.3f} s (target < 4 s), "
              f"peak RSS {parse_rss / 2**20:.0f} MiB (target < 200 MiB); python line loop {loop_s:.3f} s")
        if not args.keep:
            big.unlink()

    startup(py, trtsweep, workdir, args.tiny_runs)


def startup(py: str, trtsweep: list[str], workdir: Path, runs: int) -> None:
    """Wall time of ``trtsweep parse`` on a tiny log, and what of it is the interpreter and the imports."""
    def median(argv: list[str]) -> float:
        return statistics.median(run_measured(argv, workdir)[0] for _ in range(runs))

    tiny = str(TINY_SOURCE)
    parse_s = median([*trtsweep, tiny])
    bare = median([py, "-c", "pass"])
    cli = median([py, "-c", "import trtsweep.cli"])
    lib = median([py, "-c", f"from trtsweep.parsers import parse_file; parse_file({tiny!r})"])
    print(f"\ntiny log ({TINY_SOURCE.name}), median of {runs} runs:")
    print(f"  trtsweep parse --format json : {parse_s * 1000:6.1f} ms wall (target <= 80 ms)")
    print(f"  python -c pass               : {bare * 1000:6.1f} ms (the interpreter alone)")
    print(f"  import trtsweep.cli          : {cli * 1000:6.1f} ms")
    print(f"  parse_file() via the library : {lib * 1000:6.1f} ms")
    res = subprocess.run([py, "-X", "importtime", *trtsweep[1:], tiny], capture_output=True, text=True,
                         check=False)
    top: list[tuple[int, str]] = []
    for line in res.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].startswith(" ") and not parts[2].startswith("  "):
            try:
                top.append((int(parts[1]), parts[2].strip()))
            except ValueError:
                continue
    top.sort(reverse=True)
    print("  largest top-level imports of that run (cumulative): "
          + ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in top[:8]))


if __name__ == "__main__":
    main()
