"""The ``slurm_cluster`` fixture: a real single-node Slurm (``tests/slurm/cluster.sh``) for one module.

Outside CI a cluster that cannot start (no slurm-wlm, a daemon that fails) skips the tests with the
reason; under ``CI=true`` it fails them with the reason: CI must never pass by skipping the Slurm tests.
The daemons are stopped at the end whatever the outcome.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "slurm" / "cluster.sh"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _not_available(reason: str) -> None:
    if in_ci():
        pytest.fail(f"CI=true and the Slurm test cluster is not available: {reason}", pytrace=False)
    pytest.skip(f"Slurm test cluster not available: {reason}")


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start the cluster; yields the environment that points Slurm's commands at it (``SLURM_CONF``)."""
    if shutil.which("slurmctld") is None or shutil.which("slurmd") is None:
        _not_available("slurmctld/slurmd not installed (apt-get install slurm-wlm)")
    state = tmp_path_factory.mktemp("slurm")
    try:
        proc = subprocess.run([str(SCRIPT), "up", str(state)], capture_output=True, text=True, timeout=90,
                              check=False)
    except subprocess.TimeoutExpired:
        subprocess.run([str(SCRIPT), "down", str(state)], capture_output=True, timeout=60, check=False)
        _not_available("cluster.sh up did not finish within 90 s")
    try:
        if proc.returncode != 0:
            _not_available((proc.stderr or proc.stdout).strip())
        yield {"SLURM_CONF": proc.stdout.strip().splitlines()[-1]}
    finally:
        subprocess.run([str(SCRIPT), "down", str(state)], capture_output=True, timeout=60, check=False)
