"""End to end: ``trtsweep plan``/``run`` through the CLI against the trtexec test double.

Process-level behaviour (kill -9, timeouts, GPUs, resume) runs the CLI in its own process; input errors and
dry runs use click's CliRunner (no process control needed, and much faster). Every sweep uses
zero-latency double runs (``latency_scale: 0``, few samples) so the file stays well under 3 minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from e2e_helpers import (
    MODEL,
    MODEL_FP16,
    call_counts,
    counting_trtexec,
    double_env,
    intervals,
    lock,
    max_concurrency,
    start_trtsweep,
    step_statuses,
    trtsweep,
    variant_id,
    variant_statuses,
    write_sweep,
)
from e2e_helpers import pid_alive as _pid_alive
from e2e_helpers import wait_for as _wait_for

from trtsweep.cli import main

pytestmark = pytest.mark.e2e

SMALL = {"precision": ["fp32", "fp16"], "batch": [1, 2]}


def _log(run_dir: Path, rel: str) -> Path:
    """The trtexec log of the step folder ``rel`` (a build or a run)."""
    return run_dir / rel / ("build.log" if rel.startswith("engines") else "run.log")


# --- 1. one build per distinct engine ---------------------------------------------------------

def test_48_variants_build_each_engine_once(tmp_path: Path) -> None:
    bindir, calls = counting_trtexec(tmp_path / "bin")
    env = double_env(tmp_path, path_first=bindir)
    sweep = write_sweep(tmp_path / "s48.yaml", {"precision": ["fp32", "fp16"], "batch": [1, 2, 4],
                                                "shapes": ["static", "dynamic"], "streams": [1, 2],
                                                "cuda_graph": [False, True]})
    out = tmp_path / "run"
    proc = trtsweep(["run", sweep, "-o", out, "-q"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    entries = lock(out)["variants"]
    assert len(entries) == 48
    build_ids = {e["build_id"] for e in entries}
    # 2 precisions x (3 static batches + 1 dynamic profile): streams and CUDA graphs share engines.
    assert len(build_ids) == 8
    engine_dirs = {p.parent.name for p in out.glob("engines/*/status")}
    assert engine_dirs == build_ids
    for bid in build_ids:
        assert json.loads((out / "engines" / bid / "status").read_text())["status"] == "passed"
        assert (out / "engines" / bid / "engine.plan").is_file()
    counts = call_counts(calls)
    builds = {line: n for line, n in counts.items() if "--saveEngine=" in line}
    runs = {line: n for line, n in counts.items() if "--loadEngine=" in line}
    # Every engine was built by exactly one trtexec call, and every variant ran exactly once.
    assert len(builds) == 8 and set(builds.values()) == {1}
    assert len(runs) == 48 and set(runs.values()) == {1}
    assert set(variant_statuses(out).values()) == {"passed"}
    for e in entries:
        record = json.loads((out / "runs" / e["id"] / "record.json").read_text())
        assert record["status"] == "passed" and record["throughput_qps"] > 0
        # Each run loaded the engine of its own build key.
        assert f"/engines/{e['build_id']}/engine.plan" in " ".join(
            json.loads((out / "runs" / e["id"] / "cmd.json").read_text())["argv"])
    assert (out / "results.csv").read_text().count("\n") == 49  # header + one row per variant


# --- 2. kill -9 mid-sweep, then resume --------------------------------------------------------

def _kill_leftovers(run_dir: Path, pids: list[int]) -> None:
    """Kill the groups of ``pids`` and of every ``pid`` file under ``run_dir`` whose process still works
    in ``run_dir`` (test clean-up only)."""
    for pid_file in run_dir.glob("**/pid"):
        try:
            pids.append(int(pid_file.read_text()))
        except (OSError, ValueError):
            pass
    for pid in pids:
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(run_dir.resolve()):
                os.killpg(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


def test_kill_9_then_resume_reruns_only_unfinished_steps(tmp_path: Path) -> None:
    bindir, calls = counting_trtexec(tmp_path / "bin")
    # One run step hangs, so the kill lands mid-sweep deterministically, with a trtexec running.
    hang = {"mode": "hang",
            "when": {"precision": "fp32", "batch": 2, "argv": "--infStreams=2", "phase": "run"}}
    env = double_env(tmp_path, {"perf": {"sleep_s": 0.05}, "fail": hang}, path_first=bindir)
    sweep = write_sweep(tmp_path / "k.yaml", {**SMALL, "streams": [1, 2]})
    out = tmp_path / "run"
    started: list[int] = []
    try:
        _kill_then_resume(tmp_path, sweep, out, env, bindir, calls, started)
    finally:
        # Never leave the hanging double behind, whatever failed (it runs in its own session).
        _kill_leftovers(out, started)


def _wait_for_hung_step(out: Path) -> tuple[Path, int]:
    """The folder and trtexec pid of the step the double's 'hang' rule holds (fp32, batch 2, 2 streams)."""
    def hung_dir() -> Path | None:
        return next((p.parent for p in out.glob("runs/tracker-fp32-b2-st-s2-*/pid")
                     if p.read_text().strip()), None)

    _wait_for(lambda: hung_dir() is not None, 60, "the hanging step to start")
    hung = hung_dir()
    assert hung is not None
    return hung, int((hung / "pid").read_text())


def _kill_then_resume(tmp_path: Path, sweep: Path, out: Path, env: dict[str, str], bindir: Path,
                      calls: Path, started: list[int]) -> None:
    proc = start_trtsweep(["run", sweep, "-o", out, "-q"], env)
    try:
        hung, orphan = _wait_for_hung_step(out)
        started.append(orphan)
        before = step_statuses(out)
        assert before and len(before) < 12, before  # mid-sweep: something finished, not everything
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert _pid_alive(orphan), "kill -9 of trtsweep leaves its trtexec running (own session)"

    snapshot = {rel: ((out / rel / "status").read_bytes(), _log(out, rel).stat().st_mtime_ns)
                for rel in before}
    calls_before = call_counts(calls)

    # The hang is gone now (a new config file: the orphan still reads the old one, and keeps hanging).
    env = double_env(tmp_path, {"perf": {"sleep_s": 0.05}}, path_first=bindir, name="no-hang.json")
    second = trtsweep(["run", sweep, "-o", out], env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{len(before)} of 12 steps already done" in second.stdout
    # The orphan is found through the pid file although a wrapper script exec'd the double.
    _wait_for(lambda: not _pid_alive(orphan), 5, "the orphaned trtexec to be killed")

    assert set(variant_statuses(out).values()) == {"passed"} and len(variant_statuses(out)) == 8
    for rel, (status_bytes, log_mtime) in snapshot.items():
        assert (out / rel / "status").read_bytes() == status_bytes, rel
        assert _log(out, rel).stat().st_mtime_ns == log_mtime, f"{rel} ran again"
    counts = call_counts(calls)
    # Finished steps were called once in all; the interrupted one twice; the rest once, in the 2nd run.
    # What ran is cmd.json's argv; the status records it with the run folder as ${RUN_DIR}.
    finished = {" ".join(json.loads((out / rel / "cmd.json").read_text())["argv"][1:]) for rel in before}
    assert all(calls_before[a] == 1 and counts[a] == 1 for a in finished)
    hung_argv = " ".join(json.loads((hung / "cmd.json").read_text())["argv"][1:])
    assert counts[hung_argv] == 2
    assert sum(counts.values()) == 12 + 1


# --- 3. a hanging step times out ---------------------------------------------------------------

def test_hanging_step_times_out_and_the_rest_finish(tmp_path: Path) -> None:
    hang = {"mode": "hang", "when": {"precision": "fp16", "batch": 2, "phase": "run"}}
    env = double_env(tmp_path, {"fail": hang})
    sweep = write_sweep(tmp_path / "h.yaml", SMALL, run={"timeout_s": 1})
    out = tmp_path / "run"
    start = time.monotonic()
    proc = trtsweep(["run", sweep, "-o", out], env)
    assert time.monotonic() - start < 30
    assert proc.returncode == 1, proc.stdout + proc.stderr
    statuses = variant_statuses(out)
    hung = variant_id(out, precision="fp16", batch=2)
    assert statuses.pop(hung) == "timeout"
    assert set(statuses.values()) == {"passed"} and len(statuses) == 3
    doc = json.loads((out / "runs" / hung / "status").read_text())
    assert "timeout of 1 s" in doc["reason"]
    assert "failures: timeout x1" in proc.stdout
    assert not (out / "runs" / hung / "pid").exists()


# --- 4. a failed build skips its runs -----------------------------------------------------------

def test_oom_build_skips_its_runs_with_the_reason(tmp_path: Path) -> None:
    env = double_env(tmp_path, {"fail": {"mode": "oom", "when": {"precision": "fp16", "phase": "build"}}})
    sweep = write_sweep(tmp_path / "o.yaml", {**SMALL, "streams": [1, 2]})
    out = tmp_path / "run"
    proc = trtsweep(["run", sweep, "-o", out], env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for e in lock(out)["variants"]:
        doc = json.loads((out / "runs" / e["id"] / "status").read_text())
        if e["axes"]["precision"] == "fp16":
            assert doc["status"] == "skipped"
            assert e["build_id"] in doc["reason"] and "oom" in doc["reason"]
            assert not (out / "runs" / e["id"] / "run.log").exists()  # never started
        else:
            assert doc["status"] == "passed"
    builds = {rel: d for rel, d in step_statuses(out).items() if rel.startswith("engines")}
    assert sorted(d["status"] for d in builds.values()) == ["failed", "failed", "passed", "passed"]
    assert "failures: oom x2" in proc.stdout
    assert "done: 2 failed, 6 passed, 4 skipped" in proc.stdout  # steps: 2+2 builds, 4+4 runs

    # A kill -9 right after the failed builds' status, before their runs were marked skipped: the resumed
    # sweep must still report those runs as skipped (and fail), not silently drop them.
    skipped = [p for p in out.glob("runs/*/status") if json.loads(p.read_text())["status"] == "skipped"]
    for status in skipped:
        status.unlink()
    again = trtsweep(["run", sweep, "-o", out], env)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "done: 4 skipped" in again.stdout
    for status in skipped:
        doc = json.loads(status.read_text())
        assert doc["status"] == "skipped" and "oom" in doc["reason"]


# --- 5. two GPUs in parallel ---------------------------------------------------------------------

def test_two_gpus_run_steps_in_parallel(tmp_path: Path) -> None:
    gpus = [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-aaaaaaaa-0000-0000-0000-000000000000"},
            {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-bbbbbbbb-1111-1111-1111-111111111111"}]
    env = double_env(tmp_path, {"gpus": gpus, "perf": {"sleep_s": 0.6}})
    sweep = write_sweep(tmp_path / "g.yaml", {"precision": ["fp32", "fp16"], "streams": [1, 2],
                                              "cuda_graph": [False, True]})
    out = tmp_path / "run"
    proc = trtsweep(["run", sweep, "-o", out, "--gpus", "0,1", "-q"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    docs = step_statuses(out)
    assert len(docs) == 10  # 2 builds + 8 runs
    assert {d["gpu"] for d in docs.values()} == {"0", "1"}
    # The step really ran on the GPU its status names: the double prints the UUID it was pinned to.
    for rel, d in docs.items():
        assert f"Selected Device UUID: {gpus[int(d['gpu'])]['uuid']}" in _log(out, rel).read_text()
    spans = intervals(out)
    serial = sum(d["duration_s"] for d in docs.values())
    wall = max(e for _, e, _ in spans) - min(s for s, _, _ in spans)
    assert max_concurrency(spans) == 2
    # Same GPU model (GPU 1 is simply absent from nvidia-smi's fixture): an engine built on one GPU is
    # run on the other too, rather than each GPU waiting for its own builds.
    built_on = {rel.split("/")[1]: d["gpu"] for rel, d in docs.items() if rel.startswith("engines/")}
    engine_of = {rel: next(a for a in d["argv"] if a.startswith("--loadEngine=")).split("/")[-2]
                 for rel, d in docs.items() if rel.startswith("runs/")}
    assert any(built_on[engine_of[rel]] != d["gpu"] for rel, d in docs.items() if rel in engine_of)
    assert wall < 0.7 * serial, (wall, serial)


# --- 6. a model path with spaces, quotes and ';' -----------------------------------------------

def test_model_path_with_spaces_quotes_and_semicolon(tmp_path: Path) -> None:
    odd = tmp_path / "my models; 'quoted' \"dir\"" / "tracker v1; rm -rf x 'a' \"b\".onnx"
    odd.parent.mkdir(parents=True)
    shutil.copy(MODEL, odd)
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "odd.yaml", {"batch": [1, 2]}, model=odd, fp16_model=None)
    out = tmp_path / "out dir; x"
    proc = trtsweep(["run", sweep, "-o", out], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(variant_statuses(out).values()) == {"passed"}
    for status in out.glob("engines/*/status"):
        argv = json.loads(status.read_text())["argv"]
        assert f"--onnx={odd}" in argv  # one argv item, passed through untouched (no shell)
        assert str(odd) in (status.parent / "build.log").read_text()
    assert json.loads((out / "env.json").read_text())["models"]["tracker"]["sha256"]


# --- 7. resume after a spec change ---------------------------------------------------------------

def test_resume_after_adding_a_batch_runs_only_the_new_variants(tmp_path: Path) -> None:
    bindir, calls = counting_trtexec(tmp_path / "bin")
    env = double_env(tmp_path, path_first=bindir)
    out = tmp_path / "run"
    sweep = write_sweep(tmp_path / "r.yaml", {"precision": ["fp32"], "batch": [1, 2], "streams": [1, 2]})
    assert trtsweep(["run", sweep, "-o", out, "-q"], env).returncode == 0
    first = step_statuses(out)
    snapshot = {rel: (out / rel / "status").read_bytes() for rel in first}
    old_ids = set(variant_statuses(out))
    n_calls = sum(call_counts(calls).values())

    write_sweep(sweep, {"precision": ["fp32"], "batch": [1, 2, 4], "streams": [1, 2]})
    proc = trtsweep(["run", sweep, "-o", out], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "resuming" in proc.stdout and "6 of 9 steps already done" in proc.stdout
    statuses = variant_statuses(out)
    assert len(statuses) == 6 and set(statuses.values()) == {"passed"}
    new_ids = set(statuses) - old_ids
    assert {e["axes"]["batch"] for e in lock(out)["variants"] if e["id"] in new_ids} == {4}
    assert len(new_ids) == 2 and old_ids < set(statuses)
    for rel, data in snapshot.items():
        assert (out / rel / "status").read_bytes() == data, f"{rel} ran again"
    # Only the new engine (batch 4) and its 2 runs were called.
    assert sum(call_counts(calls).values()) - n_calls == 3


def test_resume_with_repeats_reruns_a_lost_repeat(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "rep.yaml", {"batch": [1, 2]}, run={"repeats": 2})
    out = tmp_path / "run"
    assert trtsweep(["run", sweep, "-o", out, "-q"], env).returncode == 0
    assert len(step_statuses(out)) == 2 + 2 * 2
    # A kill -9 during repeat 1 of a variant leaves that step without a status: only it must run again.
    lost = out / "runs" / variant_id(out, batch=2) / "repeat-1"
    keep = {rel: (out / rel / "status").read_bytes() for rel in step_statuses(out)
            if rel != str(lost.relative_to(out))}
    (lost / "status").unlink()
    proc = trtsweep(["run", sweep, "-o", out], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "done: 1 passed; 5 steps were already done" in proc.stdout
    assert json.loads((lost / "status").read_text())["status"] == "passed"
    assert all((out / rel / "status").read_bytes() == data for rel, data in keep.items())


# --- 8. dry run, plan, --only ------------------------------------------------------------------

def _cli(args: list[str], env: dict[str, str]):  # noqa: ANN202 - click's Result
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def test_dry_run_prints_commands_and_runs_nothing(tmp_path: Path) -> None:
    bindir, calls = counting_trtexec(tmp_path / "bin")
    env = double_env(tmp_path, path_first=bindir)
    sweep = write_sweep(tmp_path / "d.yaml", SMALL)
    out = tmp_path / "run"
    result = _cli(["run", sweep, "-o", out, "--dry-run"], env)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 8  # 4 builds + 4 runs, one shell-quoted command each
    assert sum("--saveEngine=" in ln for ln in lines) == 4 and sum("--loadEngine=" in ln for ln in lines) == 4
    assert not out.exists()
    assert not call_counts(calls)  # only the --help version probe ran


def test_plan_with_trt_version_needs_no_trtexec(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "p.yaml", SMALL)
    no_trtexec = {"PATH": str(tmp_path / "empty"), "TRTEXEC": None}
    result = _cli(["plan", sweep, "--trt-version", "8.6.1"], no_trtexec)
    assert result.exit_code == 0, result.output
    assert "4 variants, 4 engine builds, 4 runs" in result.output and "trtexec 8.6.1" in result.output
    assert "--fp16" in result.output
    as_json = json.loads(_cli(["plan", sweep, "--trt-version", "10.8", "--format", "json"],
                              no_trtexec).output)
    # The pinned prefix stands for x.y.0, as a found trtexec reports it: ids and paths match `run`'s.
    assert as_json["version"] == "10.8.0" and len(as_json["steps"]) == 8
    assert all("-v10.8.0/" in " ".join(step["argv"]) for step in as_json["steps"])
    result = _cli(["plan", sweep], no_trtexec)
    assert result.exit_code == 2
    assert "no trtexec found" in result.output and "--trt-version" in result.output
    assert "Traceback" not in result.output


def test_only_runs_the_selected_slice(tmp_path: Path) -> None:
    env = double_env(tmp_path)
    sweep = write_sweep(tmp_path / "only.yaml", SMALL)
    out = tmp_path / "run"
    proc = trtsweep(["run", sweep, "-o", out, "--only", "precision=fp16"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entries = lock(out)["variants"]
    assert {e["axes"]["precision"] for e in entries} == {"fp16"} and len(entries) == 2
    assert all("fp16" in p.parent.name for p in out.glob("engines/*/status"))
    assert len(list(out.glob("runs/*/status"))) == 2
    # A second slice into the same folder adds to it: the lock and results then hold both slices.
    proc = trtsweep(["run", sweep, "-o", out, "--only", "precision=fp32"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {e["axes"]["precision"] for e in lock(out)["variants"]} == {"fp16", "fp32"}
    assert len(lock(out)["variants"]) == 4
    assert len((out / "results.csv").read_text().strip().splitlines()) == 1 + 4
    bad = _cli(["run", sweep, "-o", tmp_path / "bad", "--only", "colour=red"], env)
    assert bad.exit_code == 2 and "unknown key 'colour'" in bad.output
    assert not (tmp_path / "bad").exists()


# --- 9. bad input: exit 2, the place at fault, nothing started ---------------------------------

def _bad_specs(tmp_path: Path) -> dict[str, tuple[str, list[str], str]]:
    """name -> (sweep text, extra CLI args, expected text in the error)."""
    good = write_sweep(tmp_path / "good.yaml", SMALL).read_text()
    name = "bad.yaml"
    return {
        "broken_yaml": (good.replace("batch: [1, 2]", "batch: [1, 2"), [], f"{name}:10:4: YAML syntax error"),
        "tab": (good.replace("  - name: tracker", "\t- name: tracker"), [],
                f"{name}:2:1: YAML syntax error: tab"),
        "wrong_type": (good.replace('"iterations": 5', '"iterations": "many"'), [],
                       "run.iterations must be an integer"),
        "unknown_key": (good.replace("matrix:\n", "matrix:\n  precison: [fp16]\n"), [],
                        f"{name}:8:3: unknown key 'precison'"),
        "missing_model": (good.replace(str(MODEL), "/nonexistent/model.onnx"), [],
                          f"{name}:3:11: model file not found"),
        "missing_trtexec": (good, ["--trtexec", "/nonexistent/trtexec"], "/nonexistent/trtexec"),
        "unknown_flag": (good.replace("matrix:\n", 'matrix:\n  build_flags: ["--noSuchFlag"]\n'), [],
                         "has no --noSuchFlag"),
        "removed_flag": (good.replace("matrix:\n", 'matrix:\n  build_flags: ["--explicitBatch"]\n'), [],
                         "has no --explicitBatch (removed in 10.0.0)"),
    }


@pytest.mark.parametrize("case", ["broken_yaml", "tab", "wrong_type", "unknown_key", "missing_model",
                                  "missing_trtexec", "unknown_flag", "removed_flag"])
def test_bad_input_is_exit_2_with_the_place_and_nothing_started(tmp_path: Path, case: str) -> None:
    bindir, calls = counting_trtexec(tmp_path / "bin")
    env = double_env(tmp_path, path_first=bindir)
    text, extra, expected = _bad_specs(tmp_path)[case]
    assert text != (tmp_path / "good.yaml").read_text() or extra
    (tmp_path / "bad.yaml").write_text(text)
    out = tmp_path / "run"
    result = _cli(["run", tmp_path / "bad.yaml", "-o", out, *extra], env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("trtsweep: error: ")
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not call_counts(calls)


def test_fp16_on_trt11_without_fp16_model_is_exit_2(tmp_path: Path) -> None:
    env = double_env(tmp_path, version="11.0")
    sweep = write_sweep(tmp_path / "t11.yaml", SMALL, fp16_model=None)
    out = tmp_path / "run"
    result = _cli(["run", sweep, "-o", out], env)
    assert result.exit_code == 2, result.output
    assert "TensorRT 11.0.0" in result.output and "precision fp16" in result.output
    assert "fp32" not in result.output.split("\n", 1)[1]  # only the fp16 variants are at fault
    assert result.output.count("\n  variant ") == 2
    assert not out.exists()


# --- 10. other trtexec versions ---------------------------------------------------------------

@pytest.mark.parametrize(("version", "expect"), [("8.6.1", "--fp16"), ("11.0", "tracker_fp16.onnx")])
def test_trtexec_8_6_and_11_run_a_small_sweep(tmp_path: Path, version: str, expect: str) -> None:
    env = double_env(tmp_path, version=version)
    sweep = write_sweep(tmp_path / "v.yaml", {**SMALL, "cuda_graph": [False, True]})
    out = tmp_path / "run"
    proc = trtsweep(["run", sweep, "-o", out, "-q"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(variant_statuses(out).values()) == {"passed"} and len(variant_statuses(out)) == 8
    assert lock(out)["trtexec"]["version"].startswith(version)
    assert all(bid.endswith(f"-v{version if version.count('.') == 2 else version + '.0'}")
               for bid in {e["build_id"] for e in lock(out)["variants"]})
    fp16_builds = [json.loads(p.read_text())["argv"] for p in out.glob("engines/*fp16*/status")]
    assert fp16_builds and all(any(expect in a for a in argv) for argv in fp16_builds)
    for e in lock(out)["variants"]:
        record = json.loads((out / "runs" / e["id"] / "record.json").read_text())
        assert record["trt_version"].startswith(version) and record["throughput_qps"] > 0
    if version == "11.0":
        # 11.x builds strongly typed networks: the fp16 engine came from the FP16 model, without --fp16.
        assert all(f"--onnx={MODEL_FP16}" in argv and "--fp16" not in argv for argv in fp16_builds)


# --- Ctrl-C ------------------------------------------------------------------------------------

def test_ctrl_c_stops_cleanly_keeping_what_finished(tmp_path: Path) -> None:
    hang = {"mode": "hang",
            "when": {"precision": "fp32", "batch": 2, "argv": "--infStreams=2", "phase": "run"}}
    env = double_env(tmp_path, {"perf": {"sleep_s": 0.05}, "fail": hang})
    sweep = write_sweep(tmp_path / "c.yaml", {**SMALL, "streams": [1, 2]})
    out = tmp_path / "run"
    proc = start_trtsweep(["run", sweep, "-o", out, "-q"], env)
    child = None
    try:
        hung, child = _wait_for_hung_step(out)
        finished = step_statuses(out)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends to the foreground process
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (proc.stdout.read() if proc.stdout else "")
    # The running trtexec (in its own session, out of reach of the terminal's Ctrl-C) was stopped too.
    _wait_for(lambda: not _pid_alive(child), 10, "the running trtexec to be stopped")
    # Finished steps kept their records; the interrupted one has no status, so a resume redoes it.
    assert not (hung / "status").exists()
    for rel in finished:
        assert (out / rel / "status").is_file(), rel
    assert (out / "results.csv").is_file()
