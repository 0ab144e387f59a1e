"""The Ray backend against a real local Ray cluster (``ray.cluster_utils``) and the trtexec double.

One cluster for the module: a head that only coordinates, one node for target ``h100`` and one for
``l4`` (fake GPUs, custom resources), each node's trtexec double naming its own GPU model. The sweeps go
through the CLI in its own process where process control matters (kill -9), in-process where the test
must act mid-sweep (a node removed). Marked ``cluster``; under ``CI=true`` a missing Ray is a failure.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from e2e_helpers import (
    call_counts,
    counting_trtexec,
    double_env,
    start_trtsweep,
    step_statuses,
    trtsweep,
    wait_for,
    write_sweep,
)
from ray_helpers import MATRIX_24, RAY_ENV, TARGETS, RayCluster, start_cluster

from trtsweep import store

pytestmark = pytest.mark.cluster
RUNNER = Path(__file__).with_name("ray_sweep_runner.py")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a generator fixture
    tc = start_cluster(tmp_path_factory.mktemp("ray"))
    yield tc
    tc.cluster.shutdown()


def _env(tmp: Path) -> tuple[dict[str, str], Path]:
    bindir, calls = counting_trtexec(tmp / "bin")
    env = {**double_env(tmp, path_first=bindir), **RAY_ENV}
    return env, calls


def _builds(calls: Path) -> Counter[str]:
    """Engine builds by the engine they save (one argv line per trtexec invocation)."""
    return Counter(next(a for a in line.split() if a.startswith("--saveEngine="))
                   for line in call_counts(calls).elements() if "--saveEngine=" in line)


def _mtimes(run_dir: Path) -> dict[str, int]:
    return {rel: (run_dir / rel / "status").stat().st_mtime_ns for rel in step_statuses(run_dir)}


# --- 1. two targets x 24 variants: one build per engine and GPU model, results shaped as locally ---------

def test_two_targets_each_engine_built_once_per_gpu_model(cluster: RayCluster, tmp_path: Path) -> None:
    env, calls = _env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", MATRIX_24, targets=TARGETS)
    out = tmp_path / "ray"
    proc = trtsweep(["run", sweep, "-o", out, "-q", "--executor", "ray", "--ray-address", cluster.address],
                    env, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    lock = json.loads((out / store.LOCK_FILE).read_text())
    assert len(lock["variants"]) == 48
    builds = _builds(calls)
    engine_ids = {v["build_id"] for v in lock["variants"]}
    # 6 engines (precision x batch) per target, each built exactly once.
    assert len(engine_ids) == 12 and len(builds) == 12 and set(builds.values()) == {1}
    rs = store.load_result_set(out)
    for v in rs.variants:
        target = v.axes["target"]
        expected_gpu = {"h100": "NVIDIA H100 PCIe", "l4": "NVIDIA L4"}[target]
        engine = store.load_record(store.engine_dir(out, v.build_id))
        assert v.status == "passed" and v.record is not None
        assert v.record.device.name == expected_gpu, v.variant_id
        assert engine is not None and engine.device.name == expected_gpu, v.build_id
        assert f"-{target}-" in v.build_id
        log = (store.variant_dir(out, v.variant_id) / "run.log").read_text()
        assert "across different models of devices" not in log  # the engine was built on this model
        # The run used the engine of its own target, on the node that built it.
        status = json.loads((store.variant_dir(out, v.variant_id) / "status").read_text())
        built = json.loads((store.engine_dir(out, v.build_id) / "node.json").read_text())
        assert status["node_id"] == built["node_id"]

    from trtsweep.analysis.model import build_model

    best = build_model(rs).best_by_batch  # the fastest variant per model, target and batch
    assert sorted(best) == [(f"tracker on {t}", b) for t in ("h100", "l4") for b in (1, 2, 4)]
    assert all(view.axes["target"] in key[0] for key, view in best.items())

    # The same sweep without targets on the local backend: the same files per step, the same columns
    # (plus 'axis.target'), one row per variant and target.
    local_sweep = write_sweep(tmp_path / "local.yaml", MATRIX_24)
    local = tmp_path / "local"
    proc = trtsweep(["run", local_sweep, "-o", local, "-q"], double_env(tmp_path, name="local.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import pandas as pd

    ray_table, local_table = pd.read_csv(out / "results.csv"), pd.read_csv(local / "results.csv")
    assert set(ray_table.columns) == set(local_table.columns) | {"axis.target"}
    assert len(ray_table) == 2 * len(local_table) == 48
    axes = [c for c in local_table.columns if c.startswith("axis.")]
    for target in ("h100", "l4"):
        mine = ray_table[ray_table["axis.target"] == target][axes]
        assert sorted(map(tuple, mine.astype(str).values)) == sorted(map(tuple, local_table[axes].astype(str)
                                                                          .values))
    local_files = {p.name for p in next((local / "runs").iterdir()).iterdir() if p.is_file()}
    for folder in (out / "runs").iterdir():
        assert {p.name for p in folder.iterdir() if p.is_file()} == local_files, folder.name
    local_engine_files = {p.name for p in next(p for p in (local / "engines").iterdir() if p.is_dir())
                          .iterdir()}
    for folder in (p for p in (out / "engines").iterdir() if p.is_dir()):
        # The engine itself stays on the node that built it; node.json says which.
        assert {p.name for p in folder.iterdir()} == local_engine_files - {"engine.plan"} | {"node.json"}


# --- 2. a worker node lost mid-sweep ------------------------------------------------------------------

def test_node_lost_mid_sweep_reruns_only_the_lost_variant_whole(tmp_path: Path) -> None:
    # A cluster of its own: a node on 127.0.0.2 rewrites its session's record of this host's IP, which
    # would send the other tests' drivers to that node once it is gone.
    cluster = start_cluster(tmp_path / "cluster", ("h100",))
    try:
        _node_lost(cluster, tmp_path)
    finally:
        cluster.cluster.shutdown()


def _node_lost(cluster: RayCluster, tmp_path: Path) -> None:
    env, calls = _env(tmp_path)
    cluster.add("h100-b", "h100", ip="127.0.0.2")
    cluster.set_config("h100-b", "h100", sleep_s=1.0)  # slow node: a step is surely running when it dies
    node_b = cluster.nodes["h100-b"].node_id
    sweep = write_sweep(tmp_path / "s.yaml", {"precision": ["fp32", "fp16"], "batch": [1, 2]},
                        run={"repeats": 2}, targets=TARGETS[:1])
    out, report = tmp_path / "run", tmp_path / "report.json"
    argv = [sys.executable, str(RUNNER), str(sweep), str(out), str(calls.parent / "trtexec"),
            cluster.address, str(report)]
    coordinator = subprocess.Popen(argv, env=env)
    try:
        scratch_b = cluster.scratch("h100-b") / "trtsweep-ray" / node_b[:16]
        wait_for(lambda: any(scratch_b.glob("*/runs/**/pid")), 120, "a run step in progress on node h100-b")
        before = _mtimes(out)
        cluster.remove("h100-b")
        try:
            assert coordinator.wait(timeout=120) == 0
        except subprocess.TimeoutExpired:
            coordinator.send_signal(signal.SIGUSR1)  # its stacks go to the captured stderr
            time.sleep(1)
            raise
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
    seen = json.loads(report.read_text())
    assert seen["ok"], [r for r in seen["results"] if r[1] != "passed"]
    lost = {r["step"] for r in seen["retries"] if r["step"].startswith("run/")}
    assert lost, seen["retries"]
    lost_variants = {s.split("/")[1] for s in lost}
    after = _mtimes(out)
    statuses = step_statuses(out)
    for rel, mtime in before.items():
        if rel.startswith("runs/") and rel.split("/")[1] not in lost_variants:
            assert after[rel] == mtime, f"{rel} finished before the loss and ran again"
    submitted = Counter(seen["submitted"])
    root = out.resolve()
    for step_id, variant, folder in seen["runs"]:
        rel = str(Path(folder).relative_to(root))
        if variant in lost_variants:
            # Every repeat of the lost variant ran again, together, on a surviving node, and says so.
            assert statuses[rel]["node_id"] != node_b and statuses[rel]["retries"], rel
        elif rel in before:
            assert submitted[step_id] == 1, step_id
    assert all(v.status == "passed" for v in store.load_result_set(out).variants)


# --- 3. coordinator killed with kill -9, then resumed ------------------------------------------------

def test_coordinator_kill_9_then_resume_redoes_no_finished_step(cluster: RayCluster, tmp_path: Path) -> None:
    env, calls = _env(tmp_path)
    for node in ("h100-a", "l4-a"):
        cluster.set_config(node, node.split("-")[0], sleep_s=0.3)
    try:
        sweep = write_sweep(tmp_path / "s.yaml", {"precision": ["fp32", "fp16"], "batch": [1, 2, 4]},
                            targets=TARGETS)
        out = tmp_path / "run"
        args = ["run", sweep, "-o", out, "--executor", "ray", "--ray-address", cluster.address]
        proc = start_trtsweep(args, env)
        wait_for(lambda: len(list(out.glob("runs/*/status"))) >= 3, 120, "three finished run steps")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        before = _mtimes(out)
        builds_before = _builds(calls)
        time.sleep(1.0)  # Ray notices the dead driver and frees its tasks' GPUs
        done = trtsweep(args, env, timeout=240)
    finally:
        for node in ("h100-a", "l4-a"):
            cluster.set_config(node, node.split("-")[0])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(before)} of" in done.stdout and "steps already done" in done.stdout
    after = _mtimes(out)
    assert all(after[rel] == mtime for rel, mtime in before.items()), "a finished step ran again"
    assert len(after) == 12 + 12  # 6 variants per target, each (static shapes) with its own engine
    finished_builds = {rel for rel in before if rel.startswith("engines/")}
    builds = _builds(calls)
    for engine, n in builds.items():
        if any(rel in engine for rel in finished_builds):
            assert n == builds_before[engine] == 1, engine  # the resumed runs used the engine on its node


# --- 4. bad input: one line, exit 2, nothing started -----------------------------------------------

def test_target_no_node_serves_is_exit_2_before_anything_runs(cluster: RayCluster, tmp_path: Path) -> None:
    env, calls = _env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", {"batch": [1]},
                        targets=[*TARGETS, {"name": "a100", "resources": {"a100": 1}}])
    out = tmp_path / "run"
    proc = trtsweep(["run", sweep, "-o", out, "--executor", "ray", "--ray-address", cluster.address], env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "target 'a100' needs a node with {GPU: 1, a100: 1}" in proc.stderr
    assert "target 'h100'" not in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and not _builds(calls)


def test_unreachable_ray_address_is_one_line_exit_2(tmp_path: Path) -> None:
    env, _ = _env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", {"batch": [1]})
    proc = trtsweep(["run", sweep, "-o", tmp_path / "run", "--executor", "ray", "--ray-address",
                     "127.0.0.1:1"], env, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("trtsweep: error")]
    assert len(errors) == 1 and "--ray-address 127.0.0.1:1: no Ray cluster answers there" in errors[0]
    assert not (tmp_path / "run").exists()


# --- 5. no address: a Ray of the run's own; a node whose GPU is not its target's ----------------------

def test_without_an_address_the_run_starts_its_own_ray(cluster: RayCluster, tmp_path: Path) -> None:
    env, calls = _env(tmp_path)
    env.pop("RAY_ADDRESS", None)
    sweep = write_sweep(tmp_path / "s.yaml", {"precision": ["fp32", "fp16"]})
    out = tmp_path / "run"
    proc = trtsweep(["run", sweep, "-o", out, "-q", "--executor", "ray"], env, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    statuses = step_statuses(out)
    assert len(statuses) == 4 and {s["status"] for s in statuses.values()} == {"passed"}
    # Its own one-node Ray, not the test cluster running beside it on this host.
    assert {s["node_id"] for s in statuses.values()}.isdisjoint(
        {n.node_id for n in cluster.nodes.values()})
    assert len(_builds(calls)) == 2


def test_a_gpu_other_than_the_targets_fails_the_step_with_the_reason(cluster: RayCluster,
                                                                    tmp_path: Path) -> None:
    env, _ = _env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", {"batch": [1]},
                        targets=[{"name": "h100", "gpu": "NVIDIA A100*", "resources": {"h100": 1}}])
    out = tmp_path / "run"
    proc = trtsweep(["run", sweep, "-o", out, "-q", "--executor", "ray", "--ray-address", cluster.address],
                    env, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    why = "GPU 'NVIDIA H100 PCIe' is not a GPU of target 'h100' (NVIDIA A100*); check the node's resources"
    statuses = step_statuses(out)
    build = next(s for rel, s in statuses.items() if rel.startswith("engines/"))
    run = next(s for rel, s in statuses.items() if rel.startswith("runs/"))
    assert (build["status"], build["reason"]) == ("failed", why)  # the engine is not timed, nor its runs
    assert run["status"] == "skipped" and why in run["reason"]
