"""``trtsweep import``: a folder of existing trtexec logs and exports becomes a run folder.

Files are recognised by content. A log and its exports are paired by their *stem*: the file name without
its extensions and without the words trtexec users put around an export's name (``times``, ``timing``,
``profile``, ``graph``, ``layers``, ``layerinfo``, ``raw``, ``log`` ...), so ``resnet.log``,
``resnet.times.json``, ``resnet.profile.json``, ``resnet.graph.json`` and ``times_resnet.json`` all
belong to ``resnet``. Each run of a log becomes one variant; exports with no log become variants of their
own. Axis values (precision, batch, shapes, streams, CUDA graph ...) are read from each log's option
echo; a value the log does not print stays empty.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.analysis.axes import axes_from_record
from trtsweep.parsers import parse_file
from trtsweep.records import RunRecord
from trtsweep.store.meta import new_meta

_EXT_WORDS = {
    "json", "log", "txt", "out", "times", "timing", "timings", "profile", "graph", "layers", "layerinfo",
    "layer_info", "engine", "onnx", "plan", "trt", "raw", "export", "exporttimes", "exportprofile",
    "exportlayerinfo", "result", "results",
}
# Words around a stem joined by '_' or '-' (``times_resnet.json``, ``resnet-profile.json``). 'graph' and
# 'log' are left out here: as separate words they are as likely to be part of a variant's own name
# ("...-cuda-graph.log"); as extensions ("resnet.graph.json") they are stripped above.
_AFFIX = re.compile(
    r"^(?:(?:times|timing|profile|layers|layerinfo|layer_info|raw|export)[_-])+|"
    r"(?:[_-](?:times|timing|profile|layers|layerinfo|layer_info|raw|export))+$",
    re.IGNORECASE,
)
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
EXPORT_FILE = {"export_times": "times.json", "export_profile": "profile.json",
               "export_layer_info": "layers.json"}


def pairing_stem(path: Path) -> str:
    """The name a log and its exports share (see the module doc)."""
    name = path.name
    while "." in name:
        base, ext = name.rsplit(".", 1)
        if ext.lower() not in _EXT_WORDS or not base:
            break
        name = base
    stripped = _AFFIX.sub("", name)
    return stripped or name


@dataclass
class ImportedGroup:
    stem: str
    logs: list[tuple[Path, list[RunRecord]]] = field(default_factory=list)
    exports: dict[str, list[tuple[Path, RunRecord]]] = field(default_factory=lambda: defaultdict(list))
    others: list[tuple[Path, RunRecord]] = field(default_factory=list)


@dataclass
class ImportSummary:
    run_dir: Path
    variants: int
    unrecognized: list[tuple[Path, str]]
    failed_runs: int


def _model_name(rec: RunRecord, stem: str) -> str:
    opts = rec.options or {}
    for key in ("onnx", "load_engine", "save_engine"):
        value = opts.get(key)
        if isinstance(value, str) and value:
            return Path(value).name.split(".")[0] or stem
    return stem


def scan(folder: Path) -> tuple[dict[str, ImportedGroup], list[tuple[Path, str]]]:
    """Parse every file below ``folder`` and group the results by folder and pairing stem: a log pairs
    only with exports in its own folder (``a/resnet.log`` never takes ``b/resnet.times.json``)."""
    groups: dict[str, ImportedGroup] = {}
    unrecognized: list[tuple[Path, str]] = []
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    for path, records in zip(paths, _parse_all(paths), strict=True):
        parent = path.parent.relative_to(folder)
        stem = pairing_stem(path)
        key = stem if parent == Path(".") else f"{'-'.join(parent.parts)}-{stem}"
        group = groups.setdefault(key, ImportedGroup(key))
        kind = records[0].kind
        if kind == "unrecognized":
            unrecognized.append((path, records[0].failure_text or "unrecognized"))
        elif kind == "trtexec_log":
            group.logs.append((path, records))
        elif kind in EXPORT_FILE:
            for rec in records:
                group.exports[kind].append((path, rec))
        else:
            group.others.append((path, records[0]))
    return groups, unrecognized


PARALLEL_FROM = 64  # files; below this, starting worker processes costs more than it saves


def _parse_all(paths: list[Path]) -> list[list[RunRecord]]:
    """Every file's records, parsed on all CPUs when there are many files (parsing is CPU-bound)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM or workers < 2:
        return [parse_file(p) for p in paths]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork")  # the parsers are imported already; no re-import per worker
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(parse_file, paths, chunksize=max(1, len(paths) // (workers * 8))))


def _combine(log_rec: RunRecord | None, exports: list[RunRecord]) -> RunRecord:
    try:
        from trtsweep.parsers.combine import combine
    except ImportError:  # pragma: no cover - combine ships with the parsers
        return log_rec or exports[0]
    return combine(log_rec, exports)


def import_folder(folder: Path, run_dir: Path) -> ImportSummary:
    """Write ``run_dir`` in the run-folder layout from the logs and exports found in ``folder``.

    The folder is written under a hidden name beside ``run_dir`` and renamed into place when complete, so
    an import that is killed leaves no half run folder behind (and the next import clears its leftover)."""
    run_dir = Path(run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(run_dir)
    work = run_dir.parent / f".{run_dir.name}.importing-{os.getpid()}"
    summary = _import_into(folder, work)
    if run_dir.is_dir():
        run_dir.rmdir()  # the CLI accepts only a new or empty folder
    os.replace(work, run_dir)
    store.sync_all()
    return ImportSummary(run_dir, summary.variants, summary.unrecognized, summary.failed_runs)


def _clear_leftovers(run_dir: Path) -> None:
    """Remove folders of earlier imports into ``run_dir`` whose process is gone (killed mid-way)."""
    for old in run_dir.parent.glob(f".{run_dir.name}.importing-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)


def _import_into(folder: Path, run_dir: Path) -> ImportSummary:
    groups, unrecognized = scan(folder)
    lock_variants: list[dict[str, Any]] = []
    versions: set[str] = set()
    failed = 0
    used_ids: set[str] = set()
    for stem, group in sorted(groups.items()):
        units: list[tuple[str, Path | None, RunRecord | None, list[tuple[Path, RunRecord]]]] = []
        export_pairs = [pair for pairs in group.exports.values() for pair in pairs]
        runs = [(path, rec) for path, recs in group.logs for rec in recs]
        if len(runs) == 1:
            units.append((stem, runs[0][0], runs[0][1], export_pairs))
        else:
            # Several runs: an export file holding one array per run (trtexec appends when the same
            # --exportTimes path is reused) pairs by position; anything else cannot be attributed.
            by_index = bool(group.exports) and all(len(p) == len(runs) for p in group.exports.values())
            for i, (path, rec) in enumerate(runs, start=1):
                mine = [pairs[i - 1] for pairs in group.exports.values()] if by_index else []
                units.append((f"{stem}-run{i}", path, rec, mine))
            if runs and export_pairs and not by_index:
                units.append((f"{stem}-exports", None, None, export_pairs))
        if not runs and export_pairs:
            units = [(stem, None, None, export_pairs)]
        for name, log_path, log_rec, exports in units:
            vid = _unique(safe_id(name), used_ids)
            step = store.variant_dir(run_dir, vid)
            step.mkdir(parents=True, exist_ok=True)
            if log_path is not None:
                shutil.copyfile(log_path, step / "run.log")
            for exp_path, exp_rec in exports:
                shutil.copyfile(exp_path, step / EXPORT_FILE[exp_rec.kind])
            record = _combine(log_rec, [r for _, r in exports])
            if record.status == "failed":
                failed += 1
            axes = axes_from_record(record)  # the one reader of axes from trtexec's own output
            if record.trt_version:
                versions.add(record.trt_version)
            # Not flushed one by one: the folder only becomes a run folder (spec.lock.json) after one sync.
            cmd = {"argv": record.command.split() if record.command else None,
                   "imported_from": str(log_path or "")}
            store.write_plain(step / "cmd.json", json.dumps(cmd).encode("utf-8"))
            store.write_step(step, record, record.status, durable=False)
            lock_variants.append({"id": vid, "model": _model_name(record, stem), "axes": axes,
                                  "derived_axes": sorted(axes), "build_id": None, "repeats": 1,
                                  "sources": [str(p) for p in ([log_path] if log_path else [])]
                                  + [str(p) for p, _ in exports]})
    store.atomic_write_json(run_dir / store.ENV_FILE, {"origin": "import", "host": None, "gpus": []})
    store.atomic_write_json(run_dir / store.META_FILE, new_meta(
        "import", host=None, imported_from=str(folder),
        trtexec_version=next(iter(versions)) if len(versions) == 1 else None).to_dict())
    store.sync_all()
    # Last: the lock makes the folder a run folder; a kill before it leaves no half-imported run folder.
    store.atomic_write_json(run_dir / store.LOCK_FILE, {"origin": "import", "imported_from": str(folder),
                                                         "variants": lock_variants})
    rs = store.load_result_set(run_dir)
    store.write_results(rs)
    return ImportSummary(run_dir, len(lock_variants), unrecognized, failed)


def safe_id(name: str) -> str:
    """A variant id that is one plain folder name: no '/', no leading dots ('.', '..' name no folder)."""
    slug = _SLUG.sub("_", name).strip("._-")
    return slug or "run"


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}-{n}", n + 1
    used.add(candidate)
    return candidate
