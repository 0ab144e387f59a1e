"""The ``trtsweep`` command: a thin layer that parses options, calls the library and prints.

Exit codes: 0 success; 1 some variants failed or some files were unrecognized (the rest was done and
saved); 2 bad input (spec, flags, paths), with one line saying what and where, never a traceback;
3 a regression found by ``compare --fail-on-regression``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from trtsweep import __version__


class UserError(click.ClickException):
    """Bad input: printed as one line, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"trtsweep: error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="trtsweep")
def main() -> None:
    """Sweep, parse, report and diagnose TensorRT trtexec runs.

    \b
    Read logs you already have (no GPU needed):
      trtsweep parse run.log --format table
      trtsweep import old_logs/ -o runs/imported
    """


# --- parse -------------------------------------------------------------------------------------

@main.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "table"]), default="table",
              show_default=True, help="json: the run-record contract; csv: one flat row per run; "
              "table: a readable summary.")
def parse_cmd(files: tuple[Path, ...], fmt: str) -> None:
    """Parse trtexec logs, trtexec JSON exports and Polygraphy output into records.

    Each FILE is recognised by its content, whatever its name: a trtexec console log (TensorRT 7 to 11,
    verbose or not, passed, failed or cut short), an --exportTimes / --exportProfile / --exportLayerInfo
    JSON file, or Polygraphy run/inspect output. A log holding several trtexec runs gives one record per
    run. A file that is none of these becomes an 'unrecognized' record.

    \b
    Exit status: 0 every file parsed (runs passed or cut short); 1 some file unrecognized or
    some run failed; 2 a path is missing or is a directory.
    """
    from trtsweep.parsers import parse_file

    for path in files:
        if not path.exists():
            raise UserError(f"{path}: no such file")
        if path.is_dir():
            raise UserError(f"{path}: is a directory; parse takes files (use 'trtsweep import DIR -o OUT' "
                            "for a folder)")
    records = []
    for path in files:
        try:
            records.extend(parse_file(path))
        except OSError as exc:
            raise UserError(f"{path}: {exc.strerror or exc}") from None
    if fmt == "json":
        dicts = [r.to_dict() for r in records]
        click.echo(json.dumps(dicts[0] if len(dicts) == 1 else dicts, indent=2))
    elif fmt == "csv":
        _print_csv(records)
    else:
        _print_table(records)
    if any(r.status in ("failed", "unrecognized") for r in records):
        sys.exit(1)


def _print_csv(records: list) -> None:
    from trtsweep.store import flatten_record

    rows = [{"source": r.source, "kind": r.kind, **flatten_record(r)} for r in records]
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _print_table(records: list) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for col in ("file", "kind", "status", "TRT", "GPU", "precision", "qps", "GPU ms (median)",
                "latency p99", "note"):
        table.add_column(col, overflow="fold")
    for r in records:
        prec = r.options.get("precision") if r.options else None
        p99 = None
        if r.latency_ms is not None:
            p99 = r.latency_ms.percentiles.get("p99")
        note = r.failure or ""
        if r.status == "unrecognized" or (r.failure_text and r.status != "passed"):
            note = f"{note}: {r.failure_text}" if note else (r.failure_text or "")
        elif r.layers:
            note = f"{len(r.layers)} layers"
        table.add_row(
            Path(r.source).name, r.kind, r.status, r.trt_version or "-", r.device.name or "-",
            "+".join(prec) if isinstance(prec, list) else (str(prec) if prec else "-"),
            _fmt(r.throughput_qps, 6), _fmt(r.gpu_compute_ms.median if r.gpu_compute_ms else None),
            _fmt(p99), note[:120],
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)


# --- import ------------------------------------------------------------------------------------

@main.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("-o", "--output", "run_dir", required=True, type=click.Path(path_type=Path),
              help="Run folder to create (must not exist yet, or be empty).")
def import_cmd(folder: Path, run_dir: Path) -> None:
    """Turn a folder of existing trtexec logs and exports into a run folder.

    Every file below FOLDER is recognised by content. A log and its exports are paired by file stem:
    the name without extensions (.log, .txt, .json, .times, .profile, .graph, .layers ...) and without
    the words 'times', 'timing', 'profile', 'layers' or 'raw' joined to it by '_' or '-', so
    'resnet.log', 'resnet.times.json', 'resnet.profile.json' and 'resnet.graph.json' make one
    variant. Each run of a log is one variant; axis values (precision,
    batch, shapes, streams, CUDA graph) come from the log's option echo. Writes records, results.csv
    and results.parquet in the run-folder layout, ready for 'trtsweep report' and 'trtsweep diagnose'.

    \b
    Exit status: 0 all imported; 1 some files unrecognized or some runs failed; 2 bad paths.
    """
    from trtsweep.importer import import_folder

    if not folder.exists():
        raise UserError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (use 'trtsweep parse FILE' for one file)")
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UserError(f"{run_dir}: already exists and is not empty; choose a new -o folder")
    summary = import_folder(folder, run_dir)
    click.echo(f"imported {summary.variants} variant(s) into {summary.run_dir}")
    for path, why in summary.unrecognized:
        click.echo(f"  unrecognized: {path}: {why}")
    if summary.failed_runs:
        click.echo(f"  {summary.failed_runs} run(s) failed")
    click.echo(f"results: {summary.run_dir / 'results.csv'}")
    if summary.unrecognized or summary.failed_runs:
        sys.exit(1)


# --- plan / run ------------------------------------------------------------------------------

_only_option = click.option(
    "--only", "only", multiple=True, metavar="KEY=VALUE[,VALUE]",
    help="Keep only variants whose axis KEY has one of these values (repeatable; all must match). "
    "Keys: the matrix axes, model, id, build_id.")
_trtexec_option = click.option("--trtexec", "trtexec_path", type=click.Path(path_type=Path), default=None,
                               help="trtexec to use (else the spec's trtexec.path, $TRTEXEC, PATH, "
                               "/usr/src/tensorrt/bin/trtexec).")


def _load_and_expand(sweep: Path, only: tuple[str, ...], with_all: bool = False):
    from trtsweep.sweeps.expand import expand, select
    from trtsweep.sweeps.spec import SpecError, load_spec

    try:
        spec = load_spec(sweep)
        everything = expand(spec)
        variants = select(everything, list(only)) if only else everything
    except SpecError as exc:
        raise UserError(str(exc)) from None
    if not variants:
        raise UserError(f"{sweep}: the sweep expands to no variant")
    return (spec, variants, everything) if with_all else (spec, variants)


def _lock_variants(run_dir: Path, selected: list, everything: list) -> list:
    """The selected variants plus those of the current spec the run folder already lists, so that running
    slices (--only) one after another into one folder accumulates them instead of hiding earlier ones."""
    from trtsweep import store

    lock = run_dir / store.LOCK_FILE
    try:
        earlier = {v["id"] for v in store.read_json(lock).get("variants", [])} if lock.is_file() else set()
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        earlier = set()
    chosen = {v.id for v in selected} | earlier
    return [v for v in everything if v.id in chosen]


def _trtexec_for(spec, trtexec_path: Path | None, trt_version: str | None, need_binary: bool):
    """(path, version tuple) of the trtexec to plan for; a pinned version stands in when none is found."""
    from trtsweep.trtexec_wrap.discover import TrtexecNotFound, TrtexecProbeError, find_trtexec, probe
    from trtsweep.versions import parse_version

    pinned = trt_version or spec.trtexec.version
    try:
        path = find_trtexec(trtexec_path or spec.trtexec.path)
    except TrtexecNotFound as exc:
        if need_binary or not pinned:
            hint = "" if need_binary else "; or give --trt-version X.Y to plan for a version without one"
            raise UserError(f"no trtexec found: {exc}{hint}") from None
        # A found trtexec reports major.minor.patch; padding the pinned prefix the same way gives the
        # plan the engine ids and paths ("-v10.8.0") that `run` on that version will use.
        version = parse_version(pinned)
        return "trtexec", version + (0,) * (3 - len(version))
    try:
        info = probe(path, pinned_version=pinned)
    except (TrtexecProbeError, ValueError) as exc:
        raise UserError(str(exc)) from None
    if info.version is None:
        raise UserError(f"{path} prints no TensorRT version (7.x): set trtexec.version in the spec")
    return str(path), info.version


def _make_plan(spec, variants, run_dir: Path, trtexec: str, version, lock_variants=None):
    from trtsweep.trtexec_wrap.plan import PlanError, make_plan

    try:
        return make_plan(spec, variants, run_dir, trtexec, version, lock_variants)
    except PlanError as exc:
        raise UserError("the sweep cannot run on this trtexec:\n  " + "\n  ".join(exc.problems)) from None


def _default_run_dir(sweep: Path) -> Path:
    return Path("runs") / sweep.stem


@main.command("plan")
@click.argument("sweep", type=click.Path(path_type=Path))
@_trtexec_option
@click.option("--trt-version", default=None, metavar="X.Y.Z",
              help="Plan for this TensorRT version (needed when no trtexec is installed here).")
@click.option("-o", "--output", "run_dir", type=click.Path(path_type=Path), default=None,
              help="Run folder the commands will write to [default: runs/<sweep name>].")
@_only_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan_cmd(sweep: Path, trtexec_path: Path | None, trt_version: str | None, run_dir: Path | None,
             only: tuple[str, ...], fmt: str) -> None:
    """Show what `trtsweep run SWEEP` would do, without running anything (no GPU needed).

    Lists the variants, the engine builds (one per distinct engine: precision, shape profile, builder
    options), the exact trtexec commands for the installed (or --trt-version) trtexec, and an estimated
    serial time.

    \b
    Example:
      trtsweep plan sweep.example.yaml --trt-version 10.8
    """
    import shlex

    from trtsweep.trtexec_wrap.plan import BUILD_GUESS_S, RUN_OVERHEAD_S

    spec, variants = _load_and_expand(sweep, only)
    trtexec, version = _trtexec_for(spec, trtexec_path, trt_version, need_binary=False)
    plan = _make_plan(spec, variants, run_dir or _default_run_dir(sweep), trtexec, version)
    run_s = spec.run.warmup_ms / 1000 + spec.run.duration_s
    if fmt == "json":
        click.echo(json.dumps({
            "trtexec": trtexec, "version": ".".join(map(str, version)),
            "variants": plan.lock["variants"],
            "steps": [{"id": s.id, "kind": s.kind, "argv": list(s.argv), "depends_on": s.depends_on}
                      for s in plan.steps],
            "estimate_s": plan.estimate_s(run_s)}, indent=2))
        return
    ver = ".".join(map(str, version))
    click.echo(f"{len(variants)} variants, {len(plan.builds)} engine builds, {len(plan.runs)} runs "
               f"(repeats: {spec.run.repeats}) for trtexec {ver} at {trtexec}")
    click.echo("\nengine builds:")
    for s in plan.builds:
        click.echo(f"  {s.build_id}\n    {shlex.join(s.argv)}")
    click.echo("\nruns:")
    for s in plan.runs:
        if s.repeat == 0:
            click.echo(f"  {s.variant_id}\n    {shlex.join(s.argv)}")
    est = plan.estimate_s(run_s)
    click.echo(f"\nestimated time on one GPU: {est / 60:.0f} min ({len(plan.builds)} builds at "
               f"~{BUILD_GUESS_S:.0f} s assumed, {len(plan.runs)} runs at ~{run_s + RUN_OVERHEAD_S:.0f} s)")


@main.command("run")
@click.argument("sweep", type=click.Path(path_type=Path))
@click.option("-o", "--output", "run_dir", type=click.Path(path_type=Path), default=None,
              help="Run folder [default: runs/<sweep name>]. If it exists, the sweep resumes there.")
@click.option("--gpus", default=None, metavar="0,1",
              help="GPUs to use (CUDA device indices) [default: the spec's gpus, else every GPU].")
@click.option("--fresh", is_flag=True, help="Delete earlier results in the run folder and start over.")
@click.option("--dry-run", is_flag=True, help="Plan and print the commands, run nothing.")
@_trtexec_option
@_only_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the final summary.")
def run_cmd(sweep: Path, run_dir: Path | None, gpus: str | None, fresh: bool, dry_run: bool,
            trtexec_path: Path | None, only: tuple[str, ...], quiet: bool) -> None:
    """Run a sweep: build each distinct engine once, then time every variant.

    Nothing finished is lost: each step's record is written as it ends, and running the same command
    again resumes, re-running only steps that never completed and variants that are new or changed in
    the spec (--fresh starts over). Ctrl-C stops cleanly. A failed build marks its runs skipped and the
    sweep goes on.

    \b
    Exit status: 0 every step passed; 1 some step failed, timed out or was skipped
    (the rest ran and was saved); 2 bad spec, options or trtexec; 130 stopped by Ctrl-C
    (finished steps are kept: run again to resume).
    """
    import shlex

    from trtsweep.trtexec_wrap.executor import LocalExecutor
    from trtsweep.trtexec_wrap.session import (
        RunFolderBusy,
        gpus_from_env,
        pending_steps,
        prepare_folder,
        run_session,
    )

    spec, variants, everything = _load_and_expand(sweep, only, with_all=True)
    trtexec, version = _trtexec_for(spec, trtexec_path, None, need_binary=True)
    run_dir = run_dir or _default_run_dir(sweep)
    lock_variants = _lock_variants(run_dir, variants, everything) if not fresh else variants
    plan = _make_plan(spec, variants, run_dir, trtexec, version, lock_variants)
    if dry_run:
        for s in pending_steps(plan):
            click.echo(shlex.join(s.argv))
        return
    models = {m.name: Path(m.onnx.path) for m in spec.models}
    if plan.run_dir.exists() and not fresh:
        from trtsweep.trtexec_wrap.session import pending_steps as todo

        left = len(todo(plan))
        if left < len(plan.steps) and not quiet:
            click.echo(f"resuming in {plan.run_dir}: {len(plan.steps) - left} of {len(plan.steps)} steps "
                       "already done")
    prepare_folder(plan, sweep, fresh, models)
    env = json.loads((plan.run_dir / "env.json").read_text())
    wanted = [g.strip() for g in gpus.split(",")] if gpus else (
        [str(g) for g in spec.gpus] if spec.gpus else None)
    slots = gpus_from_env(env, wanted)
    from trtsweep.console import Progress

    progress = Progress(len(pending_steps(plan)), baseline=plan.lock.get("baseline"), quiet=quiet)
    try:
        summary = run_session(plan, LocalExecutor(slots), on_done=progress.finished,
                              on_start=progress.started)
    except RunFolderBusy as exc:
        raise UserError(str(exc)) from None
    finally:
        progress.close()
    _print_run_summary(summary, plan)
    if summary.interrupted:
        sys.exit(130)
    if not summary.ok:
        sys.exit(1)


def _print_run_summary(summary, plan) -> None:
    from trtsweep import store

    rs = store.load_result_set(plan.run_dir)
    measured = [v for v in rs.variants if v.record is not None and v.record.throughput_qps]
    counts = summary.by_status
    ran = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to do"
    head = "interrupted" if summary.interrupted else "done"
    click.echo(f"\n{head}: {ran}" + (f"; {summary.skipped_done} steps were already done"
                                      if summary.skipped_done else ""))
    if measured:
        # trtexec counts one query per enqueue of a whole batch: compare samples/s across batches.
        def samples_per_s(v) -> float:
            batch = v.axes.get("batch") if isinstance(v.axes.get("batch"), int) else 1
            return v.record.throughput_qps * batch

        best = max(measured, key=samples_per_s)
        click.echo(f"highest throughput: {best.variant_id} at {samples_per_s(best):.6g} samples/s "
                   f"({best.record.throughput_qps:.6g} qps)")
    if summary.failures_by_class:
        click.echo("failures: " + ", ".join(f"{k} x{n}" for k, n in summary.failures_by_class.items()))
    click.echo(f"results: {plan.run_dir / 'results.csv'} (report: trtsweep report {plan.run_dir})")


# --- diagnose / inspect ------------------------------------------------------------------------

def _load_run(run_dir: Path):
    from trtsweep import store

    try:
        return store.load_result_set(run_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(f"{exc} (expected a folder written by 'trtsweep run' or 'trtsweep import')") from None


_baseline_options = [
    click.option("--baseline", "baseline", default=None, metavar="AXIS=VALUE[,AXIS=VALUE]",
                 help="Compare each variant with the variant of the same model and batch that has these "
                 "axis values, e.g. precision=fp32,shapes=static [default: the sweep's baseline]."),
    click.option("--baseline-ms", "baseline_ms", default=None, metavar="BATCH=MS[,BATCH=MS]",
                 help="External time per batch, e.g. PyTorch: 1=40,8=160."),
    click.option("--baseline-label", default=None, help="Name of the baseline in the output, e.g. PyTorch."),
]


def _with_baseline(fn):
    for option in reversed(_baseline_options):
        fn = option(fn)
    return fn


def _baseline(baseline: str | None, baseline_ms: str | None, label: str | None):
    from trtsweep.reports.baseline import baseline_from_cli

    try:
        return baseline_from_cli(baseline, baseline_ms, label)
    except ValueError as exc:
        raise UserError(str(exc)) from None


# --- report ------------------------------------------------------------------------------------

@main.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for index.html, the PNG charts and summary.md [default: RUN_DIR/report].")
@_with_baseline
@click.option("--title", default=None, help="Title of the report page.")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True,
              help="md prints the Markdown summary (for CI comments) instead of writing the page.")
def report_cmd(run_dirs: tuple[Path, ...], out_dir: Path | None, baseline: str | None,
               baseline_ms: str | None, baseline_label: str | None, title: str | None, fmt: str) -> None:
    """Write a self-contained HTML report (PNG charts, tables, findings) of one or more run folders.

    Works on folders from 'trtsweep run' and 'trtsweep import'; several folders are shown side by side,
    labelled by GPU and host (e.g. the same sweep on three GPUs). The page loads nothing from the network
    and reads fine with JavaScript off. Data a run lacks (no layer profile, TensorRT 7 logs without a
    GPU compute breakdown, failed variants) is listed as missing rather than drawn empty.

    \b
    Examples:
      trtsweep report runs/sweep.example
      trtsweep report runs/a100 runs/h100 runs/l4 -o report-3gpus --baseline precision=fp32
      trtsweep report runs/nightly --format md > summary.md
    """
    from trtsweep.reports.html import build_report
    from trtsweep.reports.markdown import markdown_summary

    for run_dir in run_dirs:
        _load_run(run_dir)  # one clear error for a folder that is not a run folder
    base = _baseline(baseline, baseline_ms, baseline_label)
    if fmt == "md":
        out = markdown_summary(list(run_dirs), base, title)
        click.echo(out, nl=not out.endswith("\n"))
        return
    result = build_report(list(run_dirs), out_dir, base, title)
    click.echo(f"report: {result.index_html}")
    click.echo(f"  {len(result.pngs)} charts, summary: {result.summary_md}")
    for gap in result.missing:
        click.echo(f"  missing: {gap}")


@main.command("diagnose")
@click.argument("run_dir", type=click.Path(path_type=Path))
@_with_baseline
@click.option("--expect-speedup", type=float, default=None, metavar="X",
              help="The speedup you hoped for (e.g. 3); the shortfall is explained by the findings.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True,
              help="json is stable: see trtsweep/reports/findings.schema.json.")
def diagnose_cmd(run_dir: Path, baseline: str | None, baseline_ms: str | None, baseline_label: str | None,
                 expect_speedup: float | None, fmt: str) -> None:
    """Explain, with measured evidence, why the speedup is below expectations, and what to try next.

    Works on a run folder from 'trtsweep run' or 'trtsweep import'. Each finding has a stable code
    (fp32_only, batch_saturation, enqueue_bound, transfer_bound, precision_fallback, ...), the numbers
    and variants it rests on, and the next step as a sweep axis or flag ready to paste. Findings are
    ranked by the time they explain; when the sweep lacks the variants to decide, the finding says which
    axis to add.

    \b
    Example:
      trtsweep diagnose runs/sweep.example --baseline-ms 1=40,8=160 --baseline-label PyTorch
    """
    from trtsweep.reports import diagnose

    rs = _load_run(run_dir)
    base = _baseline(baseline, baseline_ms, baseline_label)
    findings = diagnose.diagnose(rs, base, expect_speedup)
    out = diagnose.render(findings, fmt)
    click.echo(out, nl=not out.endswith("\n"))


@main.command("inspect")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--layer-info", type=click.Path(path_type=Path), default=None,
              help="An engine's --exportLayerInfo JSON: adds the fusion ratio and which ONNX nodes ended up "
              "in which engine layer.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def inspect_cmd(model: Path, layer_info: Path | None, fmt: str) -> None:
    """Facts about an ONNX model that matter to TensorRT (no TensorRT needed).

    Inputs and outputs with their dynamic dimensions, the op histogram, and ops that commonly block
    fusion or need plugins. With --layer-info, the engine's layers mapped back to ONNX nodes.
    """
    from trtsweep.reports import inspect_model

    for path in (model, layer_info):
        if path is not None and not path.is_file():
            raise UserError(f"{path}: no such file")
    try:
        info = inspect_model.inspect_onnx(model, layer_info=layer_info)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None
    click.echo(inspect_model.render_inspect_text(info) if fmt == "text" else json.dumps(info, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
