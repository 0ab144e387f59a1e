"""Polygraphy output parser (placeholder until the real parser lands)."""

from __future__ import annotations

from pathlib import Path

from trtsweep.records import RunRecord


def sniff(text: str) -> str | None:
    """``polygraphy_run`` / ``polygraphy_inspect`` for Polygraphy output, else None."""
    return None


def parse_polygraphy(path: str | Path) -> RunRecord:
    """Parse one Polygraphy output file."""
    raise NotImplementedError
