"""``trtsweep inspect``: facts about an ONNX model that matter to TensorRT."""

from __future__ import annotations

import json
from pathlib import Path

import click

from trtsweep.cli.app import UserError, main


@main.command("inspect")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--layer-info", type=click.Path(path_type=Path), default=None,
              help="An engine's --exportLayerInfo JSON: adds the fusion ratio and which ONNX nodes ended up "
              "in which engine layer.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def inspect_cmd(model: Path, layer_info: Path | None, fmt: str) -> None:
    """Facts about an ONNX model that matter to TensorRT (no TensorRT needed).

    Inputs and outputs with their dynamic dimensions, the op histogram, and ops that commonly block
    fusion or need plugins. With --layer-info (an --exportLayerInfo file of an engine built from
    MODEL), the engine's layers mapped back to ONNX nodes and the fusion ratio.

    \b
    Examples:
      trtsweep inspect examples/models/tracker.onnx
      trtsweep inspect examples/models/tracker.onnx --format json
    """
    from trtsweep.inspect import onnx as inspect_model

    for path in (model, layer_info):
        if path is not None and not path.is_file():
            raise UserError(f"{path}: no such file")
    try:
        info = inspect_model.inspect_onnx(model, layer_info=layer_info)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None
    click.echo(inspect_model.render_inspect_text(info) if fmt == "text" else json.dumps(info, indent=2))
