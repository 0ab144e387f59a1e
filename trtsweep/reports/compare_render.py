"""One entry point for ``trtsweep compare`` output: text, Markdown, JSON or HTML (with its PNG chart)."""

from __future__ import annotations

import json
from pathlib import Path

from trtsweep.analysis.compare import MultiComparison
from trtsweep.analysis.compare_layers import LayerDiff
from trtsweep.reports.compare_text import cut, num, render_text
from trtsweep.store import atomic_write_text

LAYER_ROWS = 8


def layer_text(diffs: list[LayerDiff], labels: list[str]) -> str:
    """The layer diffs as text at 100 columns."""
    if not diffs:
        return "\nLayers: no matched variant has layer information on both sides\n"
    lines: list[str] = []
    for d in diffs:
        lines += ["", cut(f"Layers of {d.key}: {labels[0]} -> {labels[d.run]}", 100)]
        if d.timed:
            lines.append(
                f"  summed layer time {num(d.total_a)} -> {num(d.total_b)} ms; graph "
                f"{'changed' if d.graph_changed else 'unchanged'}; reformat layers "
                f"{d.reformats[0]} -> {d.reformats[1]}"
            )
            lines.append(f"  {'layer (A -> B)':<58} {'A ms':>8} {'B ms':>8} {'delta':>9} {'share':>7}")
            for r in d.top[:LAYER_ROWS]:
                name = _names(r.names_a, r.names_b)
                share = "-" if r.share is None else f"{r.share * 100:+.0f} %"
                lines.append(
                    f"  {cut(name, 58):<58} {num(r.ms_a):>8} {num(r.ms_b):>8} "
                    f"{(r.delta_ms or 0):>+9.4f} {share:>7}"
                )
        else:
            lines.append(
                f"  graph {'changed' if d.graph_changed else 'unchanged'} (no layer times on both "
                f"sides); reformat layers {d.reformats[0]} -> {d.reformats[1]}"
            )
        for what, rows in (("appeared", d.appeared), ("disappeared", d.disappeared)):
            if rows:
                names = ", ".join((r.names_b or r.names_a)[0] for r in rows[:4])
                more = f" (+{len(rows) - 4} more)" if len(rows) > 4 else ""
                lines.append(cut(f"  {len(rows)} layer(s) {what}: {names}{more}", 100))
        fused = [r for r in d.rows if r.matched_by == "onnx nodes"]
        if fused:
            lines.append(
                f"  {len(fused)} layer group(s) matched through ONNX node names (names or fusion differ)"
            )
        for name, pa, pb in d.precision_changes[:4]:
            lines.append(cut(f"  precision {pa} -> {pb}: {name}", 100))
        lines += [f"  {n}" for n in d.notes]
    return "\n".join(lines) + "\n"


def _names(a: list[str], b: list[str]) -> str:
    if a == b:
        return a[0] if len(a) == 1 else " + ".join(a)
    left = " + ".join(a) if a else "(none)"
    right = " + ".join(b) if b else "(none)"
    return f"{left} -> {right}"


def render(multi: MultiComparison, fmt: str, diffs: list[LayerDiff] | None, out: Path | None) -> str | None:
    """The output as text to print, or None when it was written to ``out`` (a line saying where)."""
    if fmt == "json":
        from trtsweep.reports.compare_json import to_json

        text = json.dumps(to_json(multi, diffs), indent=2, allow_nan=False) + "\n"
    elif fmt == "md":
        from trtsweep.reports.compare_md import render_md

        text = render_md(multi, diffs)
    elif fmt == "html":
        from trtsweep.reports.compare_html import write_html

        index = write_html(multi, diffs, out or Path("compare-report"))
        return f"compare report: {index}\n"
    else:
        text = render_text(multi) + (layer_text(diffs, multi.labels) if diffs is not None else "")
    if out is None:
        return text
    atomic_write_text(out, text)
    return f"wrote {out}\n"
