"""Shared test helpers: where the real corpus fixtures live and what their MANIFEST says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"


def manifest() -> dict[str, dict]:
    """MANIFEST.jsonl of the copied corpus, keyed by file name."""
    out = {}
    for line in (CORPUS / "MANIFEST.jsonl").read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            out[entry["file"]] = entry
    return out


@pytest.fixture
def corpus() -> Path:
    return CORPUS
