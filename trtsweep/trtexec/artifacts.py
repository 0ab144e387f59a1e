"""A finished step's artifacts (log and exports) -> its record and final status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trtsweep.parsers import exports as export_parsers
from trtsweep.parsers import trtexec_log
from trtsweep.parsers.combine import combine
from trtsweep.records import RunRecord
from trtsweep.trtexec.runner import StepOutcome

_EXPORTS = (("times.json", "export_times"), ("profile.json", "export_profile"),
            ("layers.json", "export_layer_info"))


@dataclass(frozen=True)
class Collected:
    record: RunRecord
    status: str  # passed | failed | timeout | crash | incomplete
    reason: str | None


def _log_record(log_path: Path) -> RunRecord:
    runs = trtexec_log.parse_log(log_path) if log_path.is_file() else []
    if runs:
        # trtexec runs once per step; a longer list means a tool wrote a run before it (e.g. 11.1
        # build-route children): the outer run is the last to finish.
        return runs[-1]
    return RunRecord(source=str(log_path), kind="trtexec_log", status="incomplete",
                     failure_text="the log holds no trtexec run")


def _export_records(step_dir: Path) -> list[RunRecord]:
    out: list[RunRecord] = []
    for name, kind in _EXPORTS:
        path = step_dir / name
        if path.is_file() and path.stat().st_size > 0:
            out.extend(r for r in export_parsers.parse_export(path, kind) if r.kind == kind)
    return out


def collect(kind: str, step_dir: Path, log_path: Path, outcome: StepOutcome, timeout_s: float,
            engine: Path | None = None) -> Collected:
    """Parse what a step left in ``step_dir`` (its log, exports and, for a build, ``engine``) and decide
    its status from the exit and the log together."""
    record = combine(_log_record(log_path), _export_records(step_dir))
    record.source = str(log_path)
    if outcome.status == "timeout":
        record.status, record.failure = "failed", "timeout"
        record.failure_text = f"killed after the step's timeout of {timeout_s:g} s"
        return Collected(record, "timeout", record.failure_text)
    if outcome.status == "crash":
        record.status = "failed"
        record.failure = record.failure if record.failure not in (None, "other") else "crash"
        record.failure_text = record.failure_text or f"trtexec was killed by signal {outcome.signal}"
        return Collected(record, "crash", record.failure_text)
    if outcome.status == "failed" or record.status == "failed":
        # trtexec 11.1 prints no FAILED line for bad arguments: the exit code alone says it failed.
        record.status = "failed"
        record.failure = record.failure or "other"
        if record.failure_text is None:
            record.failure_text = f"trtexec exited with {outcome.returncode}"
        return Collected(record, "failed", f"{record.failure}: {record.failure_text}")
    if kind == "build":
        if engine is None or not engine.is_file():
            record.status, record.failure = "failed", "other"
            record.failure_text = f"trtexec passed but wrote no engine at {engine}"
            return Collected(record, "failed", record.failure_text)
        if record.build.engine_size_mib is None:
            # Before TensorRT 9.0 trtexec prints no exact engine size: the saved plan file is the truth.
            record.build.engine_size_mib = engine.stat().st_size / 2**20
    if record.status != "passed":
        return Collected(record, "incomplete", "the log ends before trtexec's PASSED line")
    return Collected(record, "passed", None)
