"""A sweep never loses or misreports results (issue #12): one test per numbered finding of the issue, most
through the CLI as a user runs it, against the trtexec double. Each reproduces what the tester did."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_helpers import (
    DOUBLE_DIR,
    REPO,
    call_counts,
    counting_trtexec,
    double_env,
    lock,
    pid_alive,
    start_trtsweep,
    step_statuses,
    trtsweep,
    variant_statuses,
    wait_for,
    write_sweep,
)

from trtsweep import store
from trtsweep.orchestrate.importer import import_folder, safe_id
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.step import kill_orphan

pytestmark = pytest.mark.e2e

SMALL = {"precision": ["fp32", "fp16"], "batch": [1, 2]}


def _run(tmp_path: Path, args: list, env: dict, **kw) -> subprocess.CompletedProcess[str]:
    return trtsweep(args, env, **kw)


def _no_traceback(res: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr


# 1 ------------------------------------------------------------------------------------------------
def test_01_second_run_into_a_busy_folder_writes_nothing(tmp_path: Path) -> None:
    env = double_env(tmp_path, {"perf": {"sleep_s": 0.4}})
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    first = start_trtsweep(["run", sweep, "-o", out, "-q"], env)
    try:
        wait_for(lambda: any(out.glob("engines/*/cmd.json")), 30, "the first run to start a step")
        lock_before = (out / "spec.lock.json").read_bytes()
        second = _run(tmp_path, ["run", sweep, "-o", out, "--fresh"], env)
        assert second.returncode == 2 and "another trtsweep run is using this folder" in second.stderr
        assert (out / "spec.lock.json").read_bytes() == lock_before
        assert any(out.glob("engines/*/cmd.json"))  # --fresh deleted nothing of the first run
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0
    assert set(variant_statuses(out).values()) == {"passed"}


# 2 ------------------------------------------------------------------------------------------------
def test_02_fresh_and_output_refuse_folders_that_are_not_run_folders(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    project = tmp_path / "project"
    (project / "runs" / "other-sweep").mkdir(parents=True)
    (project / "runs" / "other-sweep" / "results.csv").write_text("theirs\n")
    sweep = write_sweep(project / "sweep.yaml", SMALL)
    users = sweep.read_text()
    res = _run(tmp_path, ["run", sweep, "-o", project, "--fresh"], env, cwd=project)
    assert res.returncode == 2 and "not a trtsweep run folder" in res.stderr
    assert sweep.read_text() == users and (project / "runs" / "other-sweep" / "results.csv").is_file()
    # In a real run folder --fresh removes the sweep's own steps, never a file it did not write.
    out = tmp_path / "run"
    assert _run(tmp_path, ["run", sweep, "-o", out, "-q"], env).returncode == 0
    (out / "runs" / "notes").mkdir()
    (out / "runs" / "notes" / "mine.txt").write_text("keep me")
    assert _run(tmp_path, ["run", sweep, "-o", out, "--fresh", "-q"], env).returncode == 0
    assert (out / "runs" / "notes" / "mine.txt").read_text() == "keep me"


# 3 ------------------------------------------------------------------------------------------------
def test_03_a_worker_error_fails_the_step_and_never_hangs_the_other_gpu(tmp_path: Path) -> None:
    from trtsweep.orchestrate.backends.local import LocalExecutor
    from trtsweep.orchestrate.step import Gpu

    def broken_runner(argv, log_path, **kw):  # noqa: ANN001, ANN003 - the runner's signature
        raise OSError(28, "No space left on device")

    builds = [Step(f"build/e{i}", "build", tmp_path / "engines" / f"e{i}", ("trtexec", str(i)), f"e{i}", 5,
                   run_dir=tmp_path) for i in range(2)]
    runs = [Step(f"run/v{i}", "run", tmp_path / "runs" / f"v{i}", ("trtexec", "r", str(i)), f"e{i}", 5,
                 variant_id=f"v{i}", depends_on=f"build/e{i}", run_dir=tmp_path) for i in range(2)]
    results = []
    start = time.monotonic()
    executor = LocalExecutor([Gpu("0"), Gpu("1")], env={}, runner=broken_runner)
    executor.execute([*builds, *runs], results.append)
    assert time.monotonic() - start < 10
    by_id = {r.step.id: r for r in results}
    assert by_id["build/e0"].status == "failed" and "No space left on device" in by_id["build/e0"].reason
    assert by_id["run/v0"].status == "skipped" and by_id["run/v1"].status == "skipped"


def test_03_relative_trtexec_path_runs(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", {"batch": [1]})
    rel = os.path.relpath(DOUBLE_DIR / "trtexec", REPO)
    res = _run(tmp_path, ["run", sweep, "-o", tmp_path / "run", "--trtexec", rel], env, cwd=REPO)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "nothing to do" not in res.stdout
    assert set(variant_statuses(tmp_path / "run").values()) == {"passed"}


# 4 ------------------------------------------------------------------------------------------------
def test_04_rerun_reports_the_folder_and_retry_failed_reruns(tmp_path: Path) -> None:
    oom = {"fail": {"mode": "oom", "when": {"precision": "fp16", "batch": 2, "phase": "build"}}}
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    assert _run(tmp_path, ["run", sweep, "-o", out, "-q"], double_env(tmp_path, oom)).returncode == 1
    again = _run(tmp_path, ["run", sweep, "-o", out], double_env(tmp_path, oom, name="b.json"))
    assert again.returncode == 1 and "failed" in again.stdout  # the folder still holds failures
    fixed = double_env(tmp_path, {}, name="fixed.json")
    retry = _run(tmp_path, ["run", sweep, "-o", out, "--retry-failed", "-q"], fixed)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert set(variant_statuses(out).values()) == {"passed"}


# 5 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("gpus", "message"), [
    ("99", "GPU 99 is not on this host"), ("0,,1", "an empty entry"), ("-1", "not a GPU index"),
    ("GPU-xyz", "not a GPU index"), ("0,0", "GPU 0 is given twice"), ("0,1", "GPU 1 is not on this host"),
])
def test_05_gpus_are_checked_against_the_host(tmp_path: Path, gpus: str, message: str) -> None:
    env = double_env(tmp_path, {"gpus": ["NVIDIA H100 PCIe"]})  # nvidia-smi (the double) lists one GPU
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    res = _run(tmp_path, ["run", sweep, "-o", tmp_path / "run", "--gpus", gpus], env)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert not (tmp_path / "run").exists()


# 6 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_06_sigterm_and_sighup_stop_like_ctrl_c(tmp_path: Path, sig: int) -> None:
    hang = {"fail": {"mode": "hang", "when": {"phase": "run", "batch": 2}}}
    env = double_env(tmp_path, hang)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    proc = start_trtsweep(["run", sweep, "-o", out], env)
    wait_for(lambda: any(p.read_text().strip() for p in out.glob("runs/*b2*/pid")), 60, "the hanging step")
    child = int(next(p for p in out.glob("runs/*b2*/pid") if p.read_text().strip()).read_text())
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, output
    assert "run the same command again to resume" in output and "Traceback" not in output
    wait_for(lambda: not pid_alive(child), 10, "the running trtexec to be stopped")


# 7 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "flag", "axis"), [
    ("build_flags", "--fp16", "precision"), ("build_flags", "--int8", "precision"),
    ("build_flags", "--best", "precision"), ("run_flags", "--useCudaGraph", "cuda_graph"),
    ("run_flags", "--useSpinWait", "spin_wait"), ("run_flags", "--noDataTransfers", "data_transfers"),
    ("run_flags", "--threads", "threads"), ("run_flags", "--streams=4", "streams"),
    ("run_flags", "--device=3", "--gpus"),
])
def test_07_flags_that_alias_an_axis_are_refused(tmp_path: Path, key: str, flag: str, axis: str) -> None:
    sweep = write_sweep(tmp_path / "s.yaml", {"precision": ["fp32"], key: [flag]})
    res = _run(tmp_path, ["plan", sweep, "--trt-version", "10.8"], double_env(tmp_path))
    assert res.returncode == 2 and flag in res.stderr and axis in res.stderr, res.stderr
    _no_traceback(res)


# 8 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_08_nan_and_inf_in_numbers_are_refused(tmp_path: Path, value: str) -> None:
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    sweep.write_text(sweep.read_text().replace('"warmup_ms": 0', f'"warmup_ms": {value}'))
    res = _run(tmp_path, ["run", sweep, "-o", tmp_path / "run"], double_env(tmp_path))
    assert res.returncode == 2 and "finite number" in res.stderr, res.stderr
    assert not (tmp_path / "run").exists()


# 9 ------------------------------------------------------------------------------------------------
def test_09_a_huge_matrix_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    matrix = {"batch": list(range(1, 101)), "streams": list(range(1, 101)), "precision": ["fp32", "fp16"],
              "cuda_graph": [False, True], "spin_wait": [False, True], "threads": [False, True]}
    sweep = write_sweep(tmp_path / "big.yaml", matrix)
    start = time.monotonic()
    res = _run(tmp_path, ["plan", sweep, "--trt-version", "10.8"], double_env(tmp_path))
    assert time.monotonic() - start < 15
    assert res.returncode == 2 and "160,000 variants" in res.stderr and "--max-variants" in res.stderr
    small = write_sweep(tmp_path / "ok.yaml", {"batch": [1, 2, 3]})
    assert _run(tmp_path, ["plan", small, "--trt-version", "10.8", "--max-variants", "2"],
                double_env(tmp_path)).returncode == 2
    assert _run(tmp_path, ["plan", small, "--trt-version", "10.8", "--max-variants", "3"],
                double_env(tmp_path)).returncode == 0


# 10 and 21 ---------------------------------------------------------------------------------------
def test_10_steps_run_with_an_old_argv_are_stale(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    assert _run(tmp_path, ["run", sweep, "-o", out, "-q"], env).returncode == 0
    changed = write_sweep(tmp_path / "s.yaml", SMALL, run={"iterations": 7})
    res = _run(tmp_path, ["run", changed, "-o", out, "--only", "precision=fp32", "-q"], env)
    assert res.returncode == 1  # the fp16 steps were measured with the old spec
    statuses = variant_statuses_from_store(out)
    assert {s for vid, s in statuses.items() if "fp16" in vid} == {"stale"}
    assert {s for vid, s in statuses.items() if "fp32" in vid} == {"passed"}
    report = _run(tmp_path, ["report", out, "--format", "md"], env)
    assert "stale" in report.stdout


def variant_statuses_from_store(out: Path) -> dict[str, str]:
    return {v.variant_id: v.status for v in store.load_result_set(out).variants}


def test_21_a_moved_run_folder_keeps_its_finished_steps(tmp_path: Path) -> None:
    bindir, calls = counting_trtexec(tmp_path / "bin")
    env = double_env(tmp_path, path_first=bindir)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    assert _run(tmp_path, ["run", sweep, "-o", out, "-q"], env).returncode == 0
    before = sum(call_counts(calls).values())
    moved = tmp_path / "elsewhere" / "run"
    moved.parent.mkdir()
    out.rename(moved)
    again = _run(tmp_path, ["run", sweep, "-o", moved], env)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
    assert sum(call_counts(calls).values()) == before


# 11 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["record_list", "device_text", "lock_strings", "env_list", "schema_99",
                                    "record_garbage"])
def test_11_run_folder_files_of_the_wrong_shape_are_one_line_exit_2(tmp_path: Path, damage: str) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    assert _run(tmp_path, ["run", sweep, "-o", out, "-q"], env).returncode == 0
    rec = next(out.glob("runs/*/record.json"))
    doc = json.loads(rec.read_text())
    if damage == "record_list":
        rec.write_text("[]")
    elif damage == "device_text":
        rec.write_text(json.dumps({**doc, "device": "gpu"}))
    elif damage == "lock_strings":
        (out / "spec.lock.json").write_text(json.dumps({"variants": ["a", "b"]}))
    elif damage == "env_list":
        (out / "env.json").write_text("[]")
    elif damage == "schema_99":
        rec.write_text(json.dumps({**doc, "schema_version": 99}))
    else:
        rec.write_text('{"throughput_qps": "fast", "status": "passed"}')
    for cmd in (["report", out, "-o", tmp_path / "rep"], ["diagnose", out]):
        res = _run(tmp_path, cmd, env)
        assert res.returncode == 2, (cmd, res.stdout, res.stderr)
        assert res.stderr.startswith("trtsweep: error: ") and len(res.stderr.strip().splitlines()) == 1
        _no_traceback(res)


# 12 -----------------------------------------------------------------------------------------------
def test_12_a_trtexec_that_prints_forever_is_stopped(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "trtexec"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n(sleep 600) &\nyes 'trtexec --help, endlessly'\n")
    fake.chmod(0o755)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    start = time.monotonic()
    res = _run(tmp_path, ["plan", sweep, "--trtexec", fake], double_env(tmp_path), timeout=60)
    assert time.monotonic() - start < 30
    assert res.returncode == 2 and "printed more than" in res.stderr, res.stderr
    leftover = subprocess.run(["pgrep", "-f", "sleep 600"], capture_output=True, text=True).stdout.split()
    assert not leftover, "the probe left the fake's child running"


# 13 -----------------------------------------------------------------------------------------------
def test_13_an_output_that_is_a_file_or_unwritable_is_exit_2(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    afile = tmp_path / "a-file"
    afile.write_text("x")
    for target in (afile, Path("/proc/trtsweep-cannot-write-here")):
        res = _run(tmp_path, ["run", sweep, "-o", target], env)
        assert res.returncode == 2, res.stderr
        _no_traceback(res)
    imported = _run(tmp_path, ["import", tmp_path, "-o", afile], env)
    assert imported.returncode == 2
    _no_traceback(imported)


# 14 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_14_files_honour_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", {"batch": [1]})
    out = tmp_path / "run"
    code = (f"import os, sys; os.umask({umask}); from trtsweep.cli import main; "
            f"sys.argv = ['trtsweep', 'run', {str(sweep)!r}, '-o', {str(out)!r}, '-q']; main()")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    for name in ("results.csv", "results.parquet", "spec.lock.json", "meta.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) == mode, name
    rec = next(out.glob("runs/*/record.json"))
    assert stat.S_IMODE(rec.stat().st_mode) == mode


# 15 -----------------------------------------------------------------------------------------------
def test_15_fifos_never_hang_and_the_spec_is_read_once(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for cmd in (["parse", fifo], ["plan", fifo, "--trt-version", "10.8"]):
        res = _run(tmp_path, cmd, env, timeout=30)
        assert res.returncode == 2, (cmd, res.stderr)
    sweep = write_sweep(tmp_path / "s.yaml", {"batch": [1]})
    out = tmp_path / "run"
    script = f'exec "{sys.executable}" -m trtsweep.cli run <(cat "{sweep}") -o "{out}" -q'
    res = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (out / "sweep.yaml").read_text() == sweep.read_text()


# 16 -----------------------------------------------------------------------------------------------
def test_16_import_ids_are_plain_names_and_pairing_stays_in_a_folder(tmp_path: Path) -> None:
    assert safe_id(".") == safe_id("..") == "run" and safe_id("a/b") == "a_b"
    src = tmp_path / "logs"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    text = ("&&&& RUNNING TensorRT.trtexec [TensorRT v100800] # trtexec --onnx=m.onnx\n"
            "[12/04/2026-10:00:00] [I] Throughput: 100 qps\n"
            "&&&& PASSED TensorRT.trtexec [TensorRT v100800]\n")
    (src / "raw_..txt").write_text(text)  # its pairing stem is "."
    (src / "a" / "resnet.log").write_text(text)
    times = [{"startEnqMs": 1.0, "endEnqMs": 1.1, "startH2dMs": 1.0, "endH2dMs": 1.0, "startComputeMs": 1.0,
              "endComputeMs": 2.0, "startD2hMs": 2.0, "endD2hMs": 2.0, "h2dMs": 0, "computeMs": 1.0,
              "d2hMs": 0, "latencyMs": 1.0}]
    (src / "b" / "resnet.times.json").write_text(json.dumps(times))
    import_folder(src, tmp_path / "run")
    ids = [e["id"] for e in lock(tmp_path / "run")["variants"]]
    assert all(i not in (".", "..") and "/" not in i for i in ids)
    assert all((tmp_path / "run" / "runs" / i).resolve().parent == (tmp_path / "run" / "runs").resolve()
               for i in ids)
    by_id = {v.variant_id: v for v in store.load_result_set(tmp_path / "run").variants}
    assert "a-resnet" in by_id and "b-resnet" in by_id  # not paired across folders
    assert not (tmp_path / "run" / "runs" / "a-resnet" / "times.json").exists()


# 17 -----------------------------------------------------------------------------------------------
def test_17_orphan_killing_only_touches_the_steps_own_process(tmp_path: Path) -> None:
    step_dir = tmp_path / "runs" / "v"
    step_dir.mkdir(parents=True)
    # The pid file names it, but it works in another folder: not the step's trtexec.
    other = subprocess.Popen(["sleep", "30"], cwd=tmp_path, start_new_session=True)
    try:
        (step_dir / "pid").write_text(str(other.pid))
        kill_orphan(Step("run/v", "run", step_dir, ("sleep", "30"), "e", 5, run_dir=tmp_path))
        assert other.poll() is None, "a process outside the step's folder was killed"
    finally:
        other.kill()
        other.wait()
    mine = subprocess.Popen(["sleep", "30"], cwd=step_dir, start_new_session=True)
    (step_dir / "pid").write_text(str(mine.pid))
    kill_orphan(Step("run/v", "run", step_dir, ("sleep", "30"), "e", 5, run_dir=tmp_path))
    assert mine.wait(timeout=5) == -signal.SIGKILL


# 18 -----------------------------------------------------------------------------------------------
def test_18_repeat_numbers_are_kept_in_the_results(tmp_path: Path) -> None:
    from test_diagnose import make_rs, simple

    rs = make_rs(tmp_path, [{"id": "v", "axes": {"batch": 1}, "records": [simple(1.0), simple(2.0)]}])
    (store.variant_dir(tmp_path, "v", 0) / "record.json").unlink()
    (store.variant_dir(tmp_path, "v", 0) / "status").unlink()
    rs = store.load_result_set(tmp_path)
    rows = store.results_rows(rs)
    assert [r["repeat"] for r in rows] == [1] and rows[0]["latency_ms.median"] == 2.0


# 19 -----------------------------------------------------------------------------------------------
def test_19_impossible_export_times_are_flagged_and_quiet(tmp_path: Path) -> None:
    rows = [{"startEnqMs": i, "endEnqMs": i + 0.1, "startH2dMs": i, "endH2dMs": i, "startComputeMs": i,
             "endComputeMs": i + 1, "startD2hMs": i + 1, "endD2hMs": i + 1, "h2dMs": 0, "computeMs": 1.0,
             "d2hMs": 0, "latencyMs": 1.0} for i in range(5)]
    rows[1]["computeMs"] = -5.0
    rows[2]["computeMs"] = 10 ** 60
    path = tmp_path / "t.times.json"
    path.write_text(json.dumps(rows))
    res = _run(tmp_path, ["parse", path, "--format", "json"], double_env(tmp_path))
    doc = json.loads(res.stdout)
    assert doc["status"] == "incomplete" and "2 of 5 samples were left out" in doc["failure_text"]
    assert doc["gpu_compute_ms"]["median"] == 1.0 and doc["gpu_compute_ms"]["min"] >= 0
    assert "Warning" not in res.stderr and "overflow" not in res.stderr


# 20 -----------------------------------------------------------------------------------------------
def test_20_a_crash_while_timing_is_a_run_failure(tmp_path: Path) -> None:
    crash = {"fail": {"mode": "crash", "when": {"phase": "run", "precision": "fp16"}}}
    env = double_env(tmp_path, crash)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    assert _run(tmp_path, ["run", sweep, "-o", out, "-q"], env).returncode == 1
    codes = {f["code"] for f in json.loads(_run(tmp_path, ["diagnose", out, "--format", "json"],
                                                env).stdout)["findings"]}
    assert "run_failure" in codes and "build_failure" not in codes
    rep = _run(tmp_path, ["report", out, "-o", tmp_path / "rep"], env)
    assert "--baseline-ms 1=40,8=160" in rep.stdout and "pytorch:" not in rep.stdout


def test_every_finished_step_status_matches_a_record(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "s.yaml", SMALL)
    out = tmp_path / "run"
    assert _run(tmp_path, ["run", sweep, "-o", out, "-q"], env).returncode == 0
    for rel, doc in step_statuses(out).items():
        assert doc["argv"][0] != "${RUN_DIR}" and any("${RUN_DIR}" in a for a in doc["argv"]), rel
        assert (out / rel / "record.json").is_file()


@pytest.mark.corpus
def test_import_killed_midway_leaves_no_half_run_folder(tmp_path: Path) -> None:
    from corpus_location import CORPUS

    src = tmp_path / "logs"
    src.mkdir()
    log = (CORPUS / "lixiangyu__trt8.5.2_orin_loadEngine_shapes.log").read_bytes()
    for i in range(300):
        (src / f"run{i}.log").write_bytes(log)
    out = tmp_path / "run"
    env = double_env(tmp_path)
    proc = start_trtsweep(["import", src, "-o", out], env)
    time.sleep(0.8)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not out.exists() or (out / "spec.lock.json").is_file()  # all or nothing
    if not out.exists():
        again = _run(tmp_path, ["import", src, "-o", out], env)
        assert again.returncode == 0, again.stderr
    assert len(store.load_result_set(out).variants) == 300
    assert not list(tmp_path.glob(".run.importing-*"))
