"""Live progress of a sweep: a rich display on a terminal, plain lines elsewhere, nothing with --quiet."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from trtsweep.analysis.axes import axes_from_record, implicit_batch
from trtsweep.analysis.baseline import Baseline
from trtsweep.analysis.baseline import from_dict as baseline_from_dict
from trtsweep.analysis.metrics import repeat_figures
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.step import Gpu, StepResult
from trtsweep.units import number, ratio


class Progress:
    """Counts finished steps, estimates the time left, prints one line per finished step."""

    def __init__(self, total: int, baseline: dict[str, Any] | None = None, quiet: bool = False,
                 stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self.quiet = quiet
        self.stream = stream or sys.stdout
        self.baseline: Baseline | None = baseline_from_dict(baseline) if baseline else None
        self._rich = None
        if not quiet and self.stream.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeRemainingColumn(), transient=False)
            self._task = self._rich.add_task("sweep", total=total)
            self._rich.start()

    def eta_s(self) -> float | None:
        if not self.done:
            return None
        return (time.monotonic() - self.start) / self.done * (self.total - self.done)

    def started(self, step: Step, gpu: Gpu) -> None:
        if self._rich is not None:
            where = f" on GPU {gpu.device}" if gpu.device is not None else ""
            what = step.variant_id or step.build_id
            self._rich.update(self._task, description=f"{step.kind} {what}{where}")

    def finished(self, result: StepResult) -> None:
        self.done += 1
        if self.quiet:
            return
        line = self.describe(result)
        if self._rich is not None:
            self._rich.console.print(line, markup=False, highlight=False)
            self._rich.update(self._task, completed=self.done)
        else:
            eta = self.eta_s()
            tail = f" (eta {eta:.0f} s)" if eta is not None and self.done < self.total else ""
            print(f"[{self.done}/{self.total}] {line}{tail}", file=self.stream, flush=True)

    def describe(self, result: StepResult) -> str:
        step, rec = result.step, result.record
        name = (step.variant_id or step.id) if step.kind != "build" else f"engine {step.build_id}"
        if step.repeat:
            name += f" (repeat {step.repeat})"
        if result.status != "passed":
            return f"{result.status:<8} {name}: {result.reason or ''}"
        if step.kind == "build":
            built = getattr(getattr(rec, "build", None), "engine_build_s", None)
            return f"built    {name} in {number(built, 's')}"
        qps = getattr(rec, "throughput_qps", None)
        gpu = getattr(rec, "gpu_compute_ms", None)
        median = gpu.median if gpu is not None else None
        text = f"passed   {name}: {number(qps, 'qps')}, GPU compute median {number(median, 'ms')}"
        speedup = self._speedup(rec)
        if speedup and self.baseline is not None:
            text += f", {ratio(speedup[0])} vs {self.baseline.label} ({speedup[1]})"
        return text

    def _speedup(self, rec: Any) -> tuple[float, str] | None:
        """This repeat's speedup against external figures (a variant baseline waits for the summary)."""
        if self.baseline is None or not self.baseline.external or rec is None:
            return None
        axes = axes_from_record(rec)
        figures = repeat_figures(rec, axes.get("batch"), axes.get("streams"), implicit_batch(rec))
        batch = axes.get("batch")
        ref = self.baseline.latency_ms.get(batch) if isinstance(batch, int) else None
        if not ref or not figures.time_per_batch_ms:
            return None
        return ref / figures.time_per_batch_ms, figures.basis or "latency"

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
