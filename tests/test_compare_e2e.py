"""``trtsweep compare`` end to end: runs of the trtexec double with per-process noise, and real corpus logs
imported with ``trtsweep import`` (one model on several GPUs and TensorRT versions)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from e2e_helpers import double_env, trtsweep, write_sweep

from trtsweep.store import load_result_set

REPO = Path(__file__).resolve().parent.parent


def _run(tmp: Path, name: str, perf: dict) -> Path:
    sweep = write_sweep(tmp / f"{name}.yaml", {"precision": ["fp32", "fp16"], "batch": [1, 8]},
                        run={"repeats": 5, "iterations": 30})
    env = double_env(tmp, {"perf": {"latency_scale": 0.01, "max_samples": 30, **perf}}, name=f"{name}.json")
    env["PYTHONPATH"] = str(REPO)
    res = trtsweep(["run", sweep, "-o", tmp / name, "-q"], env)
    assert res.returncode == 0, res.stderr
    return tmp / name


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.mark.e2e
def test_double_planted_slowdown_found_and_exit_3(tmp_path: Path) -> None:
    noise = {"process_seed": True, "process_offset_cv": 0.005}
    a = _run(tmp_path, "a", noise)
    slow = [{"when": {"precision": "fp16", "batch": 8}, "factor": 1.10}]
    b = _run(tmp_path, "b", {**noise, "slowdown": slow})
    # The per-process seed makes repeats differ; without it every repeat is the same process.
    rs = load_result_set(a)
    medians = {r.gpu_compute_ms.median for r in rs.variants[0].records}
    assert len(medians) == 5
    res = trtsweep(["compare", a, b, "--fail-on-regression"], _env())
    assert res.returncode == 3, res.stdout + res.stderr
    slower = [x for x in res.stdout.splitlines() if x.rstrip().endswith(" slower") and "=" in x.split()[0]]
    assert len(slower) == 1 and slower[0].startswith("precision=fp16, batch=8 ")


@pytest.mark.e2e
def test_double_default_noise_is_identical_per_process(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", {})
    medians = {r.gpu_compute_ms.median for r in load_result_set(a).variants[0].records}
    assert len(medians) == 1


def _import(tmp: Path, name: str, files: dict[str, str], corpus_dir: Path) -> Path:
    src = tmp / f"src-{name}"
    src.mkdir()
    for link, corpus_file in files.items():
        (src / link).symlink_to(corpus_dir / "files" / corpus_file)  # read in place, never copied
    res = trtsweep(["import", src, "-o", tmp / name], _env())
    assert res.returncode == 0, res.stdout + res.stderr
    return tmp / name


def _record(run: Path, vid: str) -> dict:
    return json.loads((run / "runs" / vid / "record.json").read_text())


@pytest.mark.corpus
def test_corpus_three_gpus_and_trt_versions(tmp_path: Path) -> None:
    from corpus_location import CORPUS_DIR

    runs = {
        "gtx1070": _import(tmp_path, "gtx1070", {"model.log": "hackcn__trt8.4.1_result-loadAndInference.log"},
                           CORPUS_DIR),
        "rtx3090": _import(tmp_path, "rtx3090", {"model.log": "hackcn__trt8.6.0_result-03.log"}, CORPUS_DIR),
        "h100": _import(tmp_path, "h100", {"model.log": "hackcn__trt10.16.1_result-03.log"}, CORPUS_DIR),
    }
    res = trtsweep(["compare", *runs.values(), "--match", "batch", "--format", "json"], _env())
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    ref = _record(runs["gtx1070"], "model")["gpu_compute_ms"]["median"]
    for pair, name in zip(doc["pairs"], ("rtx3090", "h100"), strict=True):
        (change,) = pair["changes"]
        expect = _record(runs[name], "model")["gpu_compute_ms"]["median"] / ref
        assert change["ratio"] == pytest.approx(expect) and change["single_run"]
        assert change["verdict"] == "inconclusive"
        factors = {e["name"]: e["status"] for e in pair["environment"]}
        assert factors["gpu"] == "factor" and factors["tensorrt"] == "factor"
    text = trtsweep(["compare", *runs.values(), "--match", "batch"], _env()).stdout
    assert "Reference (1.00x): NVIDIA GeForce GTX 1070 / TRT 8.4.1" in text
    assert "(single run)" in text


@pytest.mark.corpus
def test_corpus_trt_upgrade_with_layer_diff(tmp_path: Path) -> None:
    from corpus_location import CORPUS_DIR

    ada = _import(tmp_path, "ada", {"model.log": "hackcn__trt10.14.1_result-01.log",
                                    "model-profile.log": "hackcn__trt10.14.1_result-05.log"}, CORPUS_DIR)
    h100 = _import(tmp_path, "h100", {"model.log": "hackcn__trt10.16.1_result-01.log",
                                      "model-profile.log": "hackcn__trt10.16.1_result-05.log"}, CORPUS_DIR)
    res = trtsweep(["compare", ada, h100, "--metric", "latency", "--layers", "--format", "json"], _env())
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    (diff,) = doc["layers"]
    # Expected totals from the parsed profiles themselves
    def total(run: Path) -> float:
        lock = json.loads((run / "spec.lock.json").read_text())
        vid = next(v["id"] for v in lock["variants"] if any("profile" in s for s in v["sources"]))
        return sum(x["time_ms"] for x in _record(run, vid)["layers"] if x["time_ms"] is not None)
    assert diff["total_ms_a"] == pytest.approx(total(ada))
    assert diff["total_ms_b"] == pytest.approx(total(h100))
    assert diff["graph_changed"] is True and diff["timed"] is True
    assert sum(r["share"] for r in diff["rows"]) == pytest.approx(
        1 - ((diff["reformat_layers"]["ms_b"] - diff["reformat_layers"]["ms_a"])
             / (diff["total_ms_b"] - diff["total_ms_a"])))
    kinds = {r["matched_by"] for r in diff["rows"]}
    assert {"name", "onnx nodes", "only A", "only B"} <= kinds
