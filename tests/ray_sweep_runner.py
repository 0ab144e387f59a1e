"""Run one sweep on the Ray backend in its own process and write what the executor saw to a JSON file.

Used by ``test_ray_backend``: the test process owns the cluster (it removes a node mid-sweep) while this
process is the coordinator. It is a process of its own because a Ray driver and pytest's output capture
in one process crash at interpreter exit (a segfault in Ray's threads).

    python tests/ray_sweep_runner.py SWEEP RUN_DIR TRTEXEC RAY_ADDRESS REPORT.json
"""

from __future__ import annotations

import faulthandler
import json
import logging
import signal
import sys
from pathlib import Path


def main(sweep: str, run_dir: str, trtexec: str, address: str, report: str) -> int:
    import ray

    faulthandler.register(signal.SIGUSR1)  # the test asks for the stacks before it gives up on a hang

    from trtsweep.orchestrate.backends import ExecutorOptions
    from trtsweep.orchestrate.backends.ray import make_ray_executor
    from trtsweep.orchestrate.plan import make_plan
    from trtsweep.orchestrate.session import prepare_folder, run_session
    from trtsweep.sweeps.expand import expand
    from trtsweep.sweeps.spec import load_spec
    from trtsweep.versions import parse_version

    spec = load_spec(sweep)
    out = Path(run_dir)
    plan = make_plan(spec, expand(spec), out, trtexec, parse_version("10.8.0"))
    out.mkdir(parents=True, exist_ok=True)
    prepare_folder(plan, spec.text, {})
    # The driver attaches to a raylet of its own IP: 127.0.0.1 keeps it off the node the test removes
    # (127.0.0.2), as a real coordinator on its own host is never on a worker that dies.
    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False, _node_ip_address="127.0.0.1")
    executor = make_ray_executor(spec, ExecutorOptions(run_dir=out, extra={"plan_steps": plan.steps}))
    summary = run_session(plan, executor)
    Path(report).write_text(json.dumps({
        "ok": summary.ok, "retries": executor.retries, "submitted": executor.submitted,
        "results": [[r.step.id, r.status, r.reason] for r in summary.results],
        "runs": [[s.id, s.variant_id, str(s.dir)] for s in plan.runs]}))
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
