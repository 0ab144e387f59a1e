"""``summary.json``: the end of a ``trtsweep run`` for machines (CI jobs, nightly scripts).

The figures are the analysis model's (the same the text summary, the report and the diagnosis show);
this module only arranges them. Schema version 1; keys are only ever added.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trtsweep.analysis.model import ResultModel, VariantView

SCHEMA_VERSION = 1


def _view(view: VariantView) -> dict[str, Any]:
    sp = view.speedup
    return {
        "variant_id": view.variant_id,
        "model": view.model,
        "batch": view.batch,
        "time_per_batch_ms": view.time_per_batch_ms,
        "basis": view.time_basis,
        "axes": view.axes,
        "samples_per_s": view.samples_per_s,
        "speedup": sp.ratio if sp else None,
        "speedup_basis": sp.basis if sp else None,
        "baseline_label": sp.baseline_label if sp else None,
    }


def run_summary(model: ResultModel, run_dir: Path, this_run: Mapping[str, int], already_done: int,
                folder: Mapping[str, int], failures_by_class: Mapping[str, int], interrupted: bool,
                exit_code: int, results_error: str | None = None) -> dict[str, Any]:
    """The machine-readable summary of one ``run`` invocation and of the whole run folder after it."""
    ordered = sorted(model.best_by_batch.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0))
    return {
        "schema_version": SCHEMA_VERSION,
        "run_dir": str(run_dir),
        "exit_code": exit_code,
        "interrupted": interrupted,
        "this_run": dict(sorted(this_run.items())),
        "already_done": already_done,
        "folder": dict(sorted(folder.items())),
        "failures_by_class": dict(failures_by_class),
        "best": _view(model.best) if model.best is not None else None,
        "best_by_batch": [_view(view) for _, view in ordered],
        "results_csv": str(run_dir / "results.csv"),
        "results_error": results_error,
    }
