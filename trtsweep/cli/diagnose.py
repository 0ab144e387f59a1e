"""``trtsweep diagnose``: why the speedup is below expectations, with evidence and next steps."""

from __future__ import annotations

from pathlib import Path

import click

from trtsweep.cli.app import main
from trtsweep.cli.options import baseline_or_exit, load_run, with_baseline


@main.command("diagnose", short_help="Explain why the speedup is below expectations, and what to try next.")
@click.argument("run_dir", type=click.Path(path_type=Path))
@with_baseline
@click.option("--expect-speedup", type=float, default=None, metavar="X",
              help="The speedup you hoped for (e.g. 3); the shortfall is explained by the findings.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True,
              help="json is stable: see trtsweep/diagnose/findings.schema.json.")
def diagnose_cmd(run_dir: Path, baseline: str | None, baseline_ms: str | None, baseline_label: str | None,
                 expect_speedup: float | None, fmt: str) -> None:
    """Explain, with measured evidence, why the speedup is below expectations, and what to try next.

    Works on a run folder from 'trtsweep run' or 'trtsweep import'. Each finding has a stable code
    (fp32_only, batch_saturation, enqueue_bound, transfer_bound, precision_fallback, ...), the numbers
    and variants it rests on, and the next step as a sweep axis or flag ready to paste. Findings are
    ranked by the time they explain; when the sweep lacks the variants to decide, the finding says which
    axis to add.

    \b
    Examples:
      trtsweep diagnose runs/h100
      trtsweep diagnose runs/h100 --baseline-ms 1=0.5 --baseline-label PyTorch --format json
    """
    from trtsweep import diagnose

    rs = load_run(run_dir)
    base = baseline_or_exit(baseline, baseline_ms, baseline_label)
    findings = diagnose.diagnose(rs, base, expect_speedup)
    out = diagnose.render(findings, fmt)
    click.echo(out, nl=not out.endswith("\n"))
