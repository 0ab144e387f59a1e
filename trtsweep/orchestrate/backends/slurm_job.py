"""What a Slurm job runs on its compute node: the steps of one unit, each through the same
:func:`~trtsweep.orchestrate.step.run_one` the local backend runs, so the step folders look the same.

Submitit pickles :func:`run_unit` and its arguments into the run folder; the node unpickles and calls it.
Slurm gives the job its GPU through ``CUDA_VISIBLE_DEVICES`` (``--gres``), which run_one inherits.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.orchestrate.backends.slurm_book import wait_for_ownership
from trtsweep.orchestrate.host import QUERY_FIELDS, parse_query_gpu_csv
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.step import Gpu, run_one
from trtsweep.records import Status

ATTEMPTS_FILE = "slurm-attempts.json"


def job_id_from_env(env: Mapping[str, str]) -> str | None:
    """This job's id as ``squeue -r`` prints it: ``ARRAY_TASK`` for an array task, else the job id."""
    array, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return env.get("SLURM_JOB_ID")


def node_gpu_model(env: Mapping[str, str]) -> str:
    """The model of the GPU Slurm gave this job (first of ``CUDA_VISIBLE_DEVICES``), or "unknown"."""
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={','.join(QUERY_FIELDS)}", "--format=csv,noheader"],
                             env=dict(env), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    gpus = parse_query_gpu_csv(out.stdout if out.returncode == 0 else "")
    # nvidia-smi lists every GPU of the node whatever CUDA_VISIBLE_DEVICES says: pick ours by index.
    wanted = (env.get("CUDA_VISIBLE_DEVICES") or "").split(",")[0].strip()
    for g in gpus:
        if str(g.get("index")) == wanted or g.get("uuid") == wanted:
            return str(g.get("name") or "unknown")
    return str(gpus[0].get("name") or "unknown") if len(gpus) == 1 else "unknown"


def _note_attempt(step: Step, attempt: dict[str, Any]) -> None:
    """Append this attempt to the step's attempts file (one writer at a time: the unit's owning job)."""
    path = step.dir / ATTEMPTS_FILE
    try:
        earlier = store.read_json(path)
    except (OSError, ValueError):
        earlier = []
    store.atomic_write_json(path, [*(earlier if isinstance(earlier, list) else []), attempt])


def _engine_model_mismatch(step: Step, model: str) -> str | None:
    """Why this node cannot run the step's engine (built on another GPU model), or None."""
    if step.kind != "run" or step.run_dir is None or not step.build_id:
        return None
    built_on = (store.step_status(store.engine_dir(step.run_dir, step.build_id)) or {}).get("gpu_model")
    if built_on in (None, "unknown") or model == "unknown" or built_on == model:
        return None
    return (f"engine {step.build_id} was built on {built_on} but this Slurm job got {model}: an engine "
            "only runs on the GPU model that built it; set slurm.constraint to one node type")


def run_unit(key: str, steps: Sequence[Step], env: Mapping[str, str], book: str) -> dict[str, str]:
    """Run ``steps`` (one unit) here, in order; returns {step id: status} (the folders hold the rest).

    Runs nothing when the job book does not name this job as the unit's owner (see ``slurm_book``)."""
    node_env = os.environ
    job_id = job_id_from_env(node_env)
    if job_id is None or not wait_for_ownership(Path(book), key, job_id):
        return {s.id: "superseded" for s in steps}
    device = node_env.get("CUDA_VISIBLE_DEVICES")
    child_env = dict(env)
    if device is not None:
        child_env["CUDA_VISIBLE_DEVICES"] = device
    gpu = Gpu(device, node_gpu_model(child_env))
    stopped = _stop_on_sigterm()
    out: dict[str, str] = {}
    for step in steps:
        if stopped.is_set():
            break
        _note_attempt(step, {"job_id": job_id, "node": socket.gethostname(), "gpu": device,
                             "gpu_model": gpu.model, "started": time.time()})
        mismatch = _engine_model_mismatch(step, gpu.model)
        if mismatch:
            store.write_step(step.dir, None, Status.FAILED, reason=mismatch, argv=step.portable_argv,
                             gpu=device, gpu_model=gpu.model)
            out[step.id] = Status.FAILED
            continue
        # Stopped = no status written: the coordinator sees the step unfinished and resubmits the unit.
        out[step.id] = run_one(step, gpu, child_env, stopped=stopped.is_set).status
    return out


def _stop_on_sigterm() -> threading.Event:
    """An event set by SIGTERM, which Slurm sends to every process of a job it cancels, preempts or
    times out. submitit ignores SIGTERM in the job (it waits for its own USR2): without this handler the
    step would go on and record trtexec's death by SIGTERM as a ``crash`` of the variant, a result that
    is not one."""
    stopped = threading.Event()
    try:
        signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    except ValueError:  # not the main thread (a caller running units itself): nothing to hook
        pass
    return stopped
