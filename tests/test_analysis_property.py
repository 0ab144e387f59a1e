"""Property: over generated result sets, every number an output shows is the one ``analysis`` gives, and
``analysis`` follows its documented definitions (docs/metrics.md), recomputed here independently."""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_diagnose import ax, make_rs, rec

from trtsweep import diagnose as dg
from trtsweep.analysis.model import build_model
from trtsweep.reports import tables
from trtsweep.reports.markdown import markdown_summary
from trtsweep.reports.tables import fmt

_repeat = st.tuples(st.floats(0.05, 200.0), st.floats(1.0, 20000.0))  # (latency ms, qps)
_variant = st.tuples(st.sampled_from([1, 2, 4, 8]), st.sampled_from([1, 2]),
                     st.sampled_from(["fp32", "fp16"]), st.lists(_repeat, min_size=1, max_size=3))


def _expected_tpb(repeats: list[tuple[float, float]], streams: int) -> float:
    """The definition: latency median with one stream, else 1000 / qps (explicit batch); median over
    repeats."""
    return statistics.median(lat if streams == 1 else 1000.0 / qps for lat, qps in repeats)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None,
          derandomize=bool(os.environ.get("CI")))
@given(st.lists(_variant, min_size=1, max_size=6, unique_by=lambda v: v[:3]), st.floats(1.5, 6.0))
def test_every_shown_number_is_the_analysis_number(variants, expect) -> None:
    root = Path(tempfile.mkdtemp(prefix="trtsweep-prop-"))
    spec = [{"id": f"{p}-b{b}-s{s}", "axes": ax(precision=p, batch=b, streams=s),
             "records": [rec(latency=lat, qps=qps) for lat, qps in reps]} for b, s, p, reps in variants]
    baseline = {"label": "PyTorch", "latency_ms": {"1": 40.0, "2": 60.0, "4": 100.0, "8": 160.0}}
    rs = make_rs(root, spec, baseline, expect)
    model = build_model(rs)
    by_id = {f"{p}-b{b}-s{s}": (b, s, reps) for b, s, p, reps in variants}
    # analysis follows the definitions
    for view in model.views:
        b, s, reps = by_id[view.variant_id]
        tpb = _expected_tpb(reps, s)
        assert abs(view.time_per_batch_ms - tpb) <= 1e-9 * tpb
        samples = statistics.median(qps * b for _, qps in reps)
        assert abs(view.samples_per_s - samples) <= 1e-9 * samples
        ratio = float(baseline["latency_ms"][str(b)]) / tpb
        assert abs(view.speedup.ratio - ratio) <= 1e-9 * ratio
    best = max(model.views, key=lambda v: v.samples_per_s)
    assert model.best.samples_per_s == best.samples_per_s
    # every output shows the analysis numbers
    rows = {r["variant_id"]: r for r in tables.variant_rows([model], ["r"])}
    for view in model.views:
        m = rows[view.variant_id]["metrics"]
        assert (m["time_per_batch_ms"], m["samples_per_s"], m["speedup"]) == (
            view.time_per_batch_ms, view.samples_per_s, view.speedup.ratio)
    md = markdown_summary([rs])
    for view in model.best_by_batch.values():
        line = next(x for x in md.splitlines() if f"| {view.variant_id} |" in x)
        assert fmt(view.time_per_batch_ms) in line and fmt(view.samples_per_s) in line
        assert f"{fmt(view.speedup.ratio)}× ({view.speedup.basis})" in line
    verdict = next(f for f in dg.diagnose(rs) if f.code in ("speedup_shortfall", "expectation_met"))
    for e in verdict.evidence:
        view = model.view(e.variant_id)
        assert e.values["trt_ms"] == view.time_per_batch_ms and e.values["speedup"] == view.speedup.ratio
