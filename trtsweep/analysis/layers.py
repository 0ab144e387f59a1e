"""Layer figures: which layers a variant's charts and rules use, and how their time splits.

A run step's profile has the layer *times*; the engine's ``--exportLayerInfo`` (written by its build
step) has their *type and precision*. :func:`variant_layers` joins the two by layer name, so charts and
rules see both. :func:`layer_shares` splits the summed layer time by precision, by type and into reformat
layers; a split the layers hold no data for is None (a chart then says so instead of drawing "unknown").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trtsweep.parsers.layers import join_layers
from trtsweep.records import LayerRecord


def variant_layers(run_layers: Sequence[LayerRecord] | None,
                   build_layers: Sequence[LayerRecord] | None) -> list[LayerRecord] | None:
    """A variant's layers: the run's (times) joined with the build's layer info (types, precisions)."""
    run = list(run_layers or [])
    build = list(build_layers or [])
    if not run:
        return build or None
    if not build:
        return run
    return join_layers(run, build)


def timed(layers: Sequence[LayerRecord] | None) -> list[LayerRecord]:
    """The layers that carry a time."""
    return [x for x in layers or () if x.time_ms is not None]


@dataclass(frozen=True)
class LayerShares:
    """Percent of the summed layer time by precision, by type and in reformat layers."""

    total_ms: float
    by_precision: dict[str, float] | None  # None when no layer states its precision
    by_type: dict[str, float] | None  # None when no layer states its type
    reformat_pct: float


def layer_shares(layers: Sequence[LayerRecord]) -> LayerShares | None:
    """The time split of timed layers (None without layer times). Layers of unknown precision or type
    count under ``unknown`` only when some other layers do state one."""
    items = timed(layers)
    total = sum(x.time_ms or 0.0 for x in items)
    if total <= 0:
        return None
    by_prec: dict[str, float] = {}
    by_type: dict[str, float] = {}
    reformat = 0.0
    for x in items:
        pct = 100.0 * (x.time_ms or 0.0) / total
        by_prec[x.precision or "unknown"] = by_prec.get(x.precision or "unknown", 0.0) + pct
        typ = "Reformat" if x.is_reformat else (x.type or "unknown")
        by_type[typ] = by_type.get(typ, 0.0) + pct
        if x.is_reformat:
            reformat += pct
    has_prec = any(x.precision for x in items)
    has_type = any(x.type for x in items if not x.is_reformat)
    return LayerShares(total, by_prec if has_prec else None, by_type if has_type else None, reformat)
