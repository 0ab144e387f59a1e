"""GPU telemetry: reason decoding, the summary, device matching, process classification and the sampler,
against a fake NVML replaying the recorded streams in ``tests/fixtures/telemetry`` (CI has no GPU)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fake_nvml"))
from fake import FakeNvmlLib  # noqa: E402

from trtsweep.analysis import telemetry as at  # noqa: E402
from trtsweep.orchestrate import telemetry as tm  # noqa: E402

STREAMS = Path(__file__).parent / "fixtures" / "telemetry"


def rows(name: str, gpu: int = 0) -> list[dict]:
    """The stream's rows as dicts, straight from the fixture (the expectations are computed from these)."""
    g = json.loads((STREAMS / name).read_text())["gpus"][gpu]
    return [dict(zip(g["stream"]["columns"], r, strict=True)) for r in g["stream"]["rows"]]


def replay(name: str, **kw) -> tuple[tm.Nvml, at.DeviceInfo, FakeNvmlLib]:
    lib = FakeNvmlLib.from_file(STREAMS / name, **kw)
    nvml = tm.Nvml(lib)
    return nvml, nvml.devices()[0], lib


def read_all(name: str) -> list[at.Sample]:
    """Every row of a stream read through the real NVML query code (one Sample per row)."""
    nvml, dev, _ = replay(name)
    h = nvml.handle(0)
    return [nvml.sample(h, i / 10) for i in range(len(rows(name)))]


# ---------------------------------------------------------------- decoding and summary

def test_reason_bits_decode_to_nvidia_smi_names() -> None:
    assert at.decode_reasons(0x4) == ["sw_power_cap"]
    assert at.decode_reasons(0x1 | 0x40) == ["gpu_idle", "hw_thermal_slowdown"]
    assert at.decode_reasons(0) == []
    assert at.decode_reasons(None) == []
    assert at.decode_reasons(0x800 | 0x2) == ["applications_clocks_setting", "0x800"]


def test_summary_of_the_throttled_stream_uses_busy_samples_only() -> None:
    data = rows("h200_powercap.json")
    summary = at.summarize(read_all("h200_powercap.json"), tm.Nvml(FakeNvmlLib.from_file(
        STREAMS / "h200_powercap.json")).devices()[0], rate_hz=10)
    busy = [r for r in data if not r["reasons"] & 1 and r["util_pct"] > 0]
    clocks = [r["sm_mhz"] for r in busy]
    assert summary["samples"] == len(data)
    assert summary["busy_samples"] == len(busy)
    assert summary["sm_clock_mhz"] == {"min": min(clocks), "median": statistics.median(clocks),
                                       "max": max(clocks)}
    capped = sum(1 for r in busy if r["reasons"] & 4)
    assert summary["reasons"]["sw_power_cap"] == pytest.approx(capped / len(busy), abs=1e-4)
    assert summary["throttle"] == {"sw_power_cap": summary["reasons"]["sw_power_cap"]}
    assert summary["max_sm_clock_mhz"] == 1980 and summary["power_limit_w"] == 700
    assert summary["power_w"]["max"] == max(r["power_w"] for r in busy)
    assert summary["idle_sm_clock_mhz"]["median"] == 345
    worst = at.worst_throttle(summary)
    assert worst is not None and worst[0] == "sw_power_cap"
    assert at.clock_drop(summary) == pytest.approx(1 - statistics.median(clocks) / 1980)
    t = at.throttling(summary)
    assert t is not None and t.reason == "sw_power_cap" and "sw_power_cap active" in t.text


def test_steady_and_locked_streams_are_not_throttled() -> None:
    nvml, dev, _ = replay("h200_steady.json")
    steady = at.summarize(read_all("h200_steady.json"), dev)
    assert at.throttling(steady) is None and at.clock_drop(steady) == 0.0
    nvml, dev, _ = replay("h200_locked.json")
    locked = at.summarize(read_all("h200_locked.json"), dev)
    # 1410 of 1980 MHz is 29 % below the maximum, but the clocks were locked on purpose (reason 0x2).
    assert at.clock_drop(locked) == pytest.approx(1 - 1410 / 1980)
    assert at.locked(locked) and at.throttling(locked) is None


def test_not_available_summary_says_why() -> None:
    s = at.not_available("nvidia-ml-py is not installed")
    assert s["available"] is False and s["status"] == "not available" and "nvidia-ml-py" in s["reason"]
    assert at.throttling(s) is None and at.sm_median(s) is None and at.foreign(s) == []


def test_combine_takes_the_worst_repeat() -> None:
    _, dev, _ = replay("h200_powercap.json")
    capped = at.summarize(read_all("h200_powercap.json"), dev)
    steady = at.summarize(read_all("h200_steady.json"), dev)
    both = at.combine([steady, capped, at.not_available("x")])
    assert both["repeats"] == 2
    assert both["reasons"]["sw_power_cap"] == capped["reasons"]["sw_power_cap"]
    assert both["sm_clock_mhz"]["min"] == min(capped["sm_clock_mhz"]["min"], steady["sm_clock_mhz"]["min"])
    assert at.combine([None, at.not_available("x")]) is None


# ---------------------------------------------------------------- the clock gate (compare / history)

def test_clock_gate() -> None:
    _, dev, _ = replay("h200_powercap.json")
    capped = at.summarize(read_all("h200_powercap.json"), dev)
    steady = at.summarize(read_all("h200_steady.json"), dev)
    reason = at.clock_gate(steady, capped)
    med = statistics.median(r["sm_mhz"] for r in rows("h200_powercap.json")
                            if not r["reasons"] & 1 and r["util_pct"] > 0)
    assert reason is not None and f"{med:.0f} MHz (B)" in reason and "1980 MHz (A)" in reason
    assert at.clock_gate(steady, steady) is None
    assert at.clock_gate(steady, at.not_available("no NVML")) is None  # no evidence either way
    # Same median clock, but B spent most of its run at the power cap: still inconclusive.
    shifted = dict(steady, reasons={"sw_power_cap": 0.5}, throttle={"sw_power_cap": 0.5})
    why = at.clock_gate(steady, shifted)
    assert why is not None and why.startswith("side B throttled")
    # A gap below the threshold passes; the threshold is the caller's.
    slower = dict(steady, sm_clock_mhz={"min": 1900, "median": 1940, "max": 1980})
    assert at.clock_gate(steady, slower, threshold=0.05) is None
    assert at.clock_gate(steady, slower, threshold=0.01) is not None


# ---------------------------------------------------------------- matching the step's GPU

def test_resolve_device_by_index_uuid_and_bus_order() -> None:
    lib = FakeNvmlLib.from_file(STREAMS / "h200_two_gpus.json")
    devices = tm.Nvml(lib).devices()
    # NVML's own order reversed: CUDA's ordinal follows the PCI bus, not NVML's list.
    devices = list(reversed(devices))
    dev, how = tm.resolve_device(devices, "1", {})
    assert dev is not None and dev.pci_bus_id == "00000000:38:00.0" and "PCI bus" in how
    dev, _ = tm.resolve_device(devices, None, {"CUDA_VISIBLE_DEVICES": "1,0"})
    assert dev is not None and dev.pci_bus_id == "00000000:38:00.0"
    dev, _ = tm.resolve_device(devices, None, {})
    assert dev is not None and dev.pci_bus_id == "00000000:18:00.0"
    uuid = "GPU-5e1f0c7a-0000-4000-8000-000000000001"
    dev, how = tm.resolve_device(devices, uuid[:30], {})
    assert dev is None and "more than one" in how  # the prefix is shared by both GPUs
    dev, how = tm.resolve_device(devices, uuid, {})
    assert dev is not None and dev.uuid == uuid and how.startswith("UUID")
    assert tm.resolve_device(devices, "", {})[0] is None
    assert tm.resolve_device(devices, "7", {})[1].startswith("CUDA device 7")
    assert "MIG" in tm.resolve_device(devices, "MIG-1234", {})[1]


def test_bus_ids_of_nvml_and_cuda_agree() -> None:
    want = "00000000:18:00.0"
    assert tm.normalize_bus_id("0000:18:00.0") == tm.normalize_bus_id(b"00000000:18:00.0") == want


# ---------------------------------------------------------------- whose process is it

def test_our_children_are_ours_others_foreign_and_invisible_unresolved() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        c = tm.ProcessClassifier()
        assert c.classify(os.getpid())[0] == "ours"
        assert c.classify(child.pid)[0] == "ours"
        # Seen from the child's point of view, trtsweep's other child is not its descendant: foreign.
        assert tm.ProcessClassifier(root_pid=child.pid).classify(other.pid)[0] == "foreign"
        assert c.classify(1)[0] == "foreign"
        assert c.classify(2**22 + 12345)[0] == "unresolved"
    finally:
        for p in (child, other):
            p.kill()
            p.wait()


# ---------------------------------------------------------------- the sampler thread

def test_sampler_reads_at_its_rate_and_summarises() -> None:
    nvml, dev, lib = replay("h200_powercap.json")
    sampler = tm.Sampler(nvml, dev, rate_hz=50).start()
    time.sleep(0.5)
    sampler.stop()
    n = len(sampler.samples)
    assert 15 <= n <= 30, n  # 50 Hz for 0.5 s on a shared 2-CPU box
    ts = [s.t_s for s in sampler.samples]
    assert ts == sorted(ts) and ts[0] == 0.0
    # Replay by call: the k-th sample read the k-th row.
    data = rows("h200_powercap.json")
    assert [s.sm_mhz for s in sampler.samples[:5]] == [r["sm_mhz"] for r in data[:5]]
    doc = sampler.document()
    assert doc["columns"][0] == "t_s" and len(doc["samples"]) == n
    assert doc["summary"]["samples"] == n


def test_sampler_survives_nvml_errors() -> None:
    nvml, dev, lib = replay("h200_steady.json")

    def broken(h):
        raise RuntimeError("GPU is lost")

    lib.nvmlDeviceGetComputeRunningProcesses = broken
    nvml = tm.Nvml(lib)
    nvml.processes = broken  # type: ignore[method-assign]
    s = tm.Sampler(nvml, dev, rate_hz=100).start()
    time.sleep(0.1)
    s.stop()
    assert s.errors and "GPU is lost" in s.errors[0] and s.summary()["errors"]


def test_foreign_process_reported_and_ours_not(tmp_path: Path) -> None:
    procs = tmp_path / "procs"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    procs.write_text(f"{child.pid}\n{other.pid}\n")
    try:
        nvml, dev, _ = replay("h200_steady.json", procs_file=str(procs))
        s = tm.Sampler(nvml, dev, rate_hz=50, classifier=tm.ProcessClassifier(root_pid=child.pid)).start()
        time.sleep(0.3)
        s.stop()
    finally:
        for p in (child, other):
            p.kill()
            p.wait()
    summary = s.summary()
    assert [p["pid"] for p in summary["foreign_processes"]] == [other.pid]
    assert summary["foreign_processes"][0]["name"] == "python3" or summary["foreign_processes"][0]["name"]
    assert not summary["unresolved_processes"]


# ---------------------------------------------------------------- without NVML

def test_without_nvml_the_watch_says_not_available() -> None:
    t = tm.Telemetry(FakeNvmlLib({"gpus": []}, fail_init=True))
    assert not t.available and "NVML did not start" in (t.reason or "")
    with t.watch("0", {}) as w:
        pass
    assert w.summary["available"] is False and w.document()["samples"] == []
    off = tm.Telemetry(enabled=False)
    assert "turned off" in off.watch(None, {}).summary["reason"]


def test_real_pynvml_without_a_driver_is_not_available() -> None:
    pytest.importorskip("pynvml", reason="nvidia-ml-py is in the dev extra: pip install -e '.[dev]'")
    t = tm.Telemetry()
    if t.available:  # a machine with a GPU: nothing to check here
        assert t.devices
    else:
        assert t.reason


def test_watch_samples_the_matched_gpu() -> None:
    t = tm.Telemetry(FakeNvmlLib.from_file(STREAMS / "h200_two_gpus.json"), rate_hz=50)
    with t.watch("1", {}) as w:
        time.sleep(0.2)
    s = w.summary
    assert s["available"] and s["device"]["pci_bus_id"] == "00000000:38:00.0"
    assert s["sm_clock_mhz"]["median"] == 1980
    # GPU 1's stream lists pid 1 (init: visible here, not ours) as a compute process.
    assert [p["pid"] for p in s["foreign_processes"]] == [1]


# ---------------------------------------------------------------- a telemetry.json written on a real GPU

def test_real_h100_step_telemetry_reads_back_and_gates() -> None:
    """``h100_run_step_real.json`` is the telemetry.json trtsweep wrote on a real H100 (driver 580) for a
    RUN step of benchmarks/gpu_verify_telemetry.sh: the double loaded the GPU with a bf16 matmul for 6 s
    and a second process was started on the GPU on purpose. Its summary must be what the samples say."""
    doc = json.loads((STREAMS / "h100_run_step_real.json").read_text())
    cols = doc["columns"]
    samples = [at.Sample(**dict(zip(cols, r, strict=True))) for r in doc["samples"]]
    procs = [at.ProcessSeen(**p) for p in doc["processes"]]
    dev = at.DeviceInfo(**doc["summary"]["device"])
    again = at.summarize(samples, dev, procs, rate_hz=doc["summary"]["rate_hz"], process_rate_hz=2.0)
    for key in ("samples", "busy_samples", "sm_clock_mhz", "power_w", "reasons", "idle_sm_clock_mhz"):
        assert again[key] == doc["summary"][key], key
    # What the machine showed: full clock while idle before the load, the software power cap under it
    # (0x4), the busy SM clock below the 1980 MHz maximum, and the second process seen as foreign.
    busy = [s for s in samples if s.busy]
    assert all(s.reasons is not None and s.reasons & 0x4 for s in busy[2:-2])
    assert at.sm_median(doc["summary"]) < 1980 and doc["summary"]["reasons"]["sw_power_cap"] > 0.9
    assert [p["kind"] for p in doc["processes"] if p["pid"] == 916] == ["foreign"] * 3
    assert {p["pid"] for p in doc["summary"]["foreign_processes"]} == {916}
    t = at.throttling(doc["summary"])
    assert t is not None and t.reason == "sw_power_cap"
    # Held against a run that did not throttle, a comparison with this step is inconclusive.
    steady = dict(doc["summary"], reasons={}, throttle={},
                  sm_clock_mhz={"min": 1965.0, "median": 1980.0, "max": 1980.0})
    assert at.clock_gate(steady, doc["summary"]) is not None
