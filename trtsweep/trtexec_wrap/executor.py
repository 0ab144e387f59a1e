"""Steps -> GPUs: a local pool with one step per GPU at a time, resumable, interruptible.

:class:`Executor` is the interface a distributed backend (Ray, Slurm) implements next: it receives the
steps still to do and reports each finished one through a callback; the caller owns the run folder's
shared files (``results.*``). :class:`LocalExecutor` runs them here, each GPU pinned through
``CUDA_VISIBLE_DEVICES``. Run steps start as soon as their engine exists, on a GPU of the model that built
it. A failed build marks its runs skipped, with the reason; a finished step is never run twice.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from trtsweep import store
from trtsweep.trtexec_wrap.collect import collect
from trtsweep.trtexec_wrap.plan import Step
from trtsweep.trtexec_wrap.runner import StepOutcome, run_step

DONE_STATUSES = ("passed", "failed", "timeout", "crash", "incomplete", "skipped")


@dataclass(frozen=True)
class StepResult:
    step: Step
    status: str  # passed | failed | timeout | crash | incomplete | skipped
    reason: str | None
    gpu: str | None
    duration_s: float
    record: object | None = None  # RunRecord; typed loosely to keep this module free of parser imports


@dataclass(frozen=True)
class Gpu:
    """A GPU slot: the ``CUDA_VISIBLE_DEVICES`` value (None = inherit) and its model name if known."""

    device: str | None
    model: str = "unknown"


Callback = Callable[[StepResult], None]


class Executor(Protocol):
    """Runs steps and reports each as it finishes; must tolerate being interrupted at any point."""

    def execute(self, steps: Sequence[Step], on_done: Callback, on_start: Callable[[Step, Gpu], None]
                | None = None) -> None: ...


def is_complete(step: Step) -> bool:
    """Complete = a status file exists and the step was run with exactly this argv (else the spec changed)."""
    status = store.step_status(step.dir)
    if status is None or status.get("status") not in DONE_STATUSES:
        return False
    return tuple(status.get("argv") or ()) == step.argv


def _leads_session_in(pid: int, folder: Path) -> bool:
    """True when ``pid`` leads its own session and works in ``folder``: our child, even when a wrapper
    script exec'd the real trtexec (its command line then no longer names the step's argv[0])."""
    try:
        return os.getsid(pid) == pid and Path(os.readlink(f"/proc/{pid}/cwd")) == folder.resolve()
    except OSError:
        return False


def kill_orphan(step: Step) -> None:
    """A ``kill -9`` of trtsweep leaves its trtexec running in its own session: stop it before redoing."""
    pid_file = step.dir / "pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        cmdline = []
    if cmdline and (os.fsencode(step.argv[0]) in cmdline[:2] or _leads_session_in(pid, step.dir)):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    pid_file.unlink(missing_ok=True)


class LocalExecutor:
    """One worker thread per GPU; each runs one trtexec at a time."""

    def __init__(self, gpus: Sequence[Gpu], env: Mapping[str, str] | None = None,
                 runner: Callable[..., StepOutcome] = run_step) -> None:
        self.gpus = list(gpus) or [Gpu(None)]
        self.env = dict(os.environ if env is None else env)
        self.runner = runner
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._running: dict[int, int] = {}  # thread id -> child pid (group leader)

    # -- scheduling state, guarded by self._cv --
    def _setup(self, steps: Sequence[Step]) -> None:
        self._builds = [s for s in steps if s.kind == "build"]
        self._runs = [s for s in steps if s.kind == "run"]
        # Builds done before this invocation (resume): their runs are ready at once, on any GPU.
        pending = {s.id for s in self._builds}
        self._build_state: dict[str, tuple[str, str | None]] = {}
        for s in self._runs:
            if s.depends_on and s.depends_on not in pending and s.depends_on not in self._build_state:
                # runs/<variant>[/repeat-k]: the run folder is 2 levels up for repeat 0, 3 for the others.
                run_dir = s.dir.parents[1 if s.repeat == 0 else 2]
                status = store.step_status(store.engine_dir(run_dir, s.build_id))
                ok = status is not None and status.get("status") == "passed"
                self._build_state[s.depends_on] = ("passed", None) if ok else (
                    "failed", (status or {}).get("reason") or "engine build did not complete")

    def _next(self, gpu: Gpu) -> Step | None:
        """Ready runs first (their engine exists: GPU time is best spent measuring), then builds."""
        for i, s in enumerate(self._runs):
            state = self._build_state.get(s.depends_on or "")
            # An unknown model on either side cannot be told apart from the builder's: allowed both ways.
            if state and state[0] == "passed" and (state[1] in (None, gpu.model, "unknown")
                                                   or gpu.model == "unknown"):
                return self._runs.pop(i)
        if self._builds:
            return self._builds.pop(0)
        return None

    def _skip_dependents(self, build_step_id: str, build_id: str, reason: str, on_done: Callback) -> None:
        keep = []
        for s in self._runs:
            if s.depends_on == build_step_id:
                why = f"engine {build_id} {reason}"
                store.write_step(s.dir, None, "skipped", reason=why, argv=list(s.argv))
                on_done(StepResult(s, "skipped", why, None, 0.0))
            else:
                keep.append(s)
        self._runs = keep

    def _waiting_on_builds(self) -> bool:
        return any(self._build_state.get(s.depends_on or "") is None for s in self._runs)

    def _worker(self, gpu: Gpu, on_done: Callback, on_start: Callable[[Step, Gpu], None] | None) -> None:
        while not self._stop.is_set():
            with self._cv:
                step = self._next(gpu)
                while step is None and self._waiting_on_builds() and not self._stop.is_set():
                    self._cv.wait(timeout=0.5)
                    step = self._next(gpu)
                if step is None:
                    self._cv.notify_all()
                    return
            if on_start:
                on_start(step, gpu)
            result = self._run_one(step, gpu)
            with self._cv:
                if step.kind == "build":
                    ok = result.status == "passed"
                    state = ("passed", gpu.model) if ok else (result.status, result.reason)
                    self._build_state[step.id] = state
                    if result.status != "passed" and not self._stop.is_set():
                        self._skip_dependents(step.id, step.build_id, f"failed ({result.reason})", on_done)
                self._cv.notify_all()
            if result is not None and not self._stop.is_set():
                on_done(result)

    def _run_one(self, step: Step, gpu: Gpu) -> StepResult:
        kill_orphan(step)
        step.dir.mkdir(parents=True, exist_ok=True)
        (step.dir / store.STATUS_FILE).unlink(missing_ok=True)
        env = dict(self.env)
        if gpu.device is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpu.device
        store.atomic_write_json(step.dir / "cmd.json", {"argv": list(step.argv), "cwd": str(step.dir),
                                                        "env": {"CUDA_VISIBLE_DEVICES": gpu.device}})
        start = time.monotonic()
        outcome = self.runner(list(step.argv), step.log_path, env=env, cwd=str(step.dir),
                              timeout_s=step.timeout_s, on_start=self._register_child(step))
        self._running.pop(threading.get_ident(), None)
        if self._stop.is_set():
            # Interrupted: leave no status, so the next `trtsweep run` redoes this step.
            return StepResult(step, "interrupted", None, gpu.device, time.monotonic() - start)
        got = collect(step, outcome)
        store.write_step(step.dir, got.record, got.status, reason=got.reason, argv=list(step.argv),
                         gpu=gpu.device, gpu_model=gpu.model, duration_s=round(outcome.duration_s, 3))
        (step.dir / "pid").unlink(missing_ok=True)
        return StepResult(step, got.status, got.reason, gpu.device, outcome.duration_s, got.record)

    def _register_child(self, step: Step) -> Callable[[int], None]:
        def started(pid: int) -> None:
            self._running[threading.get_ident()] = pid
            (step.dir / "pid").write_text(str(pid))
            if self._stop.is_set():
                os.killpg(pid, signal.SIGKILL)
        return started

    def execute(self, steps: Sequence[Step], on_done: Callback,
                on_start: Callable[[Step, Gpu], None] | None = None) -> None:
        """Run ``steps`` (already filtered for resume); KeyboardInterrupt stops every child and re-raises."""
        self._setup(steps)
        # An earlier `trtsweep run` killed with -9 leaves its trtexec children running: stop them now, not
        # when their step comes up again, or they share the GPU with the steps measured until then.
        for s in steps:
            kill_orphan(s)
        # Runs whose engine failed in an earlier invocation (and were not marked skipped before it ended)
        # would otherwise never be picked nor reported: skip them now, with the build's reason.
        for dep, (state, reason) in list(self._build_state.items()):
            if state != "passed":
                build_id = dep.removeprefix("build/")
                self._skip_dependents(dep, build_id, f"failed ({reason})", on_done)
        threads = [threading.Thread(target=self._worker, args=(g, on_done, on_start), daemon=True,
                                    name=f"gpu-{g.device}") for g in self.gpus]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(timeout=0.2)
        except KeyboardInterrupt:
            self._stop.set()
            for pid in list(self._running.values()):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            for t in threads:
                t.join(timeout=10)
            raise
