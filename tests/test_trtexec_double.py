"""The trtexec test double writes what real trtexec writes (reference regexes, corpus formats)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

DOUBLE_DIR = Path(__file__).parent / "trtexec_double"
DOUBLE = DOUBLE_DIR / "trtexec"
STATUS = re.compile(
    r"^&&&& (RUNNING|PASSED|FAILED|WAIVED) TensorRT\.trtexec(?: \[TensorRT v(\d+)\])?"
    r"(?: \[b(\d+)\])? # (.*)$"
)
METRIC = re.compile(
    r"^(Latency|End-to-End Host Latency|Enqueue Time|H2D Latency|GPU Compute Time|D2H Latency): "
    r"min = (\S+) ms, max = (\S+) ms, mean = (\S+) ms, median = (\S+) ms"
    r"((?:, percentile\([\d.]+%\) = \S+ ms)*)$"
)
TAGGED = re.compile(r"^\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\] \[([IWEFV])\] ?(.*)$")
TIME_KEYS = [
    "startEnqMs",
    "endEnqMs",
    "startH2dMs",
    "endH2dMs",
    "startComputeMs",
    "endComputeMs",
    "startD2hMs",
    "endD2hMs",
    "h2dMs",
    "computeMs",
    "d2hMs",
    "latencyMs",
]


def run(
    args: list[str], cwd: Path, version: str = "10.8.0", config: dict | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, TRTEXEC_DOUBLE_VERSION=version, **env)
    if "CUDA_VISIBLE_DEVICES" not in env:
        environ.pop("CUDA_VISIBLE_DEVICES", None)
    if config is not None:
        (cwd / "double.json").write_text(json.dumps(config))
        environ["TRTEXEC_DOUBLE_CONFIG"] = str(cwd / "double.json")
    else:
        environ.pop("TRTEXEC_DOUBLE_CONFIG", None)
    return subprocess.run(
        [str(DOUBLE), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=60
    )


def body(text: str) -> list[str]:
    return [m.group(2) for m in map(TAGGED.match, text.splitlines()) if m]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "m.onnx").write_bytes(b"onnx")
    return tmp_path


def build(work: Path, version: str = "10.8.0", *extra: str, config: dict | None = None) -> None:
    r = run(["--onnx=m.onnx", "--saveEngine=e.plan", "--shapes=x:1x3x224x224", *extra], work, version, config)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(
    ("version", "vint", "build_tag"),
    [("8.6.1", "8601", None), ("10.8.0", "100800", "43"), ("11.0", "110000", "12")],
)
def test_log_is_the_8_5_plus_format(work: Path, version: str, vint: str, build_tag: str | None) -> None:
    build(work, version)
    r = run(
        [
            "--loadEngine=e.plan",
            "--percentile=90,99.9",
            "--exportTimes=t.json",
            "--iterations=50",
            "--duration=0",
            "--warmUp=20",
        ],
        work,
        version,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    first, last = STATUS.match(lines[0]), STATUS.match(lines[-1])
    assert first and last and first.group(1) == "RUNNING" and last.group(1) == "PASSED"
    assert first.group(2) == vint and first.group(3) == build_tag
    info = body(r.stdout)
    metrics = [m for m in map(METRIC.match, info) if m]
    assert [m.group(1) for m in metrics] == [
        "Latency",
        "Enqueue Time",
        "H2D Latency",
        "GPU Compute Time",
        "D2H Latency",
    ]
    assert all(re.findall(r"percentile\(([\d.]+)%\)", m.group(6)) == ["90", "99.9"] for m in metrics)
    assert re.search(r"^Throughput: [\d.e+]+ qps$", "\n".join(info), re.MULTILINE)
    assert any(re.fullmatch(r"Engine deserialized in [\d.]+ sec\.", x) for x in info)
    assert any(re.fullmatch(r"Timing trace has 50 queries over [\d.e-]+ s", x) for x in info)
    times = json.loads((work / "t.json").read_text())
    assert len(times) == 50 and list(times[0]) == TIME_KEYS and times[0]["startComputeMs"] >= 20
    gpu = next(m for m in metrics if m.group(1) == "GPU Compute Time")
    assert float(gpu.group(2)) == pytest.approx(min(t["computeMs"] for t in times), rel=1e-4)
    if version.startswith("11"):  # transfers are off by default on 11.x
        assert "Data transfers: Disabled" in info and all(t["h2dMs"] == 0 for t in times)
    else:
        assert "Separate profiling: Disabled" in info


def test_seed_case_and_streams(work: Path) -> None:
    config = {"perf": {"noise_cv": 0.0}}
    build(
        work,
        "10.8.0",
        "--noTF32",
        "--minShapes=x:1x3x224x224",
        "--optShapes=x:1x3x224x224",
        "--maxShapes=x:8x3x224x224",
        config=config,
    )
    medians = {}
    for batch in (1, 8):
        r = run(
            [
                "--loadEngine=e.plan",
                f"--shapes=x:{batch}x3x224x224",
                "--duration=0",
                "--iterations=20",
                "--noDataTransfers",
            ],
            work,
            config=config,
        )
        gpu = next(m for m in map(METRIC.match, body(r.stdout)) if m and m.group(1) == "GPU Compute Time")
        medians[batch] = float(gpu.group(5))
    assert medians[1] == pytest.approx(16.0 * 1.08, rel=1e-3)  # dynamic-shape penalty on a min≠max profile
    assert medians[8] == pytest.approx(100.0 * 1.08, rel=1e-3)
    qps = {}
    for streams in (1, 2):
        r = run(
            ["--loadEngine=e.plan", "--shapes=x:1x3x224x224", f"--infStreams={streams}", "--duration=1"],
            work,
            config=config,
        )
        qps[streams] = float(re.search(r"Throughput: (\S+) qps", r.stdout).group(1))
        assert ("Multiple inference streams are used" in r.stderr) == (streams > 1)
    assert qps[2] > 1.6 * qps[1]


def test_warnings_when_conditions_hold(work: Path) -> None:
    config = {"perf": {"enqueue_ms": 30.0, "noise_cv": 0.05}}
    build(work, config=config)
    r = run(["--loadEngine=e.plan", "--duration=0", "--iterations=100"], work, config=config)
    assert "[W] * Throughput may be bound by Enqueue Time" in r.stderr
    assert "--useCudaGraph (utilize CUDA graphs where possible)" in r.stderr
    assert re.search(
        r"\[W\] \* GPU compute time is unstable, with coefficient of variance = [\d.]+%\.", r.stderr
    )
    assert "[W]" not in r.stdout and "[I]" not in r.stderr


def test_unknown_and_repeated_flags_fail_like_trtexec(work: Path) -> None:
    r = run(["--onnx", "m.onnx"], work, "8.6.1")
    assert r.returncode == 1
    assert "[E] Unknown option: m.onnx \n" in r.stderr
    assert r.stdout.splitlines()[-1].startswith("&&&& FAILED TensorRT.trtexec [TensorRT v8601] #")
    r = run(["--onnx=m.onnx", "--fp16", "--fp16"], work, "10.8.0")
    assert r.returncode == 1 and "Unknown option: --fp16 " in r.stderr and "=== Help ===" in r.stdout
    r = run(["--onnx=m.onnx", "--fp16"], work, "11.0")
    assert r.returncode == 1 and "Unknown option: --fp16" in r.stderr
    r = run(["--onnx=m.onnx", "--iterations=abc"], work)
    assert r.returncode == 1 and "[E] stoi" in r.stderr
    r = run(["--onnx=m.onnx", "--saveEngine=a", "--loadEngine=b"], work)
    assert "Incompatible load and save engine options selected" in r.stderr
    r = run(["--help"], work, "8.6.1")
    assert r.returncode == 0 and STATUS.match(r.stdout.splitlines()[0]) and "--infStreams" in r.stdout


def test_help_order_by_version(work: Path) -> None:
    """≤9.x prints the errors before the help text, 10.0+ after it (merged streams keep the order)."""

    def merged(version: str) -> str:
        env = dict(os.environ, TRTEXEC_DOUBLE_VERSION=version)
        env.pop("TRTEXEC_DOUBLE_CONFIG", None)
        return subprocess.run(
            [str(DOUBLE), "--bogus"],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ).stdout

    old, new = merged("8.6.1"), merged("10.8.0")
    assert old.index("Unknown option: --bogus") < old.index("=== Help ===")
    assert new.index("Unknown option: --bogus") > new.index("=== Help ===")


def test_engine_from_another_version_is_refused(work: Path) -> None:
    build(work, "8.6.1")
    r = run(["--loadEngine=e.plan"], work, "10.8.0")
    assert r.returncode == 1
    assert (
        "IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error (The engine plan file is not "
        "compatible with this version of TensorRT, expecting library version 10.8.0.43 got 8.6.1.6"
    ) in r.stderr
    assert "[E] Engine deserialization failed" in r.stderr and "&&&& FAILED" in r.stdout
    r = run(["--loadEngine=e.plan"], work, "8.6.1", config={"gpus": ["NVIDIA A100-SXM4-80GB"]})
    assert r.returncode == 0 and "across different models of devices" in r.stderr
    header = json.loads((work / "e.plan").read_bytes().split(b"\n")[1])
    assert header["trt_version"] == "8.6.1" and header["gpu"] == "Simulated GPU (trtexec test double)"


def test_shape_outside_profile(work: Path) -> None:
    build(work)
    r = run(["--loadEngine=e.plan", "--shapes=x:4x3x224x224"], work)
    assert r.returncode == 1 and "does not satisfy any optimization profiles" in r.stderr


def test_exports_profile_and_layer_info(work: Path) -> None:
    build(work, "10.8.0", "--profilingVerbosity=detailed")
    r = run(
        [
            "--loadEngine=e.plan",
            "--exportProfile=p.json",
            "--dumpProfile",
            "--exportTimes=t.json",
            "--exportLayerInfo=l.json",
            "--duration=0",
        ],
        work,
    )
    assert "e2e network timing is not reported" in r.stdout and not (work / "t.json").exists()
    prof = json.loads((work / "p.json").read_text())
    assert set(prof[0]) == {"count"} and {"name", "timeMs", "averageMs", "medianMs", "percentage"} == set(
        prof[1]
    )
    assert isinstance(json.loads((work / "l.json").read_text())["Layers"][0], dict)
    assert re.search(r"\[I\]    Time\(ms\)     Avg\.\(ms\)   Median\(ms\)   Time\(%\)   Layer", r.stdout)
    assert re.search(r"\[I\] +\d+\.\d\d +\d+\.\d{4} +\d+\.\d{4} +100\.0   Total", r.stdout)
    r = run(
        ["--loadEngine=e.plan", "--exportProfile=p.json", "--separateProfileRun", "--exportTimes=t.json"],
        work,
    )
    assert "=== Performance summary ===" in r.stdout and (work / "t.json").exists()
    build(work, "10.8.0")
    run(["--loadEngine=e.plan", "--exportLayerInfo=l.json", "--duration=0"], work)
    assert all(isinstance(x, str) for x in json.loads((work / "l.json").read_text())["Layers"])


def test_gpu_names_follow_cuda_visible_devices(work: Path) -> None:
    config = {"gpus": ["GPU Zero", {"name": "GPU One", "sms": 132}]}
    build(work, config=config)
    r = run(["--loadEngine=e.plan", "--duration=0"], work, config=config, CUDA_VISIBLE_DEVICES="1")
    assert "Selected Device: GPU One" in r.stdout and "SMs: 132" in r.stdout


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        ("oom", "Error Code 1: Cuda Runtime (out of memory)"),
        ("unsupported_op", "Plugin not found, are the plugin name, version, and namespace correct?"),
        ("parse_error", "[E] Failed to parse onnx file"),
    ],
)
def test_failure_modes(work: Path, mode: str, text: str) -> None:
    config = {"fail": {"mode": mode, "when": {"precision": "fp16"}}}
    r = run(["--onnx=m.onnx", "--fp16", "--skipInference"], work, config=config)
    assert r.returncode == 1 and text in r.stdout + r.stderr and "&&&& FAILED" in r.stdout
    assert run(["--onnx=m.onnx", "--skipInference"], work, config=config).returncode == 0  # `when` not met


def test_unsupported_op_8x_wording(work: Path) -> None:
    r = run(["--onnx=m.onnx"], work, "8.6.1", config={"fail": {"mode": "unsupported_op", "op": "Round"}})
    assert "No importer registered for op: Round" in r.stdout
    assert "getPluginCreator could not find plugin: Round version: 1" in r.stderr


def test_crash_and_hang(work: Path) -> None:
    build(work)
    r = run(["--loadEngine=e.plan"], work, config={"fail": {"mode": "crash", "when": "loadEngine"}})
    assert r.returncode == -signal.SIGSEGV and "Segmentation fault" in r.stderr
    r = run(["--loadEngine=e.plan"], work, config={"fail": {"mode": "crash", "signal": "SIGABRT"}})
    assert r.returncode == -signal.SIGABRT
    (work / "double.json").write_text(json.dumps({"fail": {"mode": "hang"}}))
    env = dict(os.environ, TRTEXEC_DOUBLE_CONFIG=str(work / "double.json"))
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(
            [str(DOUBLE), "--loadEngine=e.plan"], cwd=work, env=env, capture_output=True, timeout=1.5
        )


def test_nvidia_smi_double_describes_the_configured_gpus(tmp_path: Path) -> None:
    smi = str(DOUBLE_DIR / "nvidia-smi")
    cfg = tmp_path / "double.json"
    cfg.write_text(json.dumps({"gpus": [{"name": "GPU A", "uuid": "GPU-a", "memory_mib": 1000}, "GPU B"]}))
    env = {k: v for k, v in os.environ.items() if k != "NVIDIA_SMI_DOUBLE_FIXTURE"}
    env["TRTEXEC_DOUBLE_CONFIG"] = str(cfg)
    out = subprocess.run([smi, "--query-gpu=index,name,uuid,memory.total", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True, env=env).stdout
    assert out.splitlines()[0] == "0, GPU A, GPU-a, 1000"
    assert out.splitlines()[1].startswith("1, GPU B, GPU-")
    assert "CUDA Version: 13.0" in subprocess.run([smi], capture_output=True, text=True, env=env).stdout
    default = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, env={k: v for k, v in env.items() if k != "TRTEXEC_DOUBLE_CONFIG"})
    assert "simulated" in default.stdout.lower()


@pytest.mark.corpus
def test_nvidia_smi_double_replays_a_recorded_host() -> None:
    smi = str(DOUBLE_DIR / "nvidia-smi")
    env = dict(os.environ, NVIDIA_SMI_DOUBLE_FIXTURE="h100-driver580")
    assert "<nvidia_smi_log>" in subprocess.run([smi, "-q", "-x"], capture_output=True, text=True,
                                                env=env).stdout
    out = subprocess.run(
        [smi, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, env=env,
    ).stdout
    # h100-driver580__query-gpu.csv line 2: "0, NVIDIA H100 80GB HBM3, ..., 81559 MiB, ..."
    assert out == "NVIDIA H100 80GB HBM3, 81559\n"
    assert "NVIDIA-SMI 580" in subprocess.run([smi], capture_output=True, text=True, env=env).stdout
