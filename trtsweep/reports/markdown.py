"""The Markdown summary (``summary.md``, ``trtsweep report --format md``): a short text for CI comments.

It says per run how many variants passed, the best variant of each precision, why variants failed, the
diagnosis findings and what data was missing. Text from logs is escaped so that a layer or variant name
cannot break a table or inject HTML into the rendered comment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtsweep.reports.tables import fmt

if TYPE_CHECKING:
    from trtsweep.analysis.baseline import Baseline
    from trtsweep.reports.data import ReportData
    from trtsweep.store import ResultSet

MAX_FAILURES = 10
MAX_FINDINGS = 10


def md_escape(text: Any) -> str:
    """One table cell or inline text: no line breaks, pipes, backticks or raw HTML."""
    s = " ".join(str(text).split())
    for ch, rep in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "'")):
        s = s.replace(ch, rep)
    return s


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return out


def _best_cells(r: dict[str, Any]) -> list[str]:
    m = r["metrics"]
    tpb = fmt(m["time_per_batch_ms"]) + (" (throughput)" if r["basis"] == "throughput" else "")
    speedup = f"{fmt(m['speedup'])}× ({r['speedup_basis']})" if m["speedup"] else "—"
    return [fmt(r["batch"]), r["variant_id"], tpb, fmt(m["samples_per_s"]), fmt(m["latency_p99"]), speedup]


def render_markdown(data: ReportData) -> str:
    """The summary for collected report data."""
    lines = [f"# {md_escape(data.title)}", ""]
    if data.baseline:
        lines += [
            f"Baseline: **{md_escape(data.baseline.label)}**"
            + (f", expected speedup ×{data.expect_speedup:g}" if data.expect_speedup else ""),
            "",
        ]
    for label in data.labels:
        rows = [r for r in data.rows if r["run"] == label]
        passed = sum(r["status"] == "passed" for r in rows)
        lines += [f"## {md_escape(label)}", "", f"{passed} of {len(rows)} variants passed.", ""]
        best = data.best(label)
        if best:
            basis = "vs " + md_escape(data.baseline.label) if data.baseline else ""
            lines += _table(
                ["batch", "best variant", "time per batch (ms)", "samples/s", "latency p99 (ms)",
                 f"speedup {basis}".strip()],
                [_best_cells(r) for r in best],
            )
            top = data.overall_best(label)
            if top:
                lines += ["", f"Most samples/s: **{fmt(top['metrics']['samples_per_s'])}** with "
                          f"`{top['variant_id']}` (batch {fmt(top['batch'])})."]
            lines.append("")
    if data.failures:
        causes = Counter(f["cause"] for f in data.failures)
        lines += ["## Failures", "", ", ".join(f"{n} × {md_escape(c)}" for c, n in causes.most_common()), ""]
        lines += _table(
            ["run", "variant", "status", "cause", "last log line"],
            [
                [
                    f["run"],
                    f["variant_id"],
                    f["status"],
                    f["cause"],
                    (f["tail"][-1] if f["tail"] else f["reason"] or "")[:200],
                ]
                for f in data.failures[:MAX_FAILURES]
            ],
        )
        if len(data.failures) > MAX_FAILURES:
            lines.append(f"\n…and {len(data.failures) - MAX_FAILURES} more (see the HTML report).")
        lines.append("")
    if data.findings:
        lines += ["## Findings", ""]
        for f in data.findings[:MAX_FINDINGS]:
            step = f" Next step: {md_escape(f['next_step'])}" if f.get("next_step") else ""
            lines.append(
                f"- **{md_escape(f.get('title') or f.get('code'))}** "
                f"({md_escape(f.get('severity', '?'))}, {md_escape(f['run'])}).{step}"
            )
        lines.append("")
    if data.missing:
        lines += ["## Missing data", ""] + [f"- {md_escape(m)}" for m in data.missing] + [""]
    return "\n".join(lines).rstrip() + "\n"


def markdown_summary(
    run_dirs: Sequence[Path | str | ResultSet],
    baseline: Baseline | None = None,
    title: str | None = None,
) -> str:
    """The Markdown summary of run folders, without drawing charts (what ``--format md`` prints).

    Chart gaps are not listed here (no chart is drawn); ``summary.md`` written by ``build_report`` has them.
    """
    from trtsweep.reports.data import collect

    return render_markdown(collect(list(run_dirs), baseline, title))
