"""`trtsweep parse` and `trtsweep import` on bad input: a clear message or an unrecognized record."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from trtsweep.cli import main


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_missing_path_is_exit_2_with_the_path(tmp_path):
    res = _run("parse", str(tmp_path / "nope.log"))
    assert res.exit_code == 2
    assert "nope.log: no such file" in res.output
    assert "Traceback" not in res.output


def test_directory_is_exit_2(tmp_path):
    res = _run("parse", str(tmp_path))
    assert res.exit_code == 2
    assert "is a directory" in res.output


def _parse_json(path):
    res = _run("parse", str(path), "--format", "json")
    return res, json.loads(res.output)


def test_empty_file_is_unrecognized(tmp_path):
    f = tmp_path / "empty.log"
    f.write_text("")
    res, rec = _parse_json(f)
    assert res.exit_code == 1
    assert rec["kind"] == "unrecognized" and rec["status"] == "unrecognized"
    assert rec["failure_text"] == "empty file"


def test_binary_file_is_unrecognized(tmp_path):
    f = tmp_path / "engine.plan"
    f.write_bytes(bytes(range(256)) * 40)
    res, rec = _parse_json(f)
    assert res.exit_code == 1
    assert rec["kind"] == "unrecognized"
    assert "binary" in rec["failure_text"]


def test_json_of_another_shape_is_unrecognized(tmp_path):
    f = tmp_path / "config.json"
    f.write_text(json.dumps({"name": "not an export", "values": [1, 2, 3]}))
    res, rec = _parse_json(f)
    assert res.exit_code == 1
    assert rec["kind"] == "unrecognized"


def test_non_utf8_text_is_unrecognized_not_a_crash(tmp_path):
    f = tmp_path / "latin1.txt"
    f.write_bytes("Größe: 12 µs, résumé\n".encode("latin-1") * 3)
    res, rec = _parse_json(f)
    assert res.exit_code == 1
    assert rec["kind"] == "unrecognized"
    assert "Traceback" not in res.output


def test_record_has_every_contract_key(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("hello\n")
    _, rec = _parse_json(f)
    for key in ("schema_version", "source", "kind", "status", "failure", "failure_text", "trt_version",
                "command", "device", "options", "build", "throughput_qps", "latency_ms", "end_to_end_ms",
                "gpu_compute_ms", "enqueue_ms", "h2d_ms", "d2h_ms", "host_walltime_s",
                "total_gpu_compute_s", "gpu_compute_cv_pct", "warnings", "layers", "polygraphy"):
        assert key in rec, key
    assert rec["schema_version"] == 1


def test_import_rejects_missing_folder_and_nonempty_output(tmp_path):
    res = _run("import", str(tmp_path / "none"), "-o", str(tmp_path / "out"))
    assert res.exit_code == 2 and "no such folder" in res.output
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    res = _run("import", str(tmp_path), "-o", str(out))
    assert res.exit_code == 2 and "not empty" in res.output


@pytest.mark.corpus
def test_json_is_a_list_for_several_runs_and_csv_has_a_row_per_run():
    from corpus_location import CORPUS

    log = CORPUS / "jetsontrtexec__raw_googlenet_None_int8_10.txt"  # 7 trtexec runs, one after another
    res = _run("parse", str(log), "--format", "json")
    assert res.exit_code == 0, res.output
    runs = json.loads(res.output)
    assert isinstance(runs, list) and len(runs) == 7
    # "[I] median: 1.97266 ms" in the first run's GPU Compute block.
    assert runs[0]["gpu_compute_ms"]["median"] == 1.97266
    res = _run("parse", str(log), "--format", "csv")
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 + 7
    header = lines[0].split(",")
    assert "gpu_compute_ms.median" in header and "source" in header
    assert lines[1].split(",")[header.index("gpu_compute_ms.median")] == "1.97266"
