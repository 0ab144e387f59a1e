"""``trtsweep doctor``: is this host set up for a stable measurement? Pure findings from host facts.

The facts come from ``orchestrate.host.doctor_facts`` (NVML, else ``nvidia-smi``; cpufreq; trtexec).
Each finding says what was seen, the command that fixes it and whether that needs root. ``warning``
findings are what may make timings unstable or not comparable (the exit status 1); ``info`` and ``ok``
ones are for the record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from trtsweep.analysis.telemetry import THROTTLE_REASONS, decode_reasons
from trtsweep.orchestrate.host import GpuFacts, HostFacts

SCHEMA_VERSION = 1
SEVERITIES = ("warning", "info", "ok")


@dataclass(frozen=True)
class DoctorFinding:
    code: str
    severity: str  # warning | info | ok
    message: str
    fix: str | None = None
    needs_root: bool = False
    gpu: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        tag = {"warning": "WARN", "info": "info", "ok": " ok "}[self.severity]
        fix = f" -> {self.fix}" + (" (root)" if self.needs_root else "") if self.fix else ""
        return f"[{tag}] {self.code}: {self.message}{fix}"


def _gpu_name(g: GpuFacts) -> str:
    return f"GPU {g.index} ({g.name or 'unknown'})"


def _sudo(cmd: str) -> str:
    return f"sudo {cmd}"


def gpu_findings(g: GpuFacts) -> list[DoctorFinding]:
    """The checks of one GPU."""
    out: list[DoctorFinding] = []
    i, who = g.index, _gpu_name(g)
    if g.persistence_mode is False:
        out.append(DoctorFinding("persistence_off", "warning", f"{who}: persistence mode is off (the driver "
                                 "unloads between processes: every trtexec pays the GPU's start-up, clocks "
                                 "start from idle)", _sudo(f"nvidia-smi -i {i} -pm 1"), True, i))
    elif g.persistence_mode:
        out.append(DoctorFinding("persistence_on", "ok", f"{who}: persistence mode on", gpu=i))
    reasons = decode_reasons(g.reasons)
    apps_set = (g.app_sm_mhz is not None and g.default_app_sm_mhz is not None
                and g.app_sm_mhz != g.default_app_sm_mhz)
    if "applications_clocks_setting" in reasons or apps_set:
        held = f" at {g.app_sm_mhz:.0f} MHz" if apps_set and g.app_sm_mhz else ""
        out.append(DoctorFinding("clocks_locked", "ok", f"{who}: clocks held by a locked/application "
                                 f"clock setting{held}", f"nvidia-smi -i {i} -rgc to release after the sweep",
                                 True, i))
    else:
        top = f"{g.max_sm_mhz:.0f}" if g.max_sm_mhz else "<MHz>"
        out.append(DoctorFinding(
            "clocks_not_locked", "warning", f"{who}: SM clock not locked (it boosts and throttles with load "
            "and temperature: variants measured minutes apart run at different clocks)",
            _sudo(f"nvidia-smi -i {i} -lgc {top},{top}") + " (or a lower clock the GPU holds under load; "
            f"undo: nvidia-smi -i {i} -rgc)", True, i))
    if g.sm_mhz is not None:
        top = f" of max {g.max_sm_mhz:.0f} MHz" if g.max_sm_mhz else ""
        now = f"; reasons: {', '.join(reasons)}" if reasons else ""
        out.append(DoctorFinding("clocks_now", "info", f"{who}: SM clock now {g.sm_mhz:.0f} MHz{top}{now}",
                                 gpu=i))
    throttled = [r for r in reasons if r in THROTTLE_REASONS]
    if throttled:
        out.append(DoctorFinding("throttling_now", "warning", f"{who}: clocks are being reduced right "
                                 f"now ({', '.join(throttled)})", "nvidia-smi -q -d PERFORMANCE,TEMPERATURE,"
                                 "POWER shows why; let the GPU cool or lower its load", False, i))
    if g.power_limit_w is not None and g.default_power_limit_w is not None:
        if g.power_limit_w + 0.5 < g.default_power_limit_w:
            out.append(DoctorFinding(
                "power_limit_low", "warning", f"{who}: power limit {g.power_limit_w:.0f} W, below its "
                f"default {g.default_power_limit_w:.0f} W (the GPU hits the software power cap sooner)",
                _sudo(f"nvidia-smi -i {i} -pl {g.default_power_limit_w:.0f}"), True, i))
        else:
            out.append(DoctorFinding("power_limit", "ok", f"{who}: power limit {g.power_limit_w:.0f} W "
                                     f"(default {g.default_power_limit_w:.0f} W)", gpu=i))
    if g.mig_current:
        out.append(DoctorFinding("mig_on", "warning", f"{who}: MIG mode is on (a MIG slice has a fraction "
                                 "of the GPU's SMs and memory; results do not compare with a whole GPU)",
                                 _sudo(f"nvidia-smi -i {i} -mig 0") + " (GPU reset needed)", True, i))
    if g.mig_pending is not None and g.mig_current is not None and g.mig_pending != g.mig_current:
        out.append(DoctorFinding("mig_pending", "warning", f"{who}: a MIG mode change waits for a GPU reset",
                                 _sudo(f"nvidia-smi -i {i} -r"), True, i))
    if g.ecc_current is not None:
        out.append(DoctorFinding("ecc", "info", f"{who}: ECC {'on' if g.ecc_current else 'off'} (keep it the "
                                 "same on machines you compare)", gpu=i))
    if g.ecc_pending is not None and g.ecc_current is not None and g.ecc_pending != g.ecc_current:
        out.append(DoctorFinding("ecc_pending", "warning", f"{who}: an ECC mode change waits for a reboot",
                                 "reboot, or undo the pending change", True, i))
    others = [p for p in g.processes if p.get("kind") != "ours"]
    if others:
        shown = ", ".join(f"pid {p['pid']} ({p.get('name') or '?'}"
                          + (f", {p['used_mib']:.0f} MiB" if isinstance(p.get("used_mib"), int | float)
                             else "") + ")" for p in others[:5])
        hidden = any(p.get("kind") == "unresolved" for p in others)
        out.append(DoctorFinding(
            "gpu_busy", "warning", f"{who}: other compute processes on the GPU: {shown}"
            + (" (some pids are not visible here: another container?)" if hidden else ""),
            "stop them (kill <pid>; root if they are another user's) or pick a free GPU with --gpus",
            False, i))
    return out


def findings(facts: HostFacts) -> list[DoctorFinding]:
    """Every check of the host, warnings first (within a severity in the order checked)."""
    out: list[DoctorFinding] = []
    if not facts.gpus:
        out.append(DoctorFinding("no_gpu", "warning", "no NVIDIA GPU found"
                                 + (f" ({facts.gpu_note})" if facts.gpu_note else ""),
                                 "install the NVIDIA driver (nvidia-smi must list the GPU)", True))
    elif facts.gpu_note:
        out.append(DoctorFinding("gpu_facts_partial", "info", facts.gpu_note))
    if facts.nvml_note:
        out.append(DoctorFinding("telemetry_unavailable", "info", "GPU telemetry during steps not available: "
                                 f"{facts.nvml_note}", "pip install 'trtsweep[nvml]'"
                                 if "not installed" in facts.nvml_note else None))
    else:
        out.append(DoctorFinding("telemetry", "ok", "GPU telemetry available (NVML): clocks, power and "
                                 "processes are recorded during every step"))
    for g in facts.gpus:
        out.extend(gpu_findings(g))
    models = {g.name for g in facts.gpus}
    if len(models) > 1 and facts.cuda_device_order != "PCI_BUS_ID":
        names = ", ".join(sorted(map(str, models)))
        out.append(DoctorFinding("cuda_device_order", "warning", f"GPU models differ ({names}) and "
                                 "CUDA_DEVICE_ORDER is not PCI_BUS_ID: CUDA numbers GPUs fastest first, "
                                 "nvidia-smi by PCI bus, so --gpus 0 may not be nvidia-smi's GPU 0",
                                 "export CUDA_DEVICE_ORDER=PCI_BUS_ID"))
    if facts.cpu_governors:
        slow = {k: n for k, n in facts.cpu_governors.items() if k != "performance"}
        total = sum(facts.cpu_governors.values())
        if slow:
            names = ", ".join(f"{k} on {n}" for k, n in sorted(slow.items()))
            out.append(DoctorFinding("cpu_governor", "warning", f"CPU frequency governor: {names} of {total} "
                                     "CPUs (host-side enqueue and copies vary with the CPU clock)",
                                     _sudo("cpupower frequency-set -g performance"), True))
        else:
            out.append(DoctorFinding("cpu_governor", "ok", "CPU frequency governor: performance on all "
                                     f"{total} CPUs"))
    else:
        out.append(DoctorFinding("cpu_governor", "info", "CPU frequency governor: not exposed by this kernel "
                                 "(no cpufreq: a VM or container)"))
    if facts.trtexec_path:
        version = facts.trtexec_version or "(version unknown)"
        out.append(DoctorFinding("trtexec", "ok", f"trtexec {version} at {facts.trtexec_path}"))
    else:
        out.append(DoctorFinding("trtexec_missing", "warning", facts.trtexec_note or "trtexec not found",
                                 "put trtexec on PATH, set $TRTEXEC, or pass --trtexec PATH"))
    order = {s: k for k, s in enumerate(SEVERITIES)}
    return sorted(out, key=lambda f: order[f.severity])


def exit_code(found: list[DoctorFinding]) -> int:
    """0 when nothing stands in the way of a stable measurement, 1 with warnings."""
    return 1 if any(f.severity == "warning" for f in found) else 0


def document(facts: HostFacts, found: list[DoctorFinding]) -> dict[str, Any]:
    """``--format json``: the verdict, every finding, the facts they were judged from."""
    return {"schema_version": SCHEMA_VERSION, "ok": exit_code(found) == 0,
            "warnings": sum(f.severity == "warning" for f in found),
            "findings": [f.to_dict() for f in found], "facts": facts.to_dict()}


def short_lines(found: list[DoctorFinding]) -> list[str]:
    """What ``trtsweep run`` prints before it starts: one line per warning."""
    return [f"doctor: {f.line()[7:]}" for f in found if f.severity == "warning"]
