"""BASELINE steps in a run folder: their ids, argv and folders, collecting a finished one, loading them.

Layout: ``RUN_DIR/baselines/<baseline-id>/`` (repeat 0) and ``.../repeat-K/``, each with ``cmd.json``,
``run.log`` (the runner's output), ``times.json`` (samples), ``baseline.json`` (the runner's record),
``record.json`` and ``status`` (written last) like every step. ``spec.lock.json`` lists them under
``"baselines"`` with the argv each repeat must have run with, so resume and staleness work as for runs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.baselines.runner import RESULT_FILE
from trtsweep.records import RunRecord, Status, record_from_dict
from trtsweep.store.runfolder import portable_argv
from trtsweep.sweeps.spec import MeasuredBaseline, Spec
from trtsweep.trtexec.artifacts import Collected
from trtsweep.trtexec.runner import StepOutcome

FOLDER = "baselines"
FRAMEWORK_NAMES = {"pytorch": "PyTorch", "onnxruntime": "ONNX Runtime"}


def baseline_dir(run_dir: Path, baseline_id: str, repeat: int = 0) -> Path:
    base = run_dir / FOLDER / baseline_id
    return base if repeat == 0 else base / f"repeat-{repeat}"


@dataclass(frozen=True)
class BaselineUnit:
    """One measured baseline at one batch: its id, lock entry and the argv of each repeat."""

    id: str
    framework: str
    batch: int
    label: str
    entry: dict[str, Any]
    argvs: tuple[tuple[str, ...], ...]  # per repeat
    dirs: tuple[Path, ...] = field(default=())


def framework_label(mb: MeasuredBaseline, framework: str) -> str:
    """``PyTorch float16 (cuda)`` / ``ONNX Runtime (CPUExecutionProvider)``: what was measured."""
    if framework == "pytorch" and mb.pytorch is not None:
        return f"PyTorch {mb.pytorch.dtype} on {mb.pytorch.device}"
    if mb.onnxruntime is not None:
        return f"ONNX Runtime on {mb.onnxruntime.providers[0]}"
    return FRAMEWORK_NAMES[framework]


def runner_argv(spec: Spec, mb: MeasuredBaseline, framework: str, batch: int, out: Path,
                python: str = sys.executable) -> tuple[str, ...]:
    """The command of one BASELINE step: the runner in its own process, with the sweep's run settings."""
    model = spec.model(mb.for_model)
    run = spec.run
    argv = [python, "-m", "trtsweep.baselines.runner", "--framework", framework]
    if framework == "pytorch" and mb.pytorch is not None:
        t = mb.pytorch
        argv += ["--model", t.model, "--base", str(mb.base), "--device", t.device, "--dtype", t.dtype]
        argv += ["--compile"] if t.compile else []
        argv += ["--channels-last"] if t.channels_last else []
    elif mb.onnxruntime is not None:
        argv += ["--model", str(mb.onnxruntime.model), "--providers", ",".join(mb.onnxruntime.providers)]
    for inp in model.inputs:
        argv += ["--input", f"{inp.name}={'x'.join(map(str, inp.at_batch(batch)))}"]
    argv += ["--warmup-ms", f"{run.warmup_ms:g}", "--iterations", str(run.iterations), "--duration-s",
             f"{run.duration_s:g}", "--percentiles", ",".join(f"{p:g}" for p in run.percentiles)]
    argv += [] if mb.data_transfers else ["--no-data-transfers"]
    return (*argv, "--out", str(out))


def plan_units(spec: Spec, run_dir: Path, python: str = sys.executable) -> list[BaselineUnit]:
    """Every (framework, batch) the spec measures, with its repeats' argv; pure."""
    mb = spec.baseline.measured if spec.baseline is not None else None
    if mb is None:
        return []
    out = []
    for framework in mb.frameworks():
        label = framework_label(mb, framework)
        if framework == mb.reference and spec.baseline is not None and spec.baseline.label != "baseline":
            label = f"{spec.baseline.label} (measured: {label})"
        for batch in mb.batches:
            settings = {"framework": framework, "model": mb.for_model, "batch": batch,
                        "settings": _settings(mb, framework), "data_transfers": mb.data_transfers}
            digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:6]
            bid = f"{framework}-{_short(mb, framework)}-b{batch}-{digest}"
            dirs = tuple(baseline_dir(run_dir, bid, k) for k in range(spec.run.repeats))
            argvs = tuple(runner_argv(spec, mb, framework, batch, d, python) for d in dirs)
            entry = {"id": bid, "framework": framework, "model": mb.for_model, "batch": batch, "label": label,
                     "reference": framework == mb.reference, "basis": mb.basis, "settings": settings,
                     "repeats": spec.run.repeats,
                     "step_argv": [portable_argv(a, run_dir) for a in argvs]}
            out.append(BaselineUnit(bid, framework, batch, label, entry, argvs, dirs))
    return out


def _settings(mb: MeasuredBaseline, framework: str) -> dict[str, Any]:
    if framework == "pytorch" and mb.pytorch is not None:
        t = mb.pytorch
        return {"factory": t.model, "device": t.device, "dtype": t.dtype, "compile": t.compile,
                "channels_last": t.channels_last}
    assert mb.onnxruntime is not None
    return {"onnx": mb.onnxruntime.model.name, "providers": list(mb.onnxruntime.providers)}


def _short(mb: MeasuredBaseline, framework: str) -> str:
    if framework == "pytorch" and mb.pytorch is not None:
        return {"float32": "fp32", "float16": "fp16"}[mb.pytorch.dtype]
    return "cuda" if mb.onnxruntime and "CUDA" in mb.onnxruntime.providers[0] else "cpu"


# ---------------------------------------------------------------- a finished step

def collect(step_dir: Path, log_path: Path, outcome: StepOutcome, timeout_s: float) -> Collected:
    """The record and status of a finished BASELINE step, from the runner's exit and its record."""
    tail = _last_line(log_path)
    if outcome.status == "timeout":
        text = f"killed after the step's timeout of {timeout_s:g} s"
        return Collected(_failed(log_path, "timeout", text), Status.TIMEOUT, text)
    if outcome.status == "crash":
        text = tail or f"the baseline runner was killed by signal {outcome.signal}"
        return Collected(_failed(log_path, "crash", text), Status.CRASH, text)
    result = step_dir / RESULT_FILE
    if outcome.status == "failed" or not result.is_file():
        cause = "oom" if "out of memory" in (tail or "").lower() else (
            "invalid_argument" if outcome.returncode == 2 else "other")
        text = tail or f"the baseline runner exited with {outcome.returncode}"
        return Collected(_failed(log_path, cause, text), Status.FAILED, f"{cause}: {text}")
    try:
        record = record_from_dict(store.read_json(result))
    except (OSError, ValueError) as exc:
        text = f"{result}: not a baseline record ({exc})"
        return Collected(_failed(log_path, "other", text), Status.FAILED, text)
    return Collected(record, Status.PASSED, None)


def _failed(log_path: Path, cause: str, text: str) -> RunRecord:
    return RunRecord(source=str(log_path), kind="baseline", status="failed", failure=cause, failure_text=text)


def _last_line(path: Path) -> str | None:
    try:
        lines = [x.strip() for x in path.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return None
    return lines[-1][:500] if lines else None


# ---------------------------------------------------------------- reading them back

@dataclass
class MeasuredResult:
    """One lock entry of ``baselines`` with the records of its current, passed repeats."""

    id: str
    framework: str
    model: str | None
    batch: int
    label: str
    reference: bool
    basis: str
    status: str
    records: list[RunRecord] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


def load_measured(root: Path, lock: dict[str, Any]) -> list[MeasuredResult]:
    """The run folder's measured baselines (empty when it has none); a repeat run with another argv than
    the lock lists is stale and not used. Raises :class:`store.RunFolderError` for a damaged file."""
    entries = lock.get("baselines") or []
    if not isinstance(entries, list):
        raise store.RunFolderError(f"{root / store.LOCK_FILE}: 'baselines' must be a list")
    out = []
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("id"), str) or Path(e["id"]).name != e["id"]:
            raise store.RunFolderError(f"{root / store.LOCK_FILE}: a 'baselines' entry without a plain id")
        argvs = e.get("step_argv")
        expected: list[Any] = argvs if isinstance(argvs, list) else []
        statuses: list[str] = []
        records = []
        for k in range(max(int(e.get("repeats") or 1), 1)):
            sdir = baseline_dir(root, e["id"], k)
            st = store.step_status(sdir)
            if st is None:
                statuses.append(Status.MISSING)
                continue
            want = expected[k] if k < len(expected) else None
            if want is not None and portable_argv(st.get("argv") or (), root) != want:
                statuses.append(Status.STALE)
                continue
            statuses.append(str(st.get("status")))
            rec = store.load_record(sdir) if st.get("status") == Status.PASSED else None
            if rec is not None and rec.status == "passed":
                records.append(rec)
        out.append(MeasuredResult(e["id"], str(e.get("framework")), e.get("model"), int(e.get("batch") or 0),
                                  str(e.get("label") or e["id"]), bool(e.get("reference")),
                                  str(e.get("basis") or "end_to_end"), worst(statuses), records,
                                  dict(e.get("settings") or {})))
    return out


def worst(statuses: Sequence[str]) -> str:
    from trtsweep.records import VARIANT_STATUS_ORDER

    seen = set(statuses)
    return next((s for s in VARIANT_STATUS_ORDER if s in seen), Status.MISSING)
