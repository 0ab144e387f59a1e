"""``trtsweep parse``: files in, records out (json, csv or a table)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from trtsweep.cli.app import UserError, main


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
        if not path.is_file():
            raise UserError(f"{path}: not a regular file (a FIFO, device or socket); parse reads files")
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
