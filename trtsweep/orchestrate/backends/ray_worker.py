"""What a Ray worker does for one step: the same :func:`~trtsweep.orchestrate.step.run_one` the local
backend runs, in a scratch copy of the run folder on the worker's own disk, returning the step's small
artifacts to the coordinator.

The scratch folder is ``<tmp>/trtsweep-ray/<node id>/<run key>/`` (``TRTSWEEP_RAY_SCRATCH`` on the
worker replaces ``<tmp>``): the node id keeps two nodes that share a disk (a test cluster on one host, a
shared /tmp) from seeing each other's engines, so a run finds its engine only on the node that built it.
Engines and timing caches stay there; everything else a step leaves (log, exports, record, telemetry,
status) goes back, with the scratch path written as the run folder's in its JSON files.

Imported on the workers by reference (Ray pickles the function by module name), so nothing here imports
Ray at module level: the coordinator's side lives in :mod:`trtsweep.orchestrate.backends.ray`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import tempfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.orchestrate.plan import Step
from trtsweep.orchestrate.step import Gpu, run_one
from trtsweep.records import Status

SCRATCH_ENV = "TRTSWEEP_RAY_SCRATCH"
# Left on the worker: the engine (large, valid only on this GPU model) and the pid file (a local pid).
KEPT_ON_NODE = frozenset({"engine.plan", "pid"})
# A step's artifacts are logs and JSON exports; more than this is a wrong file, not something to ship.
MAX_ARTIFACTS_BYTES = 512 << 20


def run_key(coordinator_host: str, run_dir: Path) -> str:
    """Names one run folder's scratch space on every node: the same folder resumes into the same one."""
    return hashlib.sha256(f"{coordinator_host}:{run_dir}".encode()).hexdigest()[:16]


def scratch_root(node_id: str, key: str) -> Path:
    """This node's scratch copy of one run folder."""
    base = Path(os.environ.get(SCRATCH_ENV) or tempfile.gettempdir()) / "trtsweep-ray"
    return base / node_id[:16] / key


def relocate(step: Step, root: Path) -> Step:
    """The same step with its run folder replaced by ``root`` (argv, folders, outputs)."""
    if step.run_dir is None:
        return step
    src = str(step.run_dir)

    def move(text: str) -> str:
        return text.replace(src, str(root))

    return replace(step, dir=Path(move(str(step.dir))), argv=tuple(move(a) for a in step.argv),
                   outputs={k: move(v) for k, v in step.outputs.items()}, run_dir=root)


def collect_files(step_dir: Path, root: Path, run_dir: Path) -> dict[str, bytes]:
    """The step folder's own files (not its ``repeat-K`` subfolders), the scratch path in JSON files
    written as the run folder's, so ``cmd.json`` and ``record.json`` read as after a local run.

    Each is zlib-compressed (:func:`unpack`): logs and JSON shrink ~10x, which keeps most replies under
    Ray's inline limit (100 KiB), so they travel with the task's completion to the coordinator instead of
    waiting in the worker node's object store, where a node that dies right after takes them along."""
    out: dict[str, bytes] = {}
    total = 0
    old, new = str(root).encode(), str(run_dir).encode()
    for path in sorted(step_dir.iterdir()):
        if not path.is_file() or path.name in KEPT_ON_NODE or path.name.startswith("."):
            continue
        data = path.read_bytes()
        total += len(data)
        if total > MAX_ARTIFACTS_BYTES:
            raise OSError(27, f"{step_dir}: artifacts over {MAX_ARTIFACTS_BYTES >> 20} MiB")
        if path.suffix == ".json" or path.name == store.STATUS_FILE:
            data = data.replace(old, new)
        out[path.name] = zlib.compress(data, 6)
    return out


def unpack(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files of :func:`collect_files` as they were on the worker."""
    return {name: zlib.decompress(data) for name, data in files.items()}


def _check_gpu_model(step: Step, pattern: str | None, target: str | None) -> None:
    """A step whose GPU is not its target's model fails with the reason: its numbers would be filed under
    the wrong GPU (a node started with another target's resources, a mixed host)."""
    status = store.step_status(step.dir)
    record = store.load_record(step.dir) if status and status.get("status") == Status.PASSED else None
    name = record.device.name if record is not None else None
    if pattern is None or name is None or fnmatch.fnmatchcase(name, pattern):
        return
    reason = f"GPU '{name}' is not a GPU of target '{target}' ({pattern}); check the node's resources"
    store.atomic_write_json(step.dir / store.STATUS_FILE, {**(status or {}), "status": Status.FAILED,
                                                          "reason": reason})


def run_on_node(step: Step, key: str, target: str | None, gpu_pattern: str | None) -> dict[str, Any]:
    """Run one step on this Ray worker (its GPU is the one Ray assigned); returns what the coordinator
    writes into the run folder, or ``engine_missing`` when a run's engine is not on this node."""
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    root = scratch_root(node_id, key)
    local = relocate(step, root)
    ids = ray.get_gpu_ids()
    device = ",".join(str(i) for i in ids) if ids else os.environ.get("CUDA_VISIBLE_DEVICES")
    out: dict[str, Any] = {"node_id": node_id, "node_ip": ray.util.get_node_ip_address(), "gpu": device}
    if step.kind == "run" and not (store.engine_dir(root, step.build_id) / "engine.plan").is_file():
        return {**out, "engine_missing": True}
    env = dict(os.environ)
    result = run_one(local, Gpu(device, target or "unknown"), env)
    if result.status == Status.PASSED:
        _check_gpu_model(local, gpu_pattern, target)
    assert step.run_dir is not None
    files = collect_files(local.dir, root, step.run_dir)
    return {**out, "status": result.status, "reason": result.reason, "duration_s": result.duration_s,
            "files": files}
