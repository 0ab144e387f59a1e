"""Shared test set-up: the real corpus (read where it is, never copied) and the ``corpus`` marker.

Tests that read the corpus carry ``@pytest.mark.corpus`` (or a module ``pytestmark``). Without the corpus
they are skipped with one reason naming how to get it; under ``CI=true`` a missing corpus stops the run,
since CI must never pass by skipping the real-data tests.
"""

from __future__ import annotations

import importlib.util
import os

import pytest
from corpus_location import AVAILABLE, CORPUS, CORPUS_DIR, SKIP_REASON, SMI, manifest

__all__ = ["CORPUS", "CORPUS_DIR", "SMI", "manifest"]


RAY_AVAILABLE = importlib.util.find_spec("ray") is not None
RAY_SKIP = "Ray is not installed: pip install -e '.[ray]' (or '.[dev]') to run the 'cluster' tests"


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "corpus: reads the real corpus (../shared/corpus or $TRTSWEEP_CORPUS)")
    config.addinivalue_line("markers", "e2e: runs the trtsweep CLI end to end against the trtexec double")
    config.addinivalue_line("markers", "browser: drives headless Chromium")
    if not AVAILABLE and _ci():
        raise pytest.UsageError(f"CI=true but the {SKIP_REASON}")
    if not RAY_AVAILABLE and _ci():
        # CI must run the Ray backend's tests, never pass by skipping them.
        raise pytest.UsageError(f"CI=true but {RAY_SKIP}")


def pytest_report_header(config: pytest.Config) -> str:
    if AVAILABLE:
        return f"corpus: {CORPUS_DIR} ({len(manifest())} files)"
    return f"corpus: absent, tests marked 'corpus' are skipped: {SKIP_REASON}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=SKIP_REASON)
    no_ray = pytest.mark.skip(reason=RAY_SKIP)
    for item in items:
        if not AVAILABLE and item.get_closest_marker("corpus"):
            item.add_marker(skip)
        if not RAY_AVAILABLE and item.get_closest_marker("cluster"):
            item.add_marker(no_ray)


@pytest.fixture
def corpus() -> object:
    return CORPUS
