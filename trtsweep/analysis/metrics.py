"""One definition of each derived figure (docs/metrics.md explains them with trtexec's own semantics).

- **time per batch** (ms): what one batch costs. For a repeat: trtexec's median latency (host latency:
  H2D + GPU compute + D2H, what one inference takes end to end) when one stream runs; with several streams
  in flight a single inference's latency no longer measures the work done, so ``1000 / batches per s``.
  The *basis* says which: ``latency`` or ``throughput``. For a variant: the median over its repeats.
- **samples/s**: samples per second. trtexec's ``Throughput: N qps`` counts queries, and what a query is
  depends on the engine (``sampleReporting.cpp``, every release 7.x-11.x): ``batch × N / walltime`` with
  ``batch`` = ``--batch`` for an implicit-batch engine (TensorRT 7/8 Caffe, UFF: each query is one sample)
  and 1 for an explicit-batch engine (ONNX, 8.0+: each query is one enqueue of a whole batch). So
  samples/s = qps for implicit batch, qps × batch for explicit batch. TensorRT 7 prints 0 qps for
  explicit-batch engines (its queries = ``--batch`` = 0): then samples/s come from the time per batch.
- **best variant**: the highest samples/s, per (model, batch) and overall.
- **speedup**: baseline time per batch / this variant's time per batch, with the basis of the latter.

Pure: records in, numbers out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trtsweep.records import RunRecord, Stats

LATENCY = "latency"
THROUGHPUT = "throughput"


@dataclass(frozen=True)
class RepeatFigures:
    """The derived figures of one repeat (one trtexec process)."""

    time_per_batch_ms: float | None
    basis: str | None  # LATENCY or THROUGHPUT
    samples_per_s: float | None
    batches_per_s: float | None


def stat(stats: Stats | None, key: str = "median") -> float | None:
    """One statistic (``median``, ``mean``, ``min``, ``max``, ``p99`` ...) of a metric, or None."""
    if stats is None:
        return None
    value = stats.percentiles.get(key) if key.startswith("p") else getattr(stats, key, None)
    return float(value) if value is not None else None


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values present (None when none is)."""
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None


def batches_per_s(rec: RunRecord, batch: int | None, implicit_batch: bool) -> float | None:
    """Batches per second from trtexec's qps (see the module doc for what a query is)."""
    qps = rec.throughput_qps
    if not qps or qps <= 0:
        return None
    if implicit_batch:
        return qps / batch if batch else None
    return qps


def repeat_figures(rec: RunRecord, batch: int | None, streams: int | None,
                   implicit_batch: bool = False) -> RepeatFigures:
    """Time per batch, its basis, samples/s and batches/s of one passed repeat."""
    if rec.status == "failed":
        return RepeatFigures(None, None, None, None)
    lat = stat(rec.latency_ms)
    per_s = batches_per_s(rec, batch, implicit_batch)
    if (streams or 1) <= 1 and lat:
        tpb, basis = lat, LATENCY
    elif per_s:
        tpb, basis = 1000.0 / per_s, THROUGHPUT
    elif lat:
        tpb, basis = lat, LATENCY
    else:
        tpb, basis = None, None
    if per_s is not None and batch:
        samples = per_s * batch
    elif tpb and batch:
        samples = batch * 1000.0 / tpb
    else:
        samples = None
    return RepeatFigures(tpb, basis, samples, per_s)


def combine_basis(bases: Sequence[str | None]) -> str | None:
    """The basis of a variant's time per batch: its repeats' (they share the stream count)."""
    present = [b for b in bases if b]
    if not present:
        return None
    return THROUGHPUT if THROUGHPUT in present else LATENCY
