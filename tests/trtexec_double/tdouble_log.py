"""Console output of the trtexec double: line format, streams, banners, option echo, device block, help.

Test tool only. Mirrors trtexec's console conventions (reference §2-§3): ``[I]``/``[V]``/``&&&&`` on stdout,
``[W]``/``[E]``/``[F]`` on stderr, every line flushed so ``2>&1`` keeps the real interleaving.
"""

from __future__ import annotations

import csv
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

TABLE = Path(__file__).resolve().parents[2] / "trtsweep" / "trtexec" / "flags_by_version.csv"


def vtuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def reached(version: tuple[int, ...], threshold: tuple[int, ...]) -> bool:
    width = max(len(version), len(threshold))
    return version + (0,) * (width - len(version)) >= threshold + (0,) * (width - len(threshold))


def load_flags(version: tuple[int, ...]) -> dict[str, dict[str, str]]:
    """Flags this version parses (ok or deprecated), with their table rows. Read independently of trtsweep."""
    accepted: dict[str, dict[str, str]] = {}
    with open(TABLE, newline="") as f:
        for row in csv.DictReader(f):
            if not row["first_seen"] or not reached(version, vtuple(row["first_seen"])):
                continue
            if row["removed_in"] and reached(version, vtuple(row["removed_in"])):
                continue
            if any(version[:2] == vtuple(t)[:2] for t in row["absent_in"].split(";") if t):
                continue
            row["deprecated"] = (
                "yes" if row["deprecated_in"] and reached(version, vtuple(row["deprecated_in"])) else ""
            )
            accepted[row["flag"]] = row
    return accepted


@dataclass
class Out:
    """Writes trtexec-style lines; knows the version banner for the ``&&&&`` lines."""

    version: tuple[int, ...]
    build: int
    command: str
    verbose: bool = False
    stdout: object = field(default=sys.stdout)
    stderr: object = field(default=sys.stderr)

    @property
    def vint(self) -> int:
        major, minor, patch = (self.version + (0, 0, 0))[:3]
        return major * 10000 + minor * 100 + patch if major >= 10 else major * 1000 + minor * 100 + patch

    def status(self, word: str) -> None:
        tag = f" [b{self.build}]" if reached(self.version, (10, 4)) else ""
        self.raw(f"&&&& {word} TensorRT.trtexec [TensorRT v{self.vint}]{tag} # {self.command}")

    def raw(self, text: str, err: bool = False) -> None:
        stream = self.stderr if err else self.stdout
        stream.write(text + "\n")  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]

    def log(self, sev: str, text: str = "") -> None:
        if sev == "V" and not self.verbose:
            return
        stamp = time.strftime("%m/%d/%Y-%H:%M:%S")
        self.raw(f"[{stamp}] [{sev}] {text}" if text else f"[{stamp}] [{sev}]", err=sev in "WEF")

    def i(self, text: str = "") -> None:
        self.log("I", text)

    def w(self, text: str) -> None:
        self.log("W", text)

    def e(self, text: str) -> None:
        self.log("E", text)


def help_text(flags: dict[str, dict[str, str]]) -> list[str]:
    """A short help: every accepted flag of the version, in trtexec's ``--name=<value>`` style."""
    lines = ["=== Options ==="]
    for name in sorted(flags, key=str.lower):
        if name == "--help":
            continue
        arg = "" if flags[name]["kind"] == "bool" else "=<value>"
        note = "  [Deprecated]" if flags[name]["deprecated"] else ""
        lines.append(f"  {name}{arg}{note}")
    lines += ["", "=== Help ===", "  --help, -h                  Print this message"]
    return lines


def parse_failure(out: Out, flags: dict[str, dict[str, str]], messages: list[str]) -> int:
    """Bad input as trtexec reports it (§2.2); help/error order and the FAILED line depend on version."""
    if reached(out.version, (10, 0)):
        for line in help_text(flags):
            out.raw(line)
        for m in messages:
            out.e(m)
    else:
        for m in messages:
            out.e(m)
        for line in help_text(flags):
            out.raw(line)
    if not reached(out.version, (11, 1)):
        out.status("FAILED")
    return 1


@dataclass
class Gpu:
    # The default name says what it is, so nothing a sweep through the double prints (device, env.json,
    # report) can be taken for a measurement on a real H100.
    name: str = "Simulated GPU (trtexec test double)"
    compute_capability: str = "9.0"
    sms: int = 114
    memory_mib: int = 81081
    uuid: str = "GPU-31e9692b-62b7-2d62-f0b1-f4195b568ac7"
    clock_ghz: float = 1.755
    memory_clock_ghz: float = 1.593


def device_block(out: Out, gpus: list[Gpu], selected: int | None, device_id: int) -> None:
    """``=== Device Information ===`` in the 8.6 or 9.1+ layout; ``selected`` None = bad device id."""
    out.i("=== Device Information ===")
    if reached(out.version, (9, 1)):
        out.i("Available Devices:")
        for idx, gpu in enumerate(gpus):
            out.i(f'  Device {idx}: "{gpu.name}" UUID: {gpu.uuid}')
        if selected is None:
            out.i(f"Cannot find device ID {device_id}!")
            return
    gpu = gpus[selected]  # type: ignore[index]
    out.i(f"Selected Device: {gpu.name}")
    if reached(out.version, (9, 1)):
        out.i(f"Selected Device ID: {device_id}")
        out.i(f"Selected Device UUID: {gpu.uuid}")
    out.i(f"Compute Capability: {gpu.compute_capability}")
    out.i(f"SMs: {gpu.sms}")
    out.i(f"Device Global Memory: {gpu.memory_mib} MiB")
    out.i("Shared Memory per SM: 228 KiB")
    out.i("Memory Bus Width: 5120 bits (ECC enabled)")
    out.i(f"Application Compute Clock Rate: {gpu.clock_ghz:g} GHz")
    out.i(f"Application Memory Clock Rate: {gpu.memory_clock_ghz:g} GHz")
    out.i()
    out.i(
        "Note: The application clock rates do not reflect the actual clock rates that the GPU is "
        "currently running at."
    )
    out.i()


def echo_options(out: Out, o: dict) -> None:
    """The option echo blocks (§3.3), reduced to the lines parsers read, in the version's spelling."""
    v = out.version
    ten = reached(v, (10, 0))
    out.i("=== Model Options ===")
    if o["onnx"]:
        out.i("Format: ONNX")
    out.i(f"Model: {o['onnx'] or ''}".rstrip())
    out.i("Output:")
    if not (ten and o["load_engine"]):
        out.i("=== Build Options ===")
        if not ten:
            out.i("Max batch: explicit batch")
        out.i("Memory Pools: " + o["mem_pools"])
        out.i("avgTiming: 8")
        out.i("Precision: " + o["precision_echo"])
        out.i("Skip inference: " + ("Enabled" if o["skip_inference"] else "Disabled"))
        out.i(f"Save engine: {o['save_engine'] or ''}".rstrip())
        out.i(f"Load engine: {o['load_engine'] or ''}".rstrip())
        out.i(f"Profiling verbosity: {o['verbosity_enum']}")
        out.i("timingCacheMode: " + ("global" if o["timing_cache"] else "local"))
        out.i(f"timingCacheFile: {o['timing_cache'] or ''}".rstrip())
        out.i(f"BuilderOptimizationLevel: {o['opt_level']}")
        fmt = "CHW" if reached(v, (11, 0)) else "fp32:CHW"
        out.i(f"Input(s)s format: {fmt}")
        out.i(f"Output(s)s format: {fmt}")
        out.i(o["build_shapes_echo"])
    out.i("=== System Options ===")
    out.i(f"Device: {o['device']}")
    out.i()
    out.i("=== Inference Options ===")
    out.i("Batch: Explicit")
    out.i(o["inference_shapes_echo"])
    out.i(f"Iterations: {o['iterations']}")
    out.i(f"Duration: {o['duration_s']:g}s (+ {o['warmup_ms']:g}ms warm up)")
    out.i(f"Inference Streams: {o['streams']}")
    out.i("Data transfers: " + ("Enabled" if o["transfers"] else "Disabled"))
    out.i("Spin-wait: " + ("Enabled" if o["spin_wait"] else "Disabled"))
    out.i("Multithreading: " + ("Enabled" if o["threads"] else "Disabled"))
    out.i("CUDA Graph: " + ("Enabled" if o["cuda_graph"] else "Disabled"))
    if not reached(v, (11, 0)):
        out.i("Separate profiling: " + ("Enabled" if o["separate_profile"] else "Disabled"))
    out.i("=== Reporting Options ===")
    out.i("Verbose: " + ("Enabled" if o["verbose"] else "Disabled"))
    out.i(f"Averages: {o['avg_runs']} inferences")
    out.i("Percentiles: " + ",".join(f"{p:g}" for p in o["percentiles"]))
    out.i("Profile: " + ("Enabled" if o["profile"] else "Disabled"))
    out.i(f"Export timing to JSON file: {o['export_times'] or ''}".rstrip())
    out.i(f"Export profile to JSON file: {o['export_profile'] or ''}".rstrip())
    out.i()
