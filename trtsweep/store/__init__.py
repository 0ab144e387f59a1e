"""The run folder on disk: layout, crash-safe writes, loading a result set, the results table.

``trtsweep.store`` re-exports the functions most callers need; the modules are :mod:`.runfolder` (layout,
atomic writes, step status, :func:`load_result_set`), :mod:`.table` (``results.csv``/``.parquet``) and
:mod:`.importer` (a folder of existing logs -> a run folder).
"""

from trtsweep.store.meta import META_FILE, RunMeta
from trtsweep.store.runfolder import (
    ENV_FILE,
    LOCK_FILE,
    RECORD_FILE,
    STATUS_FILE,
    ResultSet,
    RunFolderError,
    VariantResult,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    engine_dir,
    load_record,
    load_result_set,
    read_json,
    step_status,
    sync_all,
    variant_dir,
    write_plain,
    write_step,
)
from trtsweep.store.table import flatten_record, results_rows, write_results

__all__ = [
    "ENV_FILE", "LOCK_FILE", "META_FILE", "RECORD_FILE", "RunFolderError", "RunMeta", "STATUS_FILE",
    "ResultSet", "VariantResult", "atomic_write_bytes",
    "atomic_write_json", "atomic_write_text", "engine_dir", "flatten_record", "load_record",
    "load_result_set", "read_json", "results_rows", "step_status", "sync_all", "variant_dir", "write_results",
    "write_plain", "write_step",
]
