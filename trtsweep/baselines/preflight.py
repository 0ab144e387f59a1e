"""Check a spec's measured baselines before anything runs: the runner's ``--check`` in a subprocess.

The user's factory is imported, called and run once at the sweep's input shapes in a child process (the
same interpreter the BASELINE steps use), so importing torch or the user's code never touches the
``trtsweep run`` process itself. Each problem comes back as ``file:line:col: message`` at the spec key it
concerns; ``trtsweep run`` exits 2 on any of them, before the run folder is touched.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from trtsweep.baselines.folder import runner_argv
from trtsweep.sweeps.schema import Problem
from trtsweep.sweeps.spec import Spec

CHECK_TIMEOUT_S = 600.0


def preflight(spec: Spec, python: str = sys.executable, timeout_s: float = CHECK_TIMEOUT_S) -> list[Problem]:
    """Problems of the spec's measured baselines (none: it can be measured), one per framework at most."""
    mb = spec.baseline.measured if spec.baseline is not None else None
    if mb is None:
        return []
    problems: list[Problem] = []
    for framework in mb.frameworks():
        argv = [a for a in runner_argv(spec, mb, framework, min(mb.batches), Path("."), python)]
        argv = [*argv[:argv.index("--out")], "--check"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                                  stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            problems.append(_problem(spec, framework, f"the {framework} baseline's set-up check did not "
                                     f"finish within {timeout_s:g} s"))
            continue
        except OSError as exc:
            problems.append(_problem(spec, framework, f"cannot start {python}: {exc.strerror or exc}"))
            continue
        if done.returncode == 0:
            continue
        found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        found = [f for f in found if isinstance(f, dict) and "message" in f]
        if not found:
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            found = [{"key": framework, "message": f"the {framework} baseline's set-up check failed: {tail}"}]
        problems += [_problem(spec, str(f.get("key") or framework), str(f["message"])) for f in found]
    return problems


def _problem(spec: Spec, key: str, message: str) -> Problem:
    mb = spec.baseline.measured if spec.baseline is not None else None
    where = mb.mark(key) if mb is not None else None
    line, col = where if where is not None else (None, None)
    return Problem(str(spec.file), line, col, message)
