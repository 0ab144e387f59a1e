"""Polygraphy output parser: real corpus files (values read by hand from each file) and crafted inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus_location import CORPUS, manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trtsweep.parsers import parse_file
from trtsweep.parsers.polygraphy import parse_polygraphy, parse_polygraphy_lines, sniff, subcommand_of
from trtsweep.parsers.textio import decode_head, read_head
from trtsweep.records import FAILURE_CLASSES, KINDS, STATUSES, RunRecord

POLY_FILES = sorted(name for name, entry in manifest().items() if entry["kind"] == "polygraphy_output")


X_PROFILE = {"min": [1, 1, 28, 28], "opt": [4, 1, 28, 28], "max": [16, 1, 28, 28]}


def _parse(name: str) -> tuple[RunRecord, dict]:
    rec = parse_polygraphy(CORPUS / name)
    assert rec.polygraphy is not None, rec.failure_text
    return rec, rec.polygraphy


def _runner(pg: dict, name: str) -> dict:
    return next(r for r in pg["runners"] if r["name"] == name)


def _comparison(pg: dict, output: str) -> dict:
    return next(c for c in pg["comparisons"] if c["output"] == output)


def _lines(name: str) -> list[str]:
    return (CORPUS / name).read_text(encoding="utf-8").splitlines()


# ---- every corpus file --------------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_has_the_polygraphy_files() -> None:
    assert len(POLY_FILES) >= 18


@pytest.mark.corpus
@pytest.mark.parametrize("name", POLY_FILES)
def test_every_corpus_file_parses_and_is_sniffed(name: str) -> None:
    path = CORPUS / name
    kind = sniff(decode_head(read_head(path)))
    rec = parse_polygraphy(path)
    assert kind in ("polygraphy_run", "polygraphy_inspect")
    assert rec.kind == kind
    assert rec.status in ("passed", "failed", "incomplete")
    assert (rec.failure is not None) == (rec.status == "failed")
    assert rec.failure is None or rec.failure in FAILURE_CLASSES
    json.dumps(rec.to_dict(), allow_nan=False)  # JSON-ready, no NaN sneaking through
    [via_dispatcher] = parse_file(path)
    assert via_dispatcher.kind == kind


# ---- polygraphy run -----------------------------------------------------------------------------


@pytest.mark.corpus
def test_run_onnxrt_yolov8n_single_runner() -> None:
    rec, pg = _parse("junjie__polygraphy_run_onnxrt_yolov8n.txt")
    assert (rec.kind, rec.status) == ("polygraphy_run", "passed")
    assert rec.command == "/root/miniconda3/envs/dlpy310/bin/polygraphy run yolov8n.onnx --onnxrt"
    assert pg["subcommand"] == "run" and pg["passed"] is True
    assert pg["version"] is None and rec.trt_version is None  # neither is printed
    runner = _runner(pg, "onnxrt-runner-N0-11/21/25-13:22:08")
    assert runner["inference_ms"] == pytest.approx(59.11)
    assert runner["iterations"] == 1
    assert runner["inputs"] == [{"name": "images", "dtype": "float32", "shape": [1, 3, 640, 480]}]
    assert runner["outputs"] == [{"name": "output0", "dtype": "float32", "shape": [1, 84, 6300]}]
    assert pg["invocations"][0]["runtime_s"] == pytest.approx(1.037)
    assert pg["comparisons"] is None


@pytest.mark.corpus
def test_run_trt_build_0_49_26() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Run_result-02.log")
    assert rec.status == "passed"
    assert pg["version"] == "0.49.26"
    assert rec.trt_version == pg["trt_version"] == "10.16.2.5"
    runner = _runner(pg, "trt-runner-N0-07/07/26-02:08:06")
    assert runner["inference_ms"] == pytest.approx(1.222)
    assert runner["outputs"] == [
        {"name": "y", "dtype": "float32", "shape": [4, 10]},
        {"name": "z", "dtype": "int64", "shape": [4]},
    ]
    assert rec.build.engine_build_s == pytest.approx(36.550)
    assert rec.build.engine_size_mib == pytest.approx(6)
    assert pg["opset"] == 18
    assert pg["profiles"] == [{"profile": 0, "inputs": {"x": X_PROFILE}}]
    assert pg["invocations"][0]["runtime_s"] == pytest.approx(38.351)


@pytest.mark.corpus
def test_run_compare_onnxrt_trt_mark_all_0_49_26() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Run_result-04.log")
    assert rec.status == "passed" and pg["passed"] is True
    assert _runner(pg, "onnxrt-runner-N0-07/07/26-02:08:48")["inference_ms"] == pytest.approx(1.599)
    assert _runner(pg, "trt-runner-N0-07/07/26-02:08:48")["inference_ms"] == pytest.approx(3.724)
    outputs = [c["output"] for c in pg["comparisons"]]
    assert outputs == ["conv2d", "relu", "max_pool2d", "conv2d_1", "relu_1", "max_pool2d_1", "view", "linear",
                       "relu_2", "y", "softmax", "z"]
    assert all(c["passed"] is True for c in pg["comparisons"])
    y = _comparison(pg, "y")
    assert y["runners"] == ["onnxrt-runner-N0-07/07/26-02:08:48", "trt-runner-N0-07/07/26-02:08:48"]
    assert y["max_abs_error"] == pytest.approx(7.4506e-09)
    assert y["mean_abs_error"] == pytest.approx(2.5713e-09)
    assert y["median_abs_error"] == pytest.approx(1.8626e-09)
    assert y["max_rel_error"] == pytest.approx(2.9738e-06)
    assert (y["atol"], y["rtol"]) == (pytest.approx(0.001), pytest.approx(0.001))
    assert y["required_atol"] == pytest.approx(7.4506e-09)
    assert _comparison(pg, "conv2d_1")["max_abs_error"] == pytest.approx(2.3842e-06)
    assert _comparison(pg, "linear")["max_rel_error"] == pytest.approx(0.00050607)
    assert pg["accuracy_summaries"] == [{
        "runners": ["onnxrt-runner-N0-07/07/26-02:08:48", "trt-runner-N0-07/07/26-02:08:48"],
        "passed_iterations": 1, "total_iterations": 1,
    }]


@pytest.mark.corpus
def test_run_validate_two_invocations_second_finds_inf() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Run_result-08.log")
    assert [i["status"] for i in pg["invocations"]] == ["passed", "failed"]
    assert [i["runtime_s"] for i in pg["invocations"]] == [pytest.approx(1.204), pytest.approx(1.210)]
    assert (rec.status, rec.failure) == ("failed", "other")
    assert "Inf Detected" in rec.failure_text
    assert "FAILED | Errors detected in output: InvalidModel-V-0-Div-0" in rec.failure_text
    assert rec.command.endswith("model-invalid.onnx --onnxrt --validate --fail-fast --verbose")
    checks = {o["output"]: o for o in pg["nan_inf"]["outputs"]}
    assert checks["y"]["passed"] is True and checks["z"]["passed"] is True
    bad = checks["InvalidModel-V-0-Div-0"]
    assert (bad["passed"], bad["inf"], bad["nan"], bad["check_nan"]) == (False, True, False, True)
    assert pg["nan_inf"]["passed"] is False and pg["passed"] is False
    assert _runner(pg, "onnxrt-runner-N0-07/07/26-02:09:59")["inference_ms"] == pytest.approx(0.2677)


@pytest.mark.corpus
def test_run_0_33_0_old_format_without_running_line() -> None:
    rec, pg = _parse("hackcn__poly0.33.0_result-02.txt")
    assert rec.status == "passed"
    assert pg["version"] == "0.33.0" and rec.trt_version == "8.0.3.4"
    assert rec.command.startswith("/usr/local/bin/polygraphy run model.onnx --trt --onnxrt --workspace 1000")
    assert _runner(pg, "trt-runner-N0-03/07/22-07:07:02")["inference_ms"] == pytest.approx(2.954)
    assert _runner(pg, "onnxrt-runner-N0-03/07/22-07:07:02")["inference_ms"] == pytest.approx(6.008)
    assert len(pg["comparisons"]) == 15
    conv = _comparison(pg, "Conv__27:0")
    assert conv["runners"] == ["trt-runner-N0-03/07/22-07:07:02", "onnxrt-runner-N0-03/07/22-07:07:02"]
    assert conv["max_abs_error"] == pytest.approx(3.2187e-06)
    assert conv["max_rel_error"] == pytest.approx(0.013276)
    assert conv["atol"] == pytest.approx(0.001) and conv["passed"] is True
    assert _comparison(pg, "Relu:0")["max_rel_error"] is None  # printed as nan
    assert rec.build.engine_build_s == pytest.approx(6.857)


@pytest.mark.corpus
def test_run_0_35_2_with_timestamped_trt_lines() -> None:
    rec, pg = _parse("hackcn__poly0.35.2_result-run-FP16.txt")
    assert rec.status == "passed"
    assert pg["version"] == "0.35.2" and rec.trt_version == "8.4.0.6"
    assert _runner(pg, "trt-runner-N0-03/14/22-08:20:47")["inference_ms"] == pytest.approx(2.282)
    assert _runner(pg, "onnxrt-runner-N0-03/14/22-08:20:47")["inference_ms"] == pytest.approx(0.993)
    [z] = pg["comparisons"]
    assert (z["output"], z["passed"], z["max_abs_error"]) == ("z:0", True, 0.0)
    assert pg["opset"] == 9 and rec.build.engine_size_mib == pytest.approx(12)


@pytest.mark.corpus
def test_run_0_38_tolerance_on_its_own_line() -> None:
    rec, pg = _parse("hackcn__poly0.38.0_result-run-FP16.log")
    assert rec.status == "passed" and pg["version"] == "0.38.0" and rec.trt_version == "8.4.1.5"
    [cmp] = pg["comparisons"]
    assert cmp["output"] == "tensor-15" and cmp["passed"] is True
    assert (cmp["atol"], cmp["rtol"]) == (pytest.approx(0.001), pytest.approx(0.001))
    assert _runner(pg, "trt-runner-N0-08/17/22-06:44:36")["inference_ms"] == pytest.approx(0.5693)
    assert _runner(pg, "onnxrt-runner-N0-08/17/22-06:44:36")["inference_ms"] == pytest.approx(1.91)
    assert rec.build.engine_build_s == pytest.approx(2.278)


@pytest.mark.corpus
def test_run_0_47_1_profiles_from_profile_add() -> None:
    rec, pg = _parse("hackcn__poly0.47.1_result-02.log")
    assert rec.status == "passed" and pg["version"] == "0.47.1" and rec.trt_version == "8.6.1"
    assert _runner(pg, "trt-runner-N0-08/24/23-07:55:00")["inference_ms"] == pytest.approx(0.5982)
    assert pg["profiles"][0]["inputs"]["tensorX"] == {
        "min": [1, 1, 28, 28], "opt": [4, 1, 28, 28], "max": [16, 1, 28, 28],
    }
    assert rec.build.engine_build_s == pytest.approx(16.696)


@pytest.mark.corpus
def test_run_nan_inf_readme_without_final_line_is_failed() -> None:
    rec, pg = _parse("trtoss__poly_run_checking_nan_inf_README.txt")
    assert (rec.kind, rec.status, rec.failure) == ("polygraphy_run", "failed", "other")
    assert "FAILED | Errors detected in output: B" in rec.failure_text
    [check] = pg["nan_inf"]["outputs"]
    assert (check["output"], check["inf"], check["passed"]) == ("B", True, False)
    assert _runner(pg, "onnxrt-runner-N0-05/13/22-22:35:48")["inference_ms"] == pytest.approx(0.1326)


# ---- check / debug ------------------------------------------------------------------------------


@pytest.mark.corpus
def test_check_lint_failure_is_unsupported_op() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Check_result-01.log")
    assert (rec.kind, rec.status, rec.failure) == ("polygraphy_run", "failed", "unsupported_op")
    assert "No Op registered for UnknownNode1 with domain_version of 11" in rec.failure_text
    assert pg["subcommand"] == "check lint" and pg["passed"] is False
    assert pg["invocations"][0]["runtime_s"] == pytest.approx(1.243)
    assert pg["lint"][0]["level"] == "error"


@pytest.mark.corpus
def test_debug_reduce_0_49_26() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Debug_result-04.log")
    assert (rec.kind, rec.status) == ("polygraphy_run", "passed")
    assert pg["subcommand"] == "debug reduce" and pg["subcommand_inferred"] is False
    iterations = pg["debug"]["iterations"]
    assert len(iterations) == 6 and sum(i["passed"] for i in iterations) == 1
    assert iterations[0] == {"iteration": 1, "passed": True, "duration_s": pytest.approx(0.2957589626312256)}
    bad = pg["debug"]["minimum_bad_model"]
    assert bad["inputs"] == [{"name": "view", "dtype": "float32", "shape": ["nBS", 3136]}]
    assert bad["outputs"] == [{"name": "linear", "dtype": "float32", "shape": ["nBS", 1024]}]
    assert (bad["node_count"], bad["opset"]) == (1, 18)
    # The ONNX reports captured from the check command are not this command's model.
    assert pg["model_kind"] is None and pg["op_counts"] is None
    assert pg["invocations"][0]["runtime_s"] == pytest.approx(3.601)


@pytest.mark.corpus
def test_debug_0_38_without_final_line_is_incomplete() -> None:
    rec, pg = _parse("hackcn__poly0.38_debug-result.log")
    assert (rec.kind, rec.status, rec.failure) == ("polygraphy_run", "incomplete", None)
    assert pg["subcommand"] == "debug reduce" and pg["subcommand_inferred"] is True
    assert [i["passed"] for i in pg["debug"]["iterations"]] == [False, False]
    bad = pg["debug"]["minimum_bad_model"]
    assert bad["opset"] == 11 and bad["inputs"] == [{"name": "_0", "dtype": "float32", "shape": [1, 3, 5, 5]}]


# ---- inspect ------------------------------------------------------------------------------------


@pytest.mark.corpus
def test_inspect_onnx_model() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Inspect_result-01.log")
    assert (rec.kind, rec.status) == ("polygraphy_inspect", "passed")
    assert pg["subcommand"] == "inspect model" and pg["model_kind"] == "onnx"
    assert pg["version"] == "0.49.26" and pg["model_name"] == "main_graph" and pg["opset"] == 18
    assert pg["inputs"] == [{"name": "x", "dtype": "float32", "shape": ["nBS", 1, 28, 28]}]
    assert pg["outputs"] == [
        {"name": "y", "dtype": "float32", "shape": ["nBS", 10]},
        {"name": "z", "dtype": "int64", "shape": ["nBS"]},
    ]
    assert pg["node_count"] == 12 and pg["initializer_count"] == 9 and pg["layer_count"] is None
    assert pg["op_counts"] == {"Conv": 2, "Relu": 3, "MaxPool": 2, "Reshape": 1, "Gemm": 2, "Softmax": 1,
                               "ArgMax": 1}


@pytest.mark.corpus
def test_inspect_trt_network() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Inspect_result-02.log")
    assert rec.kind == "polygraphy_inspect" and pg["model_kind"] == "network"
    assert rec.trt_version == "10.16.2.5"
    assert pg["layer_count"] == 27 and sum(pg["op_counts"].values()) == 27
    assert pg["op_counts"]["LayerType.CONVOLUTION"] == 2
    assert pg["op_counts"]["LayerType.CONSTANT"] == 5
    assert pg["op_counts"]["ActivationType.RELU"] == 3
    assert pg["inputs"] == [{"name": "x", "dtype": "float32", "shape": [-1, 1, 28, 28]}]


@pytest.mark.corpus
def test_inspect_engine_0_49_26() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Inspect_result-03.log")
    assert (rec.kind, rec.status, pg["model_kind"]) == ("polygraphy_inspect", "passed", "engine")
    assert pg["layer_count"] == 10
    assert pg["op_counts"] == {"CaskConvolution": 2, "CaskPooling": 2, "shape_call": 1, "gemm": 2, "kgen": 3}
    assert pg["device_memory_bytes"] == 2007040
    assert pg["outputs"][1] == {"name": "z", "dtype": "int64", "shape": [-1]}
    assert pg["profiles"] == [{"profile": 0, "inputs": {"x": X_PROFILE}}]


@pytest.mark.corpus
def test_inspect_engine_0_38_binding_index_profiles() -> None:
    rec, pg = _parse("hackcn__poly0.38_result-inspectPlanModel.log")
    assert (rec.kind, pg["model_kind"]) == ("polygraphy_inspect", "engine")
    assert pg["inputs"] == [{"name": "tensor-0", "dtype": "float32", "shape": [-1, 1, 28, 28]}]
    assert pg["outputs"] == [{"name": "tensor-15", "dtype": "int32", "shape": [-1]}]
    assert pg["layer_count"] == 12
    assert pg["op_counts"] == {"CaskConvolution": 2, "TiledPooling": 2, "Reformat": 2, "Shuffle": 1,
                               "CublasConvolution": 2, "NoOp": 2, "LogSoftmaxTopK": 1}
    assert pg["profiles"][0]["inputs"]["tensor-0"]["max"] == [16, 1, 28, 28]
    assert pg["device_memory_bytes"] == 2409472


@pytest.mark.corpus
def test_inspect_engine_readme_indented_two_profiles() -> None:
    rec, pg = _parse("trtoss__poly_inspect_engine_README.txt")
    assert (rec.kind, rec.status, pg["model_kind"]) == ("polygraphy_inspect", "passed", "engine")
    assert pg["inputs"] == [{"name": "X", "dtype": "float32", "shape": [1, 2, -1, -1]}]
    assert [p["inputs"]["X"]["min"] for p in pg["profiles"]] == [[1, 2, 1, 1], [1, 2, 2, 2]]
    assert pg["profiles"][1]["inputs"]["X"]["max"] == [1, 2, 6, 6]
    assert pg["layer_count"] == 1 and pg["op_counts"] == {"Reformat": 1}  # first profile's layers
    assert pg["device_memory_bytes"] == 0


@pytest.mark.corpus
def test_inspect_engine_crlf_layer_count_only() -> None:
    rec, pg = _parse("trtoss__poly_inspect_engine_triton_quickstart.txt")
    assert rec.status == "passed" and pg["layer_count"] == 87 and pg["op_counts"] is None
    assert pg["inputs"] == [{"name": "input", "dtype": "float32", "shape": [1, 3, 224, 224]}]
    assert pg["outputs"] == [{"name": "output", "dtype": "float32", "shape": [1, 1000]}]
    assert pg["device_memory_bytes"] == 8228864


@pytest.mark.corpus
def test_inspect_data() -> None:
    rec, pg = _parse("hackcn__poly0.49.26_Inspect_result-04.log")
    assert (rec.kind, rec.status) == ("polygraphy_inspect", "passed")
    assert pg["subcommand"] == "inspect data" and pg["model_kind"] is None
    assert pg["inputs"] == [{"name": "x", "dtype": "float32", "shape": [4, 1, 28, 28]}]
    assert pg["outputs"] == [
        {"name": "y", "dtype": "float32", "shape": [4, 10]},
        {"name": "z", "dtype": "int64", "shape": [4]},
    ]
    assert _runner(pg, "trt-runner-N0-07/07/26-02:07:17")["iterations"] == 1


# ---- crafted inputs -----------------------------------------------------------------------------


@pytest.mark.corpus
def test_truncated_run_is_incomplete() -> None:
    lines = _lines("hackcn__poly0.49.26_Run_result-04.log")[:300]
    rec = parse_polygraphy_lines(lines, "cut.log")
    assert (rec.kind, rec.status, rec.failure) == ("polygraphy_run", "incomplete", None)
    assert rec.polygraphy["passed"] is None
    assert rec.polygraphy["invocations"][0]["status"] == "incomplete"


@pytest.mark.corpus
def test_truncated_inspect_is_incomplete() -> None:
    lines = _lines("hackcn__poly0.49.26_Inspect_result-03.log")[:60]  # stops inside the layer listing
    rec = parse_polygraphy_lines(lines, "cut.log")
    assert (rec.kind, rec.status) == ("polygraphy_inspect", "incomplete")


def test_empty_and_foreign_text() -> None:
    for lines in ([], [""], ["hello world", "nothing to see"]):
        rec = parse_polygraphy_lines(lines, "x.log")
        assert (rec.kind, rec.status) == ("unrecognized", "unrecognized")
    for text in ("", "   \n", "hello\nworld\n", '{"a": 1}', "[1, 2, 3]", '[{"averageMs": 1.0}]',
                 "&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=m.onnx\n"
                 "[I] RUNNING | Command: polygraphy run m.onnx\n",
                 "[01/02/2024-10:00:00] [I] === Performance summary ===\n"):
        assert sniff(text) is None


@pytest.mark.corpus
def test_sniff_ignores_trtexec_log_mentioning_polygraphy() -> None:
    name = "lix19937dnn__trt8.5.10_posenc_dumpLayerInfo_dumpProfile_verbose.log"
    assert sniff(decode_head(read_head(CORPUS / name))) is None


def test_sniff_kinds() -> None:
    assert sniff("[I] RUNNING | Command: /usr/bin/polygraphy inspect model m.onnx\n") == "polygraphy_inspect"
    assert sniff("[I] RUNNING | Command: polygraphy debug reduce m.onnx --check x\n") == "polygraphy_run"
    assert sniff("[I] ==== ONNX Model ====\n    Name: g | ONNX Opset: 13\n") == "polygraphy_inspect"


def test_subcommand_of() -> None:
    assert subcommand_of("/usr/local/bin/polygraphy inspect model a.onnx --show layers") == "inspect model"
    assert subcommand_of("polygraphy run a.onnx --trt") == "run"
    assert subcommand_of("polygraphy debug reduce a.onnx --check polygraphy run") == "debug reduce"
    assert subcommand_of("python train.py") is None


def test_build_failure_out_of_memory() -> None:
    lines = [
        "[I] RUNNING | Command: polygraphy run big.onnx --trt",
        "[I] trt-runner-N0-01/01/25-00:00:00     | Activating and starting inference",
        "[E] 2: [virtualMemoryBuffer.cpp::resizePhysical::127] Error Code 2: OutOfMemory "
        "(no further information)",
        "[!] Invalid Engine. Please ensure the engine was built correctly",
        "[E] FAILED | Runtime: 12.500s | Command: polygraphy run big.onnx --trt",
    ]
    rec = parse_polygraphy_lines(lines, "oom.log")
    assert (rec.status, rec.failure) == ("failed", "oom")
    assert "OutOfMemory" in rec.failure_text
    assert rec.polygraphy["invocations"][0]["runtime_s"] == pytest.approx(12.5)


def test_failed_accuracy_comparison() -> None:
    lines = [
        "[I] RUNNING | Command: polygraphy run m.onnx --onnxrt --trt",
        "[I] Accuracy Comparison | onnxrt-runner-N0 vs. trt-runner-N0",
        "[I]     Comparing Output: 'out' (dtype=float32, shape=(1, 4)) "
        "with 'out' (dtype=float32, shape=(1, 4))",
        "[I]         Tolerance: [abs=1e-05, rel=1e-05] | Checking elemwise error",
        "[I]         Error Metrics: out",
        "[I]             Absolute Difference | Stats: mean=0.01, std-dev=0, var=0, median=0.005, "
        "min=0 at (0, 0), max=0.5 at (0, 3), avg-magnitude=0.01",
        "[E]         FAILED | Output: 'out' | Difference exceeds tolerance (rel=1e-05, abs=1e-05)",
        "[E]     FAILED | Mismatched outputs: ['out']",
        "[E] FAILED | Runtime: 3.000s | Command: polygraphy run m.onnx --onnxrt --trt",
    ]
    rec = parse_polygraphy_lines(lines, "acc.log")
    assert (rec.status, rec.failure) == ("failed", "other")
    assert "FAILED | Output: 'out' | Difference exceeds tolerance" in rec.failure_text
    [cmp] = rec.polygraphy["comparisons"]
    assert cmp["passed"] is False and cmp["max_abs_error"] == pytest.approx(0.5)
    assert cmp["atol"] == pytest.approx(1e-05) and cmp["runners"] == ["onnxrt-runner-N0", "trt-runner-N0"]
    assert rec.polygraphy["passed"] is False


def test_runner_mean_of_several_timing_lines() -> None:
    io = ["[I] trt-runner-N0-a", "    ---- Inference Input(s) ----", "    {x [dtype=float32, shape=(1, 3)]}"]
    lines = [
        "[I] RUNNING | Command: polygraphy run m.onnx --trt --iterations 2",
        *io,
        "[I] trt-runner-N0-a     | Completed 1 iteration(s) in 2 ms | Average inference time: 2 ms.",
        *io,
        "[I] trt-runner-N0-a     | Completed 1 iteration(s) in 4 ms | Average inference time: 4 ms.",
        "[I] PASSED | Runtime: 1.000s | Command: polygraphy run m.onnx --trt --iterations 2",
    ]
    rec = parse_polygraphy_lines(lines, "two.log")
    [runner] = rec.polygraphy["runners"]
    assert runner["inference_ms"] == pytest.approx(3.0) and runner["iterations"] == 2
    assert runner["inputs"] == [{"name": "x", "dtype": "float32", "shape": [1, 3]}]  # not repeated


# ---- never raises -------------------------------------------------------------------------------

_SAMPLE_LINES = [line for name in POLY_FILES[:8] for line in _lines(name)[:120]]


def _check_record(rec: RunRecord) -> None:
    assert rec.kind in KINDS and rec.status in STATUSES
    json.dumps(rec.to_dict(), allow_nan=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=200), max_size=40))
def test_fuzz_random_text_never_raises(lines: list[str]) -> None:
    _check_record(parse_polygraphy_lines(lines, "fuzz.log"))
    sniff("\n".join(lines))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.corpus
@given(st.lists(st.tuples(st.integers(0, len(_SAMPLE_LINES) - 1), st.integers(0, 200), st.text(max_size=12)),
                min_size=1, max_size=80))
def test_fuzz_corrupted_corpus_lines_never_raise(edits: list[tuple[int, int, str]]) -> None:
    # Real lines, each cut at a random point and spliced with random text: near-valid input that
    # reaches every regex and block reader with broken numbers, brackets and names.
    lines = [_SAMPLE_LINES[i][:cut] + junk + _SAMPLE_LINES[i][cut:] for i, cut, junk in edits]
    _check_record(parse_polygraphy_lines(lines, "fuzz.log"))
    sniff("\n".join(lines))


def test_path_accepts_str(tmp_path: Path) -> None:
    path = tmp_path / "p.log"
    path.write_text("[I] RUNNING | Command: polygraphy run m.onnx --onnxrt\n", encoding="utf-8")
    rec = parse_polygraphy(str(path))
    assert (rec.status, rec.source) == ("incomplete", str(path))
