"""``trtsweep compare --format html``: a self-contained page with the report's style, and the chart of
per-variant ratios with their intervals (``compare.png``). Renderer only: every number is the analysis's.

The page's CSS is the report page's own (read from ``templates/report.html.j2``), so both pages look alike;
like the report it loads nothing from the network (Content-Security-Policy) and needs no JavaScript.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from trtsweep.analysis.compare import METRICS, MultiComparison  # noqa: E402
from trtsweep.analysis.compare_env import cautions, factors_text  # noqa: E402
from trtsweep.analysis.compare_layers import LayerDiff  # noqa: E402
from trtsweep.reports.compare_text import common_axes, num, pct, short_key, summary_line  # noqa: E402
from trtsweep.reports.plots.base import GREY, OKABE_ITO, house_style  # noqa: E402
from trtsweep.store import atomic_write_text  # noqa: E402

TEMPLATES = Path(__file__).parent / "templates"
VERDICT_COLOUR = {"slower": OKABE_ITO[3], "faster": OKABE_ITO[2], "same": OKABE_ITO[0], "inconclusive": GREY}
MAX_BARS = 40

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'">
<link rel="icon" href="data:,"><title>trtsweep compare</title>
<style>{{ css | safe }}</style></head><body><main>
<h1>trtsweep compare</h1>
<p class="meta">Reference: {{ m.labels[0] }}</p>
{% for p in m.pairs %}
<section><h2>{{ m.labels[loop.index] }} against the reference</h2>
<p>Environment: {{ kind(p.env) }}.</p>
{% for c in cautions(p.env) %}<p class="notice">{{ c }}</p>{% endfor %}
<table><thead><tr><th>fact</th><th>A</th><th>B</th><th></th></tr></thead><tbody>
{% for f in p.env if f.a or f.b %}<tr><td>{{ f.label }}</td><td>{{ f.a or "—" }}</td><td>{{ f.b or "—" }}</td>
<td>{{ f.status }}</td></tr>{% endfor %}</tbody></table>
{% for name in p.metrics %}
<h3>{{ metrics[name].label }} ({{ metrics[name].unit }})</h3>
<p class="meta">Threshold {{ p.threshold_basis[name] }}. Matched on {{ p.matched_on | join(", ") }}.</p>
<table><thead><tr><th>variant</th><th class="num">A</th><th class="num">B</th><th class="num">B/A</th>
<th>interval</th><th class="num">n A/B</th><th>verdict</th><th>why</th></tr></thead><tbody>
{% for c in p.changes if c.metric == name %}
<tr><td>{{ c.key }}</td><td class="num">{{ num(c.a.median) }}</td><td class="num">{{ num(c.b.median) }}</td>
<td class="num">{{ pct(c.change) }}</td>
<td>{% if c.single_run %}—{% else %}[{{ pct(c.low - 1) }}, {{ pct(c.high - 1) }}]
({{ (c.confidence * 100) | round | int }} %){% endif %}</td>
<td class="num">{{ c.a.n }}/{{ c.b.n }}</td><td><strong>{{ c.verdict }}</strong></td><td>{{ c.why }}</td></tr>
{% endfor %}</tbody></table>
{% endfor %}
{% for vid, key in p.only_a %}<p class="meta">Only in A: {{ key }} ({{ vid }})</p>{% endfor %}
{% for vid, key in p.only_b %}<p class="meta">Only in B: {{ key }} ({{ vid }})</p>{% endfor %}
{% for n in p.notes %}<p class="meta">{{ n }}</p>{% endfor %}
<p><strong>{{ summary(p) }}</strong></p></section>
{% endfor %}
{% if chart %}<figure><img src="{{ chart }}" alt="Ratio to the reference per variant, with intervals">
<figcaption>Ratio B/A per variant and run with its interval; the band is the threshold.</figcaption></figure>
{% endif %}
{% if diffs is not none %}<section><h2>Layers</h2>
{% for d in diffs %}<h3>{{ d.key }}: {{ m.labels[0] }} → {{ m.labels[d.run] }}</h3>
<p class="meta">Graph {{ "changed" if d.graph_changed else "unchanged" }};
reformat layers {{ d.reformats[0] }} →
{{ d.reformats[1] }}; {{ d.appeared | length }} appeared, {{ d.disappeared | length }} disappeared.</p>
{% if d.timed %}<table><thead><tr><th>layer A</th><th>layer B</th>
<th class="num">A ms</th><th class="num">B ms</th>
<th class="num">share of the change</th></tr></thead><tbody>
{% for r in d.top %}<tr><td>{{ r.names_a | join(" + ") or "—" }}</td>
<td>{{ r.names_b | join(" + ") or "—" }}</td>
<td class="num">{{ num(r.ms_a) }}</td><td class="num">{{ num(r.ms_b) }}</td>
<td class="num">{{ "—" if r.share is none else ((r.share * 100) | round | int) ~ " %" }}</td></tr>{% endfor %}
</tbody></table>{% endif %}
{% for n in d.notes %}<p class="meta">{{ n }}</p>{% endfor %}
{% else %}<p>No matched variant has layer information on both sides.</p>{% endfor %}</section>{% endif %}
</main></body></html>
"""


def report_css() -> str:
    """The report page's CSS, so the comparison looks like it."""
    text = (TEMPLATES / "report.html.j2").read_text(encoding="utf-8")
    found = re.search(r"<style>(.*?)</style>", text, re.S)
    return found.group(1) if found else ""


def draw_chart(multi: MultiComparison, path: Path) -> Path | None:
    """Horizontal bars: the ratio of each variant (and run) to the reference, interval as error bar."""
    metric = multi.pairs[0].metrics[0]
    shared = common_axes([c for p in multi.pairs for c in p.changes if c.metric == metric])
    rows = [
        (short_key(c, shared) + (f" · run {i}" if len(multi.pairs) > 1 else ""), c)
        for i, p in enumerate(multi.pairs, start=1)
        for c in p.changes
        if c.metric == metric
    ][:MAX_BARS]
    if not rows:
        return None
    with house_style():
        fig = Figure(figsize=(9, 1.2 + 0.32 * len(rows)), layout="constrained")
        ax = fig.subplots()
        ys = list(range(len(rows)))[::-1]
        for y, (_, c) in zip(ys, rows, strict=True):
            colour = VERDICT_COLOUR[c.verdict]
            ax.barh(y, c.ratio - 1, left=1, color=colour, alpha=0.8)
            if not c.single_run:
                ax.errorbar(
                    c.ratio,
                    y,
                    xerr=[[c.ratio - c.low], [c.high - c.ratio]],
                    fmt="none",
                    ecolor="#000000",
                    capsize=3,
                    lw=1,
                )
        t = multi.pairs[0].thresholds[metric]
        ax.axvspan(1 - t, 1 + t, color="#cccccc", alpha=0.35, lw=0)
        ax.axvline(1, color="#000000", lw=0.8)
        ax.set_yticks(ys, [label[:60] for label, _ in rows])
        ax.set_xlabel(f"{METRICS[metric].label}: ratio to the reference ({METRICS[metric].unit})")
        handles = [matplotlib.patches.Patch(color=VERDICT_COLOUR[v], label=v) for v in VERDICT_COLOUR]
        ax.legend(handles=handles, frameon=False, loc="best")
        fig.savefig(path, format="png", facecolor="white")
    return path


def write_html(multi: MultiComparison, diffs: list[LayerDiff] | None, out_dir: Path) -> Path:
    """Write ``index.html`` and ``compare.png`` into ``out_dir``; returns the page's path."""
    import matplotlib.patches  # noqa: F401  (used by draw_chart's legend)

    out_dir.mkdir(parents=True, exist_ok=True)
    chart = draw_chart(multi, out_dir / "compare.png")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    page = env.from_string(PAGE).render(
        m=multi,
        diffs=diffs,
        css=report_css(),
        metrics=METRICS,
        num=num,
        pct=pct,
        summary=summary_line,
        kind=factors_text,
        cautions=cautions,
        chart=chart.name if chart else None,
    )
    index = out_dir / "index.html"
    atomic_write_text(index, page)
    return index
