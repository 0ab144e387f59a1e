"""The run folder: layout, crash-safe writes, and the results table derived from the records.

Layout (ARCHITECTURE.md, "the run folder")::

    RUN_DIR/
      sweep.yaml, spec.lock.json   the spec as run and its expanded variants
      env.json                     host, GPUs, driver, CUDA, trtexec, model hashes
      engines/<build-id>/          engine.plan, build.log, layers.json, record.json, status
      runs/<variant-id>/           cmd.json, run.log, times.json, profile.json, layers.json,
                                   record.json, status        (repeat 0)
      runs/<variant-id>/repeat-<k>/  the same files for repeat k >= 1
      results.csv, results.parquet one row per variant and repeat

A step folder is complete only when its ``status`` file exists; it is written last, atomically.
``record.json`` files are the source of truth; ``results.*`` are derived and may be rebuilt at any time.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep.records import VARIANT_STATUS_ORDER, RunRecord, Status, record_from_dict
from trtsweep.store.meta import RunMeta, meta_from_dict, meta_path

STATUS_FILE = "status"
RECORD_FILE = "record.json"
LOCK_FILE = "spec.lock.json"
ENV_FILE = "env.json"


# --- crash-safe writes -------------------------------------------------------------------------

def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- step folders ------------------------------------------------------------------------------

def engine_dir(run_dir: Path, build_id: str) -> Path:
    return run_dir / "engines" / build_id


def variant_dir(run_dir: Path, variant_id: str, repeat: int = 0) -> Path:
    base = run_dir / "runs" / variant_id
    return base if repeat == 0 else base / f"repeat-{repeat}"


def step_status(step_dir: Path) -> dict[str, Any] | None:
    """The step's status document, or None when the step never completed (resume re-runs it)."""
    path = step_dir / STATUS_FILE
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_step(step_dir: Path, record: RunRecord | None, status: str, **extra: Any) -> None:
    """Finish a step: its record first, the status file last, both atomically."""
    if record is not None:
        atomic_write_json(step_dir / RECORD_FILE, record.to_dict())
    atomic_write_json(step_dir / STATUS_FILE, {"status": status, **extra})


def load_record(step_dir: Path) -> RunRecord | None:
    path = step_dir / RECORD_FILE
    if not path.is_file():
        return None
    try:
        return record_from_dict(read_json(path))
    except (OSError, ValueError, TypeError):
        return None


# --- result sets -------------------------------------------------------------------------------

@dataclass
class VariantResult:
    """One variant of a run folder with every repeat's record."""

    variant_id: str
    axes: dict[str, Any]
    status: str  # a records.Status value, the worst of its repeats
    records: list[RunRecord] = field(default_factory=list)
    build_id: str | None = None
    build: RunRecord | None = None
    model: str | None = None
    argv: list[str] | None = None
    reason: str | None = None  # why it was skipped / failed, in words
    log_path: Path | None = None
    derived_axes: list[str] = field(default_factory=list)  # axes the importer read from the record

    @property
    def record(self) -> RunRecord | None:
        """The first record of the variant (repeat 0), or None when it never ran."""
        return self.records[0] if self.records else None


@dataclass
class ResultSet:
    """Everything a report, a diagnosis or a comparison reads from one run folder."""

    root: Path
    env: dict[str, Any]
    lock: dict[str, Any]
    variants: list[VariantResult]
    meta: RunMeta | None = None

    @property
    def label(self) -> str:
        """A short label for side-by-side views: GPU and host when known, else the folder name."""
        gpus = (self.meta.gpus if self.meta and self.meta.gpus else None) or self.env.get("gpus") or []
        gpu = gpus[0].get("name") if gpus and isinstance(gpus[0], dict) else None
        if not gpu:
            gpu = next((v.record.device.name for v in self.variants if v.record and v.record.device.name),
                       None)
        host = (self.meta.host if self.meta else None) or self.env.get("host")
        parts = [p for p in (gpu, host) if p]
        return " / ".join(parts) if parts else self.root.name

    @property
    def baseline(self) -> dict[str, Any] | None:
        return self.lock.get("baseline")

    @property
    def expect_speedup(self) -> float | None:
        value = self.lock.get("expect_speedup")
        return float(value) if value is not None else None


def load_result_set(run_dir: str | Path) -> ResultSet:
    """Read a run folder written by ``trtsweep run`` or ``trtsweep import``.

    Raises FileNotFoundError when ``run_dir`` is not a run folder (no ``spec.lock.json``).
    """
    root = Path(run_dir)
    lock_path = root / LOCK_FILE
    if not lock_path.is_file():
        raise FileNotFoundError(f"{root}: not a trtsweep run folder (no {LOCK_FILE})")
    lock = read_json(lock_path)
    env = read_json(root / ENV_FILE) if (root / ENV_FILE).is_file() else {}
    builds: dict[str, RunRecord | None] = {}
    variants: list[VariantResult] = []
    for entry in lock.get("variants", []):
        vid = entry["id"]
        build_id = entry.get("build_id")
        if build_id and build_id not in builds:
            builds[build_id] = load_record(engine_dir(root, build_id))
        repeats = int(entry.get("repeats", 1) or 1)
        records: list[RunRecord] = []
        statuses: list[str] = []
        reason = None
        for k in range(repeats):
            sdir = variant_dir(root, vid, k)
            st = step_status(sdir)
            statuses.append(st["status"] if st else "missing")
            if st and st.get("reason") and reason is None:
                reason = st["reason"]
            rec = load_record(sdir)
            if rec is not None:
                records.append(rec)
        cmd = variant_dir(root, vid) / "cmd.json"
        argv = read_json(cmd).get("argv") if cmd.is_file() else None
        log = variant_dir(root, vid) / "run.log"
        variants.append(VariantResult(
            variant_id=vid,
            axes=dict(entry.get("axes", {})),
            status=_overall_status(statuses),
            records=records,
            build_id=build_id,
            build=builds.get(build_id) if build_id else None,
            model=entry.get("model"),
            argv=argv,
            reason=reason,
            log_path=log if log.is_file() else None,
            derived_axes=[str(n) for n in entry.get("derived_axes") or []],
        ))
    meta = None
    if meta_path(root).is_file():
        try:
            meta = meta_from_dict(read_json(meta_path(root)))
        except ValueError as exc:
            raise ValueError(f"{meta_path(root)}: {exc}") from None
    return ResultSet(root=root, env=env, lock=lock, variants=variants, meta=meta)


def _overall_status(statuses: Iterable[str]) -> str:
    """A variant's status: the worst of its repeats' (``records.VARIANT_STATUS_ORDER``)."""
    seen = set(statuses)
    if not seen:
        return Status.MISSING
    return next((s for s in VARIANT_STATUS_ORDER if s in seen), Status.MISSING)
