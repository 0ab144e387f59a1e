"""trtexec JSON export parsers (placeholder until the real parser lands)."""

from __future__ import annotations

from pathlib import Path

from trtsweep.records import RunRecord


def sniff(text: str) -> str | None:
    """The export kind of a file head (``export_times``/``export_profile``/``export_layer_info``), or None."""
    return None


def parse_export(path: str | Path, kind: str) -> list[RunRecord]:
    """Parse one export file of a known kind (a file of several concatenated arrays gives one record each)."""
    raise NotImplementedError
