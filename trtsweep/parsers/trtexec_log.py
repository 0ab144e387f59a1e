"""trtexec console log parser (placeholder until the real parser lands)."""

from __future__ import annotations

from pathlib import Path

from trtsweep.records import RunRecord


def looks_like(text: str) -> bool:
    """True when the head of a file is trtexec console output."""
    return "TensorRT.trtexec" in text or "=== Performance summary ===" in text


def parse_log(path: str | Path) -> list[RunRecord]:
    """Parse a trtexec console log into one record per run."""
    raise NotImplementedError
