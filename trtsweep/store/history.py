"""The nightly history: an embedded SQLite database of many runs (``trtsweep history``).

One file (default ``./trtsweep-history.sqlite``, else ``--db`` or ``$TRTSWEEP_HISTORY``) in WAL mode, so
readers never block the nightly writer and several hosts' ``history add`` can share it. Tables:

- ``targets``: a machine and its GPU (host, GPU model, UUID), stable across nights;
- ``runs``: one per added run folder (``meta.json``: run id, created, labels, spec sha256) with what the
  target had that night (TensorRT, driver, CUDA, clocks, power limit: these change with upgrades);
- ``variants``: by axis values and model sha256, so a variant keeps its series across nights;
- ``repeats``, ``metrics`` (per repeat: medians, percentiles, throughput, CoV) and ``layers`` (per-layer
  times); per-inference samples stay in the run folder;
- ``annotations``: notes on a run, ``expected`` ones start a new baseline segment.

The schema version lives in ``PRAGMA user_version`` and is migrated forward on open (``_MIGRATIONS``);
a file of a newer version, of another program or not a database at all is refused with one line
(:class:`HistoryError`). :meth:`History.add` writes a run in one ``BEGIN IMMEDIATE`` transaction keyed by
an idempotency key: a killed add leaves the database as it was, the same run added twice is stored once,
and concurrent adds wait for each other (``busy_timeout``) instead of failing.

This module stores and reads plain values; what they mean (which figure is a variant's, how nights
combine, where the series changes) is computed in ``trtsweep.analysis``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trtsweep.store.history_rows import (  # noqa: F401 - the history's vocabulary, re-exported
    AddResult,
    Annotation,
    LayerEntry,
    Point,
    RepeatEntry,
    RunEntry,
    RunRow,
    TargetFacts,
    TargetRow,
    VariantEntry,
    VariantRow,
)

DEFAULT_DB = "trtsweep-history.sqlite"
ENV_VAR = "TRTSWEEP_HISTORY"
SCHEMA_VERSION = 1
# "TRTS" as a 32-bit integer in PRAGMA application_id: tells our files from other SQLite databases.
APPLICATION_ID = 0x54525453
BUSY_TIMEOUT_MS = 60_000


class HistoryError(ValueError):
    """A history database that cannot be used as asked: one line naming the file and the problem."""


def default_path(environ: dict[str, str] | None = None) -> Path:
    """``$TRTSWEEP_HISTORY`` when set, else ``./trtsweep-history.sqlite``."""
    env = os.environ if environ is None else environ
    return Path(env.get(ENV_VAR) or DEFAULT_DB)


# --- schema ---------------------------------------------------------------------------------------

_V1 = """
CREATE TABLE targets(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, host TEXT,
  gpu_name TEXT, gpu_uuid TEXT);
CREATE TABLE runs(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, idem_key TEXT NOT NULL UNIQUE,
  target INTEGER NOT NULL REFERENCES targets(id), created TEXT NOT NULL, night TEXT NOT NULL, origin TEXT,
  trt_version TEXT, driver TEXT, cuda TEXT, sm_clock_mhz REAL, max_sm_clock_mhz REAL, power_limit_w REAL,
  clock_event_reasons TEXT, spec_sha256 TEXT, labels TEXT NOT NULL, source TEXT, missing TEXT NOT NULL,
  added TEXT NOT NULL);
CREATE INDEX runs_target_night ON runs(target, night);
CREATE TABLE variants(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, label TEXT NOT NULL,
  axes TEXT NOT NULL, model TEXT, model_sha256 TEXT);
CREATE TABLE repeats(id INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES runs(id),
  variant INTEGER NOT NULL REFERENCES variants(id), repeat INTEGER NOT NULL, folder_variant TEXT,
  status TEXT, UNIQUE(run, variant, repeat));
CREATE INDEX repeats_variant ON repeats(variant, run);
CREATE TABLE metrics(repeat INTEGER NOT NULL REFERENCES repeats(id), name TEXT NOT NULL,
  value REAL NOT NULL, PRIMARY KEY(repeat, name)) WITHOUT ROWID;
CREATE TABLE layers(repeat INTEGER NOT NULL REFERENCES repeats(id), idx INTEGER NOT NULL,
  name TEXT NOT NULL, type TEXT, precision TEXT, time_ms REAL, time_pct REAL,
  PRIMARY KEY(repeat, idx)) WITHOUT ROWID;
CREATE TABLE annotations(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, note TEXT NOT NULL,
  expected INTEGER NOT NULL, created TEXT NOT NULL, UNIQUE(run_id, note));
"""

# Version N's statements take a database from N-1 to N. A new version appends here and never edits an
# older entry: every database ever written replays the same steps.
_MIGRATIONS: dict[int, str] = {1: _V1}
assert max(_MIGRATIONS) == SCHEMA_VERSION


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class History:
    """An open history database. Use :func:`open_history`; close it (or use ``with``)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        """One IMMEDIATE transaction: the write lock is taken first, so two writers queue up rather than
        one failing half-way; everything or nothing is committed."""
        cur = self.conn.cursor()
        self._exec(cur, "BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            self.conn.rollback()
            raise
        self._exec(cur, "COMMIT")

    def _exec(self, cur: sqlite3.Cursor, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return cur.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{self.path}: {exc}") from None

    # ---- writing

    def add(self, entry: RunEntry) -> AddResult:
        """Store one run in one transaction; a run already stored (same idempotency key) changes nothing.

        Raises :class:`HistoryError` when the run id is stored with other content (the folder changed
        since it was added)."""
        key = entry.idempotency_key()
        with self._write() as cur:
            row = self._exec(cur, "SELECT idem_key FROM runs WHERE run_id = ? OR idem_key = ?",
                             (entry.run_id, key)).fetchone()
            if row is not None:
                if row[0] != key:
                    raise HistoryError(f"{self.path}: run {entry.run_id} is already in the history with "
                                       "other results (its run folder changed since it was added)")
                return AddResult(entry.run_id, False, len(entry.repeats), len(entry.variants))
            self._insert(cur, entry, key)
        return AddResult(entry.run_id, True, len(entry.repeats), len(entry.variants))

    def _insert(self, cur: sqlite3.Cursor, e: RunEntry, key: str) -> None:
        target = self._upsert(cur, "targets", e.target.key,
                              "INSERT INTO targets(key, name, host, gpu_name, gpu_uuid) VALUES (?,?,?,?,?)",
                              (e.target.key, e.target.name, e.target.host, e.target.gpu_name,
                               e.target.gpu_uuid))
        self._exec(cur, "INSERT INTO runs(run_id, idem_key, target, created, night, origin, trt_version, "
                   "driver, cuda, sm_clock_mhz, max_sm_clock_mhz, power_limit_w, clock_event_reasons, "
                   "spec_sha256, labels, source, missing, added) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (e.run_id, key, target, e.created, e.night, e.origin, e.trt_version, e.driver, e.cuda,
                    e.sm_clock_mhz, e.max_sm_clock_mhz, e.power_limit_w, e.clock_event_reasons,
                    e.spec_sha256, json.dumps(e.labels, sort_keys=True), e.source, json.dumps(e.missing),
                    _now()))
        run = cur.lastrowid
        variant_pk = {v.key: self._upsert(cur, "variants", v.key,
                                          "INSERT INTO variants(key, label, axes, model, model_sha256) "
                                          "VALUES (?,?,?,?,?)",
                                          (v.key, v.label, json.dumps(v.axes, sort_keys=True), v.model,
                                           v.model_sha256))
                      for v in e.variants}
        self._insert_repeats(cur, run, variant_pk, e.repeats)

    def _insert_repeats(self, cur: sqlite3.Cursor, run: int | None, variant_pk: dict[str, int],
                        repeats: Sequence[RepeatEntry]) -> None:
        metric_rows: list[tuple[int, str, float]] = []
        layer_rows: list[tuple[Any, ...]] = []
        for r in repeats:
            self._exec(cur, "INSERT INTO repeats(run, variant, repeat, folder_variant, status) "
                       "VALUES (?,?,?,?,?)",
                       (run, variant_pk[r.variant_key], r.repeat, r.folder_variant, r.status))
            rid = cur.lastrowid
            assert rid is not None
            metric_rows.extend((rid, name, float(value)) for name, value in r.metrics.items())
            layer_rows.extend((rid, i, x.name, x.type, x.precision, x.time_ms, x.time_pct)
                              for i, x in enumerate(r.layers))
        try:
            cur.executemany("INSERT INTO metrics(repeat, name, value) VALUES (?,?,?)", metric_rows)
            cur.executemany("INSERT INTO layers(repeat, idx, name, type, precision, time_ms, time_pct) "
                            "VALUES (?,?,?,?,?,?,?)", layer_rows)
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{self.path}: {exc}") from None

    def _upsert(self, cur: sqlite3.Cursor, table: str, key: str, insert: str, args: Sequence[Any]) -> int:
        row = self._exec(cur, f"SELECT id FROM {table} WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return int(row[0])
        self._exec(cur, insert, args)
        assert cur.lastrowid is not None
        return cur.lastrowid

    def annotate(self, run_id: str, note: str, expected: bool) -> bool:
        """Attach a note to a stored run; False when the same note is already there."""
        with self._write() as cur:
            if self._exec(cur, "SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
                raise HistoryError(f"{self.path}: no run {run_id!r} in the history "
                                   "(see 'trtsweep history list')")
            done = self._exec(cur, "INSERT OR IGNORE INTO annotations(run_id, note, expected, created) "
                              "VALUES (?,?,?,?)", (run_id, note, int(expected), _now()))
            return done.rowcount == 1

    def merge_from(self, other: History) -> tuple[int, int, int]:
        """Fold another history into this one: (runs added, runs already here, annotations added).

        Each run of ``other`` is re-added here through :meth:`add`, so the idempotency key decides what is
        already present and merging the same file twice changes nothing."""
        added = same = 0
        for row in other.runs():
            result = self.add(other.entry(row.pk))
            added += result.added
            same += not result.added
        notes = 0
        for a in other.annotations():
            with self._write() as cur:
                notes += self._exec(cur, "INSERT OR IGNORE INTO annotations(run_id, note, expected, "
                                    "created) VALUES (?,?,?,?)",
                                    (a.run_id, a.note, int(a.expected), a.created)).rowcount
        return added, same, notes

    # ---- reading

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._exec(self.conn.cursor(), sql, args).fetchall()

    def targets(self) -> list[TargetRow]:
        return [TargetRow(*r) for r in self._rows("SELECT id, key, name, host, gpu_name, gpu_uuid "
                                                  "FROM targets ORDER BY name, id")]

    def variants(self) -> list[VariantRow]:
        return [VariantRow(pk, key, label, json.loads(axes), model, sha)
                for pk, key, label, axes, model, sha in
                self._rows("SELECT id, key, label, axes, model, model_sha256 FROM variants "
                           "ORDER BY label, id")]

    def runs(self, target: int | None = None) -> list[RunRow]:
        sql = ("SELECT r.id, r.run_id, r.night, r.created, t.name, r.trt_version, r.origin, r.labels, "
               "(SELECT COUNT(DISTINCT variant) FROM repeats WHERE run = r.id), r.missing "
               "FROM runs r JOIN targets t ON t.id = r.target")
        args: tuple[Any, ...] = ()
        if target is not None:
            sql += " WHERE r.target = ?"
            args = (target,)
        return [RunRow(pk, rid, night, created, tname, trt, origin, json.loads(labels), n,
                       json.loads(missing))
                for pk, rid, night, created, tname, trt, origin, labels, n, missing in
                self._rows(sql + " ORDER BY r.night, r.created, r.id", args)]

    def run_target(self, run_id: str) -> int | None:
        row = self._rows("SELECT target FROM runs WHERE run_id = ?", (run_id,))
        return int(row[0][0]) if row else None

    def run_facts(self) -> dict[str, dict[str, Any]]:
        """Per run id: what the target had that night (TensorRT, driver, CUDA, clocks, power limit)."""
        cols = ("trt_version", "driver", "cuda", "sm_clock_mhz", "max_sm_clock_mhz", "power_limit_w",
                "clock_event_reasons", "labels")
        out = {}
        for row in self._rows(f"SELECT run_id, {', '.join(cols)} FROM runs"):
            facts = dict(zip(cols, row[1:], strict=True))
            facts["labels"] = json.loads(facts["labels"])
            out[row[0]] = facts
        return out

    def annotations(self) -> list[Annotation]:
        return [Annotation(rid, note, bool(exp), created) for rid, note, exp, created in
                self._rows("SELECT run_id, note, expected, created FROM annotations ORDER BY id")]

    def metric_names(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT DISTINCT name FROM metrics ORDER BY name")]

    def points(self, metric: str, targets: Iterable[int] | None = None,
               variants: Iterable[int] | None = None) -> list[Point]:
        """Every stored repeat value of ``metric`` (optionally of some targets/variants), oldest first."""
        sql = ("SELECT r.target, rp.variant, r.id, r.run_id, r.night, r.created, r.trt_version, rp.repeat, "
               "m.value FROM repeats rp JOIN runs r ON r.id = rp.run "
               "JOIN metrics m ON m.repeat = rp.id AND m.name = ?")
        args: list[Any] = [metric]
        where = []
        for column, ids in (("r.target", targets), ("rp.variant", variants)):
            if ids is not None:
                ids = list(ids)
                where.append(f"{column} IN ({','.join('?' * len(ids))})" if ids else "0")
                args.extend(ids)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY r.night, r.created, r.id, rp.repeat"
        return [Point(*row) for row in self._rows(sql, args)]

    def entry(self, run_pk: int) -> RunEntry:
        """A stored run as the :class:`RunEntry` that added it (for ``merge``)."""
        (run_id, created, night, origin, trt, driver, cuda, sm, max_sm, power, reasons, spec, labels, source,
         missing, host, gpu, uuid) = self._rows(
            "SELECT r.run_id, r.created, r.night, r.origin, r.trt_version, r.driver, r.cuda, r.sm_clock_mhz, "
            "r.max_sm_clock_mhz, r.power_limit_w, r.clock_event_reasons, r.spec_sha256, r.labels, r.source, "
            "r.missing, t.host, t.gpu_name, t.gpu_uuid FROM runs r JOIN targets t ON t.id = r.target "
            "WHERE r.id = ?", (run_pk,))[0]
        variants: dict[str, VariantEntry] = {}
        repeats: list[RepeatEntry] = []
        rows = self._rows("SELECT rp.id, rp.repeat, rp.folder_variant, rp.status, v.key, v.label, v.axes, "
                          "v.model, v.model_sha256 FROM repeats rp JOIN variants v ON v.id = rp.variant "
                          "WHERE rp.run = ? ORDER BY rp.id", (run_pk,))
        metrics: dict[int, dict[str, float]] = {}
        for rid, name, value in self._rows("SELECT m.repeat, m.name, m.value FROM metrics m JOIN repeats rp "
                                           "ON rp.id = m.repeat WHERE rp.run = ?", (run_pk,)):
            metrics.setdefault(rid, {})[name] = value
        layers: dict[int, list[LayerEntry]] = {}
        for rid, name, typ, prec, ms, pct in self._rows(
                "SELECT l.repeat, l.name, l.type, l.precision, l.time_ms, l.time_pct FROM layers l "
                "JOIN repeats rp ON rp.id = l.repeat WHERE rp.run = ? ORDER BY l.repeat, l.idx", (run_pk,)):
            layers.setdefault(rid, []).append(LayerEntry(name, typ, prec, ms, pct))
        for rid, rep, folder, status, key, label, axes, model, sha in rows:
            variants.setdefault(key, VariantEntry(key, label, json.loads(axes), model, sha))
            repeats.append(RepeatEntry(key, rep, folder, status, metrics.get(rid, {}), layers.get(rid, [])))
        return RunEntry(run_id=run_id, created=created, night=night, origin=origin,
                        target=TargetFacts(host, gpu, uuid), variants=list(variants.values()),
                        repeats=repeats,
                        trt_version=trt, driver=driver, cuda=cuda, sm_clock_mhz=sm, max_sm_clock_mhz=max_sm,
                        power_limit_w=power, clock_event_reasons=reasons, spec_sha256=spec,
                        labels=json.loads(labels), source=source, missing=json.loads(missing))


def open_history(path: Path | str, create: bool = False) -> History:
    """Open (``create``: and make or migrate) a history database.

    Raises :class:`HistoryError` for a missing file (unless ``create``), a file that is not a SQLite
    database, a database of another program, or one of a newer schema than this trtsweep knows."""
    p = Path(path)
    if not p.exists() and not create:
        raise HistoryError(f"{p}: no history database (create one with 'trtsweep history add RUN_DIR')")
    if p.exists() and not p.is_file():
        raise HistoryError(f"{p}: not a file (expected a trtsweep history database)")
    if create:
        p.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(p), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise HistoryError(f"{p}: cannot open ({exc})") from None
    history = History(p, conn)
    try:
        _prepare(history, create)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(f"{p}: not a trtsweep history database ({exc})") from None
    except HistoryError:
        conn.close()
        raise
    return history


def _prepare(h: History, create: bool) -> None:
    conn = h.conn
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    version, app = _version(conn)
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{h.path}: history schema version {version} is newer than this trtsweep "
                           f"understands ({SCHEMA_VERSION}); upgrade trtsweep")
    if app not in (0, APPLICATION_ID) or (app == 0 and _has_tables(conn)):
        raise HistoryError(f"{h.path}: a SQLite database of another program, not a trtsweep history")
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")  # outside any transaction; persistent in the file
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: atomic and consistent, fsync per checkpoint
    conn.execute("PRAGMA foreign_keys = ON")
    if version == SCHEMA_VERSION:
        return
    if not create and version == 0:
        raise HistoryError(f"{h.path}: an empty database, not a trtsweep history")
    with h._write() as cur:
        # Read again under the write lock: another process may have migrated since.
        current, _ = _version(conn)
        for step in range(current + 1, SCHEMA_VERSION + 1):
            # statement by statement: executescript would COMMIT the open transaction first
            for statement in filter(str.strip, _MIGRATIONS[step].split(";")):
                h._exec(cur, statement)
        h._exec(cur, f"PRAGMA application_id = {APPLICATION_ID}")
        h._exec(cur, f"PRAGMA user_version = {SCHEMA_VERSION}")


def _version(conn: sqlite3.Connection) -> tuple[int, int]:
    return (int(conn.execute("PRAGMA user_version").fetchone()[0]),
            int(conn.execute("PRAGMA application_id").fetchone()[0]))


def _has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] > 0
