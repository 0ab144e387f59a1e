"""A fake of the ``pynvml`` module (nvidia-ml-py) that replays recorded sample streams (test tool only).

A stream file (``tests/fixtures/telemetry/*.json``) lists GPUs; each has static facts and a ``stream``:
``columns`` (``sm_mhz mem_mhz power_w temp_c util_pct mem_util_pct reasons``) and ``rows`` taken every
``period_s``. Replay is by call (a query of a value already read at this row moves to the next row:
deterministic unit tests) or by time since the GPU's first query (``"advance": "time"``: a real sweep in
a subprocess); the last row repeats, or the stream loops with ``"loop": true``.

Compute processes: a GPU's ``processes`` list, plus, when ``FAKE_NVML_PROCS`` names a file, every live pid
listed in it (one per line, re-read at each query) on GPU 0: the trtexec double's GPU load registers its
own pid there, a test (or ``benchmarks/gpu_verify_telemetry.sh`` on its CPU path) adds a foreign one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NVML_CLOCK_GRAPHICS = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_TEMPERATURE_GPU = 0
COLUMNS = ("sm_mhz", "mem_mhz", "power_w", "temp_c", "util_pct", "mem_util_pct", "reasons")


class NVMLError(Exception):
    """What pynvml raises; ``NVMLError_NotSupported`` for a query the GPU does not answer."""


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's name
    pass


class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801 - pynvml's name
    pass


@dataclass
class _Pci:
    busId: str  # noqa: N815 - pynvml's field name


@dataclass
class _Util:
    gpu: int
    memory: int


@dataclass
class _Proc:
    pid: int
    usedGpuMemory: int | None  # noqa: N815 - pynvml's field name


class FakeGpu:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        stream = spec.get("stream") or {}
        cols = stream.get("columns") or list(COLUMNS)
        self.rows = [dict(zip(cols, r, strict=True)) for r in stream.get("rows") or [[None] * len(cols)]]
        self.period = float(stream.get("period_s") or 0.1)
        self.loop = bool(stream.get("loop"))
        self.by_time = stream.get("advance") == "time"
        self.cursor = 0
        self.read: set[str] = set()  # keys read at the current row: reading one again starts a new sample
        self.t0: float | None = None

    def row(self, key: str) -> dict[str, Any]:
        if self.by_time:
            now = time.monotonic()
            if self.t0 is None:
                self.t0 = now
            i = int((now - self.t0) / self.period)
        else:
            if key in self.read:
                self.cursor += 1
                self.read.clear()
            self.read.add(key)
            i = self.cursor
        i = i % len(self.rows) if self.loop else min(i, len(self.rows) - 1)
        return self.rows[i]

    def value(self, key: str) -> Any:
        v = self.row(key).get(key)
        if v is None:
            raise NVMLError_NotSupported(f"{key} not supported")
        return v


class FakeNvmlLib:
    """The pynvml functions trtsweep calls, over a stream document (see the module doc)."""

    NVMLError = NVMLError
    NVML_CLOCK_SM = NVML_CLOCK_SM
    NVML_CLOCK_MEM = NVML_CLOCK_MEM
    NVML_CLOCK_GRAPHICS = NVML_CLOCK_GRAPHICS
    NVML_TEMPERATURE_GPU = NVML_TEMPERATURE_GPU

    def __init__(self, doc: dict[str, Any], procs_file: str | None = None, fail_init: bool = False) -> None:
        self.gpus = [FakeGpu(g) for g in doc.get("gpus", [])]
        self.procs_file = procs_file
        self.fail_init = fail_init
        self.calls = 0

    @classmethod
    def from_file(cls, path: str | Path, **kw: Any) -> FakeNvmlLib:
        return cls(json.loads(Path(path).read_text()), **kw)

    # --- library
    def nvmlInit(self) -> None:  # noqa: N802 - pynvml's names below
        if self.fail_init:
            raise NVMLError_LibraryNotFound("NVML Shared Library Not Found")

    def nvmlShutdown(self) -> None:
        pass

    def nvmlSystemGetDriverVersion(self) -> str:
        return "580.00.00"

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> FakeGpu:
        return self.gpus[i]

    # --- static facts
    def _fact(self, h: FakeGpu, key: str) -> Any:
        self.calls += 1
        if h.spec.get(key) is None:
            raise NVMLError_NotSupported(key)
        return h.spec[key]

    def nvmlDeviceGetName(self, h: FakeGpu) -> str:
        return self._fact(h, "name")

    def nvmlDeviceGetUUID(self, h: FakeGpu) -> str:
        return self._fact(h, "uuid")

    def nvmlDeviceGetPciInfo(self, h: FakeGpu) -> _Pci:
        return _Pci(self._fact(h, "pci_bus_id"))

    def nvmlDeviceGetMaxClockInfo(self, h: FakeGpu, clock: int) -> int:
        return self._fact(h, "max_sm_mhz" if clock == NVML_CLOCK_SM else "max_mem_mhz")

    def nvmlDeviceGetEnforcedPowerLimit(self, h: FakeGpu) -> int:
        return int(self._fact(h, "power_limit_w") * 1000)

    def nvmlDeviceGetPowerManagementLimit(self, h: FakeGpu) -> int:
        return int(self._fact(h, "power_limit_w") * 1000)

    def nvmlDeviceGetPowerManagementDefaultLimit(self, h: FakeGpu) -> int:
        return int(self._fact(h, "default_power_limit_w") * 1000)

    def nvmlDeviceGetPersistenceMode(self, h: FakeGpu) -> int:
        return self._fact(h, "persistence_mode")

    def nvmlDeviceGetApplicationsClock(self, h: FakeGpu, clock: int) -> int:
        return self._fact(h, "app_sm_mhz")

    def nvmlDeviceGetDefaultApplicationsClock(self, h: FakeGpu, clock: int) -> int:
        return self._fact(h, "default_app_sm_mhz")

    def nvmlDeviceGetMigMode(self, h: FakeGpu) -> list[int]:
        return list(self._fact(h, "mig_mode"))

    def nvmlDeviceGetEccMode(self, h: FakeGpu) -> list[int]:
        return list(self._fact(h, "ecc_mode"))

    # --- the sampled stream
    def nvmlDeviceGetClockInfo(self, h: FakeGpu, clock: int) -> int:
        self.calls += 1
        return h.value("sm_mhz" if clock == NVML_CLOCK_SM else "mem_mhz")

    def nvmlDeviceGetPowerUsage(self, h: FakeGpu) -> int:
        self.calls += 1
        return int(h.value("power_w") * 1000)

    def nvmlDeviceGetTemperature(self, h: FakeGpu, sensor: int) -> int:
        self.calls += 1
        return h.value("temp_c")

    def nvmlDeviceGetUtilizationRates(self, h: FakeGpu) -> _Util:
        self.calls += 1
        r = h.row("util_pct")
        if r.get("util_pct") is None:
            raise NVMLError_NotSupported("utilization not supported")
        return _Util(r["util_pct"], r.get("mem_util_pct"))

    def nvmlDeviceGetCurrentClocksEventReasons(self, h: FakeGpu) -> int:
        self.calls += 1
        return int(h.value("reasons"))

    def nvmlDeviceGetComputeRunningProcesses(self, h: FakeGpu) -> list[_Proc]:
        self.calls += 1
        out = [_Proc(int(p["pid"]), p.get("used_bytes")) for p in h.spec.get("processes", [])]
        if self.procs_file and h is self.gpus[0]:
            try:
                lines = Path(self.procs_file).read_text().split()
            except OSError:
                lines = []
            for text in dict.fromkeys(lines):
                if text.isdigit() and Path(f"/proc/{text}").exists():
                    out.append(_Proc(int(text), 512 * 2**20))
        return out


def from_environment() -> FakeNvmlLib:
    """The fake a subprocess gets: ``FAKE_NVML_STREAM`` (a stream file) and ``FAKE_NVML_PROCS``."""
    path = os.environ.get("FAKE_NVML_STREAM")
    if not path:
        return FakeNvmlLib({"gpus": []}, fail_init=True)
    return FakeNvmlLib.from_file(path, procs_file=os.environ.get("FAKE_NVML_PROCS"))
