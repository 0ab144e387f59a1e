"""What a report shows, collected once from the run folders: the rows, failures, environment, commands,
findings and the gaps. HTML and Markdown both render this; neither computes a number of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep.analysis.baseline import Baseline
from trtsweep.analysis.model import ResultModel, build_models
from trtsweep.reports import plots, tables
from trtsweep.store import ResultSet, load_result_set


@dataclass
class ReportData:
    """Everything the HTML page and the Markdown summary show, collected once."""

    title: str
    models: list[ResultModel]
    labels: list[str]
    axes: list[str]
    rows: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    environment: list[dict[str, Any]]
    commands: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    findings_note: str | None
    baseline: Baseline | None
    expect_speedup: float | None
    missing: list[str] = field(default_factory=list)
    plots: list[plots.PlotResult] = field(default_factory=list)

    @property
    def runs(self) -> list[ResultSet]:
        return [m.result_set for m in self.models]

    def best(self, label: str) -> list[dict[str, Any]]:
        """The best variant per batch of one run (rows), for the first screen."""
        model = self.models[self.labels.index(label)]
        return tables.best_rows(self.rows, model, label)

    def overall_best(self, label: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["run"] == label and r["overall_best"]), None)

    def split_axes(self, label: str) -> tuple[dict[str, Any], list[str]]:
        """(axes constant over the run's variants, axes that vary) for one run's table."""
        return tables.split_axes([r for r in self.rows if r["run"] == label], self.axes)


def load_findings(model: ResultModel, label: str) -> tuple[list[dict[str, Any]], str | None]:
    """The diagnosis of one run's model, as dicts for the page (never raises: a bug becomes a note)."""
    from trtsweep.diagnose import diagnose_model

    try:
        found = [f.to_dict() for f in diagnose_model(model)]
    except Exception as exc:  # noqa: BLE001 - a diagnosis bug must not cost the user the report
        return [], f"diagnosis failed: {type(exc).__name__}: {exc}"
    return [{**f, "run": label} for f in found], None


# --- collection and writing --------------------------------------------------------------------


def collect(
    runs: Sequence[ResultSet | str | Path], baseline: Baseline | dict[str, Any] | None = None,
    title: str | None = None,
) -> ReportData:
    """Load the run folders (or take loaded result sets), build their analysis models and every table."""
    rss = [r if isinstance(r, ResultSet) else load_result_set(r) for r in runs]
    if not rss:
        raise ValueError("no run folder given")
    models = build_models(rss, baseline)
    labels = tables.run_labels(models)
    base = next((m.baseline for m in models if m.baseline), None)
    expect = next((m.expect_speedup for m in models if m.expect_speedup), None)
    findings: list[dict[str, Any]] = []
    notes = []
    for model, label in zip(models, labels, strict=True):
        found, note = load_findings(model, label)
        findings.extend(found)
        if note:
            notes.append(note)
    data = ReportData(
        # Several labels in one heading wrap into an unreadable block; the meta line lists them instead.
        title=title
        or (
            f"trtsweep report: {labels[0]}"
            if len(labels) == 1
            else f"trtsweep report: {len(labels)} runs side by side"
        ),
        models=models,
        labels=labels,
        axes=tables.axis_names(models),
        rows=tables.variant_rows(models, labels),
        failures=tables.failure_rows(rss, labels),
        environment=tables.environment_rows(rss, labels),
        commands=tables.command_rows(rss, labels),
        findings=findings,
        findings_note=notes[0] if notes else None,
        baseline=base,
        expect_speedup=float(expect) if expect else None,
    )
    data.missing.extend(_data_gaps(data))
    for model, label in zip(models, labels, strict=True):
        data.missing.extend(f"{label}: {note}" for note in model.notes)
    return data


def _data_gaps(data: ReportData) -> list[str]:
    gaps = []
    for rs, label in zip(data.runs, data.labels, strict=True):
        n_pass = sum(v.status == "passed" for v in rs.variants)
        if not rs.variants:
            gaps.append(f"{label}: the run folder lists no variants")
        elif n_pass == 0:
            gaps.append(f"{label}: no variant passed, so there are no performance figures (see Failures)")
        if not rs.env:
            gaps.append(f"{label}: no env.json; environment taken from the logs where they state it")
    if data.baseline is None:
        gaps.append(
            "no baseline given, so no speedups (pass --baseline precision=fp32 to compare with a variant of "
            "the sweep, or --baseline-ms 1=40,8=160 for external figures)"
        )
    return gaps


