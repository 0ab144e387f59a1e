"""argv generation by trtexec version, checked against the reference and against the trtexec double."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from trtsweep.trtexec.flags import (
    BuildSpec,
    FlagError,
    RunSpec,
    UnsupportedOnVersion,
    build_argv,
    flag_state,
    profile_argv,
    run_argv,
)

DOUBLE = Path(__file__).parent / "trtexec_double" / "trtexec"
SHAPES = {"x": "1x3x224x224"}
DYN = dict(min_shapes={"x": "1x3x224x224"}, opt_shapes={"x": "4x3x224x224"}, max_shapes={"x": "8x3x224x224"})


@pytest.mark.parametrize(
    ("flag", "version", "state"),
    [
        ("--fp16", (10, 8), "ok"),
        ("--fp16", (10, 14), "deprecated"),
        ("--fp16", (11, 0), "removed"),
        ("--workspace", (8, 2), "ok"),
        ("--workspace", (8, 4), "deprecated"),
        ("--workspace", (10, 0), "removed"),
        ("--memPoolSize", (8, 2), "absent"),
        ("--memPoolSize", (8, 4), "ok"),
        ("--memPoolSize", (8, 4, 0), "absent"),
        ("--infStreams", (8, 5), "absent"),
        ("--streams", (8, 6), "deprecated"),
        ("--streams", (11, 0), "deprecated"),
        ("--noCudaGraph", (10, 16), "absent"),
        ("--noCudaGraph", (11, 0), "ok"),
        ("--useCudaGraph", (11, 0), "deprecated"),
        ("--consistency", (10, 8), "absent"),
        ("--consistency", (10, 13), "ok"),
        ("--notAFlag", (10, 8), "absent"),
        ("-h", (7, 0), "ok"),
    ],
)
def test_flag_state(flag: str, version: tuple[int, ...], state: str) -> None:
    assert flag_state(flag, version) == state


def test_build_7_1_explicit_batch_workspace() -> None:
    argv = build_argv(
        BuildSpec("m.onnx", precision="fp16", workspace_mib=1024, save_engine="e.plan", **DYN), (7, 1)
    )
    assert argv == [
        "--onnx=m.onnx",
        "--fp16",
        "--explicitBatch",
        "--minShapes=x:1x3x224x224",
        "--optShapes=x:4x3x224x224",
        "--maxShapes=x:8x3x224x224",
        "--workspace=1024",
        "--saveEngine=e.plan",
        "--buildOnly",
    ]


def test_build_8_2_and_8_4_workspace_units() -> None:
    a82 = build_argv(BuildSpec("m.onnx", workspace_mib=2048, timing_cache_file="t.cache"), (8, 2))
    assert "--workspace=2048" in a82 and "--explicitBatch" not in a82 and "--buildOnly" in a82
    assert "--profilingVerbosity=detailed" in a82 and "--noTF32" in a82
    a84 = build_argv(BuildSpec("m.onnx", workspace_mib=2048), (8, 4))
    assert "--memPoolSize=workspace:2048" in a84 and not any(a.startswith("--workspace") for a in a84)
    assert not any("MiB" in a for a in a84)  # "2048MiB" would mean 2048 bytes from 10.1
    with pytest.raises(UnsupportedOnVersion, match="integer"):
        build_argv(BuildSpec("m.onnx", workspace_mib=0.5), (8, 2))
    assert "--memPoolSize=workspace:0.5" in build_argv(BuildSpec("m.onnx", workspace_mib=0.5), (10, 8))


def test_build_8_6_renames_and_level() -> None:
    argv = build_argv(BuildSpec("m.onnx", precision="int8", builder_optimization_level=5), (8, 6))
    assert "--skipInference" in argv and "--buildOnly" not in argv
    assert "--builderOptimizationLevel=5" in argv and "--int8" in argv
    with pytest.raises(UnsupportedOnVersion, match=r"TensorRT 8\.5"):
        build_argv(BuildSpec("m.onnx", builder_optimization_level=5), (8, 5))


def test_build_shapes_rules() -> None:
    with pytest.raises(UnsupportedOnVersion, match="8.4"):
        build_argv(BuildSpec("m.onnx", min_shapes=SHAPES, max_shapes=SHAPES), (8, 4))
    assert "--minShapes=x:1x3x224x224" in build_argv(BuildSpec("m.onnx", min_shapes=SHAPES), (8, 5))
    assert "--shapes='x:0':1x3" in build_argv(BuildSpec("m.onnx", shapes={"x:0": "1x3"}), (7, 0))
    assert "--shapes=x:0:1x3" in build_argv(BuildSpec("m.onnx", shapes={"x:0": "1x3"}), (7, 1))
    with pytest.raises(FlagError):
        build_argv(BuildSpec("m.onnx", shapes={"a,b": "1"}), (10, 8))


def test_build_10x_has_no_removed_flags() -> None:
    argv = build_argv(BuildSpec("m.onnx", precision="bf16", workspace_mib=1024, **DYN), (10, 8))
    assert "--bf16" in argv and "--memPoolSize=workspace:1024" in argv and "--skipInference" in argv
    assert not {"--explicitBatch", "--buildOnly"} & set(argv)
    with pytest.raises(UnsupportedOnVersion, match="bf16"):
        build_argv(BuildSpec("m.onnx", precision="bf16"), (8, 6))
    with pytest.raises(UnsupportedOnVersion, match="--workspace"):
        build_argv(BuildSpec("m.onnx", extra_flags=["--workspace=1024"]), (10, 0))


def test_build_11_precision_from_model() -> None:
    with pytest.raises(UnsupportedOnVersion) as err:
        build_argv(BuildSpec("m.onnx", precision="fp16"), (11, 0))
    assert str(err.value) == (
        "precision fp16 on TensorRT 11.0: 11.x takes precision from the model; give an "
        "FP16 ONNX file for this precision (models[].precision_onnx.fp16 in the sweep file)"
    )
    argv = build_argv(
        BuildSpec("m.onnx", precision="fp16", onnx_by_precision={"fp16": "m_fp16.onnx"}), (11, 0)
    )
    assert argv[0] == "--onnx=m_fp16.onnx" and not any(a in argv for a in ("--fp16", "--best", "--int8"))
    assert build_argv(BuildSpec("m.onnx", precision="fp32"), (11, 0))[:2] == ["--onnx=m.onnx", "--noTF32"]
    assert "--noTF32" not in build_argv(BuildSpec("m.onnx", precision="tf32"), (11, 0))
    with pytest.raises(UnsupportedOnVersion, match="--fp16"):
        build_argv(BuildSpec("m.onnx", extra_flags=["--fp16"]), (11, 0))


def test_run_argv_versions() -> None:
    spec = RunSpec(
        "e.plan",
        shapes=SHAPES,
        streams=2,
        cuda_graph=True,
        spin_wait=True,
        data_transfers=False,
        warmup_ms=500,
        iterations=100,
        duration_s=0,
        avg_runs=5,
        percentiles=[99],
        export_times="t.json",
    )
    assert run_argv(spec, (8, 5)) == [
        "--loadEngine=e.plan",
        "--shapes=x:1x3x224x224",
        "--streams=2",
        "--useCudaGraph",
        "--useSpinWait",
        "--noDataTransfers",
        "--warmUp=500",
        "--iterations=100",
        "--duration=0",
        "--avgRuns=5",
        "--percentile=99",
        "--exportTimes=t.json",
    ]
    assert "--infStreams=2" in run_argv(spec, (8, 6))
    eleven = run_argv(spec, (11, 0))
    assert not {"--useCudaGraph", "--useSpinWait", "--noDataTransfers"} & set(eleven)
    off = RunSpec("e.plan", cuda_graph=False, spin_wait=False, data_transfers=True)
    assert run_argv(off, (11, 0)) == [
        "--loadEngine=e.plan",
        "--noCudaGraph",
        "--noSpinWait",
        "--includeDataTransfers",
    ]
    assert run_argv(off, (10, 8)) == ["--loadEngine=e.plan"]
    with pytest.raises(UnsupportedOnVersion, match="7.1"):
        run_argv(RunSpec("e.plan", data_transfers=False), (7, 1))


def test_percentiles_single_vs_list() -> None:
    spec = RunSpec("e.plan", percentiles=[90, 95, 99.9])
    assert "--percentile=90,95,99.9" in run_argv(spec, (8, 5))
    with pytest.raises(UnsupportedOnVersion, match="single percentile"):
        run_argv(spec, (8, 4))
    with pytest.raises(FlagError):
        run_argv(RunSpec("e.plan", percentiles=[101]), (10, 8))


def test_profiling_adds_separate_profile_run_where_needed() -> None:
    base = RunSpec("e.plan", export_times="t.json")
    for version in ((8, 4), (8, 6), (10, 8)):
        argv = profile_argv(base, version, export_profile="p.json")
        assert "--separateProfileRun" in argv and "--dumpProfile" in argv and "--exportProfile=p.json" in argv
    assert "--separateProfileRun" in profile_argv(base, (8, 2))
    assert "--separateProfileRun" not in profile_argv(base, (11, 0))
    assert "--separateProfileRun" not in profile_argv(base, (7, 1))
    assert "--separateProfileRun" in run_argv(RunSpec("e.plan", dump_profile=True), (10, 8))
    assert "--separateProfileRun" not in run_argv(RunSpec("e.plan", dump_profile=True), (8, 2))


def test_extra_flags_checked() -> None:
    assert (
        run_argv(RunSpec("e.plan", extra_flags=["--useManagedMemory"]), (10, 8))[-1] == "--useManagedMemory"
    )
    with pytest.raises(FlagError, match="twice"):
        run_argv(RunSpec("e.plan", iterations=5, extra_flags=["--iterations=10"]), (10, 8))
    with pytest.raises(FlagError, match="one '--name=value'"):
        run_argv(RunSpec("e.plan", extra_flags=["--iterations 10"]), (10, 8))
    with pytest.raises(FlagError, match="boolean"):
        run_argv(RunSpec("e.plan", extra_flags=["--threads=false"]), (10, 8))
    with pytest.raises(UnsupportedOnVersion, match="--bogus"):
        run_argv(RunSpec("e.plan", extra_flags=["--bogus=1"]), (10, 8))
    with pytest.raises(UnsupportedOnVersion, match=r"needs TensorRT 8\.0"):
        build_argv(BuildSpec("m.onnx", timing_cache_file="c"), (7, 1))
    assert "--staticPlugins=a.so" in build_argv(
        BuildSpec("m.onnx", extra_flags=["--staticPlugins=a.so", "--staticPlugins=b.so"]), (10, 8)
    )


def test_every_item_is_name_value_once() -> None:
    spec = BuildSpec(
        "m.onnx",
        precision="best",
        workspace_mib=64,
        timing_cache_file="c",
        save_engine="e",
        export_layer_info="l.json",
        verbose=True,
        **DYN,
    )
    for version in ((8, 2), (8, 4), (8, 5), (8, 6), (10, 8)):
        argv = build_argv(spec, version)
        names = [a.split("=", 1)[0] for a in argv]
        assert len(names) == len(set(names)) and all(a.startswith("--") and " " not in a for a in names)


# --- every argv generated for 8.6, 10.x and 11.x is accepted by the double of that version ---------------


def _run_double(argv: list[str], version: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TRTEXEC_DOUBLE_VERSION=version, TRTEXEC_DOUBLE_CONFIG="")
    return subprocess.run([str(DOUBLE), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("version", "dotted"), [((8, 6), "8.6.1"), ((10, 8), "10.8.0"), ((10, 16), "10.16.1"), ((11, 0), "11.0")]
)
def test_generated_argv_accepted_by_double(version: tuple[int, ...], dotted: str, tmp_path: Path) -> None:
    model = "m_fp16.onnx" if version >= (11,) else "m.onnx"
    (tmp_path / model).write_bytes(b"onnx")
    build = BuildSpec(
        model,
        precision="fp16" if version >= (11,) else "int8",
        model_precision="fp16" if version >= (11,) else "fp32",
        workspace_mib=1024,
        builder_optimization_level=3,
        timing_cache_file="t.cache",
        save_engine="e.plan",
        export_layer_info="build_layers.json",
        verbose=True,
        **DYN,
    )
    b = _run_double(build_argv(build, version), dotted, tmp_path)
    assert b.returncode == 0, b.stdout + b.stderr
    run = RunSpec(
        "e.plan",
        shapes={"x": "4x3x224x224"},
        streams=2,
        cuda_graph=True,
        spin_wait=True,
        data_transfers=False,
        threads=True,
        warmup_ms=50,
        iterations=20,
        duration_s=0,
        avg_runs=5,
        percentiles=[50, 99],
        export_times="times.json",
        export_layer_info="layers.json",
    )
    for argv in (
        run_argv(run, version),
        profile_argv(run, version, export_profile="p.json"),
        run_argv(RunSpec("e.plan", cuda_graph=False, spin_wait=False, data_transfers=True), version),
    ):
        r = _run_double(argv, dotted, tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Unknown option" not in r.stderr and "&&&& PASSED" in r.stdout
    assert (tmp_path / "times.json").is_file() and (tmp_path / "p.json").is_file()
