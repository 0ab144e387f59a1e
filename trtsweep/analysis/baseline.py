"""Speedups against a baseline: an external figure (e.g. PyTorch ms per batch) or a variant of the sweep.

A baseline is the ``baseline`` object of ``spec.lock.json``:

- ``{"label": "PyTorch", "latency_ms": {"1": 40, "8": 160}}``: external time per batch, keyed by batch;
- ``{"label": "fp32 static", "variant": {"precision": "fp32", "shapes": "static"}}``: for each variant, the
  variant that matches the selector and has the same model and batch.

A variant's time per batch is its median latency when it runs one stream, else ``1000 / throughput``:
with several streams in flight a single inference's latency no longer measures the work done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trtsweep.records import RunRecord
from trtsweep.store import ResultSet, VariantResult


@dataclass(frozen=True)
class Speedup:
    variant_id: str
    batch: int | None
    trt_ms: float
    baseline_ms: float
    baseline_label: str
    baseline_variant: str | None  # the variant used as baseline, None for external figures

    @property
    def ratio(self) -> float:
        return self.baseline_ms / self.trt_ms


def time_per_batch_ms(v: VariantResult) -> float | None:
    """Milliseconds one batch takes in this variant (see the module doc), or None without data."""
    rec = v.record
    if rec is None:
        return None
    return record_time_per_batch_ms(rec, v.axes.get("streams"))


def record_time_per_batch_ms(rec: RunRecord, streams: Any = None) -> float | None:
    """Time per batch of one record; ``streams`` defaults to what its log echoed."""
    if rec.status == "failed":
        return None
    try:
        streams = int(streams if streams is not None else (rec.options.get("streams") or 1))
    except (TypeError, ValueError):
        streams = 1
    if streams <= 1 and rec.latency_ms is not None and rec.latency_ms.median:
        return rec.latency_ms.median
    if rec.throughput_qps:
        return 1000.0 / rec.throughput_qps
    if rec.latency_ms is not None and rec.latency_ms.median:
        return rec.latency_ms.median
    return None


def normalize_baseline(baseline: dict[str, Any] | None) -> dict[str, Any] | None:
    """Accept the lock's baseline or a CLI one; external figures keyed by int batch."""
    if not baseline:
        return None
    out = dict(baseline)
    if "latency_ms" in out and out["latency_ms"] is not None:
        out["latency_ms"] = {int(k): float(val) for k, val in dict(out["latency_ms"]).items()}
    out.setdefault("label", "baseline")
    return out


def _matches(v: VariantResult, selector: dict[str, Any]) -> bool:
    """A selector value may be one value or a list of accepted ones; compared as case-folded text, since
    values typed on the command line ('true', 'FP16') meet axis values of any type (True, 'fp16')."""
    def accepted(val: Any) -> list[str]:
        return [str(x).lower() for x in val] if isinstance(val, list | tuple) else [str(val).lower()]
    return all(str(v.axes.get(k)).lower() in accepted(val) for k, val in selector.items())


def speedups(rs: ResultSet, baseline: dict[str, Any] | None = None) -> list[Speedup]:
    """Speedup of every measured variant against ``baseline`` (default: the run's own baseline)."""
    base = normalize_baseline(baseline if baseline is not None else rs.baseline)
    if base is None:
        return []
    out: list[Speedup] = []
    label = str(base["label"])
    for v in rs.variants:
        t = time_per_batch_ms(v)
        batch = _batch(v)
        if t is None or t <= 0:
            continue
        if "latency_ms" in base:
            ref = base["latency_ms"].get(batch) if batch is not None else None
            if ref:
                out.append(Speedup(v.variant_id, batch, t, ref, label, None))
        elif "variant" in base:
            selector = dict(base["variant"])
            for w in rs.variants:
                if w.model == v.model and _batch(w) == batch and _matches(w, selector):
                    ref_t = time_per_batch_ms(w)
                    if ref_t:
                        out.append(Speedup(v.variant_id, batch, t, ref_t, label, w.variant_id))
                    break
    return out


def _batch(v: VariantResult) -> int | None:
    value = v.axes.get("batch")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --- the command line's words for a baseline (report and diagnose take the same options) ---------

def parse_baseline_ms(text: str, label: str = "baseline") -> dict[str, Any]:
    """``"1=40,8=160"`` -> ``{"label": "baseline", "latency_ms": {1: 40.0, 8: 160.0}}``.

    Raises ValueError (exit 2 in the CLI) on anything else, naming the bad part.
    """
    table: dict[int, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        batch, sep, ms = part.partition("=")
        try:
            if not sep:
                raise ValueError
            b, t = int(batch), float(ms)
        except ValueError:
            raise ValueError(f"--baseline-ms: '{part}' is not BATCH=MS (e.g. 1=40,8=160)") from None
        if b < 1 or t <= 0:
            raise ValueError(f"--baseline-ms: '{part}': batch must be >= 1 and ms > 0")
        table[b] = t
    if not table:
        raise ValueError("--baseline-ms: no BATCH=MS pairs given (e.g. 1=40,8=160)")
    return {"label": label, "latency_ms": table}


def parse_baseline_selector(text: str) -> dict[str, Any]:
    """``"precision=fp32,shapes=static"`` -> ``{"label": TEXT, "variant": {"precision": "fp32", ...}}``."""
    selector: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"--baseline: '{part}' is not AXIS=VALUE (e.g. precision=fp32)")
        selector[key.strip()] = value.strip()
    if not selector:
        raise ValueError("--baseline: no AXIS=VALUE given (e.g. precision=fp32)")
    return {"label": text.strip(), "variant": selector}


def baseline_from_cli(baseline: str | None = None, baseline_ms: str | None = None,
                      label: str | None = None) -> dict[str, Any] | None:
    """The baseline the CLI options describe, or None to use the sweep's own. Both at once is an error."""
    if baseline and baseline_ms:
        raise ValueError("give either --baseline or --baseline-ms, not both")
    if baseline_ms:
        return parse_baseline_ms(baseline_ms, label or "baseline")
    if baseline:
        out = parse_baseline_selector(baseline)
        if label:
            out["label"] = label
        return out
    return None
