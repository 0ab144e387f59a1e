"""One ``trtsweep run``: prepare the run folder, run what is not done yet, keep the results table fresh.

The run folder is locked (``flock`` on ``RUN_DIR/.lock``) so two sweeps never write into it at once; the
lock dies with the process, so a ``kill -9`` never leaves a stale one behind.
"""

from __future__ import annotations

import fcntl
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.orchestrate.backends import Executor
from trtsweep.orchestrate.host import capture_env
from trtsweep.orchestrate.plan import Plan, Step
from trtsweep.orchestrate.step import Gpu, StepResult, is_complete
from trtsweep.store.meta import new_meta
from trtsweep.sweeps.expand import Variant

RESULTS_EVERY_S = 2.0
# The rewrite reads every record and re-encodes the table, so it grows with the sweep: it is also spaced
# by this many times its own last duration, which keeps it under ~10% of one core on long sweeps.
RESULTS_COST_FACTOR = 10.0


class RunFolderBusy(RuntimeError):
    pass


@dataclass
class SessionSummary:
    run_dir: Path
    total_steps: int
    skipped_done: int
    results: list[StepResult] = field(default_factory=list)
    interrupted: bool = False

    @property
    def by_status(self) -> Counter[str]:
        return Counter(r.status for r in self.results)

    @property
    def failures_by_class(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for r in self.results:
            if r.status in ("failed", "timeout", "crash"):
                rec = r.record
                out[getattr(rec, "failure", None) or r.status] += 1
        return out

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.status == "passed" for r in self.results)


class _Lock:
    def __init__(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.fh = open(run_dir / ".lock", "w")  # noqa: SIM115 - held for the whole session
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise RunFolderBusy(f"{run_dir}: another trtsweep run is using this folder") from None

    def release(self) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def prepare_folder(plan: Plan, sweep_file: Path, fresh: bool, models: dict[str, Path],
                   nvidia_smi: str | None = None) -> None:
    """Write the spec as run, its lock and the environment; ``fresh`` removes earlier results first."""
    root = plan.run_dir
    if fresh:
        for sub in ("engines", "runs", "report"):
            shutil.rmtree(root / sub, ignore_errors=True)
        for name in ("results.csv", "results.parquet", store.LOCK_FILE, store.ENV_FILE, store.META_FILE):
            (root / name).unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    store.atomic_write_bytes(root / "sweep.yaml", sweep_file.read_bytes())
    store.atomic_write_json(root / store.LOCK_FILE, plan.lock)
    env = capture_env(plan.trtexec, ".".join(map(str, plan.version)), models, nvidia_smi=nvidia_smi)
    store.atomic_write_json(root / store.ENV_FILE, env)
    if not (root / store.META_FILE).is_file():
        # The run's identity is fixed when the folder is first written; a resume keeps it.
        gpus = [{"index": g.get("index"), "name": g.get("name"), "uuid": g.get("uuid")}
                for g in env.get("gpus", []) if isinstance(g, dict)]
        meta = new_meta("run", host=env.get("host"), gpus=gpus, trtexec_path=plan.trtexec,
                        trtexec_version=".".join(map(str, plan.version)),
                        spec_sha256=plan.lock.get("spec_sha256"))
        store.atomic_write_json(root / store.META_FILE, meta.to_dict())


def lock_variants(run_dir: Path, selected: list[Variant], everything: list[Variant]) -> list[Variant]:
    """The selected variants plus those of the current spec the run folder already lists, so that running
    slices (--only) one after another into one folder accumulates them instead of hiding earlier ones."""
    lock = run_dir / store.LOCK_FILE
    try:
        earlier = {v["id"] for v in store.read_json(lock).get("variants", [])} if lock.is_file() else set()
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        earlier = set()
    chosen = {v.id for v in selected} | earlier
    return [v for v in everything if v.id in chosen]


def gpus_from_env(env: dict[str, Any], wanted: list[str] | None) -> list[Gpu]:
    """GPU slots: the ones asked for (with model names from nvidia-smi when known), else every GPU
    nvidia-smi lists, else one slot that inherits the caller's CUDA_VISIBLE_DEVICES."""
    names = {str(g.get("index")): str(g.get("name")) for g in env.get("gpus", []) if isinstance(g, dict)}
    if wanted:
        return [Gpu(str(d), names.get(str(d), "unknown")) for d in wanted]
    if names:
        return [Gpu(i, n) for i, n in names.items()]
    return [Gpu(None)]


def pending_steps(plan: Plan) -> list[Step]:
    return [s for s in plan.steps if not is_complete(s)]


class _ResultsWriter(threading.Thread):
    """Rewrites ``results.*`` in the background while steps finish.

    Worker threads only mark the table stale: the rewrite (every record re-read, pandas, parquet) takes
    from 0.1 s to seconds, and done inside a worker's callback it kept that GPU idle and, through the
    callback lock, every other GPU too.
    """

    def __init__(self, run_dir: Path) -> None:
        super().__init__(name="results-writer", daemon=True)
        self.run_dir = run_dir
        self._stale = threading.Event()
        self._halt = threading.Event()

    def mark_stale(self) -> None:
        self._stale.set()

    def run(self) -> None:
        wait_s = RESULTS_EVERY_S
        while not self._halt.wait(wait_s):
            if not self._stale.is_set():
                continue
            self._stale.clear()
            start = time.monotonic()
            try:
                store.write_results(store.load_result_set(self.run_dir))
            except Exception:  # a live preview must never stop the sweep; the final rewrite raises
                pass
            wait_s = max(RESULTS_EVERY_S, RESULTS_COST_FACTOR * (time.monotonic() - start))

    def stop(self) -> None:
        self._halt.set()
        self.join()


def run_session(plan: Plan, executor: Executor, on_done: Callable[[StepResult], None] | None = None,
                on_start: Callable[[Step, Gpu], None] | None = None) -> SessionSummary:
    """Run the plan's unfinished steps; results.* are rewritten as steps finish (throttled) and at the end."""
    lock = _Lock(plan.run_dir)
    try:
        todo = pending_steps(plan)
        summary = SessionSummary(plan.run_dir, len(plan.steps), len(plan.steps) - len(todo))
        guard = threading.Lock()
        writer = _ResultsWriter(plan.run_dir)
        writer.start()

        def done(result: StepResult) -> None:
            with guard:
                summary.results.append(result)
            writer.mark_stale()
            if on_done:
                on_done(result)

        try:
            executor.execute(todo, done, on_start)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            writer.stop()
        store.write_results(store.load_result_set(plan.run_dir))
        return summary
    finally:
        lock.release()
