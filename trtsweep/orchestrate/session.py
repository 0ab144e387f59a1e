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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.baselines import folder as baseline_folder
from trtsweep.orchestrate.backends import Executor
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
    results_error: str | None = None

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
        return (not self.interrupted and self.results_error is None
                and all(r.status == "passed" for r in self.results))


class RunFolderError(ValueError):
    """A run folder that cannot be used: not ours, not a folder, not writable."""


def claim_folder(run_dir: Path) -> None:
    """Refuse a path trtsweep must not write into: an existing file, or a non-empty folder without the
    files a run folder has (``spec.lock.json``/``meta.json``) -- e.g. ``-o .`` in a project."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"{run_dir}: exists and is not a folder; give -o a new or empty folder")
    if not run_dir.is_dir():
        return
    entries = [p.name for p in run_dir.iterdir() if p.name != LOCK_NAME]
    if entries and not ((run_dir / store.LOCK_FILE).is_file() or (run_dir / store.META_FILE).is_file()):
        shown = ", ".join(sorted(entries)[:3]) + (", ..." if len(entries) > 3 else "")
        raise RunFolderError(f"{run_dir}: not a trtsweep run folder (it holds {shown} but no "
                             f"{store.LOCK_FILE}); give -o a new or empty folder")


LOCK_NAME = ".lock"


@contextmanager
def folder_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's lock (``flock`` on ``RUN_DIR/.lock``) before anything else is written there.

    The lock dies with the process, so a ``kill -9`` never leaves a stale one behind."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fh = open(run_dir / LOCK_NAME, "a")  # noqa: SIM115 - held for the whole session
    except OSError as exc:
        raise RunFolderError(f"{run_dir}: cannot write there ({exc.strerror or exc})") from None
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise RunFolderBusy(f"{run_dir}: another trtsweep run is using this folder") from None
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def fresh_start(run_dir: Path) -> None:
    """``--fresh``: delete what the folder's own lock lists (its steps and derived files), nothing else."""
    try:
        lock = store.read_json(run_dir / store.LOCK_FILE)
        entries = [v for v in lock.get("variants", []) if isinstance(v, dict)]
    except (OSError, ValueError, AttributeError):
        entries = []
    for entry in entries:
        for sub, name in (("runs", entry.get("id")), ("engines", entry.get("build_id"))):
            if isinstance(name, str) and name and Path(name).name == name and name not in (".", ".."):
                shutil.rmtree(run_dir / sub / name, ignore_errors=True)
    for entry in (lock.get("baselines") if entries and isinstance(lock.get("baselines"), list) else []):
        name = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(name, str) and name and Path(name).name == name and name not in (".", ".."):
            shutil.rmtree(baseline_folder.baseline_dir(run_dir, name), ignore_errors=True)
    for cache in (run_dir / "engines").glob("timing*.cache"):  # one per target (plan.timing_cache)
        cache.unlink(missing_ok=True)
    for sub in ("engines", "runs", baseline_folder.FOLDER):
        try:
            (run_dir / sub).rmdir()  # only when nothing of anyone else is left in it
        except OSError:
            pass
    for name in ("results.csv", "results.parquet", store.LOCK_FILE, store.ENV_FILE, store.META_FILE,
                 SPEC_COPY):
        (run_dir / name).unlink(missing_ok=True)


SPEC_COPY = "sweep.yaml"


def prepare_folder(plan: Plan, spec_text: str, env: dict[str, Any]) -> None:
    """Write the spec as run (the text that was validated, read once), its lock and the environment
    (``orchestrate.host.capture_env``). Call it holding :func:`folder_lock`."""
    root = plan.run_dir
    store.atomic_write_text(root / SPEC_COPY, spec_text)
    store.atomic_write_json(root / store.LOCK_FILE, plan.lock)
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


class GpuChoiceError(ValueError):
    """``--gpus`` (or the spec's ``gpus``) names GPUs this host does not have, or one twice."""


def select_gpus(env: dict[str, Any], wanted: list[str] | None) -> list[Gpu]:
    """GPU slots: the ones asked for, checked against what nvidia-smi lists (index or UUID), else every
    GPU it lists, else one slot that inherits the caller's CUDA_VISIBLE_DEVICES.

    Raises :class:`GpuChoiceError` for an empty, negative, unknown or repeated entry: a step pinned to a
    GPU that is not there fails as "other", and one GPU given twice runs two timed steps on it at once."""
    listed = [g for g in env.get("gpus", []) if isinstance(g, dict)]
    by_index = {str(g.get("index")): str(g.get("name")) for g in listed}
    by_uuid = {str(g.get("uuid")): (str(g.get("index")), str(g.get("name"))) for g in listed if g.get("uuid")}
    if not wanted:
        return [Gpu(i, n) for i, n in by_index.items()] or [Gpu(None)]
    slots: list[Gpu] = []
    seen: dict[str, str] = {}
    for raw in wanted:
        item = raw.strip()
        if not item:
            raise GpuChoiceError(f"--gpus {','.join(wanted)}: an empty entry; give indices like 0,1")
        if item in by_uuid:
            index, name = by_uuid[item]
        elif item.isdigit():
            index, name = str(int(item)), by_index.get(str(int(item)), "unknown")
            if by_index and index not in by_index:
                raise GpuChoiceError(f"--gpus: GPU {item} is not on this host (nvidia-smi lists "
                                     f"{', '.join(sorted(by_index)) or 'none'})")
        else:
            known = f" or one of {', '.join(sorted(by_uuid))}" if by_uuid else ""
            raise GpuChoiceError(f"--gpus: '{item}' is not a GPU index (0, 1, ...){known}")
        if index in seen:
            raise GpuChoiceError(f"--gpus: GPU {index} is given twice ({seen[index]}, {item}): two timed "
                                 "steps would share it")
        seen[index] = item
        slots.append(Gpu(item, name))
    return slots


def pending_steps(plan: Plan, retry_failed: bool = False) -> list[Step]:
    """The plan's steps that must run: never completed, run with another argv, or (``retry_failed``)
    failed, timed out, crashed, cut short or skipped."""
    return [s for s in plan.steps if not is_complete(s, retry_failed)]


def folder_outcome(plan: Plan) -> Counter[str]:
    """How every variant the run folder lists stands now (not only those this invocation ran, e.g. the
    other slices of --only runs): passed, failed, skipped, missing, stale (measured with an argv the spec
    no longer gives) ..."""
    rs = store.load_result_set(plan.run_dir)
    out = Counter(str(v.status) for v in rs.variants)
    out.update(str(b.status) for b in baseline_folder.load_measured(rs.root, rs.lock))  # BASELINE steps
    return out


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
                on_start: Callable[[Step, Gpu], None] | None = None,
                retry_failed: bool = False) -> SessionSummary:
    """Run the plan's unfinished steps; results.* are rewritten as steps finish (throttled) and at the end.

    Call it holding :func:`folder_lock`."""
    todo = pending_steps(plan, retry_failed)
    summary = SessionSummary(plan.run_dir, len(plan.steps), len(plan.steps) - len(todo))
    guard = threading.Lock()
    writer = _ResultsWriter(plan.run_dir)
    writer.start()

    where: dict[str, int] = {}  # step id -> its place in summary.results

    def done(result: StepResult) -> None:
        with guard:
            # A step a backend reports again (re-run after its node was lost) counts once, as it ended
            # last: the summary and the exit status match the run folder.
            k = where.setdefault(result.step.id, len(summary.results))
            if k == len(summary.results):
                summary.results.append(result)
            else:
                summary.results[k] = result
        writer.mark_stale()
        if on_done:
            on_done(result)

    try:
        executor.execute(todo, done, on_start)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        writer.stop()
    try:
        store.write_results(store.load_result_set(plan.run_dir))
    except (OSError, store.RunFolderError) as exc:
        # results.* are derived from the records, which are safe: say so, do not lose the summary.
        summary.results_error = f"results.csv/.parquet not rewritten: {exc}"
    return summary
