"""The local backend: one worker thread per GPU of this host, each running one trtexec at a time.

Each GPU is pinned through ``CUDA_VISIBLE_DEVICES``; :class:`~trtsweep.orchestrate.scheduler.Scheduler`
decides what a free GPU runs next. A failed build marks its runs skipped, with the reason; a finished step
is never run twice. Ctrl-C (KeyboardInterrupt) kills every running trtexec and re-raises.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence

from trtsweep import store
from trtsweep.orchestrate.backends import Callback
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.scheduler import BuildState, Scheduler
from trtsweep.orchestrate.step import Gpu, Runner, StepResult, kill_orphan, run_one, skip
from trtsweep.records import Status
from trtsweep.trtexec.runner import run_step


def earlier_build_states(steps: Sequence[Step]) -> dict[str, BuildState]:
    """Outcome of the builds the runs depend on that were finished by an earlier invocation (resume)."""
    probe = Scheduler(steps)
    out: dict[str, BuildState] = {}
    for s in probe.runs:
        if s.depends_on in probe.earlier_build_ids() and s.depends_on not in out:
            # runs/<variant>[/repeat-k]: the run folder is 2 levels up for repeat 0, 3 for the others.
            run_dir = s.dir.parents[1 if s.repeat == 0 else 2]
            status = store.step_status(store.engine_dir(run_dir, s.build_id))
            ok = status is not None and status.get("status") == "passed"
            out[s.depends_on] = BuildState(True) if ok else BuildState(
                False, (status or {}).get("reason") or "engine build did not complete")
    return out


class LocalExecutor:
    """One worker thread per GPU; each runs one trtexec at a time."""

    def __init__(self, gpus: Sequence[Gpu], env: Mapping[str, str] | None = None,
                 runner: Runner = run_step) -> None:
        self.gpus = list(gpus) or [Gpu(None)]
        self.env = dict(os.environ if env is None else env)
        self.runner = runner
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._running: dict[int, int] = {}  # thread id -> child pid (group leader)
        self._sched = Scheduler([])
        self.errors: list[str] = []  # trtsweep's own errors while handing results on

    def _skip_dependents(self, build_step_id: str, build_id: str, reason: str, on_done: Callback) -> None:
        for s in self._sched.drop_dependents(build_step_id):
            self._report(on_done, skip(s, f"engine {build_id} {reason}"))

    def _worker(self, gpu: Gpu, on_done: Callback, on_start: Callable[[Step, Gpu], None] | None) -> None:
        while not self._stop.is_set():
            with self._cv:
                step = self._sched.next_for(gpu.model)
                while step is None and self._sched.waiting() and not self._stop.is_set():
                    self._cv.wait(timeout=0.5)
                    step = self._sched.next_for(gpu.model)
                if step is None:
                    self._cv.notify_all()
                    return
            try:
                if on_start:
                    on_start(step, gpu)
                result = run_one(step, gpu, self.env, self.runner, on_start=self._register_child,
                                 stopped=self._stop.is_set)
            except Exception as exc:  # noqa: BLE001 - a display callback must not strand the other GPUs
                result = StepResult(step, Status.FAILED, f"trtsweep error: {type(exc).__name__}: {exc}",
                                    gpu.device, 0.0)
            self._running.pop(threading.get_ident(), None)
            with self._cv:
                if step.kind == "build":
                    # Recorded whatever happened, so no worker waits for this engine forever.
                    ok = result.status == "passed"
                    dropped = self._sched.build_done(step, ok, gpu.model if ok else result.reason)
                    if not self._stop.is_set():
                        for s in dropped:
                            self._report(on_done, skip(s, f"engine {step.build_id} failed ({result.reason})"))
                self._cv.notify_all()
            if not self._stop.is_set():
                self._report(on_done, result)

    def _report(self, on_done: Callback, result: StepResult) -> None:
        """Hand a result on; an error in the caller's callback is kept for ``errors``, not raised here."""
        try:
            on_done(result)
        except Exception as exc:  # noqa: BLE001
            self.errors.append(f"{result.step.id}: {type(exc).__name__}: {exc}")

    def _register_child(self, pid: int) -> None:
        self._running[threading.get_ident()] = pid
        if self._stop.is_set():
            os.killpg(pid, signal.SIGKILL)

    def execute(self, steps: Sequence[Step], on_done: Callback,
                on_start: Callable[[Step, Gpu], None] | None = None) -> None:
        """Run ``steps`` (already filtered for resume); KeyboardInterrupt stops every child and re-raises."""
        self._sched = Scheduler(steps, earlier_build_states(steps))
        # An earlier `trtsweep run` killed with -9 leaves its trtexec children running: stop them now, not
        # when their step comes up again, or they share the GPU with the steps measured until then.
        for s in steps:
            kill_orphan(s)
        # Runs whose engine failed in an earlier invocation (and were not marked skipped before it ended)
        # would otherwise never be picked nor reported: skip them now, with the build's reason.
        for dep, reason in self._sched.failed_builds():
            self._skip_dependents(dep, dep.removeprefix("build/"), f"failed ({reason})", on_done)
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
