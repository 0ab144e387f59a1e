"""trtexec's timing protocol for a framework baseline, as a pure loop over an injectable inference.

trtexec's semantics (``--warmUp``, ``--iterations``, ``--duration``): inferences run for the warm-up time
(not timed), then the timed loop runs until *both* at least ``iterations`` inferences and at least
``duration_s`` seconds are done. Each timed inference is synchronised before the next starts, so every
sample is the time of one whole inference, never of a launch that the GPU has not finished.

The inference itself is an :class:`Inference` (PyTorch, ONNX Runtime, or a test double): it runs one
batch and returns its :class:`Timing`, measured where the synchronisation point is known: CUDA events
around the copies and the forward pass for GPU time, the host clock around the whole call (after the
device is synchronised) for the end-to-end time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol as _Protocol


@dataclass(frozen=True)
class Settings:
    """How long to warm up and time; the same meaning as trtexec's flags."""

    warmup_ms: float = 200.0  # --warmUp
    iterations: int = 10  # --iterations (at least)
    duration_s: float = 3.0  # --duration (at least)
    percentiles: tuple[float, ...] = (90, 95, 99)  # --percentile
    data_transfers: bool = True  # H2D/D2H included in each inference (trtexec's default)

    def __post_init__(self) -> None:
        if self.warmup_ms < 0 or self.duration_s < 0 or self.iterations < 1:
            raise ValueError("warm-up and duration must be >= 0 and iterations >= 1")


@dataclass(frozen=True)
class Timing:
    """One inference. Host times (``host_*``) are seconds of the host clock; GPU durations are ms from
    CUDA events (None where the framework or device has none: CPU, ONNX Runtime)."""

    host_start: float  # host clock when the inference was started
    host_end: float  # host clock after the device finished it (synchronised)
    enqueue_ms: float | None = None  # host time of the launch call (returns before the GPU finishes)
    h2d_ms: float | None = None
    compute_ms: float | None = None  # GPU compute (CUDA events), or host time of the call on a CPU
    d2h_ms: float | None = None
    gpu_start_ms: float | None = None  # GPU timeline of the H2D start (events), ms from the loop's start


class Inference(_Protocol):
    """Runs one batch, synchronised, and says how long it took."""

    def run_once(self) -> Timing: ...

    def start_timeline(self) -> None:
        """Mark time zero of the GPU timeline (a CUDA event); a no-op where there is none."""


@dataclass
class Measurement:
    """The timed inferences of one measurement (warm-up excluded) and the loop's host walltime."""

    settings: Settings
    timings: list[Timing] = field(default_factory=list)
    warmup_count: int = 0
    walltime_s: float = 0.0
    loop_start: float = 0.0  # host clock at the start of the timed loop


def measure(inference: Inference, settings: Settings,
            clock: Callable[[], float] = time.perf_counter) -> Measurement:
    """Warm up for ``settings.warmup_ms``, then time inferences until both ``iterations`` and
    ``duration_s`` are reached (trtexec's rule). ``clock`` is the host clock (replaceable in tests)."""
    out = Measurement(settings)
    start = clock()
    # Warm-up: whole inferences until the time is spent (0 ms = none), like trtexec's --warmUp.
    while (clock() - start) * 1000.0 < settings.warmup_ms:
        inference.run_once()
        out.warmup_count += 1
    inference.start_timeline()
    out.loop_start = clock()
    while True:
        out.timings.append(inference.run_once())
        elapsed = clock() - out.loop_start
        if len(out.timings) >= settings.iterations and elapsed >= settings.duration_s:
            break
    out.walltime_s = out.timings[-1].host_end - out.timings[0].host_start
    return out
