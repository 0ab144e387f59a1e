"""Fault injection (issue #12): random write errors and kill -9 during a two-GPU sweep, then a resume;
every trial must end with exit 0/1 and a consistent run folder. ``benchmarks/fault_injection.py`` runs
50+ trials; CI runs a fixed set of seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_injection import summarize, trial

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("seed", range(10))
def test_trial_ends_consistent(tmp_path: Path, seed: int) -> None:
    t = trial(tmp_path, seed)
    assert not t.problems, t.problems
    assert t.first_exit in (None, 0, 1) and t.resume_exit in (0, 1)
    assert summarize([t])["trials"] == 1
