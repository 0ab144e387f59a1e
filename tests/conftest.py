"""Shared test set-up: the real corpus (read where it is, never copied) and the ``corpus`` marker.

Tests that read the corpus carry ``@pytest.mark.corpus`` (or a module ``pytestmark``). Without the corpus
they are skipped with one reason naming how to get it; under ``CI=true`` a missing corpus stops the run,
since CI must never pass by skipping the real-data tests.
"""

from __future__ import annotations

import os

import pytest
from corpus_location import AVAILABLE, CORPUS, CORPUS_DIR, SKIP_REASON, SMI, manifest

__all__ = ["CORPUS", "CORPUS_DIR", "SMI", "manifest"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "corpus: reads the real corpus (../shared/corpus or $TRTSWEEP_CORPUS)")
    config.addinivalue_line("markers", "e2e: runs the trtsweep CLI end to end against the trtexec double")
    config.addinivalue_line("markers", "browser: drives headless Chromium")
    if not AVAILABLE and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise pytest.UsageError(f"CI=true but the {SKIP_REASON}")


def pytest_report_header(config: pytest.Config) -> str:
    if AVAILABLE:
        return f"corpus: {CORPUS_DIR} ({len(manifest())} files)"
    return f"corpus: absent, tests marked 'corpus' are skipped: {SKIP_REASON}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if AVAILABLE:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("corpus"):
            item.add_marker(skip)


@pytest.fixture
def corpus() -> object:
    return CORPUS
