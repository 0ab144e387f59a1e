"""The report's charts: ``base`` (shared style, panels, saving), ``runs`` (per-variant charts), ``layers``.

Every chart takes a :class:`PlotContext` and returns a :class:`PlotResult`: a PNG, or the reason it
cannot be drawn (listed as missing in the report, never drawn empty).
"""

from trtsweep.reports.plots.base import PlotContext, PlotResult
from trtsweep.reports.plots.layers import reformat_share, time_share, top_layers
from trtsweep.reports.plots.runs import all_plots

__all__ = ["PlotContext", "PlotResult", "all_plots", "reformat_share", "time_share", "top_layers"]
