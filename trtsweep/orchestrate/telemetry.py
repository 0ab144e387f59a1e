"""GPU telemetry during each BUILD and RUN step: NVML read at a fixed rate by a thread, on the step's GPU.

Never ``nvidia-smi`` during timing (starting it causes latency spikes, NVIDIA/TensorRT#3090): NVML is
opened once per trtsweep process through ``nvidia-ml-py`` (``pip install 'trtsweep[nvml]'``) and each step
gets a sampler thread reading SM/memory clocks, power draw, temperature, utilisation and the clock-event
reasons at ``rate_hz`` (default 10), and the compute processes on that GPU at a fifth of it. The samples
go to ``telemetry.json`` in the step folder, their summary (``analysis.telemetry.summarize``) into the
record. Without ``nvidia-ml-py``, NVML or a GPU, the summary says "not available" and why; nothing else
changes. ``TRTSWEEP_TELEMETRY=0`` turns it off, ``TRTSWEEP_TELEMETRY_HZ`` sets the rate.

NVML is reached only through the module object given to :class:`Nvml` (``pynvml`` by default), so tests
pass a fake replaying recorded sample streams (``tests/fake_nvml``).
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trtsweep.analysis.telemetry import DeviceInfo, ProcessSeen, Sample, not_available, summarize

DEFAULT_RATE_HZ = 10.0
PROCESS_EVERY = 5  # the process list (a heavier NVML call) every 5th sample: 2 Hz at the default rate
FILE = "telemetry.json"
FILE_VERSION = 1
COLUMNS = ("t_s", "sm_mhz", "mem_mhz", "power_w", "temp_c", "util_pct", "mem_util_pct", "reasons")
INSTALL_HINT = "nvidia-ml-py is not installed (pip install 'trtsweep[nvml]')"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def normalize_bus_id(bus_id: str | bytes | None) -> str | None:
    """A PCI bus id in one spelling: NVML's ``00000000:18:00.0`` and CUDA's ``0000:18:00.0`` agree."""
    if bus_id is None:
        return None
    text = _text(bus_id).strip().lower()
    if text.count(":") == 2:
        domain, bus, devfn = text.split(":")
        try:
            return f"{int(domain, 16):08x}:{bus}:{devfn}"
        except ValueError:
            return text
    return text or None


class Nvml:
    """The few NVML queries trtsweep makes, over a ``pynvml``-shaped module (real or fake).

    Every query returns None where the GPU or driver does not support it (an ``NVMLError``)."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        self._handles: dict[int, Any] = {}

    def q(self, name: str, *args: Any) -> Any:
        """One query by its pynvml name; None when the library lacks it or NVML refuses it."""
        fn = getattr(self.lib, name, None)
        if fn is None:
            return None
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - pynvml raises NVMLError subclasses per return code
            return None

    def handle(self, index: int) -> Any:
        if index not in self._handles:
            self._handles[index] = self.lib.nvmlDeviceGetHandleByIndex(index)
        return self._handles[index]

    def devices(self) -> list[DeviceInfo]:
        """Every GPU NVML sees (index, name, UUID, PCI bus id, max clocks, enforced power limit)."""
        count = self.q("nvmlDeviceGetCount") or 0
        out = []
        for i in range(int(count)):
            try:
                h = self.handle(i)
            except Exception:  # noqa: BLE001 - a GPU NVML cannot open (lost, no permission) is left out
                continue
            pci = self.q("nvmlDeviceGetPciInfo", h)
            bus = getattr(pci, "busId", None) if pci is not None else None
            out.append(DeviceInfo(
                index=i, name=_opt_text(self.q("nvmlDeviceGetName", h)),
                uuid=_opt_text(self.q("nvmlDeviceGetUUID", h)), pci_bus_id=normalize_bus_id(bus),
                max_sm_mhz=_num(self.q("nvmlDeviceGetMaxClockInfo", h, _const(self.lib, "NVML_CLOCK_SM", 1))),
                max_mem_mhz=_num(self.q("nvmlDeviceGetMaxClockInfo", h,
                                        _const(self.lib, "NVML_CLOCK_MEM", 2))),
                power_limit_w=_milli(self.q("nvmlDeviceGetEnforcedPowerLimit", h))))
        return out

    def reasons(self, h: Any) -> int | None:
        value = self.q("nvmlDeviceGetCurrentClocksEventReasons", h)
        if value is None:  # drivers before 535 name it "throttle reasons"
            value = self.q("nvmlDeviceGetCurrentClocksThrottleReasons", h)
        return int(value) if value is not None else None

    def sample(self, h: Any, t_s: float) -> Sample:
        lib = self.lib
        util = self.q("nvmlDeviceGetUtilizationRates", h)
        return Sample(
            t_s=round(t_s, 4),
            sm_mhz=_num(self.q("nvmlDeviceGetClockInfo", h, _const(lib, "NVML_CLOCK_SM", 1))),
            mem_mhz=_num(self.q("nvmlDeviceGetClockInfo", h, _const(lib, "NVML_CLOCK_MEM", 2))),
            power_w=_milli(self.q("nvmlDeviceGetPowerUsage", h)),
            temp_c=_num(self.q("nvmlDeviceGetTemperature", h, _const(lib, "NVML_TEMPERATURE_GPU", 0))),
            util_pct=_num(getattr(util, "gpu", None)), mem_util_pct=_num(getattr(util, "memory", None)),
            reasons=self.reasons(h))

    def processes(self, h: Any) -> list[tuple[int, float | None]]:
        """(pid, used MiB) of each compute process on the GPU."""
        out = []
        for p in self.q("nvmlDeviceGetComputeRunningProcesses", h) or []:
            used = getattr(p, "usedGpuMemory", None)
            out.append((int(p.pid), round(used / 2**20, 1) if isinstance(used, int | float) else None))
        return out


def _const(lib: Any, name: str, default: int) -> int:
    return int(getattr(lib, name, default))


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _milli(value: Any) -> float | None:
    v = _num(value)
    return round(v / 1000.0, 3) if v is not None else None


def _opt_text(value: Any) -> str | None:
    return _text(value) if value is not None else None


# ---------------------------------------------------------------- which GPU a step runs on

def resolve_device(devices: list[DeviceInfo], step_device: str | None,
                   env: Mapping[str, str]) -> tuple[DeviceInfo | None, str]:
    """The NVML device a step's CUDA device 0 is, and how it was matched (or None and why not).

    ``step_device`` is the step's ``CUDA_VISIBLE_DEVICES`` (None: it inherits ``env``'s, and trtexec uses
    the first visible device). A UUID (or unique prefix, as CUDA accepts) is matched by UUID; an index by
    CUDA's enumeration, which is PCI-bus order when ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` or when every GPU is
    the same model (CUDA's default "fastest first" then falls back to PCI-bus order)."""
    visible = step_device if step_device is not None else env.get("CUDA_VISIBLE_DEVICES")
    entry = "0" if visible is None else visible.split(",")[0].strip()
    if not entry or entry.startswith("-"):
        return None, f"no GPU visible (CUDA_VISIBLE_DEVICES={visible!r})"
    if entry.upper().startswith("MIG-"):
        return None, f"{entry}: a MIG instance; NVML clocks are the parent GPU's, not sampled"
    if entry.upper().startswith("GPU-"):
        hits = [d for d in devices if d.uuid and d.uuid.lower().startswith(entry.lower())]
        if len(hits) == 1:
            return hits[0], f"UUID {hits[0].uuid}"
        return None, f"{entry}: {'no' if not hits else 'more than one'} GPU with this UUID"
    if not entry.isdigit():
        return None, f"CUDA_VISIBLE_DEVICES entry {entry!r} is not an index or UUID"
    ordinal = int(entry)
    by_bus = sorted(devices, key=lambda d: (d.pci_bus_id is None, d.pci_bus_id or "", d.index or 0))
    if ordinal >= len(by_bus):
        return None, f"CUDA device {ordinal}: NVML lists {len(by_bus)} GPU(s)"
    dev = by_bus[ordinal]
    how = f"CUDA index {ordinal} = PCI bus {dev.pci_bus_id}"
    if env.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID" and len({d.name for d in devices}) > 1:
        how += " (GPU models differ and CUDA_DEVICE_ORDER is not PCI_BUS_ID: CUDA may number them otherwise)"
    return dev, how


# ---------------------------------------------------------------- whose process is it

class ProcessClassifier:
    """Tells our processes (trtsweep and its descendants, e.g. the trtexec child) from foreign ones by the
    parent chain in ``/proc``; a pid this pid namespace does not show is ``unresolved``."""

    def __init__(self, root_pid: int | None = None, proc: Path = Path("/proc")) -> None:
        self.root = root_pid if root_pid is not None else os.getpid()
        self.proc = proc
        self._cache: dict[int, tuple[str, str | None]] = {}

    def _ppid(self, pid: int) -> int | None:
        try:
            stat = (self.proc / str(pid) / "stat").read_text()
        except OSError:
            return None
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        return int(stat.rsplit(")", 1)[1].split()[1])

    def classify(self, pid: int) -> tuple[str, str | None]:
        """(``ours`` | ``foreign`` | ``unresolved``, process name)."""
        if pid in self._cache:
            return self._cache[pid]
        try:
            name: str | None = (self.proc / str(pid) / "comm").read_text().strip()
        except OSError:
            name = None
        if not (self.proc / str(pid)).exists():
            kind = "unresolved"
        else:
            kind = "foreign"
            current: int | None = pid
            for _ in range(64):  # a parent chain longer than this is not ours
                if current == self.root:
                    kind = "ours"
                    break
                current = self._ppid(current) if current is not None else None
                if current is None or current <= 0:
                    break
        self._cache[pid] = (kind, name)
        return kind, name


# ---------------------------------------------------------------- one step's sampler

class Sampler:
    """A thread reading one GPU at ``rate_hz`` until :meth:`stop`; drift-free (the k-th sample is due at
    start + k / rate_hz), so a slow NVML call delays one sample, not all that follow."""

    def __init__(self, nvml: Nvml, device: DeviceInfo, rate_hz: float = DEFAULT_RATE_HZ,
                 classifier: ProcessClassifier | None = None, process_every: int = PROCESS_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.nvml = nvml
        self.device = device
        self.rate_hz = rate_hz
        self.classifier = classifier or ProcessClassifier()
        self.process_every = max(1, process_every)
        self.clock = clock
        self.samples: list[Sample] = []
        self.processes: list[ProcessSeen] = []
        self.errors: list[str] = []
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="telemetry", daemon=True)
        self._handle = nvml.handle(device.index or 0)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        period = 1.0 / self.rate_hz
        t0 = self.clock()
        k = 0
        while True:
            now = self.clock() - t0
            try:
                self.samples.append(self.nvml.sample(self._handle, now))
                if k % self.process_every == 0:
                    for pid, used in self.nvml.processes(self._handle):
                        kind, name = self.classifier.classify(pid)
                        self.processes.append(ProcessSeen(round(now, 4), pid, kind, name, used))
            except Exception as exc:  # noqa: BLE001 - telemetry must never disturb the step
                if len(self.errors) < 5:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
            k += 1
            if self._halt.wait(max(0.0, t0 + k * period - self.clock())):
                return

    def summary(self) -> dict[str, Any]:
        out = summarize(self.samples, self.device, self.processes, self.rate_hz,
                        self.rate_hz / self.process_every)
        if self.errors:
            out["errors"] = list(self.errors)
        return out

    def document(self) -> dict[str, Any]:
        """``telemetry.json``: the summary, then every sample as a row of ``columns`` (compact: a 60 s step
        at 10 Hz is 600 short rows), then each process sighting."""
        return {
            "version": FILE_VERSION,
            "summary": self.summary(),
            "columns": list(COLUMNS),
            "samples": [[getattr(s, c) for c in COLUMNS] for s in self.samples],
            "processes": [{"t_s": p.t_s, "pid": p.pid, "kind": p.kind, "name": p.name, "used_mib": p.used_mib}
                          for p in self.processes],
        }


class Watch:
    """What a step holds while it runs: a started sampler, or the reason there is none."""

    def __init__(self, sampler: Sampler | None, reason: str | None = None) -> None:
        self.sampler = sampler
        self.reason = reason

    def __enter__(self) -> Watch:
        if self.sampler is not None:
            self.sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sampler is not None:
            self.sampler.stop()

    @property
    def summary(self) -> dict[str, Any]:
        if self.sampler is None:
            return not_available(self.reason or "telemetry off")
        return self.sampler.summary()

    def document(self) -> dict[str, Any]:
        if self.sampler is None:
            return {"version": FILE_VERSION, "summary": self.summary, "columns": list(COLUMNS), "samples": [],
                    "processes": []}
        return self.sampler.document()


class Telemetry:
    """NVML opened once for the whole sweep; :meth:`watch` gives each step its sampler."""

    def __init__(self, lib: Any = None, rate_hz: float = DEFAULT_RATE_HZ, enabled: bool = True,
                 root_pid: int | None = None) -> None:
        self.rate_hz = rate_hz
        self.root_pid = root_pid
        self.nvml: Nvml | None = None
        self.devices: list[DeviceInfo] = []
        self.reason: str | None = None
        if not enabled:
            self.reason = "telemetry turned off (TRTSWEEP_TELEMETRY=0)"
            return
        if lib is None:
            try:
                lib = importlib.import_module("pynvml")  # optional: the nvml extra
            except ImportError:
                self.reason = INSTALL_HINT
                return
        try:
            lib.nvmlInit()
        except Exception as exc:  # noqa: BLE001 - no driver, no GPU: telemetry is simply not available
            self.reason = f"NVML did not start ({type(exc).__name__}: {exc})"
            return
        self.nvml = Nvml(lib)
        self.devices = self.nvml.devices()
        if not self.devices:
            self.reason, self.nvml = "NVML lists no GPU", None

    @property
    def available(self) -> bool:
        return self.nvml is not None

    def watch(self, step_device: str | None, env: Mapping[str, str]) -> Watch:
        """A sampler for the GPU a step pinned to ``step_device`` (its CUDA_VISIBLE_DEVICES) runs on."""
        if self.nvml is None:
            return Watch(None, self.reason)
        device, how = resolve_device(self.devices, step_device, env)
        if device is None:
            return Watch(None, how)
        device = DeviceInfo(**{**device.__dict__, "matched_by": how})
        try:
            return Watch(Sampler(self.nvml, device, self.rate_hz, ProcessClassifier(self.root_pid)))
        except Exception as exc:  # noqa: BLE001 - a handle NVML refuses: this step goes unsampled
            return Watch(None, f"NVML refused GPU {device.index}: {exc}")


_default: Telemetry | None = None
_default_lock = threading.Lock()


def default_telemetry() -> Telemetry:
    """The process-wide :class:`Telemetry` (opened on first use; ``TRTSWEEP_TELEMETRY=0`` turns it off)."""
    global _default
    with _default_lock:
        if _default is None:
            switch = os.environ.get("TRTSWEEP_TELEMETRY", "1").strip().lower()
            enabled = switch not in ("0", "off", "no", "false")
            try:
                rate = float(os.environ.get("TRTSWEEP_TELEMETRY_HZ", DEFAULT_RATE_HZ))
            except ValueError:
                rate = DEFAULT_RATE_HZ
            _default = Telemetry(rate_hz=rate if 0 < rate <= 100 else DEFAULT_RATE_HZ, enabled=enabled)
        return _default


def set_default_telemetry(telemetry: Telemetry | None) -> None:
    """Replace the process-wide instance (tests; None: open it again on next use)."""
    global _default
    with _default_lock:
        _default = telemetry
