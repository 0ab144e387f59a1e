"""The Slurm backend's settings: one dataclass, checked by pure functions (no Slurm, no files touched).

The keys are what ``executor: {slurm: {...}}`` in a sweep file (or ``--executor slurm``) hands the
backend; ``docs/slurm.md`` documents each one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


class SlurmOptionsError(ValueError):
    """Slurm settings that cannot be used: one line naming the key and what was expected."""


@dataclass(frozen=True)
class SlurmOptions:
    """How each step's job is submitted (``sbatch`` options) and how many run at once."""

    partition: str | None = None  # --partition: the GPU partition; None = the cluster's default
    gres: str = "gpu:1"  # --gres: one GPU per job, each trtexec measured alone on its GPU
    constraint: str | None = None  # --constraint: pin the node type (GPU model) builds and runs share
    time_limit: str = "01:00:00"  # --time per job (a build, or every repeat of one variant)
    account: str | None = None  # --account
    qos: str | None = None  # --qos
    max_parallel: int = 8  # jobs in the queue (pending + running) at once, over every array
    max_retries: int = 2  # resubmissions of a preempted / timed-out / cancelled job before giving up
    poll_s: float = 5.0  # seconds between two looks at the queue


KEYS = tuple(f.name for f in fields(SlurmOptions))
# Slurm's --time formats: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.
_TIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")
_GRES = re.compile(r"^[A-Za-z0-9_]+(:[A-Za-z0-9_.-]+)*(,[A-Za-z0-9_]+(:[A-Za-z0-9_.-]+)*)*$")


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SlurmOptionsError(f"slurm.{key}: expected a non-empty string, got {value!r}")
    if any(c.isspace() for c in value):
        raise SlurmOptionsError(f"slurm.{key}: {value!r} contains white space")
    return value


def validate_options(raw: Mapping[str, Any] | None) -> SlurmOptions:
    """Check ``raw`` (e.g. the ``slurm:`` mapping of a sweep file) and return the options.

    Raises :class:`SlurmOptionsError` naming the first bad key: an unknown key (with the known ones),
    a wrong type, a ``time_limit`` Slurm would not read, ``max_parallel`` below 1."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise SlurmOptionsError(f"slurm.{unknown[0]}: unknown key (known: {', '.join(KEYS)})")
    out: dict[str, Any] = {}
    for key in ("partition", "constraint", "account", "qos"):
        if raw.get(key) is not None:
            out[key] = _text(key, raw[key])
    if "gres" in raw:
        gres = _text("gres", raw["gres"])
        if not _GRES.match(gres):
            raise SlurmOptionsError(f"slurm.gres: {gres!r} is not a Slurm GRES like gpu:1 or gpu:h100:1")
        out["gres"] = gres
    if "time_limit" in raw:
        limit = raw["time_limit"]
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            limit = str(limit)  # minutes, as sbatch reads a bare number
        if not isinstance(limit, str) or not _TIME.match(limit):
            raise SlurmOptionsError(f"slurm.time_limit: {raw['time_limit']!r} is not a Slurm time "
                                    "(minutes, HH:MM:SS or D-HH:MM:SS)")
        out["time_limit"] = limit
    for key, low in (("max_parallel", 1), ("max_retries", 0)):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SlurmOptionsError(f"slurm.{key}: expected an integer >= {low}, got {value!r}")
            out[key] = value
    if "poll_s" in raw:
        value = raw["poll_s"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
            raise SlurmOptionsError(f"slurm.poll_s: expected seconds in (0, 600], got {value!r}")
        out["poll_s"] = float(value)
    return SlurmOptions(**out)


def time_limit_minutes(limit: str) -> int:
    """``time_limit`` in whole minutes (rounded up), as submitit's ``time`` parameter wants it."""
    days, _, rest = limit.rpartition("-")
    parts = [int(p) for p in rest.split(":")]
    if days:
        # D-HH, D-HH:MM, D-HH:MM:SS
        hours, minutes, seconds = (parts + [0, 0])[:3]
        total_s = int(days) * 86400 + hours * 3600 + minutes * 60 + seconds
    elif len(parts) == 1:
        total_s = parts[0] * 60  # MM
    elif len(parts) == 2:
        total_s = parts[0] * 60 + parts[1]  # MM:SS
    else:
        total_s = parts[0] * 3600 + parts[1] * 60 + parts[2]  # HH:MM:SS
    return max(1, -(-total_s // 60))


# Mount points that are local to each node on every cluster we know of: a compute node would build the
# engine into its own /tmp and the node running the engine would not find it.
_NODE_LOCAL = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run"), Path("/scratch/local"),
               Path("/local"), Path("/localscratch"))


def node_local_warning(run_dir: Path, tmpdir: str | None = None) -> str | None:
    """A one-line warning when ``run_dir`` looks node-local (so other nodes cannot see the engines and
    records), else None. ``tmpdir``: the value of ``$TMPDIR`` (often a per-job local folder on clusters).

    A heuristic on the path only: the shared filesystem's mount points differ between clusters."""
    path = Path(run_dir).absolute()
    suspects = list(_NODE_LOCAL) + ([Path(tmpdir)] if tmpdir else [])
    for base in suspects:
        if path == base or path.is_relative_to(base):
            return (f"warning: run folder {path} looks node-local ({base}): Slurm jobs on other nodes will "
                    "not see its engines and records; put it on the shared filesystem (e.g. -o "
                    "$HOME/runs/NAME or a project folder every node mounts)")
    return None
