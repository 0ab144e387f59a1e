"""The Slurm backend without a cluster: its pure parts (options, queue parsing, units, job book) and the
coordinator's decisions against a fake queue and submitter (retries, failed builds, throttling,
reattach). The real-cluster tests are in test_slurm_e2e.py."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from trtsweep import store
from trtsweep.orchestrate.backends.slurm import SlurmExecutor, SlurmExtraMissing, make_slurm_executor
from trtsweep.orchestrate.backends.slurm_book import JobBook, Unit, book_path, make_units, wait_for_ownership
from trtsweep.orchestrate.backends.slurm_job import job_id_from_env
from trtsweep.orchestrate.backends.slurm_options import (
    SlurmOptions,
    SlurmOptionsError,
    node_local_warning,
    time_limit_minutes,
    validate_options,
)
from trtsweep.orchestrate.backends.slurm_queue import (
    GONE,
    SlurmUnavailable,
    parse_scontrol_state,
    parse_squeue,
)
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.step import StepResult

# --- options ---------------------------------------------------------------------------------


def test_options_defaults_and_every_key() -> None:
    assert validate_options(None) == SlurmOptions()
    opts = validate_options({"partition": "gpu", "gres": "gpu:h100:1", "constraint": "h100",
                             "time_limit": "2:00:00", "account": "proj", "qos": "high", "max_parallel": 4})
    assert (opts.partition, opts.gres, opts.constraint, opts.time_limit, opts.account, opts.qos,
            opts.max_parallel) == ("gpu", "gpu:h100:1", "h100", "2:00:00", "proj", "high", 4)
    assert validate_options({"time_limit": 30}).time_limit == "30"


@pytest.mark.parametrize(("raw", "named"), [
    ({"partiton": "gpu"}, "slurm.partiton: unknown key (known: partition,"),
    ({"max_parallel": 0}, "slurm.max_parallel: expected an integer >= 1"),
    ({"max_parallel": True}, "slurm.max_parallel"),
    ({"time_limit": "an hour"}, "slurm.time_limit: 'an hour' is not a Slurm time"),
    ({"gres": "gpu 1"}, "slurm.gres: 'gpu 1' contains white space"),
    ({"gres": "gpu::"}, "slurm.gres: 'gpu::' is not a Slurm GRES"),
    ({"partition": ""}, "slurm.partition: expected a non-empty string"),
    ({"account": 3}, "slurm.account: expected a non-empty string"),
])
def test_bad_options_name_the_key(raw: dict[str, Any], named: str) -> None:
    with pytest.raises(SlurmOptionsError) as err:
        validate_options(raw)
    assert str(err.value).startswith(named), str(err.value)


@pytest.mark.parametrize(("limit", "minutes"), [("30", 30), ("1:30", 2), ("01:00:00", 60), ("2-0", 2880),
                                                ("1-02:03", 1563), ("0:0:1", 1)])
def test_time_limit_minutes(limit: str, minutes: int) -> None:
    assert time_limit_minutes(limit) == minutes


def test_node_local_run_folder_warns_with_the_fix() -> None:
    warning = node_local_warning(Path("/tmp/runs/x"))
    assert warning and "/tmp" in warning and "shared filesystem" in warning and "-o" in warning
    assert node_local_warning(Path("/scratch/job42/run"), tmpdir="/scratch/job42") is not None
    assert node_local_warning(Path("/home/me/runs/x")) is None
    assert node_local_warning(Path("/tmpfoo/runs")) is None  # a prefix of the name is not the folder


# --- queue parsing, units, job book ------------------------------------------------------------

def test_parse_squeue_and_scontrol() -> None:
    assert parse_squeue("12_0|PENDING\n12_1|RUNNING\n13|completing\n\n") == {
        "12_0": "PENDING", "12_1": "RUNNING", "13": "COMPLETING"}
    line = "JobId=14 ArrayJobId=12 ArrayTaskId=2 JobName=trtsweep-x JobState=CANCELLED Reason=None"
    assert parse_scontrol_state(line) == "CANCELLED"
    assert parse_scontrol_state("") == GONE


def _steps(root: Path, builds: int = 2, variants_per_build: int = 2, repeats: int = 2) -> list[Step]:
    steps: list[Step] = []
    for b in range(builds):
        bid = f"b{b}"
        steps.append(Step(id=f"build/{bid}", kind="build", dir=root / "engines" / bid,
                          argv=("trtexec", f"--saveEngine={root}/engines/{bid}/engine.plan"), build_id=bid,
                          timeout_s=60, run_dir=root))
    for r in range(repeats):
        for b in range(builds):
            for v in range(variants_per_build):
                vid = f"v{b}{v}"
                sdir = store.variant_dir(root, vid, r)
                steps.append(Step(id=f"run/{vid}" + (f"/repeat-{r}" if r else ""), kind="run", dir=sdir,
                                  argv=("trtexec", f"--loadEngine={root}/engines/b{b}/engine.plan",
                                        f"--exportTimes={sdir}/times.json"),
                                  build_id=f"b{b}", timeout_s=60, variant_id=vid, repeat=r,
                                  depends_on=f"build/b{b}", run_dir=root))
    return steps


def test_units_group_a_variants_repeats_and_keep_builds_alone(tmp_path: Path) -> None:
    units = make_units(_steps(tmp_path))
    assert [u.key for u in units] == ["build/b0", "build/b1", "variant/v00", "variant/v01", "variant/v10",
                                      "variant/v11"]
    v00 = units[2]
    assert [s.repeat for s in v00.steps] == [0, 1] and v00.depends_on == "build/b0"


def test_job_book_round_trip_retries_and_ownership(tmp_path: Path) -> None:
    book = JobBook(book_path(tmp_path))
    book.submitted("variant/v", "5_1", ["run/v"])
    book.save()
    again = JobBook.load(book.path)
    assert again.owner("variant/v") == "5_1" and again.owners() == {"variant/v": "5_1"}
    again.ended("variant/v", "5_1", "PREEMPTED")
    assert again.owner("variant/v") is None and again.retries("variant/v") == 1
    again.save()
    # On the node: a job the book does not name (another owns the unit) runs nothing.
    again.submitted("variant/v", "9", ["run/v"])
    again.save()
    assert wait_for_ownership(book.path, "variant/v", "9", timeout_s=0)
    assert not wait_for_ownership(book.path, "variant/v", "5_1", timeout_s=5)
    assert not wait_for_ownership(book.path, "variant/other", "9", timeout_s=0.1, every_s=0.05)
    assert JobBook.load(tmp_path / "absent.json").owners() == {}


def test_job_id_from_env() -> None:
    array_task = {"SLURM_JOB_ID": "14", "SLURM_ARRAY_JOB_ID": "12", "SLURM_ARRAY_TASK_ID": "2"}
    assert job_id_from_env(array_task) == "12_2"
    assert job_id_from_env({"SLURM_JOB_ID": "14"}) == "14"
    assert job_id_from_env({}) is None


# --- the coordinator against a fake Slurm -------------------------------------------------------

Behaviour = Callable[[Unit, int], str]  # (unit, attempt number from 1) -> the state the job ends in


def finish(unit: Unit, status: str = "passed", gpu_model: str = "H100") -> None:
    """What a job leaves on the shared filesystem for its unit: every step's status, written last."""
    for s in unit.steps:
        s.dir.mkdir(parents=True, exist_ok=True)
        store.write_step(s.dir, None, status, argv=s.portable_argv, gpu="0", gpu_model=gpu_model)


class FakeSlurm:
    """Queue and submitter in one: a submitted job runs (``behave``) at the next poll and leaves the queue."""

    def __init__(self, behave: Behaviour, active: dict[str, str] | None = None) -> None:
        self.behave = behave
        self.queue: dict[str, str] = dict(active or {})
        self.units: dict[str, Unit] = {}
        self.ended: dict[str, str] = {}
        self.attempts: dict[str, int] = {}
        self.batches: list[list[str]] = []
        self.max_in_queue = 0
        self._next = 100

    def check(self) -> None:
        return None

    def submit(self, units: Sequence[Unit], args: Sequence[tuple[Any, ...]]) -> list[str]:
        ids = [f"{self._next}_{i}" if len(units) > 1 else str(self._next) for i in range(len(units))]
        self._next += 1
        for job, unit in zip(ids, units, strict=True):
            self.queue[job] = "PENDING"
            self.units[job] = unit
        self.batches.append([u.key for u in units])
        self.max_in_queue = max(self.max_in_queue, len(self.queue))
        return ids

    def active(self, job_name: str) -> dict[str, str]:
        snapshot = dict(self.queue)
        for job in list(self.queue):  # every queued job runs to its end by the next poll
            unit = self.units.get(job)
            if unit is not None:
                self.attempts[unit.key] = self.attempts.get(unit.key, 0) + 1
                self.ended[job] = self.behave(unit, self.attempts[unit.key])
            del self.queue[job]
        return snapshot  # seen once more as it was; gone (ended) at the next poll

    def ended_state(self, job_id: str) -> str:
        return self.ended.get(job_id, GONE)

    def cancel(self, job_ids: Any) -> None:
        return None


def _execute(root: Path, steps: list[Step], fake: FakeSlurm, **options: Any) -> list[StepResult]:
    done: list[StepResult] = []
    ex = SlurmExecutor(root, SlurmOptions(poll_s=0.01, **options), env={}, queue=fake,
                       submitter=fake, warn=lambda line: None)
    ex.execute(steps, done.append)
    assert not ex.errors
    return done


def test_all_pass_each_step_reported_once_builds_before_their_runs(tmp_path: Path) -> None:
    def ok(unit: Unit, attempt: int) -> str:
        finish(unit)
        return "COMPLETED"

    fake = FakeSlurm(ok)
    steps = _steps(tmp_path)
    done = _execute(tmp_path, steps, fake, max_parallel=8)
    assert sorted(r.step.id for r in done) == sorted(s.id for s in steps)
    assert {r.status for r in done} == {"passed"}
    # Both builds went out as one array; the runs only after their engine was built.
    assert fake.batches[0] == ["build/b0", "build/b1"]
    assert all(k.startswith("variant/") for batch in fake.batches[1:] for k in batch)
    book = JobBook.load(book_path(tmp_path))
    assert all(len(u["attempts"]) == 1 for u in book.data["units"].values())


def test_a_preempted_job_is_resubmitted_with_all_its_repeats_and_the_retry_recorded(tmp_path: Path) -> None:
    def preempt_v00_once(unit: Unit, attempt: int) -> str:
        if unit.key == "variant/v00" and attempt == 1:
            finish(Unit(unit.key, unit.steps[:1]))  # repeat 0 finished, then the job was preempted
            return "PREEMPTED"
        finish(unit)
        return "COMPLETED"

    fake = FakeSlurm(preempt_v00_once)
    steps = _steps(tmp_path)
    done = _execute(tmp_path, steps, fake)
    assert sorted(r.step.id for r in done) == sorted(s.id for s in steps)  # each reported once
    assert fake.attempts["variant/v00"] == 2
    resubmitted = [b for b in fake.batches if "variant/v00" in b]
    assert len(resubmitted) == 2
    attempts = JobBook.load(book_path(tmp_path)).data["units"]["variant/v00"]["attempts"]
    assert [a["ended"] for a in attempts] == ["PREEMPTED", "COMPLETED"]


def test_a_job_lost_every_time_fails_its_steps_after_max_retries(tmp_path: Path) -> None:
    def time_out_v01(unit: Unit, attempt: int) -> str:
        if unit.key == "variant/v01":
            return "TIMEOUT"
        finish(unit)
        return "COMPLETED"

    fake = FakeSlurm(time_out_v01)
    done = _execute(tmp_path, _steps(tmp_path), fake, max_retries=1)
    assert fake.attempts["variant/v01"] == 2  # the first try and one retry
    lost = [r for r in done if r.step.variant_id == "v01"]
    assert len(lost) == 2 and {r.status for r in lost} == {"failed"}
    assert all("TIMEOUT" in (r.reason or "") for r in lost)
    # Recorded in the folder, so the run folder says failed (and --retry-failed tries again).
    assert store.step_status(store.variant_dir(tmp_path, "v01"))["status"] == "failed"


def test_a_failed_build_skips_its_runs_without_submitting_them(tmp_path: Path) -> None:
    def fail_b1(unit: Unit, attempt: int) -> str:
        finish(unit, "failed" if unit.key == "build/b1" else "passed")
        return "COMPLETED"

    fake = FakeSlurm(fail_b1)
    done = _execute(tmp_path, _steps(tmp_path), fake)
    by_id = {r.step.id: r.status for r in done}
    assert by_id["build/b1"] == "failed"
    assert {by_id[k] for k in by_id if k.startswith(("run/v10", "run/v11"))} == {"skipped"}
    assert not any(k.startswith("variant/v1") for batch in fake.batches for k in batch)


def test_max_parallel_bounds_the_jobs_in_the_queue(tmp_path: Path) -> None:
    def ok(unit: Unit, attempt: int) -> str:
        finish(unit)
        return "COMPLETED"

    fake = FakeSlurm(ok)
    _execute(tmp_path, _steps(tmp_path, builds=3, variants_per_build=3), fake, max_parallel=2)
    assert fake.max_in_queue == 2 and all(len(b) <= 2 for b in fake.batches)


def test_a_restarted_coordinator_reattaches_to_a_running_job(tmp_path: Path) -> None:
    steps = _steps(tmp_path, builds=1, variants_per_build=1, repeats=1)
    build = steps[0]
    finish(Unit(build.id, (build,)))  # built by the first coordinator
    book = JobBook(book_path(tmp_path))
    book.submitted("variant/v00", "77", ["run/v00"])
    book.save()

    def ok(unit: Unit, attempt: int) -> str:
        finish(unit)
        return "COMPLETED"

    fake = FakeSlurm(ok, active={"77": "RUNNING"})
    fake.units["77"] = make_units(steps[1:])[0]
    done = _execute(tmp_path, steps[1:], fake)
    assert [r.step.id for r in done] == ["run/v00"] and done[0].status == "passed"
    assert fake.batches == []  # nothing submitted: job 77 was adopted
    attempts = JobBook.load(book_path(tmp_path)).data["units"]["variant/v00"]["attempts"]
    assert [(a["job_id"], a["ended"]) for a in attempts] == [("77", "COMPLETED")]


# --- errors the CLI turns into exit 2 --------------------------------------------------------------

def test_missing_extra_is_one_line_naming_the_install(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "submitit", None)  # import submitit -> ImportError
    with pytest.raises(SlurmExtraMissing) as err:
        make_slurm_executor({}, tmp_path, env={"PATH": "/nonexistent"})
    assert str(err.value) == "the Slurm executor needs submitit: pip install 'trtsweep[slurm]'"


def _tools(folder: Path, squeue: str) -> dict[str, str]:
    folder.mkdir()
    for name, body in (("sbatch", "exit 0"), ("srun", "exit 0"), ("squeue", squeue)):
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    return {"PATH": str(folder)}


def test_no_sbatch_or_no_controller_is_one_clear_line(tmp_path: Path) -> None:
    pytest.importorskip("submitit", reason="the slurm extra is not installed")
    with pytest.raises(SlurmUnavailable, match=r"^sbatch not found on PATH: the Slurm executor needs"):
        make_slurm_executor({}, tmp_path, env={"PATH": str(tmp_path)})
    down = _tools(tmp_path / "bin",
                  "echo 'slurm_load_jobs error: Unable to contact slurm controller' >&2; exit 1")
    with pytest.raises(SlurmUnavailable) as err:
        make_slurm_executor({}, tmp_path, env=down)
    assert str(err.value) == ("squeue failed, the Slurm controller is not reachable: slurm_load_jobs error: "
                              "Unable to contact slurm controller")
    with pytest.raises(SlurmOptionsError, match="slurm.nodes: unknown key"):
        make_slurm_executor({"nodes": 2}, tmp_path, env=down)
