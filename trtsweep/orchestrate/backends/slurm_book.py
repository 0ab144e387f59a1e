"""What the Slurm coordinator keeps between invocations: which job runs which unit of work.

A **unit** is what one Slurm job runs: one BUILD step, every pending repeat of one variant (so that a
variant's repeats are measured on one node, and a lost job reruns them together), or one BASELINE step.
:func:`make_units` is pure.

The **job book** (``RUN_DIR/slurm/jobs.json``, written atomically) records, per unit, the job that
currently owns it and every earlier attempt with how it ended. A coordinator killed with ``-9`` and
started again reads it to reattach to jobs still queued or running instead of submitting duplicates;
the job itself reads it on the node and runs only when the book names it as its unit's owner, so a job
whose submission the coordinator could not record (killed in between) never times a step twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.orchestrate.plan import Step

BOOK_VERSION = 1


@dataclass(frozen=True)
class Unit:
    """Steps one job runs, in order, and the build step they wait for (None: ready at once)."""

    key: str
    steps: tuple[Step, ...]
    depends_on: str | None = None


def make_units(steps: Sequence[Step]) -> list[Unit]:
    """Builds first, then baselines, then one unit per variant with its repeats in repeat order."""
    builds = [Unit(s.id, (s,)) for s in steps if s.kind == "build"]
    baselines = [Unit(s.id, (s,)) for s in steps if s.kind == "baseline"]
    by_variant: dict[str, list[Step]] = {}
    for s in steps:
        if s.kind == "run":
            by_variant.setdefault(s.variant_id or s.id, []).append(s)
    runs = [Unit(f"variant/{vid}", tuple(sorted(group, key=lambda s: s.repeat)), group[0].depends_on)
            for vid, group in by_variant.items()]
    return [*builds, *baselines, *runs]


def book_path(run_dir: Path) -> Path:
    return Path(run_dir) / "slurm" / "jobs.json"


class JobBook:
    """The job book of one run folder; only the coordinator writes it (atomically, after each change)."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None) -> None:
        self.path = path
        self.data: dict[str, Any] = data or {"version": BOOK_VERSION, "units": {}}

    @classmethod
    def load(cls, path: Path) -> JobBook:
        """The book at ``path``; an absent or unreadable one is empty (nothing to reattach to)."""
        try:
            data = store.read_json(path)
        except (OSError, ValueError):
            return cls(path)
        if not isinstance(data, dict) or not isinstance(data.get("units"), dict):
            return cls(path)
        return cls(path, data)

    def save(self) -> None:
        store.atomic_write_json(self.path, self.data)

    def entry(self, key: str) -> dict[str, Any]:
        return self.data["units"].setdefault(key, {"job_id": None, "attempts": []})

    def owner(self, key: str) -> str | None:
        """The job that currently owns ``key``, or None."""
        entry = self.data["units"].get(key)
        return entry.get("job_id") if isinstance(entry, dict) else None

    def submitted(self, key: str, job_id: str, steps: Sequence[str]) -> None:
        entry = self.entry(key)
        entry["job_id"] = job_id
        entry["steps"] = list(steps)
        entry["attempts"].append({"job_id": job_id, "submitted": time.time(), "ended": None})

    def ended(self, key: str, job_id: str, state: str) -> None:
        """Record how ``job_id`` ended; the unit has no owner until it is resubmitted."""
        entry = self.entry(key)
        for attempt in entry["attempts"]:
            if attempt.get("job_id") == job_id and attempt.get("ended") is None:
                attempt["ended"] = state
                attempt["ended_at"] = time.time()  # when the coordinator saw it leave the queue
        if entry.get("job_id") == job_id:
            entry["job_id"] = None

    def retries(self, key: str) -> int:
        """Attempts of ``key`` that ended (a unit still to run ended without finishing: what
        ``max_retries`` counts)."""
        attempts = self.entry(key)["attempts"]
        return sum(1 for a in attempts if a.get("ended") is not None)

    def owners(self) -> dict[str, str]:
        """{unit key: job id} of every unit with an owning job."""
        return {k: v["job_id"] for k, v in self.data["units"].items()
                if isinstance(v, dict) and v.get("job_id")}


def wait_for_ownership(path: Path, key: str, job_id: str, timeout_s: float = 60.0,
                       every_s: float = 0.5) -> bool:
    """On the node: True once the book names ``job_id`` as the owner of ``key``; False when it names
    another job, or nobody within ``timeout_s`` (the coordinator died before recording the submission,
    and a restarted one resubmits the unit: running here too would time its steps twice)."""
    deadline = time.monotonic() + timeout_s
    while True:
        owner = JobBook.load(path).owner(key)
        if owner == job_id:
            return True
        if owner is not None or time.monotonic() > deadline:
            return False
        time.sleep(every_s)
