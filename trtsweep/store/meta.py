"""``meta.json``: who made a run folder, when, on what, from which spec (RunMeta).

Written once by ``trtsweep run`` (kept when the run resumes) and by ``trtsweep import``; read by every
output that labels a run (GPU, host, date) instead of guessing from file times.
"""

from __future__ import annotations

import dataclasses
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

META_FILE = "meta.json"
META_VERSION = 1


@dataclass
class RunMeta:
    """The identity of a run folder."""

    run_id: str
    created: str  # ISO 8601, UTC, when the folder was first written
    origin: str  # "run" (measured by trtsweep) or "import" (existing logs)
    host: str | None = None
    gpus: list[dict[str, Any]] = field(default_factory=list)  # name, uuid, index (from nvidia-smi)
    trtexec_path: str | None = None
    trtexec_version: str | None = None
    spec_sha256: str | None = None
    imported_from: str | None = None
    meta_version: int = META_VERSION

    @property
    def date(self) -> str | None:
        """YYYY-MM-DD of a measured run; None for an import (its date is the import's, not the runs')."""
        return self.created[:10] if self.origin == "run" and self.created else None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def new_meta(origin: str, **fields: Any) -> RunMeta:
    """A fresh RunMeta stamped now, on this host."""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    run_id = f"{created[:10].replace('-', '')}-{uuid.uuid4().hex[:8]}"
    fields.setdefault("host", socket.gethostname())
    return RunMeta(run_id=run_id, created=created, origin=origin, **fields)


def meta_from_dict(data: Any) -> RunMeta:
    """RunMeta from ``meta.json`` content; ValueError naming the problem when it has the wrong shape."""
    if not isinstance(data, dict):
        raise ValueError(f"expected an object, found {type(data).__name__}")
    version = data.get("meta_version", 1)
    if not isinstance(version, int) or version > META_VERSION:
        raise ValueError(f"meta_version {version!r} is newer than this trtsweep understands ({META_VERSION})")
    for key in ("run_id", "created", "origin"):
        if not isinstance(data.get(key), str):
            raise ValueError(f"'{key}' must be a string")
    gpus = data.get("gpus") or []
    if not isinstance(gpus, list) or not all(isinstance(g, dict) for g in gpus):
        raise ValueError("'gpus' must be a list of objects")
    names = {f.name for f in dataclasses.fields(RunMeta)}
    return RunMeta(**{k: v for k, v in data.items() if k in names})


def meta_path(run_dir: Path) -> Path:
    return Path(run_dir) / META_FILE
