"""``baseline_method``: is the fixed baseline figure of the sweep what trtsweep measured itself?

A fixed figure ("PyTorch 40 ms at batch 1") was taken elsewhere, in some way: ``time.time()`` around an
asynchronous call, pre-processing inside, another GPU, no warm-up. When the sweep also measured the
baseline (``baseline.pytorch`` / ``baseline.onnxruntime``, trtexec's protocol and statistics on the same
GPU), the two are put side by side per batch; a large gap means a speedup computed from the fixed figure
was partly an artefact of how the baseline was timed. Pure: reads ``analysis.baseline.fixed_vs_measured``.
"""

from __future__ import annotations

from trtsweep.analysis.baseline import GPU_COMPUTE, fixed_vs_measured
from trtsweep.diagnose.context import Context, Evidence, Finding

# Within this factor either way the fixed figure is taken to describe the same thing.
AGREE_FACTOR = 1.25
HIGH_FACTOR = 2.0


def _ms(value: float) -> str:
    return f"{value:.4g} ms"


def _what(basis: str) -> str:
    return "GPU time" if basis == GPU_COMPUTE else "end-to-end time"


def rule_baseline_method(ctx: Context) -> list[Finding]:
    """Fixed ``latency_ms`` figures far (beyond 1.25x either way) from the measured baseline."""
    pairs = fixed_vs_measured(ctx.baseline)
    if not pairs:
        return []
    evidence = []
    far = []
    for p in pairs:
        fig = p.figure
        other = fig.end_to_end_ms if p.basis == GPU_COMPUTE else fig.gpu_ms
        extra = (f"; {_ms(other)} {'end to end' if p.basis == GPU_COMPUTE else 'GPU compute'}"
                 if other else "")
        text = (f"batch {p.batch}: your {_ms(p.fixed_ms)} vs measured {_ms(p.measured_ms)} {_what(p.basis)} "
                f"for {fig.label} ({p.ratio:.2f}x; median of {fig.repeats} repeat(s){extra})")
        evidence.append(Evidence(text, None, {"batch": p.batch, "fixed_ms": p.fixed_ms,
                                              "measured_ms": p.measured_ms, "basis": p.basis,
                                              "ratio": p.ratio, "baseline_id": fig.id,
                                              "gpu_ms": fig.gpu_ms, "end_to_end_ms": fig.end_to_end_ms}))
        if not 1 / AGREE_FACTOR <= p.ratio <= AGREE_FACTOR:
            far.append(p)
    if not far:
        return [Finding(
            "baseline_method", "info", 0.9,
            f"The fixed baseline figures agree with the measured baseline (within {AGREE_FACTOR:g}x)",
            "The sweep's fixed figures and the baseline trtsweep measured on this GPU with trtexec's "
            "protocol describe the same time.", "Nothing to do: speedups use the measured baseline.",
            None, evidence)]
    worst = max(far, key=lambda p: max(p.ratio, 1 / p.ratio))
    factor = max(worst.ratio, 1 / worst.ratio)
    return [Finding(
        "baseline_method", "high" if factor >= HIGH_FACTOR else "medium", 0.9,
        f"Your {_ms(worst.fixed_ms)} vs measured {_ms(worst.measured_ms)} {_what(worst.basis)} for "
        f"{worst.figure.label} at batch {worst.batch}",
        "The fixed figures were measured in another way than the baseline trtsweep timed here (warm-up, then "
        "synchronised inferences timed with CUDA events and the host clock, trtexec's statistics). A "
        "host timer around an asynchronous call, pre-processing inside the timed region, another GPU or no "
        "warm-up each move the figure; a speedup computed from it is partly an artefact of that method. "
        f"The speedups here use the measured baseline ({worst.basis} basis).",
        "Drop the fixed latency_ms figures, or re-measure them with the same protocol; if the gap is the "
        "pre- or post-processing, measure that separately.", None, evidence)]
