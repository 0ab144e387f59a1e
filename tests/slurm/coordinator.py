"""Test-only entry point: ``trtsweep run`` with the Slurm executor, in its own process (for kill -9).

``python tests/slurm/coordinator.py SWEEP RUN_DIR OPTIONS_JSON`` builds the plan with the same helpers
``trtsweep run`` uses (cli/run.py is the other developer's to change: the ``--executor slurm`` flag comes
with the backend registry), runs it with :class:`SlurmExecutor` through ``run_session``, and exits 0
when every step passed. The environment (PATH with the trtexec double, SLURM_CONF) is the caller's.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from trtsweep.cli.options import load_and_expand, plan_or_exit, trtexec_for
from trtsweep.orchestrate.backends.slurm import make_slurm_executor
from trtsweep.orchestrate.host import capture_env
from trtsweep.orchestrate.session import folder_lock, prepare_folder, run_session


def main(sweep: Path, run_dir: Path, options: dict) -> int:
    spec, variants = load_and_expand(sweep, ())
    trtexec, version = trtexec_for(spec, None, None, need_binary=True)
    plan = plan_or_exit(spec, variants, run_dir, trtexec, version)
    env = capture_env(plan.trtexec, ".".join(map(str, plan.version)),
                      {m.name: Path(m.onnx.path) for m in spec.models})
    executor = make_slurm_executor(options, run_dir, dict(os.environ))
    with folder_lock(run_dir):
        prepare_folder(plan, spec.text, env)
        summary = run_session(plan, executor, on_done=lambda r: print(f"done {r.step.id} {r.status}",
                                                                       flush=True))
    print(f"summary: {dict(summary.by_status)} already done: {summary.skipped_done}", flush=True)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])))
