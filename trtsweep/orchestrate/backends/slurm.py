"""The Slurm backend: each unit of work (a build, or every repeat of one variant) is one Slurm job,
submitted through submitit; units ready at the same time go out as one job array.

The coordinator (this process, on a login node) submits, polls ``squeue``, and reports each finished step
through ``on_done`` from what the job left in the step folder (the shared filesystem holds the truth).
Runs are submitted once their engine is built, with the same partition/constraint as the build, so the
engine runs on the node type that built it. Which job owns which unit is kept in the job book
(``slurm_book``), so a coordinator killed with ``-9`` and started again reattaches to its jobs instead
of submitting them twice. A job that leaves the queue without finishing its steps (preempted, timed out,
``scancel``) is resubmitted with all of its steps, up to ``max_retries`` times; each attempt is recorded
in the book and in every step's ``slurm-attempts.json``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from trtsweep import store
from trtsweep.orchestrate.backends import Callback
from trtsweep.orchestrate.backends.local import earlier_build_states
from trtsweep.orchestrate.backends.slurm_book import JobBook, Unit, book_path, make_units
from trtsweep.orchestrate.backends.slurm_job import run_unit
from trtsweep.orchestrate.backends.slurm_options import (
    SlurmOptions,
    node_local_warning,
    time_limit_minutes,
    validate_options,
)
from trtsweep.orchestrate.backends.slurm_queue import ACTIVE_STATES, JobQueue, SlurmQueue, SlurmUnavailable
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.scheduler import BuildState
from trtsweep.orchestrate.step import Gpu, StepResult, is_complete, skip
from trtsweep.records import Status

__all__ = ["SlurmExecutor", "SlurmExtraMissing", "SlurmUnavailable", "make_slurm_executor"]

INSTALL_HINT = "pip install 'trtsweep[slurm]'"


class SlurmExtraMissing(RuntimeError):
    """submitit is not installed: one line naming the extra that brings it."""


class Submitter(Protocol):
    """Submits units as Slurm jobs (one array when several); returns their job ids, in order."""

    def submit(self, units: Sequence[Unit], args: Sequence[tuple[Any, ...]]) -> list[str]: ...


def _submitit() -> Any:
    try:
        import submitit
    except ImportError:
        raise SlurmExtraMissing(f"the Slurm executor needs submitit: {INSTALL_HINT}") from None
    return submitit


def job_name(run_dir: Path) -> str:
    """One name for every job of a run folder (squeue --name finds them; two sweeps never mix)."""
    return "trtsweep-" + hashlib.sha256(str(Path(run_dir).resolve()).encode()).hexdigest()[:10]


def sbatch_parameters(options: SlurmOptions, name: str) -> dict[str, Any]:
    """submitit's ``update_parameters`` for ``options`` (pure)."""
    params: dict[str, Any] = {"job_name": name, "time": time_limit_minutes(options.time_limit),
                              "gres": options.gres, "array_parallelism": options.max_parallel,
                              "nodes": 1, "ntasks_per_node": 1, "cpus_per_task": 1,
                              # trtexec reads nothing on stdin and writes its own logs: srun adds nothing.
                              "use_srun": False}
    for key, value in (("partition", options.partition), ("constraint", options.constraint),
                       ("account", options.account), ("qos", options.qos)):
        if value is not None:
            params[key] = value
    return params


class SubmititSubmitter:
    """Submits through submitit; its pickles and the jobs' stdout/stderr go to ``folder``."""

    def __init__(self, folder: Path, options: SlurmOptions, name: str) -> None:
        submitit = _submitit()
        self._executor = submitit.SlurmExecutor(folder=str(folder), python=sys.executable)
        self._executor.update_parameters(**sbatch_parameters(options, name))

    def submit(self, units: Sequence[Unit], args: Sequence[tuple[Any, ...]]) -> list[str]:
        columns = list(zip(*args, strict=True))
        try:
            jobs = self._executor.map_array(run_unit, *columns)
        except Exception as exc:  # noqa: BLE001 - submitit raises several kinds for a refused sbatch
            raise SlurmUnavailable(f"sbatch refused the jobs: {str(exc).strip().splitlines()[-1]}") from None
        return [str(j.job_id) for j in jobs]


def result_from_folder(step: Step) -> StepResult | None:
    """The step's result as its folder records it, or None when it did not finish (no current status)."""
    if not is_complete(step):
        return None
    status = store.step_status(step.dir) or {}
    try:
        record = store.load_record(step.dir)
    except store.RunFolderError:
        record = None
    return StepResult(step, str(status.get("status")), status.get("reason"), status.get("gpu"),
                      float(status.get("duration_s") or 0.0), record)


class SlurmExecutor:
    """Runs steps as Slurm jobs; ``execute`` returns when every step is reported (or KeyboardInterrupt:
    the jobs keep running, and the same command reattaches to them)."""

    def __init__(self, run_dir: Path, options: SlurmOptions | None = None,
                 env: Mapping[str, str] | None = None, queue: JobQueue | None = None,
                 submitter: Submitter | None = None, warn: Callable[[str], None] | None = None) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.options = options or SlurmOptions()
        self.env = dict(os.environ if env is None else env)
        self.queue: JobQueue = queue or SlurmQueue(self.env)
        self.name = job_name(self.run_dir)
        self._submitter = submitter
        self.warn = warn or (lambda line: print(line, file=sys.stderr))
        self.errors: list[str] = []  # trtsweep's own errors while handing results on

    def _get_submitter(self) -> Submitter:
        if self._submitter is None:
            self._submitter = SubmititSubmitter(self.run_dir / "slurm" / "jobs", self.options, self.name)
        return self._submitter

    def _report(self, on_done: Callback, result: StepResult) -> None:
        try:
            on_done(result)
        except Exception as exc:  # noqa: BLE001 - a display error must not strand the queued jobs
            self.errors.append(f"{result.step.id}: {type(exc).__name__}: {exc}")

    def execute(self, steps: Sequence[Step], on_done: Callback,
                on_start: Callable[[Step, Gpu], None] | None = None) -> None:
        """Submit ``steps`` (already filtered for resume), wait, report each; see the module docstring."""
        if not steps:
            return
        if self._submitter is None:
            _submitit()  # the missing extra is one clear line before anything is submitted
        self.queue.check()
        warning = node_local_warning(self.run_dir, self.env.get("TMPDIR"))
        if warning:
            self.warn(warning)
        _Coordinator(self, steps, on_done, on_start).run()


class _Coordinator:
    """One ``execute``: the waiting units, the units in flight, the job book."""

    def __init__(self, ex: SlurmExecutor, steps: Sequence[Step], on_done: Callback,
                 on_start: Callable[[Step, Gpu], None] | None) -> None:
        self.ex = ex
        self.on_done = on_done
        self.on_start = on_start
        self.book = JobBook.load(book_path(ex.run_dir))
        self.book.data["job_name"] = ex.name  # what `scancel --name=...` needs to stop them all
        self.builds: dict[str, BuildState] = dict(earlier_build_states(steps))
        self.waiting: list[Unit] = make_units(steps)
        self.flying: dict[str, tuple[Unit, str]] = {}  # unit key -> (unit, job id)
        self.started: set[str] = set()

    def run(self) -> None:
        self._reattach()
        while self.waiting or self.flying:
            self._skip_failed_builds()
            self._submit_ready()
            if not self.flying:
                if self.waiting:  # waiting on nothing that can finish: a bug, never a hang
                    for unit in self.waiting:
                        for s in unit.steps:
                            self.ex._report(self.on_done, skip(s, "its engine build was never scheduled"))
                    self.waiting = []
                break
            time.sleep(self.ex.options.poll_s)
            self._poll()

    def _reattach(self) -> None:
        """Adopt the book's jobs still in the queue for units this invocation must run."""
        owners = self.book.owners()
        if not owners:
            return
        active = self.ex.queue.active(self.ex.name)
        for unit in list(self.waiting):
            job = owners.get(unit.key)
            if job is not None and active.get(job) in ACTIVE_STATES:
                self.waiting.remove(unit)
                self.flying[unit.key] = (unit, job)
        # Jobs that ended while no coordinator watched: record how (a unit of them still to do is
        # resubmitted below; one whose steps all finished is simply done).
        stale = {k: j for k, j in owners.items()
                 if k not in self.flying and active.get(j) not in ACTIVE_STATES}
        for key, job in stale.items():
            self.book.ended(key, job, self.ex.queue.ended_state(job))
        if stale:
            self.book.save()

    def _ready(self, unit: Unit) -> bool:
        state = self.builds.get(unit.depends_on or "")
        return unit.depends_on is None or (state is not None and state.ok)

    def _skip_failed_builds(self) -> None:
        for unit in list(self.waiting):
            state = self.builds.get(unit.depends_on or "")
            if state is not None and not state.ok:
                self.waiting.remove(unit)
                for s in unit.steps:
                    self.ex._report(self.on_done, skip(s, f"engine {s.build_id} failed ({state.detail})"))

    def _submit_ready(self) -> None:
        room = self.ex.options.max_parallel - len(self.flying)
        ready = [u for u in self.waiting if self._ready(u)][:max(room, 0)]
        if not ready:
            return
        # Saved before sbatch: a job starting at once must not find its unit still owned by a dead job.
        self.book.save()
        args = [(u.key, u.steps, self.ex.env, str(self.book.path)) for u in ready]
        ids = self.ex._get_submitter().submit(ready, args)
        for unit, job in zip(ready, ids, strict=True):
            self.waiting.remove(unit)
            self.flying[unit.key] = (unit, job)
            self.book.submitted(unit.key, job, [s.id for s in unit.steps])
        self.book.save()

    def _poll(self) -> None:
        active = self.ex.queue.active(self.ex.name)
        changed = False
        for key, (unit, job) in list(self.flying.items()):
            state = active.get(job)
            if state in ACTIVE_STATES:
                if state == "RUNNING" and job not in self.started:
                    self.started.add(job)
                    self._started(unit, job)
                continue
            del self.flying[key]
            ended = self.ex.queue.ended_state(job)
            self.book.ended(key, job, ended)
            changed = True
            self._finished(unit, job, ended)
        if changed:
            self.book.save()

    def _started(self, unit: Unit, job: str) -> None:
        if self.on_start is None:
            return
        # The unit's steps run one after another in the job: its first one is what starts now. The GPU is
        # the node's, known only to the job (its status file records it).
        step = unit.steps[0]
        try:
            self.on_start(step, Gpu(None))
        except Exception as exc:  # noqa: BLE001 - progress display only
            self.ex.errors.append(f"{step.id}: {type(exc).__name__}: {exc}")

    def _finished(self, unit: Unit, job: str, state: str) -> None:
        results = [result_from_folder(s) for s in unit.steps]
        if all(r is not None for r in results):
            for r in results:
                assert r is not None
                if r.step.kind == "build":
                    ok = r.status == Status.PASSED
                    gpu_model = (store.step_status(r.step.dir) or {}).get("gpu_model")
                    self.builds[r.step.id] = BuildState(ok, gpu_model if ok else r.reason)
                self.ex._report(self.on_done, r)
            return
        retries = self.book.retries(unit.key)
        if retries <= self.ex.options.max_retries:
            # Every step of the unit again, in one job: a variant's repeats stay together on one node.
            self.waiting.insert(0, unit)
            return
        reason = (f"Slurm job {job} ended {state} without finishing this step, {retries} attempts "
                  "(see slurm/jobs.json and the job's log in slurm/jobs/)")
        for s, r in zip(unit.steps, results, strict=True):
            if r is None:
                try:
                    store.write_step(s.dir, None, Status.FAILED, reason=reason, argv=s.portable_argv)
                except OSError:
                    pass
                r = StepResult(s, Status.FAILED, reason, None, 0.0)
            if s.kind == "build":
                self.builds[s.id] = BuildState(r.status == Status.PASSED, r.reason)
            self.ex._report(self.on_done, r)


def make_slurm_executor(options: Mapping[str, Any] | None, run_dir: Path,
                        env: Mapping[str, str] | None = None) -> SlurmExecutor:
    """The backend registry's factory: ``options`` is the ``slurm:`` mapping (see ``docs/slurm.md``).

    Raises :class:`~trtsweep.orchestrate.backends.slurm_options.SlurmOptionsError` (a bad key),
    :class:`SlurmExtraMissing` (no submitit) or :class:`SlurmUnavailable` (no sbatch, or no controller):
    each one line, for the CLI's exit 2."""
    opts = validate_options(options)
    _submitit()
    executor = SlurmExecutor(run_dir, opts, env)
    executor.queue.check()
    return executor
