"""The executor registry, ``--executor`` / ``executor:``, and sweep ``targets``: no cluster needed.

CLI cases run in-process (click's CliRunner) against the trtexec double; each checks exit 2, one line,
and that nothing was started (no run folder, no trtexec invocation).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from e2e_helpers import call_counts, counting_trtexec, double_env, write_sweep

from trtsweep.cli import main
from trtsweep.orchestrate import backends
from trtsweep.orchestrate.backends import ExecutorOptions
from trtsweep.orchestrate.backends.local import LocalExecutor
from trtsweep.orchestrate.backends.ray_connect import IMPLICIT, unserved_targets
from trtsweep.orchestrate.backends.ray_worker import collect_files, relocate, unpack
from trtsweep.orchestrate.plan import make_plan
from trtsweep.sweeps.expand import expand, select
from trtsweep.sweeps.spec import SpecError, Target, parse_spec
from trtsweep.trtexec import discover
from trtsweep.versions import parse_version

SMALL = {"precision": ["fp32", "fp16"], "batch": [1, 2]}
TARGETS = [{"name": "h100", "gpu": "NVIDIA H100*", "resources": {"h100": 1}}, {"name": "l4"}]


def _cli(args: list[Any], env: dict[str, str]):  # noqa: ANN202 - click's Result
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def _refused(tmp_path: Path, extra: list[str], **sweep_keys: Any) -> str:
    """Run a sweep that must be refused; returns the error output after checking nothing started."""
    bindir, calls = counting_trtexec(tmp_path / "bin")
    sweep = write_sweep(tmp_path / "s.yaml", SMALL, **sweep_keys)
    out = tmp_path / "run"
    result = _cli(["run", sweep, "-o", out, *extra], double_env(tmp_path, path_first=bindir))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("trtsweep: error: ") and "Traceback" not in result.output
    assert not out.exists() and not [c for c in call_counts(calls) if "--saveEngine" in c]
    return result.output


# --- the registry -----------------------------------------------------------------------------------

def test_unknown_executor_on_the_command_line(tmp_path: Path) -> None:
    out = _refused(tmp_path, ["--executor", "slurmm"])
    assert "--executor: unknown executor 'slurmm'; expected one of: local, ray, slurm" in out
    assert len(out.strip().splitlines()) == 1


def test_unknown_executor_in_the_sweep_file_names_its_place(tmp_path: Path) -> None:
    out = _refused(tmp_path, [], executor="kubernetes")
    line = next(n for n, text in enumerate((tmp_path / "s.yaml").read_text().splitlines(), 1)
                if text.startswith("executor:"))
    assert f"s.yaml:{line}:11: executor: unknown executor 'kubernetes'" in out


def test_ray_without_ray_installed_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    out = _refused(tmp_path, ["--executor", "ray"])
    assert "pip install 'trtsweep[ray]'" in out and len(out.strip().splitlines()) == 1


def test_slurm_without_submitit_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "submitit", None)
    out = _refused(tmp_path, ["--executor", "slurm"])
    assert "pip install 'trtsweep[slurm]'" in out and len(out.strip().splitlines()) == 1


def test_slurm_without_sbatch_is_one_line(tmp_path: Path) -> None:
    bindir, calls = counting_trtexec(tmp_path / "bin")
    sweep = write_sweep(tmp_path / "s.yaml", SMALL, executor="slurm")
    env = double_env(tmp_path, path_first=bindir)
    # Only the double and the Python running the tests on PATH: no sbatch, as on a laptop.
    env["PATH"] = f"{bindir}:{Path(__file__).parent / 'trtexec_double'}:{Path(sys.executable).parent}"
    result = _cli(["run", sweep, "-o", tmp_path / "run"], env)
    assert result.exit_code == 2 and "sbatch" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_slurm_settings_are_checked_where_they_are_written(tmp_path: Path) -> None:
    out = _refused(tmp_path, [], executor="slurm", slurm={"partiton": "gpu", "max_parallel": 0})
    text = (tmp_path / "s.yaml").read_text().splitlines()
    line = next(n for n, t in enumerate(text, 1) if t.startswith("slurm:"))
    assert f"s.yaml:{line}:" in out and "partiton" in out and "did you mean 'partition'" in out
    assert "max_parallel" in out  # every problem at once


def test_slurm_refuses_targets(tmp_path: Path) -> None:
    out = _refused(tmp_path, ["--executor", "slurm"], targets=TARGETS)
    assert "targets (h100, l4) are not supported by the slurm executor" in out


def test_local_executor_refuses_targets(tmp_path: Path) -> None:
    out = _refused(tmp_path, [], targets=TARGETS)
    assert "targets (h100, l4) need a multi-host executor: run with --executor ray" in out


def test_a_new_backend_is_one_registry_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a ``slurm`` backend needs: one entry; it gets the spec and the options and runs the sweep."""
    seen: dict[str, Any] = {}

    def factory(spec: Any, options: ExecutorOptions) -> LocalExecutor:
        seen.update(spec=spec, options=options)
        return LocalExecutor(options.gpus, options.env)

    monkeypatch.setitem(backends.EXECUTORS, "batch", factory)
    # The version probe is cached per binary; an earlier in-process test may have probed the double as
    # another TensorRT version (its version comes from the environment).
    monkeypatch.setattr(discover, "_CACHE", {})
    sweep = write_sweep(tmp_path / "s.yaml", SMALL, executor="batch")
    result = _cli(["run", sweep, "-o", tmp_path / "run", "-q"], double_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert seen["spec"].executor == "batch"
    assert seen["options"].run_dir == (tmp_path / "run").resolve()
    assert len(seen["options"].extra["plan_steps"]) == 8  # 4 builds + 4 runs, done or not
    assert (tmp_path / "run" / "results.csv").is_file()


def test_a_step_reported_twice_counts_once_as_it_ended_last(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend that re-runs a step (Ray, after its node was lost) reports it twice: the summary must
    count it once, as its last report says (before, 4 runs read as 8 and a lost one as a failure)."""
    from trtsweep.orchestrate.step import StepResult

    class Twice(LocalExecutor):
        def execute(self, steps, on_done, on_start=None):  # noqa: ANN001, ANN202
            def report(result: StepResult) -> None:
                if result.step.kind == "run":
                    on_done(StepResult(result.step, "crash", "lost with its node", None, 0.0))
                on_done(result)
            super().execute(steps, report, on_start)

    monkeypatch.setitem(backends.EXECUTORS, "twice", lambda spec, o: Twice(o.gpus, o.env))
    monkeypatch.setattr(discover, "_CACHE", {})
    sweep = write_sweep(tmp_path / "s.yaml", SMALL, executor="twice")
    result = _cli(["run", sweep, "-o", tmp_path / "run", "--json"], double_env(tmp_path))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert doc["exit_code"] == 0 and doc["this_run"] == {"passed": 8}, doc  # 4 builds + 4 runs, once each


# --- targets in the sweep file ----------------------------------------------------------------------

def _spec(tmp_path: Path, **keys: Any):  # noqa: ANN202
    path = write_sweep(tmp_path / "t.yaml", SMALL, **keys)
    return parse_spec(path.read_text(), path)


def test_duplicate_target_names_are_reported_at_the_second(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        _spec(tmp_path, targets=[{"name": "h100"}, {"name": "l4"}, {"name": "h100"}])
    assert "duplicate target name 'h100' (also targets[0])" in str(err.value)
    assert str(err.value).startswith(f"{tmp_path / 't.yaml'}:")


def test_target_names_must_be_folder_and_resource_safe(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"targets\[0\]\.name: 'a/b' must be"):
        _spec(tmp_path, targets=[{"name": "a/b"}])


def test_without_targets_ids_and_engines_are_unchanged(tmp_path: Path) -> None:
    plain = expand(_spec(tmp_path))
    assert [v.id for v in plain][:1] == ["tracker-fp32-b1-st-s1-0ad9d6"]  # the README's id
    assert all(v.target is None and "target" not in v.axes for v in plain)


def test_every_variant_on_every_target_with_its_own_engine(tmp_path: Path) -> None:
    spec = _spec(tmp_path, targets=TARGETS)
    variants = expand(spec)
    assert len(variants) == 2 * 4
    assert {v.axes["target"] for v in variants} == {"h100", "l4"}
    # One engine per build key and target; the same build key on two targets gives two engines.
    assert len({v.build_id for v in variants}) == 8
    assert all(f"-{v.target}-" in v.id and f"-{v.target}-" in v.build_id for v in variants)
    assert [v.target for v in select(variants, ["target=l4"])] == ["l4"] * 4
    plan = make_plan(spec, variants, tmp_path / "run", "trtexec", parse_version("10.8.0"))
    for step in plan.steps:
        # Engine builds and timing caches are per target (TensorRT version in the build id).
        assert step.target is not None and step.build_id.endswith("-v10.8.0")
        if step.kind == "build":
            assert any(f"timing-{step.target}.cache" in a for a in step.argv)


# --- pure pieces of the Ray backend --------------------------------------------------------------

def test_unserved_targets_names_what_is_missing() -> None:
    nodes = [{"Alive": True, "Resources": {"GPU": 2.0, "h100": 2.0, "CPU": 8.0}},
             {"Alive": False, "Resources": {"GPU": 1.0, "l4": 1.0}}]
    problems = unserved_targets(nodes, [Target("h100", resources=(("h100", 1.0),)), Target("l4")])
    assert problems == ["target 'l4' needs a node with {GPU: 1, l4: 1}; the cluster offers: "
                        "CPU: 8, GPU: 2, h100: 2"]
    assert unserved_targets([{"Alive": True, "Resources": {"CPU": 2.0}}], [IMPLICIT]) == [
        "the run (no targets) needs a node with {GPU: 1}; the cluster offers: CPU: 2"]


def test_worker_scratch_copy_and_artifacts_read_as_the_run_folder(tmp_path: Path) -> None:
    spec = _spec(tmp_path, targets=TARGETS)
    run_dir = (tmp_path / "run").resolve()
    plan = make_plan(spec, expand(spec), run_dir, "trtexec", parse_version("10.8.0"))
    step = plan.runs[0]
    scratch = tmp_path / "scratch"
    local = relocate(step, scratch)
    assert local.dir == scratch / step.dir.relative_to(run_dir)
    assert not any(str(run_dir) in a for a in local.argv) and any(str(scratch) in a for a in local.argv)
    assert local.portable_argv == step.portable_argv  # the status file records the same command
    local.dir.mkdir(parents=True)
    (local.dir / "cmd.json").write_text(f'{{"cwd": "{local.dir}"}}')
    (local.dir / "run.log").write_text("log")
    (local.dir / "pid").write_text("123")
    (local.dir / "repeat-1").mkdir()
    files = collect_files(local.dir, scratch, run_dir)
    assert set(files) == {"cmd.json", "run.log"}  # no pid, no repeat folders
    assert unpack(files)["cmd.json"].decode() == f'{{"cwd": "{step.dir}"}}'
