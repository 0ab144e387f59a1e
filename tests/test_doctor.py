"""trtsweep doctor: pure findings from host facts, facts from NVML (fake) and nvidia-smi (text), the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fake_nvml"))
from fake import FakeNvmlLib  # noqa: E402

from trtsweep.orchestrate import doctor  # noqa: E402
from trtsweep.orchestrate import telemetry as tm  # noqa: E402
from trtsweep.orchestrate.host import GpuFacts, HostFacts, cpu_governors, doctor_facts, parse_doctor_csv  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STREAMS = REPO / "tests" / "fixtures" / "telemetry"
DOUBLE = REPO / "tests" / "trtexec_double"


def good_gpu(**kw) -> GpuFacts:
    base = dict(index=0, name="NVIDIA H200", uuid="GPU-x", persistence_mode=True, sm_mhz=1980,
                max_sm_mhz=1980, app_sm_mhz=1980, default_app_sm_mhz=1980, power_limit_w=700,
                default_power_limit_w=700,
                mig_current=False, mig_pending=False, ecc_current=True, ecc_pending=True, reasons=0x2)
    base.update(kw)
    return GpuFacts(**base)


def facts(*gpus: GpuFacts, **kw) -> HostFacts:
    base = dict(gpus=list(gpus), gpu_source="nvml", cpu_governors={"performance": 8},
                trtexec_path="/usr/bin/trtexec", trtexec_version="10.8.0")
    base.update(kw)
    return HostFacts(**base)


def by_code(found):
    return {f.code: f for f in found}


def test_a_ready_host_has_no_warnings() -> None:
    found = doctor.findings(facts(good_gpu()))
    assert doctor.exit_code(found) == 0, [f.line() for f in found]
    codes = by_code(found)
    assert codes["clocks_locked"].severity == "ok" and codes["persistence_on"].severity == "ok"
    assert codes["ecc"].severity == "info"


def test_each_problem_is_a_warning_with_its_fix() -> None:
    g = good_gpu(persistence_mode=False, reasons=0x4, app_sm_mhz=1980, power_limit_w=500, mig_current=True,
                 processes=[{"pid": 99, "name": "python3", "used_mib": 2048.0, "kind": "foreign"}])
    found = doctor.findings(facts(g, cpu_governors={"powersave": 6, "performance": 2}))
    codes = by_code(found)
    assert doctor.exit_code(found) == 1
    assert codes["persistence_off"].fix == "sudo nvidia-smi -i 0 -pm 1"
    assert codes["persistence_off"].needs_root
    assert codes["clocks_not_locked"].fix.startswith("sudo nvidia-smi -i 0 -lgc 1980,1980")
    assert "sw_power_cap" in codes["throttling_now"].message
    assert codes["power_limit_low"].fix == "sudo nvidia-smi -i 0 -pl 700"
    assert "-mig 0" in codes["mig_on"].fix
    assert "pid 99 (python3, 2048 MiB)" in codes["gpu_busy"].message
    assert "powersave on 6 of 8" in codes["cpu_governor"].message
    assert codes["cpu_governor"].fix == "sudo cpupower frequency-set -g performance"
    # Warnings come first and the short doctor of `run` prints exactly those, one line each.
    warnings = [f for f in found if f.severity == "warning"]
    assert found[: len(warnings)] == warnings
    lines = doctor.short_lines(found)
    assert len(lines) == len(warnings) and all(line.startswith("doctor: ") for line in lines)


def test_missing_gpu_trtexec_and_mixed_models() -> None:
    found = by_code(doctor.findings(facts(trtexec_path=None, trtexec_note="trtexec not found: looked at PATH",
                                          gpu_note="neither NVML nor nvidia-smi found")))
    assert found["no_gpu"].severity == "warning" and "nvidia-smi" in found["no_gpu"].message
    assert found["trtexec_missing"].message.startswith("trtexec not found")
    mixed = by_code(doctor.findings(facts(good_gpu(), good_gpu(index=1, name="NVIDIA L40S"))))
    assert mixed["cuda_device_order"].fix == "export CUDA_DEVICE_ORDER=PCI_BUS_ID"
    ordered = by_code(doctor.findings(facts(good_gpu(), good_gpu(index=1, name="NVIDIA L40S"),
                                            cuda_device_order="PCI_BUS_ID")))
    assert "cuda_device_order" not in ordered


def test_facts_through_fake_nvml() -> None:
    telemetry = tm.Telemetry(FakeNvmlLib.from_file(STREAMS / "h200_two_gpus.json"))
    f = doctor_facts(telemetry, "/x/trtexec", "10.8.0")
    assert f.gpu_source == "nvml" and [g.index for g in f.gpus] == [0, 1]
    g0, g1 = f.gpus
    assert g0.persistence_mode is True and g0.max_sm_mhz == 1980 and g0.power_limit_w == 700
    assert g0.default_power_limit_w == 700 and g0.mig_current is False and g0.ecc_current is True
    # GPU 1's stream lists pid 1 as a compute process: not ours.
    assert [(p["pid"], p["kind"]) for p in g1.processes] == [(1, "foreign")]
    assert "gpu_busy" in by_code(doctor.findings(f))


def test_nvidia_smi_rows_parse() -> None:
    row = ("0, NVIDIA H200, GPU-abc, 00000000:18:00.0, Disabled, 345 MHz, 1980 MHz, 1980 MHz, 1980 MHz, "
           "600.00 W, 700.00 W, Disabled, Disabled, Enabled, Enabled, 0x0000000000000001")
    (g,) = parse_doctor_csv(row)
    assert g.persistence_mode is False and g.sm_mhz == 345 and g.power_limit_w == 600
    assert g.default_power_limit_w == 700 and g.mig_current is False and g.ecc_current is True
    assert g.reasons == 1
    assert "power_limit_low" in by_code(doctor.findings(facts(g)))


def test_cpu_governors_read_from_sysfs(tmp_path: Path) -> None:
    for i, gov in enumerate(["performance", "powersave", "powersave"]):
        d = tmp_path / f"cpu{i}" / "cpufreq"
        d.mkdir(parents=True)
        (d / "scaling_governor").write_text(gov + "\n")
    assert cpu_governors(tmp_path) == {"performance": 1, "powersave": 2}
    assert cpu_governors(tmp_path / "none") == {}


def _cli(*args: str, stream: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{DOUBLE}:{os.environ['PATH']}",
               PYTHONPATH=os.pathsep.join([str(REPO / "tests" / "fake_nvml"), str(REPO)]))
    env.pop("FAKE_NVML_STREAM", None)
    if stream:
        env["FAKE_NVML_STREAM"] = str(STREAMS / stream)
    return subprocess.run([sys.executable, "-m", "trtsweep.cli", "doctor", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)


def test_cli_text_and_json_with_the_fake_nvml() -> None:
    res = _cli("--format", "json", stream="h200_two_gpus.json")
    doc = json.loads(res.stdout)
    assert res.returncode == 1 and doc["ok"] is False and doc["facts"]["gpu_source"] == "nvml"
    assert {f["code"] for f in doc["findings"]} >= {"gpu_busy", "telemetry", "trtexec"}
    text = _cli(stream="h200_two_gpus.json")
    assert text.returncode == 1 and "[WARN] gpu_busy: GPU 1 (NVIDIA H200)" in text.stdout
    assert text.stdout.strip().endswith("warning(s)")


def test_cli_without_nvml_falls_back_to_nvidia_smi_and_bad_trtexec_is_exit_2(tmp_path: Path) -> None:
    res = _cli("--format", "json")
    doc = json.loads(res.stdout)
    assert doc["facts"]["gpu_source"] == "nvidia-smi" and "NVML did not start" in doc["facts"]["nvml_note"]
    bad = _cli("--trtexec", str(tmp_path / "nope"))
    assert bad.returncode == 2 and "no such file" in bad.stderr and "Traceback" not in bad.stderr
