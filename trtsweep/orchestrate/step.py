"""What a backend does for one step: run its trtexec, turn the artifacts into a record, finish the folder.

Every backend (local threads today; Ray and Slurm workers later) calls :func:`run_one` for a step, so a
step folder looks the same whoever ran it: ``cmd.json`` first, the log as trtexec writes it, the record,
then the ``status`` file last (atomically). :func:`is_complete` is the resume test.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from trtsweep import store
from trtsweep.baselines import folder as baseline_folder
from trtsweep.orchestrate import telemetry as tm
from trtsweep.orchestrate.plan import Step
from trtsweep.records import STEP_STATUSES, RunRecord, Status
from trtsweep.store.runfolder import portable_argv
from trtsweep.trtexec.artifacts import collect
from trtsweep.trtexec.runner import StepOutcome, run_step


@dataclass(frozen=True)
class Gpu:
    """A GPU slot: the ``CUDA_VISIBLE_DEVICES`` value (None = inherit) and its model name if known."""

    device: str | None
    model: str = "unknown"


@dataclass(frozen=True)
class StepResult:
    step: Step
    status: str  # passed | failed | timeout | crash | incomplete | skipped | interrupted
    reason: str | None
    gpu: str | None
    duration_s: float
    record: RunRecord | None = None


Runner = Callable[..., StepOutcome]


RETRYABLE = (Status.FAILED, Status.TIMEOUT, Status.CRASH, Status.INCOMPLETE, Status.SKIPPED)


def is_complete(step: Step, retry_failed: bool = False) -> bool:
    """Complete = a status file exists and the step was run with this argv (else the spec changed).

    Argvs are compared with the run folder written as ``${RUN_DIR}``, so a moved folder keeps its steps.
    ``retry_failed`` counts failed, timed-out, crashed, cut-short and skipped steps as not complete."""
    status = store.step_status(step.dir)
    if status is None or status.get("status") not in STEP_STATUSES:
        return False
    if retry_failed and status.get("status") in RETRYABLE:
        return False
    done = portable_argv(status.get("argv") or (), step.run_dir)
    return done == step.portable_argv


def _leads_session_in(pid: int, folder: Path) -> bool:
    """True when ``pid`` leads its own session and works in ``folder``: our child, even when a wrapper
    script exec'd the real trtexec (its command line then no longer names the step's argv[0])."""
    try:
        return os.getsid(pid) == pid and Path(os.readlink(f"/proc/{pid}/cwd")) == folder.resolve()
    except OSError:
        return False


def kill_orphan(step: Step) -> None:
    """A ``kill -9`` of trtsweep leaves its trtexec running in its own session: stop it before redoing.

    Only a process that the step's own pid file names *and* that leads its own session in the step's own
    folder is killed: a pid reused by another program, or another sweep's trtexec (same binary, other
    folder), is left alone."""
    pid_file = step.dir / "pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    if pid > 1 and _leads_session_in(pid, step.dir):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    pid_file.unlink(missing_ok=True)


def skip(step: Step, reason: str) -> StepResult:
    """Finish a step that will not run (its engine failed): the status says why. A status that cannot be
    written (a full disk) leaves the step unfinished, so the next resume looks at it again."""
    try:
        store.write_step(step.dir, None, Status.SKIPPED, reason=reason, argv=step.portable_argv)
    except OSError as exc:
        reason = f"{reason} (not recorded: {exc.strerror or exc})"
    return StepResult(step, Status.SKIPPED, reason, None, 0.0)


def run_one(step: Step, gpu: Gpu, env: Mapping[str, str], runner: Runner = run_step,
            on_start: Callable[[int], None] | None = None,
            stopped: Callable[[], bool] = lambda: False,
            telemetry: tm.Telemetry | None = None) -> StepResult:
    """Run one step on ``gpu`` and write its folder; ``stopped()`` true afterwards = interrupted (no status
    is written, so the next ``trtsweep run`` redoes the step).

    Never raises for the step's sake: an error of trtsweep's own (a full disk, a folder it cannot write, a
    parser bug) ends the step as ``failed`` with the reason, recorded when the folder still takes it, so
    the sweep goes on (or stops cleanly) instead of hanging a worker. ``telemetry`` samples the step's GPU
    while trtexec runs (default: the process-wide NVML session, ``orchestrate.telemetry``)."""
    try:
        return _run_one(step, gpu, env, runner, on_start, stopped, telemetry or tm.default_telemetry())
    except Exception as exc:  # noqa: BLE001 - see the docstring: the sweep must see a result
        reason = f"trtsweep could not run this step: {type(exc).__name__}: {exc}"
        try:
            store.write_step(step.dir, None, Status.FAILED, reason=reason, argv=step.portable_argv,
                             gpu=gpu.device, error=True)
        except Exception:  # noqa: BLE001 - the folder may be what failed; the result still reports it
            pass
        return StepResult(step, Status.FAILED, reason, gpu.device, 0.0)


def _run_one(step: Step, gpu: Gpu, env: Mapping[str, str], runner: Runner,
             on_start: Callable[[int], None] | None, stopped: Callable[[], bool],
             telemetry: tm.Telemetry) -> StepResult:
    kill_orphan(step)
    step.dir.mkdir(parents=True, exist_ok=True)
    (step.dir / store.STATUS_FILE).unlink(missing_ok=True)
    child_env = dict(env)
    if gpu.device is not None:
        child_env["CUDA_VISIBLE_DEVICES"] = gpu.device
    store.atomic_write_json(step.dir / "cmd.json", {"argv": list(step.argv), "cwd": str(step.dir),
                                                    "env": {"CUDA_VISIBLE_DEVICES": gpu.device}})

    def started(pid: int) -> None:
        (step.dir / "pid").write_text(str(pid))
        if on_start is not None:
            on_start(pid)

    start = time.monotonic()
    with telemetry.watch(gpu.device, child_env) as watch:
        outcome = runner(list(step.argv), step.log_path, env=child_env, cwd=str(step.dir),
                         timeout_s=step.timeout_s, on_start=started)
    if stopped():
        return StepResult(step, "interrupted", None, gpu.device, time.monotonic() - start)
    engine = Path(step.outputs["engine"]) if step.outputs.get("engine") else None
    if step.kind == "baseline":
        got = baseline_folder.collect(step.dir, step.log_path, outcome, step.timeout_s)
    else:
        got = collect(step.kind, step.dir, step.log_path, outcome, step.timeout_s, engine)
    document = watch.document()  # written before the status, like every file of the step
    store.atomic_write_json(step.dir / tm.FILE, document, durable=False)
    if got.record is not None:
        got.record.telemetry = document["summary"]
    store.write_step(step.dir, got.record, got.status, reason=got.reason, argv=step.portable_argv,
                     gpu=gpu.device, gpu_model=gpu.model, duration_s=round(outcome.duration_s, 3))
    (step.dir / "pid").unlink(missing_ok=True)
    return StepResult(step, got.status, got.reason, gpu.device, outcome.duration_s, got.record)
