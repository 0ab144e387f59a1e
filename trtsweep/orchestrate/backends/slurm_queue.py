"""What the coordinator asks Slurm about its jobs: ``squeue`` (active ones), ``scontrol`` (how one ended),
``scancel``. Parsing is pure (:func:`parse_squeue`, :func:`parse_scontrol_state`); :class:`SlurmQueue`
only runs the commands.

``sacct`` is not used on purpose: it needs Slurm's accounting database, which many clusters (and the
test cluster) do not run; ``scontrol`` keeps a finished job for ``MinJobAge`` seconds (default 300).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from typing import Protocol

# Job states in which the job may still run (or run again): the coordinator keeps waiting for these.
ACTIVE_STATES = frozenset({"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_FED",
                           "REQUEUE_HOLD", "RESIZING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT",
                           "RESV_DEL_HOLD", "SPECIAL_EXIT"})
GONE = "GONE"  # no longer known to Slurm (older than MinJobAge): how it ended is not known


class SlurmUnavailable(RuntimeError):
    """``sbatch``/``squeue`` are missing or the controller does not answer: one line saying which."""


def parse_squeue(text: str) -> dict[str, str]:
    """``squeue -h -r -o '%i|%T'`` output -> {job id: state}; array tasks are ``ARRAY_TASK`` ids."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        job, sep, state = line.strip().partition("|")
        if sep and job:
            out[job.strip()] = state.strip().upper()
    return out


_STATE = re.compile(r"\bJobState=(\S+)")


def parse_scontrol_state(text: str) -> str:
    """The ``JobState`` of ``scontrol -o show job ID`` output, or :data:`GONE` when there is none."""
    m = _STATE.search(text)
    return m.group(1).upper() if m else GONE


class JobQueue(Protocol):
    """What the coordinator asks of Slurm (a fake stands in for it in the unit tests)."""

    def check(self) -> None: ...

    def active(self, job_name: str) -> dict[str, str]: ...

    def ended_state(self, job_id: str) -> str: ...

    def cancel(self, job_ids: Iterable[str]) -> None: ...


class SlurmQueue:
    """The three Slurm commands the coordinator needs, run with ``env`` (e.g. ``SLURM_CONF``)."""

    def __init__(self, env: Mapping[str, str] | None = None, timeout_s: float = 60.0) -> None:
        self.env = dict(os.environ if env is None else env)
        self.timeout_s = timeout_s

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(argv, env=self.env, capture_output=True, text=True,
                                  timeout=self.timeout_s, check=False)
        except FileNotFoundError:
            raise SlurmUnavailable(f"{argv[0]} not found on PATH: run trtsweep on a Slurm login node "
                                   "(or install the Slurm client commands)") from None
        except subprocess.TimeoutExpired:
            raise SlurmUnavailable(f"{argv[0]} did not answer within {self.timeout_s:.0f} s") from None

    def check(self) -> None:
        """Raise :class:`SlurmUnavailable` unless sbatch exists and the controller answers."""
        path = self.env.get("PATH")
        for tool in ("sbatch", "squeue", "srun"):
            if shutil.which(tool, path=path) is None:
                raise SlurmUnavailable(f"{tool} not found on PATH: the Slurm executor needs a Slurm "
                                       "login node (sbatch, squeue, srun)")
        proc = self._run(["squeue", "-h", "-o", "%i", "--me"])
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise SlurmUnavailable("squeue failed, the Slurm controller is not reachable: "
                                   + (detail[-1] if detail else f"exit {proc.returncode}"))

    def active(self, job_name: str) -> dict[str, str]:
        """{job id: state} of this user's jobs named ``job_name`` still in the queue (array tasks one by
        one). Raises :class:`SlurmUnavailable` when squeue fails, so nothing is mistaken for finished."""
        proc = self._run(["squeue", "-h", "-r", "--me", f"--name={job_name}", "-o", "%i|%T"])
        if proc.returncode != 0:
            raise SlurmUnavailable(f"squeue failed: {(proc.stderr or proc.stdout).strip()}")
        return parse_squeue(proc.stdout)

    def ended_state(self, job_id: str) -> str:
        """How a job that left the queue ended (COMPLETED, CANCELLED, TIMEOUT, PREEMPTED, ...), or GONE."""
        proc = self._run(["scontrol", "-o", "show", "job", job_id])
        return parse_scontrol_state(proc.stdout) if proc.returncode == 0 else GONE

    def cancel(self, job_ids: Iterable[str]) -> None:
        ids = list(job_ids)
        if ids:
            self._run(["scancel", *ids])
