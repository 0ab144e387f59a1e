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

def _read_umask() -> int:
    """The process umask, read without changing it where the system tells (Linux), else by setting it back."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Files are created with the user's umask, like any program's (a temp file would otherwise stay 0600 and a
# shared report unreadable); read once, at import, before any worker thread exists.
FILE_MODE = 0o666 & ~_read_umask()


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one, never half.

    ``durable`` also flushes the data to disk before the rename (a power cut then cannot leave an empty
    file). A killed process loses nothing either way; a caller writing many files may pass False and sync
    once at the end (``sync_all``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), FILE_MODE)
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def atomic_write_json(path: Path, data: Any, durable: bool = True) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n", durable)


def sync_all() -> None:
    """Flush every written file to disk (one call after many ``durable=False`` writes)."""
    os.sync()


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


def write_step(step_dir: Path, record: RunRecord | None, status: str, durable: bool = True,
               **extra: Any) -> None:
    """Finish a step: its record first, the status file last, atomically.

    The status is what makes a step complete, so only it needs the temp-file-and-rename; with ``durable``
    the record is written the same way and both are flushed to disk (a sweep's steps), without it the
    record is written in place (``import`` of many logs, which syncs once at the end)."""
    if record is not None:
        text = json.dumps(record.to_dict(), allow_nan=False, separators=(",", ":")) + "\n"
        if durable:
            atomic_write_text(step_dir / RECORD_FILE, text)
        else:
            write_plain(step_dir / RECORD_FILE, text.encode("utf-8"))
    atomic_write_json(step_dir / STATUS_FILE, {"status": status, **extra}, durable)


def write_plain(path: Path, data: bytes) -> None:
    """Write a file in place, with the user's umask (for files no reader trusts before a later marker)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class RunFolderError(ValueError):
    """A run folder (or one of its files) that cannot be read as trtsweep wrote it: one line, naming the
    file and what is wrong (the CLI's exit 2)."""


def load_record(step_dir: Path) -> RunRecord | None:
    """The step's record, or None when it has none; :class:`RunFolderError` when the file is not a record."""
    path = step_dir / RECORD_FILE
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: not readable JSON ({exc})") from None
    try:
        return record_from_dict(data)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise RunFolderError(f"{path}: not a trtsweep record ({exc})") from None


RUN_DIR_TOKEN = "${RUN_DIR}"


def portable_argv(argv: Iterable[str], run_dir: Path | None) -> list[str]:
    """``argv`` with the run folder's path written as ``${RUN_DIR}``: how status files and the lock record
    a step's command, so a moved run folder still recognises its steps."""
    items = [str(a) for a in argv]
    if run_dir is None:
        return items
    root = str(run_dir)
    return [a.replace(root, RUN_DIR_TOKEN) for a in items]


def _json_file(path: Path, kind: type, what: str) -> Any:
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, kind):
        raise RunFolderError(f"{path}: expected {what}, found {type(data).__name__}")
    return data


# --- result sets -------------------------------------------------------------------------------

@dataclass
class VariantResult:
    """One variant of a run folder with every repeat's record."""

    variant_id: str
    axes: dict[str, Any]
    status: str  # a records.Status value, the worst of its repeats
    records: list[RunRecord] = field(default_factory=list)
    repeat_ids: list[int] = field(default_factory=list)  # the repeat each record is of (0 = the first)
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

    Raises FileNotFoundError when ``run_dir`` is not a run folder (no ``spec.lock.json``), and
    :class:`RunFolderError` naming the file when one of its files has the wrong shape. A repeat whose
    status records another argv than the lock expects (the spec changed since) is ``stale``: its record
    is not used.
    """
    root = Path(run_dir)
    lock_path = root / LOCK_FILE
    if not lock_path.is_file():
        raise FileNotFoundError(f"{root}: not a trtsweep run folder (no {LOCK_FILE})")
    lock = _json_file(lock_path, dict, "an object with a 'variants' list")
    entries = lock.get("variants", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("id"), str)
                                                 for e in entries):
        raise RunFolderError(f"{lock_path}: 'variants' must be a list of objects with an 'id'")
    env = _json_file(root / ENV_FILE, dict, "an object") if (root / ENV_FILE).is_file() else {}
    builds: dict[str, RunRecord | None] = {}
    variants = [_load_variant(root, entry, builds) for entry in entries]
    meta = None
    if meta_path(root).is_file():
        try:
            meta = meta_from_dict(read_json(meta_path(root)))
        except ValueError as exc:
            raise RunFolderError(f"{meta_path(root)}: {exc}") from None
    return ResultSet(root=root, env=env, lock=lock, variants=variants, meta=meta)


def _load_variant(root: Path, entry: dict[str, Any], builds: dict[str, RunRecord | None]) -> VariantResult:
    vid = entry["id"]
    if Path(vid).name != vid or vid in (".", ".."):
        raise RunFolderError(f"{root / LOCK_FILE}: variant id {vid!r} is not a plain folder name")
    build_id = entry.get("build_id")
    if build_id is not None and not isinstance(build_id, str):
        raise RunFolderError(f"{root / LOCK_FILE}: variant {vid}: build_id must be a string")
    if build_id and build_id not in builds:
        builds[build_id] = load_record(engine_dir(root, build_id))
    try:
        repeats = max(int(entry.get("repeats", 1) or 1), 1)
    except (TypeError, ValueError):
        raise RunFolderError(f"{root / LOCK_FILE}: variant {vid}: repeats must be a number") from None
    axes = entry.get("axes", {})
    if not isinstance(axes, dict):
        raise RunFolderError(f"{root / LOCK_FILE}: variant {vid}: axes must be an object")
    raw_argv = entry.get("step_argv")
    expected: list[Any] = raw_argv if isinstance(raw_argv, list) else []
    records: list[RunRecord] = []
    repeat_ids: list[int] = []
    statuses: list[str] = []
    reason = None
    for k in range(repeats):
        sdir = variant_dir(root, vid, k)
        st = step_status(sdir)
        if st is None:
            statuses.append(Status.MISSING)
            continue
        want = expected[k] if k < len(expected) else None
        if want is not None and st.get("argv") is not None and portable_argv(st["argv"], root) != want:
            statuses.append(Status.STALE)  # measured with another command than the spec now asks for
            continue
        statuses.append(str(st.get("status")))
        if st.get("reason") and reason is None:
            reason = str(st["reason"])
        rec = load_record(sdir)
        if rec is not None:
            records.append(rec)
            repeat_ids.append(k)
    cmd = variant_dir(root, vid) / "cmd.json"
    argv = _json_file(cmd, dict, "an object").get("argv") if cmd.is_file() else None
    log = variant_dir(root, vid) / "run.log"
    return VariantResult(
        variant_id=vid,
        axes=dict(axes),
        status=_overall_status(statuses),
        records=records,
        repeat_ids=repeat_ids,
        build_id=build_id,
        build=builds.get(build_id) if build_id else None,
        model=entry.get("model"),
        argv=argv,
        reason=reason,
        log_path=log if log.is_file() else None,
        derived_axes=[str(n) for n in entry.get("derived_axes") or []],
    )


def _overall_status(statuses: Iterable[str]) -> str:
    """A variant's status: the worst of its repeats' (``records.VARIANT_STATUS_ORDER``)."""
    seen = set(statuses)
    if not seen:
        return Status.MISSING
    return next((s for s in VARIANT_STATUS_ORDER if s in seen), Status.MISSING)
