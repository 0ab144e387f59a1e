"""What a report shows, collected once from the run folders: the rows, failures, environment, commands,
findings and the gaps. HTML and Markdown both render this; neither computes a number of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep.analysis.baseline import normalize_baseline
from trtsweep.reports import plots, tables
from trtsweep.store import ResultSet, load_result_set

DIAGNOSIS_FILE = "diagnosis.json"


@dataclass
class ReportData:
    """Everything the HTML page and the Markdown summary show, collected once."""

    title: str
    runs: list[ResultSet]
    labels: list[str]
    axes: list[str]
    rows: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    environment: list[dict[str, Any]]
    commands: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    findings_note: str | None
    baseline: dict[str, Any] | None
    expect_speedup: float | None
    missing: list[str] = field(default_factory=list)
    plots: list[plots.PlotResult] = field(default_factory=list)


# --- findings ----------------------------------------------------------------------------------


def load_findings(
    rs: ResultSet, label: str, baseline: dict[str, Any] | None, expect_speedup: float | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Findings from ``trtsweep diagnose`` (when that module exists) and from RUN_DIR/diagnosis.json."""
    found: list[dict[str, Any]] = []
    note = None
    saved = rs.root / DIAGNOSIS_FILE
    if saved.is_file():
        try:
            data = json.loads(saved.read_text(encoding="utf-8"))
            found.extend(d for d in (data if isinstance(data, list) else []) if isinstance(d, dict))
        except (OSError, ValueError) as exc:
            note = f"{saved} could not be read ({exc})"
    try:
        from trtsweep.diagnose import diagnose  # lazy: written separately, may be absent
    except (ImportError, AttributeError):
        note = note or "diagnosis not available in this trtsweep (trtsweep.diagnose missing)"
    else:
        try:
            found.extend(f.to_dict() for f in diagnose(rs, baseline=baseline, expect_speedup=expect_speedup))
        except Exception as exc:  # noqa: BLE001 - a diagnosis bug must not cost the user the report
            note = f"diagnosis failed: {type(exc).__name__}: {exc}"
    seen: set[tuple[Any, Any]] = set()
    out = []
    for f in found:
        key = (f.get("code"), f.get("title"))
        if key not in seen:
            seen.add(key)
            out.append(
                {
                    **f,
                    "run": label,
                    "evidence": [
                        e if isinstance(e, dict) else {"text": str(e)} for e in f.get("evidence") or []
                    ],
                }
            )
    return out, note


# --- collection and writing --------------------------------------------------------------------


def collect(
    runs: Sequence[ResultSet | str | Path], baseline: dict[str, Any] | None = None, title: str | None = None
) -> ReportData:
    """Load the run folders (or take loaded result sets) and build every table of the report."""
    rss = [r if isinstance(r, ResultSet) else load_result_set(r) for r in runs]
    if not rss:
        raise ValueError("no run folder given")
    labels = tables.run_labels(rss)
    base = normalize_baseline(baseline) or next(
        (normalize_baseline(rs.baseline) for rs in rss if rs.baseline), None
    )
    expect = (base or {}).get("expect_speedup") or next(
        (rs.expect_speedup for rs in rss if rs.expect_speedup), None
    )
    findings: list[dict[str, Any]] = []
    notes = []
    for rs, label in zip(rss, labels, strict=True):
        found, note = load_findings(rs, label, baseline or rs.baseline, expect)
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
        runs=rss,
        labels=labels,
        axes=tables.axis_names(rss),
        rows=tables.variant_rows(rss, labels, baseline),
        failures=tables.failure_rows(rss, labels),
        environment=tables.environment_rows(rss, labels),
        commands=tables.command_rows(rss, labels),
        findings=findings,
        findings_note=notes[0] if notes else None,
        baseline=base,
        expect_speedup=float(expect) if expect else None,
    )
    data.missing.extend(_data_gaps(data))
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
            "no baseline given, so no speedups (pass --baseline, e.g. precision=fp32 or pytorch:1=40)"
        )
    return gaps


