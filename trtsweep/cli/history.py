"""``trtsweep history``: the nightly history database (add, list, trend, check, annotate, publish, merge)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from trtsweep.cli.app import UserError, main
from trtsweep.cli.options import load_run

_NIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}$")

db_option = click.option(
    "--db", "db", type=click.Path(path_type=Path), envvar="TRTSWEEP_HISTORY",
    default="trtsweep-history.sqlite", show_default=True, help="History database (or $TRTSWEEP_HISTORY).")
metric_option = click.option(
    "--metric", default="time_per_batch_ms", show_default=True,
    help="Stored metric: time_per_batch_ms, samples_per_s, qps, gpu_compute_ms.median, latency_ms.p99 ...")
threshold_option = click.option(
    "--threshold", type=click.FloatRange(0.1, 100), default=3.0, show_default=True,
    help="Smallest step that counts, in percent.")


def _open(db: Path, create: bool = False):
    from trtsweep.store.history import HistoryError, open_history

    try:
        return open_history(db, create=create)
    except HistoryError as exc:
        raise UserError(str(exc)) from None


def _entry(run_dir: Path, labels: tuple[str, ...] = (), night: str | None = None):
    from trtsweep.analysis.history_extract import ExtractError, run_entry

    pairs = {}
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--label {item!r}: expected KEY=VALUE, e.g. --label branch=main")
        pairs[key] = value
    if night is not None and not _NIGHT.match(night):
        raise UserError(f"--night {night!r}: expected a date YYYY-MM-DD")
    if not (run_dir / "meta.json").is_file() and not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run folder")
    rs = load_run(run_dir)
    try:
        return run_entry(rs, pairs, night)
    except ExtractError as exc:
        raise UserError(str(exc)) from None


def _guard(fn, *args: Any):
    """Run a store call, turning its one-line errors into exit 2."""
    from trtsweep.store.history import HistoryError

    try:
        return fn(*args)
    except HistoryError as exc:
        raise UserError(str(exc)) from None


@main.group("history", short_help="Nightly history: store runs, detect steps, publish a dashboard.")
def history_group() -> None:
    """Nightly history: store every run, find steps in nightly medians, publish a dashboard.

    \b
    The nightly job, per GPU host:
      trtsweep run nightly.yaml -o runs/$(date +%F)
      trtsweep history add runs/$(date +%F) --label branch=main
      trtsweep history check runs/$(date +%F)      # exit 3 regression, 4 inconclusive
      trtsweep history publish -o site/
    """


@history_group.command("add", short_help="Add a run folder to the history (one transaction, idempotent).")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="Label the run (repeatable).")
@click.option("--night", default=None, metavar="YYYY-MM-DD",
              help="The night the run measured [default: from meta.json; needed for imported folders].")
@db_option
def add_cmd(run_dir: Path, labels: tuple[str, ...], night: str | None, db: Path) -> None:
    """Add a run folder to the history (one transaction; adding the same run again changes nothing).

    \b
    Examples:
      trtsweep history add runs/2025-06-01
      trtsweep history add runs/nightly --label branch=main --label trt=10.9 --db /shared/history.sqlite
      trtsweep history add runs/imported-logs --night 2025-05-30
    """
    entry = _entry(run_dir, labels, night)
    with _open(db, create=True) as h:
        result = _guard(h.add, entry)
    if result.added:
        click.echo(f"added run {entry.run_id} ({entry.night}, {entry.target.name}, TensorRT "
                   f"{entry.trt_version or '?'}): {result.variants} variant(s), {result.repeats} repeat(s) "
                   f"to {db}")
    else:
        click.echo(f"run {entry.run_id} is already in {db}: nothing changed")
    for gap in entry.missing:
        click.echo(f"  missing: {gap}")


@history_group.command("list", short_help="List the runs (or variants, or targets) in the history.")
@click.option("--what", type=click.Choice(["runs", "variants", "targets"]), default="runs", show_default=True)
@db_option
def list_cmd(what: str, db: Path) -> None:
    """List the runs (or variants, or targets) in the history.

    \b
    Examples:
      trtsweep history list
      trtsweep history list --what variants --db /shared/history.sqlite
    """
    with _open(db) as h:
        if what == "targets":
            rows = [[t.name, t.gpu_uuid or "-", t.key] for t in _guard(h.targets)]
            header = ["target", "GPU UUID", "key"]
        elif what == "variants":
            rows = [[v.label, (v.model_sha256 or "-")[:12], v.key] for v in _guard(h.variants)]
            header = ["variant", "model sha256", "key"]
        else:
            notes: dict[str, list[str]] = {}
            for a in _guard(h.annotations):
                notes.setdefault(a.run_id, []).append(("[expected] " if a.expected else "") + a.note)
            rows = [[r.night, r.run_id, r.target, r.trt_version or "-", str(r.variants),
                     ",".join(f"{k}={v}" for k, v in sorted(r.labels.items())) or "-",
                     "; ".join(notes.get(r.run_id, [])) or "-"] for r in _guard(h.runs)]
            header = ["night", "run", "target", "TensorRT", "variants", "labels", "notes"]
    _table(header, rows)
    if not rows:
        click.echo(f"(no {what} in {db})")


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=False)).rstrip())


@history_group.command("check", short_help="Judge a run against its series (regression or not).")
@click.argument("run_dir", type=click.Path(path_type=Path))
@metric_option
@threshold_option
@click.option("--window", type=click.IntRange(1, 365), default=7, show_default=True,
              help="Report a change point while it is at most this many nights old.")
@click.option("--night", default=None, metavar="YYYY-MM-DD", help="The night of an imported run folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@db_option
def check_cmd(run_dir: Path, metric: str, threshold: float, window: int, night: str | None, fmt: str,
              db: Path) -> None:
    """Judge a run against the history of its target, TensorRT version and variants (reads only).

    Each variant gets regression (a new change point in the last nights, slower), improvement,
    no_change or inconclusive (unstable night, too few nights), with the night the change started, its
    size and interval and the runs on both sides. One noisy night is never a change.

    \b
    Exit status: 0 no regression; 3 a regression; 4 inconclusive (and no regression); 2 bad input.
    Examples:
      trtsweep history check runs/2025-06-01
      trtsweep history check runs/2025-06-01 --metric samples_per_s --threshold 5 --format json
    """
    from trtsweep.analysis.history_check import check_entry
    from trtsweep.analysis.history_extract import SM_CLOCK, THROTTLED

    entry = _entry(run_dir, (), night)
    with _open(db) as h:
        target = next((t.pk for t in _guard(h.targets) if t.key == entry.target.key), None)
        known = {v.key: v.pk for v in _guard(h.variants)}
        ids = {v.key: known[v.key] for v in entry.variants if v.key in known}
        targets = [target] if target is not None else []
        stored = _guard(h.points, metric, targets, list(ids.values()))
        expected = [a.run_id for a in _guard(h.annotations) if a.expected]
        clocks = {m: _guard(h.points, m, targets, list(ids.values())) for m in (SM_CLOCK, THROTTLED)}
    result = check_entry(entry, stored, target, ids, metric, expected, threshold / 100, window,
                         clocks=clocks)
    if fmt == "json":
        click.echo(json.dumps(_check_json(result), indent=2))
    else:
        _check_table(result)
    sys.exit(result.exit_code)


def _check_json(result) -> dict[str, Any]:
    out = []
    for c in result.checks:
        v = c.verdict
        ch = v.change
        out.append({"variant": c.variant.label, "variant_key": c.variant.key, "verdict": v.kind,
                    "reason": v.reason, "since_night": v.night, "nights": v.nights, "pending": v.pending,
                    "change": None if ch is None else {"ratio": ch.ratio, "low": ch.low, "high": ch.high,
                                                       "confidence": ch.confidence, "p_value": ch.p_value},
                    "runs_before": list(v.runs_before), "runs_after": list(v.runs_after)})
    return {"run_id": result.run_id, "night": result.night, "metric": result.metric,
            "exit_code": result.exit_code, "variants": out}


def _check_table(result) -> None:
    click.echo(f"run {result.run_id} ({result.night}), metric {result.metric}:")
    for c in sorted(result.checks, key=lambda c: (c.verdict.kind != "regression", c.variant.label)):
        v = c.verdict
        click.echo(f"  {v.kind:<12} {c.variant.label}: {v.reason}")
        if v.change is not None:
            click.echo(f"               before: ...{', '.join(v.runs_before[-2:])}   after: "
                       f"{', '.join(v.runs_after[:3])}{' ...' if len(v.runs_after) > 3 else ''}")
    counts = {k: result.count(k) for k in ("regression", "improvement", "no_change", "inconclusive")}
    click.echo("  " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@history_group.command("annotate", short_help="Note a run; --expected starts a new baseline there.")
@click.option("--at", "run_id", required=True, metavar="RUN_ID", help="The run the note is about.")
@click.option("--note", required=True, help="What changed, e.g. 'TRT 10.9 upgrade'.")
@click.option("--expected", is_flag=True,
              help="The change is intended: a new baseline segment starts at this run.")
@db_option
def annotate_cmd(run_id: str, note: str, expected: bool, db: Path) -> None:
    """Attach a note to a run; --expected makes it the start of a new baseline (no regression alert).

    \b
    Examples:
      trtsweep history annotate --at 20250601-3fa2c1d0 --note "TRT 10.9 upgrade" --expected
      trtsweep history annotate --at 20250603-77ab0e12 --note "fan replaced on host b"
    """
    if not note.strip():
        raise UserError("--note: give the note's text")
    with _open(db) as h:
        done = _guard(h.annotate, run_id, note, expected)
    what = "expected change (new baseline)" if expected else "note"
    click.echo(f"{what} at run {run_id}: {note}" if done else f"run {run_id} already has that note")


@history_group.command("trend", short_help="Print and chart each series' trend (level changes, verdict).")
@click.option("--variant", "selector", default=None, metavar="SELECTOR",
              help="KEY=VALUE[,KEY=VALUE] on the axes (precision=fp16,batch=8), or a variant key.")
@click.option("--target", default=None, metavar="NAME", help="Target name (host/GPU), host or GPU model.")
@metric_option
@click.option("--nights", type=click.IntRange(1), default=None, help="Only the last N nights.")
@click.option("--png", "png", type=click.Path(path_type=Path), default=Path("trend.png"), show_default=True,
              help="Where to write the trend chart.")
@db_option
def trend_cmd(selector: str | None, target: str | None, metric: str, nights: int | None, png: Path,
              db: Path) -> None:
    """Print each selected series' trend (level changes, latest night) and draw them into one PNG.

    \b
    Examples:
      trtsweep history trend --variant precision=fp16,batch=8
      trtsweep history trend --target lab-a10 --metric samples_per_s --nights 90 --png a10.png
    """
    from trtsweep.analysis.history_series import SelectorError
    from trtsweep.reports.dashboard import collect_dashboard, trend_png

    with _open(db) as h:
        try:
            data = collect_dashboard(h, metric, selector, target, nights)
        except SelectorError as exc:
            raise UserError(str(exc)) from None
    if not data.series:
        raise UserError(f"{db}: no series of metric {metric!r} matches (see 'trtsweep history list')")
    rows = []
    for s in data.series:
        steps = "; ".join(f"{c.night} {c.change:+.1%}" for c in s.changes) or "-"
        rows.append([s.target, s.variant, str(len(s.nights)), s.nights[0].night, s.nights[-1].night,
                     f"{s.nights[-1].value:.4g}", steps, s.verdict.kind])
    _table(["target", "variant", "nights", "first", "last", f"latest {metric}", "level changes",
            "latest verdict"], rows)
    trend_png(data, png)
    click.echo(f"chart: {png}")


@history_group.command("publish", short_help="Write a static dashboard (latest verdicts first, works from file://).")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for index.html and its charts.")
@metric_option
@click.option("--title", default="trtsweep nightly", show_default=True)
@db_option
def publish_cmd(out_dir: Path, metric: str, title: str, db: Path) -> None:
    """Write a static dashboard: latest verdicts first, open regressions, a chart per variant and target.

    The page loads nothing from the network and works from file://.

    \b
    Examples:
      trtsweep history publish -o site/
      trtsweep history publish -o /var/www/nightly --db /shared/history.sqlite --metric samples_per_s
    """
    from trtsweep.reports.dashboard import build_dashboard

    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: exists and is not a folder")
    with _open(db) as h:
        result = build_dashboard(h, out_dir, metric, title)
    click.echo(f"dashboard: {result.index_html} ({result.charts} charts, {result.regressions} open "
               f"regression(s))")


@history_group.command("merge", short_help="Fold other history databases (one per GPU host) into this one.")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
def merge_cmd(sources: tuple[Path, ...], db: Path) -> None:
    """Fold other history databases (one per GPU host, say) into --db; runs already there are skipped.

    \b
    Examples:
      trtsweep history merge host-a.sqlite host-b.sqlite --db all.sqlite
    """
    from trtsweep.store.history import HistoryError

    for src in sources:
        if src.resolve() == db.resolve():
            raise UserError(f"{src}: is the target database itself")
    others = [_open(src) for src in sources]  # every source checked before anything is written
    try:
        with _open(db, create=True) as h:
            for src, other in zip(sources, others, strict=True):
                try:
                    added, same, notes = h.merge_from(other)
                except HistoryError as exc:
                    raise UserError(str(exc)) from None
                click.echo(f"{src}: {added} run(s) added, {same} already in {db}, {notes} note(s) added")
    finally:
        for other in others:
            other.close()
