"""Measured baselines, unit level: trtexec's protocol, trtexec's statistics checked by hand, the samples
file read back by trtsweep's own exportTimes parser, the sweep keys and their errors, the scheduler, the
speedup basis and the ``baseline_method`` check."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from trtsweep.analysis.baseline import (
    END_TO_END,
    GPU_COMPUTE,
    Baseline,
    MeasuredFigure,
    baseline_for,
    fixed_vs_measured,
    trt_side,
)
from trtsweep.baselines.protocol import Measurement, Settings, Timing, measure
from trtsweep.baselines.record import build_record, samples
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.scheduler import Scheduler
from trtsweep.parsers.exports import parse_times
from trtsweep.sweeps.spec import SpecError, parse_spec

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "examples" / "models" / "tracker.onnx"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeInference:
    """Each inference advances the fake host clock by ``step_ms``."""

    def __init__(self, clock: FakeClock, step_ms: float = 1.0) -> None:
        self.clock, self.step_ms, self.calls, self.timeline_started = clock, step_ms, 0, 0

    def start_timeline(self) -> None:
        self.timeline_started += 1

    def run_once(self) -> Timing:
        start = self.clock.now
        self.clock.now += self.step_ms / 1000
        self.calls += 1
        return Timing(start, self.clock.now, compute_ms=self.step_ms)


# ---------------------------------------------------------------- protocol

def test_warmup_then_duration_bound() -> None:
    clock = FakeClock()
    inf = FakeInference(clock)
    m = measure(inf, Settings(warmup_ms=5, iterations=3, duration_s=0.010), clock)
    # warm-up: inferences start at 0,1,2,3,4 ms (each while < 5 ms elapsed) -> 5; then 10 ms are needed.
    assert m.warmup_count == 5
    assert len(m.timings) == 10
    assert inf.timeline_started == 1
    assert m.walltime_s == pytest.approx(0.010)


def test_iteration_bound_and_no_warmup() -> None:
    clock = FakeClock()
    m = measure(FakeInference(clock, 2.0), Settings(warmup_ms=0, iterations=20, duration_s=0.005), clock)
    assert m.warmup_count == 0
    assert len(m.timings) == 20  # 20 x 2 ms = 40 ms > 5 ms: the iteration count decides
    assert m.walltime_s == pytest.approx(0.040)


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        Settings(iterations=0)


# ---------------------------------------------------------------- statistics, by hand

def _measurement(compute: list[float], h2d: float | None = 0.5, d2h: float | None = 0.25,
                 e2e_extra_ms: float = 0.125) -> Measurement:
    m = Measurement(Settings(percentiles=(50, 90, 99)))
    t = 0.0
    for c in compute:
        total = (h2d or 0) + c + (d2h or 0) + e2e_extra_ms
        m.timings.append(Timing(t, t + total / 1000, enqueue_ms=0.0625, h2d_ms=h2d, compute_ms=c, d2h_ms=d2h,
                                gpu_start_ms=t * 1000))
        t += total / 1000
    m.walltime_s = t
    return m


def test_record_statistics_match_hand_computation() -> None:
    compute = [4.0, 1.0, 10.0, 3.0, 2.0]
    rec = build_record(_measurement(compute), "pytorch", "x", gpu_events=True)
    assert rec.kind == "baseline_pytorch" and rec.status == "passed"
    g = rec.gpu_compute_ms
    assert (g.min, g.max, g.median, g.mean) == (1.0, 10.0, 3.0, 4.0)
    # trtexec's percentile: exclude = int((1 - p/100) * N); p50 -> int(2.5) = 2 -> index 2 of ascending.
    assert g.percentiles == {"p50": 3.0, "p90": 10.0, "p99": 10.0}
    # latency = H2D + compute + D2H = compute + 0.75; end to end adds 0.125 of host time.
    assert rec.latency_ms.median == 3.75 and rec.latency_ms.min == 1.75
    assert rec.end_to_end_ms.median == pytest.approx(3.875, abs=1e-6)
    assert rec.h2d_ms.median == 0.5 and rec.d2h_ms.median == 0.25 and rec.enqueue_ms.median == 0.0625
    # CV: deviations from 4 are 0,-3,6,-1,-2 -> squares sum 50, population variance 10.
    assert rec.gpu_compute_cv_pct == pytest.approx(math.sqrt(10) / 4 * 100, rel=1e-6)
    wall_ms = sum(c + 0.875 for c in compute)
    assert rec.host_walltime_s == pytest.approx(wall_ms / 1000, rel=1e-6)
    assert rec.throughput_qps == pytest.approx(5 / wall_ms * 1000, rel=1e-6)
    assert rec.total_gpu_compute_s == pytest.approx(4.0 * 5 / 1000, rel=1e-6)


def test_even_count_median_is_mean_of_middle_two() -> None:
    rec = build_record(_measurement([1.0, 2.0, 3.0, 4.0]), "pytorch", "x", gpu_events=True)
    assert rec.gpu_compute_ms.median == 2.5


def test_without_events_no_gpu_figure_under_that_name() -> None:
    rec = build_record(_measurement([2.0, 1.0, 3.0], h2d=None, d2h=None), "onnxruntime", "x",
                       gpu_events=False, notes=["host clock only"])
    assert rec.kind == "baseline_onnxruntime"
    assert rec.gpu_compute_ms is None and rec.gpu_compute_cv_pct is None and rec.h2d_ms is None
    assert rec.latency_ms.median == 2.0  # the call's host time
    assert rec.end_to_end_ms.median == pytest.approx(2.125, abs=1e-6)
    assert rec.notes[0].text == "host clock only"
    assert json.loads(json.dumps(rec.to_dict()))["kind"] == "baseline_onnxruntime"


def test_samples_read_back_by_the_exporttimes_parser() -> None:
    m = _measurement([4.0, 1.0, 10.0, 3.0, 2.0, 7.0])
    rec = build_record(m, "pytorch", "x", gpu_events=True)
    parsed = parse_times(samples(m), "times.json", percentiles=(50, 90, 99))
    assert parsed.status == "passed" and parsed.options["era"] == "8.0-8.2"
    for key in ("gpu_compute_ms", "h2d_ms", "d2h_ms", "latency_ms"):
        assert getattr(parsed, key).to_dict() == pytest.approx(getattr(rec, key).to_dict(), rel=1e-6), key
    assert parsed.end_to_end_ms.median == pytest.approx(rec.end_to_end_ms.median, rel=1e-6)


# ---------------------------------------------------------------- sweep keys

SWEEP = """models:
  - name: tracker
    onnx: {model}
    inputs:
      images: {{shape: [batch, 3, 128, 64]}}
matrix:
  batch: [1, 8]
baseline:
{baseline}
"""


def _spec(tmp_path: Path, baseline: str):
    path = tmp_path / "sweep.yaml"
    text = SWEEP.format(model=json.dumps(str(MODEL)), baseline=baseline)
    path.write_text(text)
    return parse_spec(text, path)


def _problems(tmp_path: Path, baseline: str) -> list[str]:
    with pytest.raises(SpecError) as err:
        _spec(tmp_path, baseline)
    return [str(p) for p in err.value.problems]


def test_measured_baseline_keys_parse(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "  label: PyTorch\n  latency_ms: {1: 40}\n"
                           "  pytorch: {model: 'pkg.mod:make', dtype: float16}\n"
                           "  onnxruntime: {providers: [CPUExecutionProvider]}")
    mb = spec.baseline.measured
    assert mb.frameworks() == ("pytorch", "onnxruntime") and mb.reference == "pytorch"
    assert mb.batches == (1, 8) and mb.basis == "end_to_end" and mb.pytorch.device == "cuda"
    assert mb.onnxruntime.model == MODEL
    assert mb.mark("pytorch.model") == (11, 20)
    assert spec.baseline.latency_ms == ((1, 40),)


@pytest.mark.parametrize(("baseline", "expected"), [
    ("  pytorch: {model: nope}", "sweep.yaml:9:20: baseline.pytorch.model must be 'package.module:factory'"),
    ("  pytorch: {model: 'missing.py:make'}", "sweep.yaml:9:20: factory file not found: 'missing.py'"),
    ("  pytorch: {model: 'a:b', dtype: float64}", "sweep.yaml:9:34: unknown value 'float64'"),
    ("  pytorch: {model: 'a:b'}\n  batches: [1, 4]", "sweep.yaml:10:16: baseline.batches: batch 4 is not"),
    ("  onnxruntime: {}\n  basis: gpu_compute", "sweep.yaml:10:10: basis gpu_compute needs CUDA events"),
    ("  pytorch: {model: 'a:b', device: cpu}\n  basis: gpu_compute", "basis gpu_compute needs CUDA"),
    ("  onnxruntime: {}\n  reference: pytorch", "baseline.reference is pytorch, but baseline.pytorch"),
    ("  onnxruntime: {model: nothere.onnx}", "sweep.yaml:9:24: model file not found: 'nothere.onnx'"),
    ("  pytorch: {model: 'a:b'}\n  variant: {batch: 1}", "baseline.variant cannot be combined"),
    ("  pytorch: {model: 'a:b'}\n  for_model: other", "unknown model 'other' in baseline.for_model"),
    ("  pytorch: {device: cuda}", "missing required key 'model' in baseline.pytorch"),
])
def test_measured_baseline_errors(tmp_path: Path, baseline: str, expected: str) -> None:
    problems = _problems(tmp_path, baseline)
    assert len(problems) == 1 and expected in problems[0], problems


# ---------------------------------------------------------------- scheduling

def test_scheduler_hands_out_baseline_steps_without_waiting_for_an_engine(tmp_path: Path) -> None:
    build = Step("build/e", "build", tmp_path / "e", ("t",), "e", 10)
    run = Step("run/v", "run", tmp_path / "v", ("t",), "e", 10, variant_id="v", depends_on="build/e")
    base = Step("baseline/b", "baseline", tmp_path / "b", ("py",), "", 10)
    sched = Scheduler([build, run, base])
    assert sched.next_for("gpu") == base  # ready at once: measured while the engine is not built yet
    assert sched.next_for("gpu") == build
    assert sched.next_for("gpu") is None and sched.waiting()
    sched.build_done(build, True, "gpu")
    assert sched.next_for("gpu") == run and not sched.waiting()


# ---------------------------------------------------------------- speedups and baseline_method

class _View:
    def __init__(self, batch: int, tpb: float, gpu: float) -> None:
        self.variant_id, self.model, self.axes = f"v{batch}", "tracker", {"batch": batch}
        self.time_per_batch_ms, self.gpu, self.time_basis, self.batch = tpb, gpu, "latency", batch


def _figure(batch: int, gpu: float | None, e2e: float) -> MeasuredFigure:
    return MeasuredFigure(f"pytorch-fp32-b{batch}-x", "pytorch", "PyTorch float32 on cuda", "tracker", batch,
                          True, gpu, e2e, 3)


def test_speedup_basis_gpu_compute_and_end_to_end() -> None:
    figs = (_figure(1, 12.3, 13.0), _figure(8, 50.0, 60.0))
    gpu = Baseline("PyTorch", {1: 40.0}, reference="pytorch", basis=GPU_COMPUTE, figures=figs)
    view = _View(1, tpb=5.0, gpu=4.1)
    assert baseline_for(gpu, view, []) == (12.3, "pytorch-fp32-b1-x")
    assert trt_side(gpu, view) == (4.1, GPU_COMPUTE)
    e2e = Baseline("PyTorch", {}, reference="pytorch", basis=END_TO_END, figures=figs)
    assert baseline_for(e2e, view, []) == (13.0, "pytorch-fp32-b1-x")
    assert trt_side(e2e, view) == (5.0, END_TO_END)
    assert not gpu.external and gpu.is_measured
    assert baseline_for(e2e, _View(4, 1.0, 1.0), []) is None  # no figure at batch 4: no speedup


def test_lock_form_round_trip() -> None:
    from trtsweep.analysis.baseline import from_dict

    base = from_dict({"label": "PyTorch", "measured": {"reference": "onnxruntime", "basis": "end_to_end"},
                      "latency_ms": {"1": 40}})
    assert base.is_measured and base.reference == "onnxruntime" and base.latency_ms == {1: 40.0}
    assert from_dict(base.to_dict()) == base


def test_baseline_method_says_how_far_the_fixed_figure_is() -> None:
    from trtsweep.diagnose.rules_baseline import rule_baseline_method

    base = Baseline("PyTorch", {1: 40.0, 8: 160.0}, reference="pytorch", basis=GPU_COMPUTE,
                    figures=(_figure(1, 12.3, 13.0), _figure(8, 150.0, 155.0)))
    pairs = fixed_vs_measured(base)
    assert [(p.batch, p.measured_ms, p.basis) for p in pairs] == [(1, 12.3, GPU_COMPUTE),
                                                                  (8, 150.0, GPU_COMPUTE)]

    class Ctx:
        baseline = base

    [finding] = rule_baseline_method(Ctx())  # type: ignore[arg-type]
    assert finding.code == "baseline_method" and finding.severity == "high"  # 40 / 12.3 = 3.25x
    assert finding.title == "Your 40 ms vs measured 12.3 ms GPU time for PyTorch float32 on cuda at batch 1"
    assert finding.evidence[0].values["ratio"] == pytest.approx(40 / 12.3)
    assert finding.evidence[1].values["ratio"] == pytest.approx(160 / 150)

    close = Baseline("PyTorch", {1: 13.0}, reference="pytorch", basis=GPU_COMPUTE,
                     figures=(_figure(1, 12.0, 13.0),))

    class Ctx2:
        baseline = close

    assert rule_baseline_method(Ctx2())[0].severity == "info"  # type: ignore[arg-type]
    assert fixed_vs_measured(Baseline("x", {1: 40.0})) == []  # fixed figures alone: nothing to check
