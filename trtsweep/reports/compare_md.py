"""``trtsweep compare --format md``: a comparison as a PR comment. Renderer only; text from run folders is
escaped (``reports.markdown.md_escape``) so that a variant or layer name cannot break a table."""

from __future__ import annotations

from trtsweep.analysis.compare import METRICS, Change, Comparison, MultiComparison
from trtsweep.analysis.compare_env import cautions, factors_text
from trtsweep.analysis.compare_layers import LayerDiff
from trtsweep.reports.compare_text import common_axes, num, pct, short_key, summary_line
from trtsweep.reports.markdown import md_escape

VERDICT_MARK = {
    "slower": "🔴 slower",
    "faster": "🟢 faster",
    "same": "⚪ same",
    "inconclusive": "🟡 inconclusive",
}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]


def _interval(c: Change) -> str:
    return "—" if c.single_run else f"[{pct(c.low - 1)}, {pct(c.high - 1)}] ({c.confidence * 100:.0f} %)"


def _pair(p: Comparison) -> list[str]:
    lines = [
        f"**A:** {md_escape(p.label_a)}  ",
        f"**B:** {md_escape(p.label_b)}",
        "",
        f"Environment: {md_escape(factors_text(p.env))}.",
        "",
    ]
    differ = [f for f in p.env if f.status != "same" and (f.a or f.b)]
    if differ:
        lines += _table(["fact", "A", "B", ""], [[f.label, f.a or "—", f.b or "—", f.status] for f in differ])
        lines.append("")
    lines += [f"> ⚠️ {md_escape(c)}" for c in cautions(p.env)]
    for name in p.metrics:
        changes = [c for c in p.changes if c.metric == name]
        shared = common_axes(changes)
        lines += [
            "",
            f"### {md_escape(METRICS[name].label)} ({METRICS[name].unit})",
            "",
            f"Threshold {md_escape(p.threshold_basis[name])}."
            + (
                f" All rows: {md_escape(', '.join(f'{k}={v}' for k, v in shared.items()))}." if shared else ""
            ),
            "",
        ]
        lines += _table(
            ["variant", "A", "B", "B/A", "interval", "n A/B", "verdict", "why"],
            [
                [
                    short_key(c, shared),
                    num(c.a.median),
                    num(c.b.median),
                    pct(c.change),
                    _interval(c),
                    f"{c.a.n}/{c.b.n}",
                    VERDICT_MARK[c.verdict],
                    c.why,
                ]
                for c in changes
            ],
        )
    for title, items in (("Only in A", p.only_a), ("Only in B", p.only_b)):
        if items:
            lines += ["", f"{title}: " + ", ".join(f"`{md_escape(k)}`" for _, k in items)]
    lines += [f"- {md_escape(n)}" for n in p.notes]
    return lines + ["", f"**{md_escape(summary_line(p))}**"]


def _layers(diffs: list[LayerDiff], labels: list[str]) -> list[str]:
    lines = ["", "## Layers", ""]
    if not diffs:
        return lines + ["No matched variant has layer information on both sides."]
    for d in diffs:
        lines += [
            f"### {md_escape(d.key)}: {md_escape(labels[0])} → {md_escape(labels[d.run])}",
            "",
            f"Graph {'changed' if d.graph_changed else 'unchanged'}; reformat layers {d.reformats[0]} → "
            f"{d.reformats[1]}; {len(d.appeared)} appeared, {len(d.disappeared)} disappeared.",
            "",
        ]
        if d.timed:
            lines.append(f"Summed layer time {num(d.total_a)} → {num(d.total_b)} ms. Top contributors:")
            lines.append("")
            lines += _table(
                ["layer A", "layer B", "A ms", "B ms", "Δ ms", "share"],
                [
                    [
                        " + ".join(r.names_a) or "—",
                        " + ".join(r.names_b) or "—",
                        num(r.ms_a),
                        num(r.ms_b),
                        f"{(r.delta_ms or 0):+.4f}",
                        "—" if r.share is None else f"{r.share * 100:+.0f} %",
                    ]
                    for r in d.top
                ],
            )
        lines += [f"- {md_escape(n)}" for n in d.notes]
        lines.append("")
    return lines


def render_md(multi: MultiComparison, diffs: list[LayerDiff] | None = None) -> str:
    """The Markdown of a comparison: one section per pair (run i against the reference)."""
    lines = ["# trtsweep compare", ""]
    if len(multi.pairs) > 1:
        lines += _matrix(multi)
    for i, p in enumerate(multi.pairs, start=1):
        if len(multi.pairs) > 1:
            lines += ["", f"## Run {i} against the reference", ""]
        lines += _pair(p)
    if diffs is not None:
        lines += _layers(diffs, multi.labels)
    return "\n".join(lines).rstrip() + "\n"


def _matrix(multi: MultiComparison) -> list[str]:
    ref = multi.pairs[0]
    lines = [f"Reference: **{md_escape(multi.labels[0])}**", ""]
    for name in ref.metrics:
        keys = list(dict.fromkeys(c.key for p in multi.pairs for c in p.changes if c.metric == name))
        rows = []
        for key in keys:
            cells = []
            for p in multi.pairs:
                c = next((c for c in p.changes if c.metric == name and c.key == key), None)
                cells.append(
                    "—"
                    if c is None
                    else f"{c.ratio:.3g}× "
                    + ("(single run)" if c.single_run else f"[{c.low:.3g}, {c.high:.3g}] {c.verdict}")
                )
            ref_value = next(
                (c.a.median for p in multi.pairs for c in p.changes if c.metric == name and c.key == key),
                None,
            )
            rows.append([key, num(ref_value), *cells])
        lines += [f"### {md_escape(METRICS[name].label)}, ratio to the reference", ""]
        lines += _table(["variant", f"reference ({METRICS[name].unit})", *multi.labels[1:]], rows) + [""]
    return lines
