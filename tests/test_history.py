"""history: the SQLite store, what ``add`` derives from a run folder, and the commands' bad-input paths."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from history_helpers import GPU, MODEL_SHA, busy_telemetry, dump, write_run

from trtsweep import store
from trtsweep.analysis.history_extract import run_entry
from trtsweep.cli import main
from trtsweep.store import history as hs

A, B = ("fp16", 1), ("fp32", 8)


def run_cli(*args: object, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def nights(n: int, start: int = 1) -> list[str]:
    return [f"2025-03-{d:02d}" for d in range(start, start + n)]


def test_add_stores_targets_runs_variants_repeats_and_metrics(tmp_path: Path) -> None:
    run = write_run(tmp_path / "r1", "2025-03-01", {A: [2.0, 2.2, 2.1], B: [10.0]}, layers=4)
    db = tmp_path / "h.sqlite"
    res = run_cli("history", "add", run, "--db", db, "--label", "branch=main")
    assert res.exit_code == 0, res.output
    assert "2 variant(s), 4 repeat(s)" in res.output
    with hs.open_history(db) as h:
        [target] = h.targets()
        assert (target.host, target.gpu_name, target.gpu_uuid) == ("lab-l4", "NVIDIA L4", GPU["uuid"])
        [r] = h.runs()
        assert (r.run_id, r.night, r.trt_version, r.labels) == ("20250301-lab-l4", "2025-03-01", "10.8.0",
                                                                 {"branch": "main"})
        variants = {v.label: v for v in h.variants()}
        assert set(variants) == {"net fp16 b1 static", "net fp32 b8 static"}
        assert {v.model_sha256 for v in variants.values()} == {MODEL_SHA}
        tpb = sorted(p.value for p in h.points("time_per_batch_ms"))
        assert tpb == [2.0, 2.1, 2.2, 10.0]  # one stream: time per batch is trtexec's median latency
        # samples/s of the explicit-batch b8 variant: qps (1000/10 ms) x batch 8
        sps = [p.value for p in h.points("samples_per_s") if p.variant == variants["net fp32 b8 static"].pk]
        assert sps == [pytest.approx(800.0)]
        p99 = sorted(p.value for p in h.points("latency_ms.p99"))
        assert p99 == pytest.approx([2.06, 2.163, 2.266, 10.3])
        facts = h.run_facts()["20250301-lab-l4"]
        assert (facts["driver"], facts["power_limit_w"], facts["sm_clock_mhz"]) == ("550.54.15", 72.0, 2040)
        layers = h.conn.execute("SELECT COUNT(*) FROM layers").fetchone()[0]
        assert layers == 4 * 4  # four layers on each of the four repeats
        assert h.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert h.conn.execute("PRAGMA user_version").fetchone()[0] == hs.SCHEMA_VERSION


def test_same_run_twice_is_one_copy_and_variants_persist_across_nights(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    r1 = write_run(tmp_path / "r1", "2025-03-01", {A: [2.0], B: [10.0]})
    assert run_cli("history", "add", r1, "--db", db).exit_code == 0
    before = dump(db)
    again = run_cli("history", "add", r1, "--db", db, "--label", "x=y")
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert dump(db) == before
    r2 = write_run(tmp_path / "r2", "2025-03-02", {A: [2.1], B: [10.1]})
    assert run_cli("history", "add", r2, "--db", db).exit_code == 0
    with hs.open_history(db) as h:
        assert len(h.runs()) == 2 and len(h.variants()) == 2 and len(h.targets()) == 1


def test_run_id_with_other_content_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    run_cli("history", "add", write_run(tmp_path / "a", "2025-03-01", {A: [2.0]}, run_id="same"), "--db", db)
    before = dump(db)
    res = run_cli("history", "add", write_run(tmp_path / "b", "2025-03-01", {A: [3.0]}, run_id="same"),
                  "--db", db)
    assert res.exit_code == 2 and "other results" in res.output
    assert dump(db) == before


def test_variant_identity_is_axes_and_model_content(tmp_path: Path) -> None:
    e1 = run_entry(store.load_result_set(write_run(tmp_path / "a", "2025-03-01", {A: [2.0]})))
    e2 = run_entry(store.load_result_set(write_run(tmp_path / "b", "2025-03-02", {A: [9.0]}, host="x")))
    assert e1.variants[0].key == e2.variants[0].key  # other night, host and value: the same experiment
    e3 = run_entry(store.load_result_set(write_run(tmp_path / "c", "2025-03-02", {("fp16", 2): [2.0]})))
    assert e3.variants[0].key != e1.variants[0].key
    lock = json.loads((tmp_path / "c" / store.LOCK_FILE).read_text())
    lock["variants"][0]["axes"]["batch"] = 1
    lock["variants"][0]["build"]["onnx_sha256"] = "ef" * 32  # retrained model: a new series
    store.atomic_write_json(tmp_path / "c" / store.LOCK_FILE, lock)
    e4 = run_entry(store.load_result_set(tmp_path / "c"))
    assert e4.variants[0].key != e1.variants[0].key


def test_corrupt_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"this is not sqlite" * 100)
    run = write_run(tmp_path / "r", "2025-03-01", {A: [2.0]})
    for args in (("add", run), ("list",), ("check", run)):
        res = run_cli("history", *args, "--db", db)
        assert res.exit_code == 2, res.output
        assert res.output.count("\n") == 1 and "not a trtsweep history database" in res.output
    assert db.read_bytes() == b"this is not sqlite" * 100


def test_newer_schema_and_foreign_databases_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    with hs.open_history(newer, create=True):
        pass
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {hs.SCHEMA_VERSION + 1}")
    conn.close()
    res = run_cli("history", "list", "--db", newer)
    assert res.exit_code == 2 and "newer than this trtsweep" in res.output
    foreign = tmp_path / "other.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    res = run_cli("history", "add", write_run(tmp_path / "r", "2025-03-01", {A: [2.0]}), "--db", foreign)
    assert res.exit_code == 2 and "another program" in res.output
    assert foreign.read_bytes() == before


def test_missing_database_for_reading_commands(tmp_path: Path) -> None:
    res = run_cli("history", "list", "--db", tmp_path / "none.sqlite")
    assert res.exit_code == 2 and "no history database" in res.output
    assert not (tmp_path / "none.sqlite").exists()


def test_run_folder_without_meta_json(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    run = write_run(tmp_path / "old", "2025-03-04", {A: [2.0]}, meta=False)
    res = run_cli("history", "add", run, "--db", db)
    assert res.exit_code == 0, res.output
    assert "missing: meta.json (night and host from env.json)" in res.output
    with hs.open_history(db) as h:
        [r] = h.runs()
        assert r.night == "2025-03-04" and r.run_id.startswith("derived-")
    assert "nothing changed" in run_cli("history", "add", run, "--db", db).output  # derived id is stable
    bare = write_run(tmp_path / "bare", "2025-03-04", {A: [2.0]}, meta=False)
    (bare / store.ENV_FILE).unlink()
    db2 = tmp_path / "h2.sqlite"
    res = run_cli("history", "add", bare, "--db", db2)
    assert res.exit_code == 2 and "--night" in res.output and res.output.count("\n") == 1
    assert not db2.exists()  # nothing written
    assert run_cli("history", "add", bare, "--db", db2, "--night", "2025-03-09").exit_code == 0


def test_imported_run_needs_its_night(tmp_path: Path) -> None:
    run = write_run(tmp_path / "imp", "2025-03-04", {A: [2.0]}, origin="import")
    res = run_cli("history", "add", run, "--db", tmp_path / "h.sqlite")
    assert res.exit_code == 2 and "imported" in res.output
    ok = run_cli("history", "add", run, "--db", tmp_path / "h.sqlite", "--night", "2025-02-01")
    assert ok.exit_code == 0
    bad = run_cli("history", "add", run, "--db", tmp_path / "h.sqlite", "--night", "yesterday")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_not_a_run_folder_and_bad_labels(tmp_path: Path) -> None:
    res = run_cli("history", "add", tmp_path / "nowhere", "--db", tmp_path / "h.sqlite")
    assert res.exit_code == 2 and res.output.count("\n") == 1
    run = write_run(tmp_path / "r", "2025-03-01", {A: [2.0]})
    res = run_cli("history", "add", run, "--db", tmp_path / "h.sqlite", "--label", "novalue")
    assert res.exit_code == 2 and "KEY=VALUE" in res.output
    assert not (tmp_path / "h.sqlite").exists()


def test_env_var_names_the_database(tmp_path: Path) -> None:
    db = tmp_path / "env.sqlite"
    run = write_run(tmp_path / "r", "2025-03-01", {A: [2.0]})
    assert run_cli("history", "add", run, env={"TRTSWEEP_HISTORY": str(db)}).exit_code == 0
    listed = run_cli("history", "list", env={"TRTSWEEP_HISTORY": str(db)})
    assert "20250301-lab-l4" in listed.output and "lab-l4/NVIDIA L4" in listed.output


def _series(tmp_path: Path, db: Path, per_night: list[dict[tuple[str, int], list[float]]],
            start: int = 1, telemetry: list[dict[str, Any] | None] | None = None) -> list[Path]:
    runs = []
    tel = telemetry or [None] * len(per_night)
    for night, values, t in zip(nights(len(per_night), start), per_night, tel, strict=True):
        run = write_run(tmp_path / night, night, values, telemetry=t)
        assert run_cli("history", "add", run, "--db", db).exit_code == 0
        runs.append(run)
    return runs


# Hand-made nights: A wobbles within 1 % around 2 ms; from night 11 on it is 6 % slower. B never moves.
WOBBLE = [1.000, 1.004, 0.997, 1.002, 0.999, 1.006, 0.995, 1.001, 1.003, 0.998, 1.002, 0.999, 1.004]


def _nights_with_step(step_from: int) -> list[dict[tuple[str, int], list[float]]]:
    return [{A: [2.0 * w * (1.06 if i >= step_from else 1.0)], B: [10.0 * w]} for i, w in enumerate(WOBBLE)]


def test_check_flags_a_step_once_three_nights_show_it(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    runs = _series(tmp_path, db, _nights_with_step(10))
    res = run_cli("history", "check", runs[-1], "--db", db, "--format", "json")
    assert res.exit_code == 3, res.output
    out = {v["variant"]: v for v in json.loads(res.output)["variants"]}
    a, b = out["net fp16 b1 static"], out["net fp32 b8 static"]
    assert a["verdict"] == "regression" and a["since_night"] == "2025-03-11"
    # Hodges-Lehmann: after/before medians of pairwise ratios; the wobble is < 1 %, the step 6 %
    assert 1.05 < a["change"]["ratio"] < 1.07 and a["change"]["low"] > 1.03
    assert a["runs_before"][-1] == "20250310-lab-l4" and a["runs_after"] == [
        "20250311-lab-l4", "20250312-lab-l4", "20250313-lab-l4"]
    assert b["verdict"] == "no_change"
    # two nights after the step: not yet a change (a segment needs three nights)
    res = run_cli("history", "check", runs[-2], "--db", db, "--format", "json")
    assert res.exit_code == 0, res.output
    assert {v["verdict"] for v in json.loads(res.output)["variants"]} == {"no_change"}


def test_check_is_inconclusive_when_tonight_ran_at_another_clock(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    per_night = _nights_with_step(10)
    # Ten nights at 2010 MHz; the three slower nights ran at 1650 MHz (the step is the clock, not the code).
    clocks = [busy_telemetry(2010)] * 10 + [busy_telemetry(1650)] * 3
    runs = _series(tmp_path, db, per_night, telemetry=clocks)
    res = run_cli("history", "check", runs[-1], "--db", db, "--format", "json")
    assert res.exit_code == 4, res.output
    out = {v["variant"]: v for v in json.loads(res.output)["variants"]}
    a = out["net fp16 b1 static"]
    assert a["verdict"] == "inconclusive" and "2010 MHz (earlier nights) vs 1650 MHz (tonight)" in a["reason"]
    # The same nights at one clock: the step is a regression (the clock gate is what held it back).
    db2 = tmp_path / "h2.sqlite"
    runs = _series(tmp_path / "same", db2, per_night, telemetry=[busy_telemetry(2010)] * 13)
    res = run_cli("history", "check", runs[-1], "--db", db2, "--format", "json")
    assert res.exit_code == 3, res.output
    # Throttled tonight (power cap 80 % of the run) while the earlier nights were not, at a similar clock.
    db3 = tmp_path / "h3.sqlite"
    capped = [busy_telemetry(2010)] * 12 + [busy_telemetry(2000, reasons={"sw_power_cap": 0.8})]
    runs = _series(tmp_path / "capped", db3, _nights_with_step(20), telemetry=capped)
    res = run_cli("history", "check", runs[-1], "--db", db3, "--format", "json")
    why = {v["variant"]: v["reason"] for v in json.loads(res.output)["variants"]}
    assert res.exit_code == 4 and "tonight's run throttled" in why["net fp16 b1 static"]


def test_variants_with_the_same_axes_are_told_apart_by_folder(tmp_path: Path) -> None:
    # Imported logs give only the axes a log holds: two logs of one precision and batch (another model
    # input, say) must stay two series, not collide (this raised a UNIQUE constraint error before).
    run = write_run(tmp_path / "r", "2025-03-01", {("fp16", 1): [2.0], ("fp16", 2): [3.0]})
    lock = json.loads((run / store.LOCK_FILE).read_text())
    for entry in lock["variants"]:
        entry["axes"] = dict(lock["variants"][0]["axes"])
    (run / store.LOCK_FILE).write_text(json.dumps(lock))
    entry = run_entry(store.load_result_set(run))
    assert len(entry.variants) == 2 and len({v.key for v in entry.variants}) == 2
    assert any("told apart by their log file names" in m for m in entry.missing)
    db = tmp_path / "h.sqlite"
    assert run_cli("history", "add", run, "--db", db).exit_code == 0
    again = write_run(tmp_path / "r2", "2025-03-02", {("fp16", 1): [2.0], ("fp16", 2): [3.0]})
    (again / store.LOCK_FILE).write_text(json.dumps(lock))
    next_night = run_entry(store.load_result_set(again))
    assert {v.key for v in next_night.variants} == {v.key for v in entry.variants}  # the same series


def test_check_of_a_run_not_yet_added_reads_it_without_writing(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    per_night = _nights_with_step(10)
    _series(tmp_path, db, per_night[:-1])
    before = dump(db)
    tonight = write_run(tmp_path / "tonight", "2025-03-13", per_night[-1])
    res = run_cli("history", "check", tonight, "--db", db)
    assert res.exit_code == 3 and "regression   net fp16 b1 static: +" in res.output
    assert dump(db) == before


def test_expected_annotation_starts_a_new_baseline(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    runs = _series(tmp_path, db, _nights_with_step(10))
    res = run_cli("history", "annotate", "--at", "20250311-lab-l4", "--note", "TRT 10.9 upgrade",
                  "--expected", "--db", db)
    assert res.exit_code == 0 and "new baseline" in res.output
    res = run_cli("history", "check", runs[-1], "--db", db)
    # an annotation covers the run's target: both series restart there, three nights are too few to judge
    assert res.exit_code == 4, res.output
    assert "3 night(s) in this baseline segment" in res.output
    assert "regression " not in res.output
    listed = run_cli("history", "list", "--db", db)
    assert "[expected] TRT 10.9 upgrade" in listed.output
    bad = run_cli("history", "annotate", "--at", "nope", "--note", "x", "--db", db)
    assert bad.exit_code == 2 and "no run 'nope'" in bad.output


def test_trt_version_change_starts_a_new_segment(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    for i, (night, values) in enumerate(zip(nights(13), _nights_with_step(10), strict=True)):
        run = write_run(tmp_path / night, night, values, trt="10.9.0" if i >= 10 else "10.8.0")
        run_cli("history", "add", run, "--db", db)
    res = run_cli("history", "check", tmp_path / "2025-03-13", "--db", db)
    assert res.exit_code == 4 and "regression" not in res.output.replace("0 regression", "")
