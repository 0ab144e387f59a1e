"""``trtsweep compare`` as text a terminal reads at 100 columns: renderer only, every number is the
analysis's (:mod:`trtsweep.analysis.compare`)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from trtsweep.analysis.compare import METRICS, Change, Comparison, MultiComparison
from trtsweep.analysis.compare_env import cautions, factors_text

WIDTH = 100


def num(x: float | None) -> str:
    """A measured value with 4 significant digits."""
    if x is None:
        return "-"
    return f"{x:.4g}" if abs(x) < 1e5 else f"{x:,.0f}"


def pct(x: float) -> str:
    return f"{x * 100:+.1f} %"


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def wrap(text: str) -> list[str]:
    """A long sentence on several lines of WIDTH, continuation lines indented."""
    return textwrap.wrap(text, WIDTH, subsequent_indent="    ", break_on_hyphens=False) or [""]


def common_axes(changes: Sequence[Change]) -> dict[str, str]:
    """Axis values every change shares: said once above the table instead of on every row."""
    first = [p for p in changes[0].key.split(", ")]
    if len({c.key for c in changes}) < 2:
        # One variant: its row keeps the first axis, the rest is said once above the table.
        return {p.split("=", 1)[0]: p.split("=", 1)[1] for p in first[1:] if "=" in p}
    return {
        p.split("=", 1)[0]: p.split("=", 1)[1]
        for p in first
        if "=" in p and all(p in c.key.split(", ") for c in changes)
    }


def short_key(change: Change, shared: dict[str, str]) -> str:
    parts = [p for p in change.key.split(", ") if p.split("=", 1)[0] not in shared]
    return ", ".join(parts) or "(all axes shared)"


def _interval(c: Change) -> str:
    return f"[{pct(c.low - 1)}, {pct(c.high - 1)}]"


def env_lines(cmp: Comparison) -> list[str]:
    lines = [f"Environment: {factors_text(cmp.env)}"]
    for f in cmp.env:
        if f.a is None and f.b is None:
            continue
        mark = {"same": "=", "factor": "differs", "caution": "CAUTION", "unknown": "?"}[f.status]
        if f.status == "same":
            lines.append(f"  {f.label:<12} {cut(f.a or '-', 70)}")
        else:
            lines.append(f"  {f.label:<12} A {cut(f.a or '-', 36)} | B {cut(f.b or '-', 36)}  {mark}")
    return lines + cautions(cmp.env)


COLS = "{key:<32} {a:>9} {b:>9} {chg:>8} {ivl:>18} {n:>5}  {v}"


def pair_lines(cmp: Comparison) -> list[str]:
    """The detailed view of one pair: environment, thresholds, one table per metric, what to do."""
    lines = [f"A: {cmp.label_a}", f"B: {cmp.label_b}", *env_lines(cmp), ""]
    lines += wrap(f"Matched on: {', '.join(cmp.matched_on) or 'no axis'}")
    for name in cmp.metrics:
        metric = METRICS[name]
        changes = [c for c in cmp.changes if c.metric == name]
        direction = "higher is better" if metric.higher_is_better else "lower is better"
        lines += [
            "",
            *wrap(
                f"{metric.label} ({metric.unit}, median of per-repeat values, {direction}); "
                f"threshold {cmp.threshold_basis[name]}"
            ),
        ]
        shared = common_axes(changes)
        if shared:
            lines += wrap("All rows: " + ", ".join(f"{k}={v}" for k, v in shared.items()))
        lines.append(
            COLS.format(key="variant", a="A", b="B", chg="B/A", ivl="interval", n="n A/B", v="verdict")
        )
        low_conf = sorted(
            {
                (c.a.n, c.b.n, round(c.confidence * 100))
                for c in changes
                if c.confidence < 0.95 and not c.single_run
            }
        )
        for c in changes:
            ivl = "-" if c.single_run else _interval(c)
            lines.append(
                COLS.format(
                    key=cut(short_key(c, shared), 32),
                    a=num(c.a.median),
                    b=num(c.b.median),
                    chg=pct(c.change),
                    ivl=ivl,
                    n=f"{c.a.n}/{c.b.n}",
                    v=c.verdict,
                )
            )
        for na, nb, conf in low_conf:
            lines.append(f"  {na} vs {nb} repeats: the interval is at {conf} %, the most they can give")
        for c in changes:
            if c.verdict == "inconclusive":
                lines += wrap(f"  {short_key(c, shared)}: {c.why}")
    for title, items in (("Only in A", cmp.only_a), ("Only in B", cmp.only_b)):
        for vid, key in items:
            lines.append(cut(f"{title}: {key} ({vid})", WIDTH))
    for note in cmp.notes:
        lines += wrap(f"Note: {note}")
    lines += ["", *wrap(summary_line(cmp))]
    return lines


def summary_line(cmp: Comparison) -> str:
    counts = ", ".join(f"{cmp.count(v)} {v}" for v in ("slower", "faster", "same", "inconclusive"))
    if cmp.regressions:
        tail = f"REGRESSION: {len(cmp.regressions)} slower"
    elif cmp.inconclusive:
        tail = f"no regression found; {len(cmp.inconclusive)} inconclusive"
    else:
        tail = "no regression"
    return f"Summary: {counts} -> {tail}"


CELL = 34


def _cell(c: Change | None) -> str:
    if c is None:
        return "not in this run"
    if c.single_run:
        return f"{c.ratio:.3g}x (single run)"
    return f"{c.ratio:.3g}x [{c.low:.3g}, {c.high:.3g}] {c.verdict}"


def matrix_lines(multi: MultiComparison) -> list[str]:
    """Several runs: each variant's metric per run as a ratio to the first run, with interval and verdict."""
    ref = multi.pairs[0]
    lines = [f"Reference (1.00x): {multi.labels[0]}"]
    for i, (label, pair) in enumerate(zip(multi.labels[1:], multi.pairs, strict=True), start=1):
        lines += wrap(f"Run {i}: {label} -- {factors_text(pair.env)}")
        lines += [f"  {x}" for x in cautions(pair.env)]
    for name in ref.metrics:
        metric = METRICS[name]
        keys = list(dict.fromkeys(c.key for p in multi.pairs for c in p.changes if c.metric == name))
        all_changes = [c for p in multi.pairs for c in p.changes if c.metric == name]
        shared = common_axes(all_changes)
        lines += [
            "",
            f"{metric.label} ({metric.unit}), ratio to the reference "
            f"({'higher' if metric.higher_is_better else 'lower'} is better)",
        ]
        if shared:
            lines += wrap("All rows: " + ", ".join(f"{k}={v}" for k, v in shared.items()))
        for start in range(0, len(multi.pairs), 2):
            block = list(enumerate(multi.pairs, start=1))[start : start + 2]
            head = f"{'variant':<22} {'ref':>9} " + " ".join(f"{('run ' + str(i)):<{CELL}}" for i, _ in block)
            lines.append(head.rstrip())
            for key in keys:
                by_run = [
                    next((c for c in p.changes if c.metric == name and c.key == key), None) for _, p in block
                ]
                ref_value = next((c.a.median for c in by_run if c is not None), None)
                row = f"{cut(short_key_text(key, shared), 22):<22} {num(ref_value):>9} "
                lines.append((row + " ".join(f"{cut(_cell(c), CELL):<{CELL}}" for c in by_run)).rstrip())
    for i, pair in enumerate(multi.pairs, start=1):
        for c in pair.changes:
            if c.verdict == "inconclusive" and not c.single_run:
                lines += wrap(f"  run {i}, {c.key}: {c.why}")
    for i, pair in enumerate(multi.pairs, start=1):
        for note in pair.notes:
            lines += wrap(f"Note (run {i}): {note}")
    lines.append("")
    for i, p in enumerate(multi.pairs, start=1):
        lines += wrap(f"Run {i}: {summary_line(p)}")
    return lines


def short_key_text(key: str, shared: dict[str, str]) -> str:
    parts = [p for p in key.split(", ") if p.split("=", 1)[0] not in shared]
    return ", ".join(parts) or "(all axes shared)"


def render_text(multi: MultiComparison) -> str:
    """Two runs: the detailed pair view; more: the matrix."""
    lines = pair_lines(multi.pairs[0]) if len(multi.pairs) == 1 else matrix_lines(multi)
    return "\n".join(cut(x, WIDTH) for x in lines) + "\n"
