"""``trtsweep parse``: files in, records out (json, csv or a table)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

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
    Examples:
      trtsweep parse logs/h100/01-onnx-default.log --format table
      trtsweep parse logs/h100/01-onnx-default.log logs/ada/01-onnx-default.log --format csv
      trtsweep parse logs/h100/03-fp16-b4-nocopy-graph.log --format json

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
    from trtsweep.analysis.axes import axes_from_record, show
    from trtsweep.store import flatten_record

    rows = []
    for r in records:
        row = {"source": r.source, "kind": r.kind}
        # The axes as analysis reads them (the same values an import records), then every scalar option.
        row.update({f"axis.{k}": show(v) for k, v in axes_from_record(r).items()})
        row.update(flatten_record(r))
        row.update({f"option.{k}": _option_cell(v) for k, v in (r.options or {}).items() if k != "raw"})
        rows.append(row)
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _option_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def _shape_text(options: dict[str, Any] | None) -> str:
    """The inference shapes as trtexec writes them (``x:1x3x224x224``), ``model`` for the model's own."""
    shapes = (options or {}).get("inference_shapes")
    if isinstance(shapes, dict) and shapes:
        parts = []
        for name, dims in shapes.items():
            text = "x".join(str(d) for d in dims) if isinstance(dims, list | tuple) else str(dims)
            parts.append(f"{name}:{text}" if len(shapes) > 1 else text)
        return ",".join(parts)
    return str(shapes) if shapes else "-"


def render_table(records: list, width: int) -> str:
    """The records as tables that fit ``width`` columns: one per file under a heading that names the
    file, its kind, TensorRT version and GPU; one row per run. Text folds, numbers never split."""
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    groups: dict[str, list] = {}
    for r in records:
        groups.setdefault(r.source, []).append(r)
    for i, (source, group) in enumerate(groups.items()):
        if i:
            console.print()
        console.print(_heading(source, group), markup=False, highlight=False)
        console.print(_group_table(group))
    return "".join(line.rstrip() + "\n" for line in console.export_text().splitlines())


def _heading(source: str, group: list) -> str:
    kinds = dict.fromkeys(r.kind.replace("_", " ") for r in group)
    versions = dict.fromkeys(r.trt_version for r in group if r.trt_version)
    gpus = dict.fromkeys(r.device.name for r in group if r.device.name)
    parts = [", ".join(kinds)]
    parts.append("TensorRT " + ", ".join(versions) if versions else "TensorRT version unknown")
    if gpus:
        parts.append(", ".join(gpus))
    runs = f"{len(group)} runs; " if len(group) > 1 else ""
    return f"{source}  ({runs}{'; '.join(parts)})"


def _group_table(group: list) -> Any:
    from rich.table import Table

    from trtsweep.analysis.axes import axes_from_record
    from trtsweep.units import column

    table = Table(header_style="bold", pad_edge=False, box=None)
    table.add_column("#", justify="right", no_wrap=True)
    for name in ("status", "precision"):
        table.add_column(name, overflow="fold")
    table.add_column("batch", justify="right", no_wrap=True)
    table.add_column("shape", overflow="fold")
    for name in ("qps", "GPU ms", "p99 ms"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("note", overflow="fold", ratio=1)
    qps = column([r.throughput_qps for r in group], "qps")
    gpu = column([r.gpu_compute_ms.median if r.gpu_compute_ms else None for r in group], "ms")
    p99 = column([r.latency_ms.percentiles.get("p99") if r.latency_ms else None for r in group], "ms")
    for i, r in enumerate(group):
        axes = axes_from_record(r)
        note = r.failure or ""
        if r.status == "unrecognized" or (r.failure_text and r.status != "passed"):
            note = f"{note}: {r.failure_text}" if note else (r.failure_text or "")
        elif r.layers:
            note = f"{len(r.layers)} layers"
        table.add_row(
            str(i + 1), r.status, axes.get("precision") or "-",
            str(axes["batch"]) if axes.get("batch") is not None else "-", _shape_text(r.options),
            qps[i], gpu[i], p99[i], note[:160],
        )
    return table


def _print_table(records: list) -> None:
    import shutil

    # A terminal gets its own width; a pipe or file gets a width no row needs to fold in.
    width = shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() else 160
    click.echo(render_table(records, width), nl=False)
