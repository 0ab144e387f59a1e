"""Failure classes and phases (issue #13): the process dying, device selection, plugin lookups, OOM by phase.

The messages are trtexec's, TensorRT's and the C/C++ runtime's own wording (reference §2.2, §5; glibc's
assert() format; trtexec's cudaCheck), on top of the corpus files that carry them (lix19937: a Myelin
assert() during the build; ristcctv: "Cannot find device ID 1!"; hackcn 10.16.0: a custom op's plugin not
found).
"""

from __future__ import annotations

import pytest
from corpus_location import CORPUS

from trtsweep.parsers.trtexec_log import parse_lines, parse_log
from trtsweep.records import FAILURE_PHASES, RunRecord

TS = "[01/10/2022-05:13:49] "
RUNNING = "&&&& RUNNING TensorRT.trtexec [TensorRT v8410] # trtexec --onnx=m.onnx"
FAILED = "&&&& FAILED TensorRT.trtexec [TensorRT v8410] # trtexec --onnx=m.onnx"
ECHO = [TS + "[I] === Model Options ===", TS + "[I] Format: ONNX", TS + "[I]",
        TS + "[I] === Device Information ===", TS + "[I] Selected Device: Orin", TS + "[I]",
        TS + "[I] TensorRT version: 8.4.10"]
PARSING = [TS + "[I] Start parsing network model"]
BUILDING = PARSING + [TS + "[I] Finish parsing network model",
                      TS + "[I] [TRT] Local timing cache in use. Profiling results in this builder pass will "
                           "not be stored."]
INFERRING = BUILDING + [TS + "[I] Engine built in 8.09138 sec.", TS + "[I] Created input binding for x with "
                        "dimensions 4x1x28x28", TS + "[I] Starting inference"]


def run(*lines: str) -> RunRecord:
    [rec] = parse_lines([RUNNING, *ECHO, *lines], "synthetic")
    return rec


# ---------------------------------------------------------------------------------------------- process died
@pytest.mark.parametrize(("stage", "phase"),
                         [(PARSING, "parse"), (BUILDING, "build"), (INFERRING, "inference")])
@pytest.mark.parametrize(("tail", "first_line"), [
    (["trtexec: /src/graph.cpp:1059: tensor_t* graph_t::f(value_t): Assertion `0 && \"Unsupported type\"' "
      "failed.", "Aborted (core dumped)"],
     "trtexec: /src/graph.cpp:1059: tensor_t* graph_t::f(value_t): Assertion `0 && \"Unsupported type\"' "
     "failed."),
    (["Segmentation fault (core dumped)"], "Segmentation fault (core dumped)"),
    (["Aborted"], "Aborted"),
    (["terminate called after throwing an instance of 'std::runtime_error'", "  what():  bad cast",
      "Aborted (core dumped)"], "terminate called after throwing an instance of 'std::runtime_error'"),
    (["Cuda failure: an illegal memory access was encountered", "Aborted (core dumped)"],
     "Cuda failure: an illegal memory access was encountered"),
])
def test_a_run_that_dies_is_a_crash_in_the_step_it_reached(stage, phase, tail, first_line) -> None:
    rec = run(*stage, *tail)  # no "&&&& FAILED" line: the process died
    assert rec.status == "failed" and rec.failure == "crash" and rec.failure_phase == phase
    assert rec.failure_text.splitlines()[0] == first_line


def test_uncaught_exception_shows_its_message() -> None:
    rec = run(*BUILDING, "terminate called after throwing an instance of 'std::out_of_range'",
              "  what():  stoi", "Aborted (core dumped)")
    assert rec.failure == "crash"
    assert rec.failure_text.splitlines()[:2] == ["terminate called after throwing an instance of "
                                                 "'std::out_of_range'", "what():  stoi"]


def test_cuda_out_of_memory_abort_is_oom() -> None:
    # cudaCheck prints "Cuda failure: <cudaGetErrorString>" and calls abort() (reference §2.2).
    rec = run(*INFERRING, "Cuda failure: out of memory", "Aborted (core dumped)")
    assert rec.status == "failed" and rec.failure == "oom" and rec.failure_phase == "inference"


def test_a_crash_line_after_the_closing_status_does_not_fail_the_run() -> None:
    passed = "&&&& PASSED TensorRT.trtexec [TensorRT v8410] # trtexec --onnx=m.onnx"
    [rec] = parse_lines([RUNNING, *ECHO, passed, "Segmentation fault (core dumped)"], "x")
    assert rec.status == "passed" and rec.failure is None and rec.failure_phase is None


# ---------------------------------------------------------------------------------------------- devices
def test_device_that_does_not_exist_is_an_invalid_argument() -> None:
    # 9.1+: the visible devices are listed, then this [I] line, then exit(1) without FAILED (reference §2.2).
    rec = run(TS + "[I] Available Devices: ", TS + '[I]   Device 0: "NVIDIA H100 PCIe" UUID: GPU-31e9692b',
              TS + "[I] Cannot find device ID 3!")
    assert rec.status == "failed" and rec.failure == "invalid_argument" and rec.failure_phase is None
    assert rec.failure_text == "[I] Cannot find device ID 3!"


def test_invalid_device_ordinal_abort_is_an_invalid_argument() -> None:
    # <= 9.0: cudaSetDevice fails in cudaCheck: "Cuda failure: invalid device ordinal", then abort().
    rec = run("Cuda failure: invalid device ordinal", "Aborted (core dumped)")
    assert rec.status == "failed" and rec.failure == "invalid_argument"


# ---------------------------------------------------------------------------------------------- plugins
FALLBACK = [
    TS + "[E] [TRT] ModelImporter.cpp:726: While parsing node number 3 [{op} -> \"out\"]:",
    TS + "[E] [TRT] ModelImporter.cpp:727: --- Begin node ---",
    "op_type: \"{op}\"",
    TS + "[E] [TRT] ModelImporter.cpp:728: --- End node ---",
    TS + "[E] [TRT] ModelImporter.cpp:731: ERROR: builtin_op_importers.cpp:4643 In function "
         "importFallbackPluginImporter:",
    "[8] Assertion failed: creator && \"Plugin not found, are the plugin name, version, and namespace "
    "correct?\"",
    TS + "[E] Failed to parse onnx file",
    TS + "[I] Finish parsing network model",
    TS + "[E] Parsing model failed",
    TS + "[E] Engine set up failed",
    FAILED,
]


@pytest.mark.parametrize(("op", "cls"), [
    ("EfficientNMSCustom_TRT", "plugin_missing"),  # a custom op: its plugin library is missing
    ("AddScalar", "plugin_missing"),
    ("Round", "unsupported_op"),  # a standard ONNX op this TensorRT has no importer for
    ("GridSample", "unsupported_op"),
])
def test_fallback_plugin_lookup_by_op_kind(op: str, cls: str) -> None:
    rec = run(*PARSING,
              TS + f"[I] [TRT] No importer registered for op: {op}. Attempting to import as plugin.",
              TS + f"[I] [TRT] Searching for plugin: {op}, plugin_version: 1, plugin_namespace: ",
              *(x.format(op=op) for x in FALLBACK))
    assert rec.status == "failed" and rec.failure == cls and rec.failure_phase == "parse"
    assert "Plugin not found" in rec.failure_text
    if cls == "unsupported_op":
        assert rec.failure_text.splitlines()[0].startswith(f"[I] [TRT] No importer registered for op: {op}")


def test_plugin_found_then_later_failure_keeps_its_own_class() -> None:
    # segformer-style: the op had no importer but its plugin was found; the run then fails on a shape.
    rec = run(*PARSING,
              TS + "[I] [TRT] No importer registered for op: LayerNorm. Attempting to import as plugin.",
              TS + "[I] [TRT] Successfully created plugin: LayerNorm", *BUILDING[1:], *INFERRING[-3:],
              TS + "[E] Error[3]: IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter "
                   "check failed, condition: satisfyProfile. Set dimension [8,3,64,64] for tensor input "
                   "does not satisfy any optimization profiles.)", TS + "[E] Inference set up failed", FAILED)
    assert rec.failure == "shape_error" and rec.failure_phase == "inference"


@pytest.mark.corpus
def test_real_custom_op_without_its_plugin() -> None:
    # hackcn__trt10.16.0_result-08-FAILED.log: op_type "AddScalar" (line 139), "[6] creator && "Plugin not
    # found, ..."" (line 148) in checkFallbackPluginImporter, then "[E] Failed to parse onnx file" (line 149)
    [rec] = parse_log(CORPUS / "hackcn__trt10.16.0_result-08-FAILED.log")
    assert (rec.failure, rec.failure_phase) == ("plugin_missing", "parse")


# ---------------------------------------------------------------------------------------------- OOM by phase
def test_out_of_memory_while_building_tactics() -> None:
    # reference §5, github.com/NVIDIA/TensorRT/issues/4258 (10.3)
    rec = run(*BUILDING,
              TS + "[W] [TRT] Requested amount of GPU memory (15485030400 bytes) could not be allocated. "
                   "There may not be enough free memory for allocation to succeed.",
              TS + "[E] Error[9]: Error Code: 9: Skipping tactic 0x0000000000000000 due to exception "
                   "[tunable_graph.cpp:create:117] autotuning: User allocator error allocating "
                   "15485030400-byte buffer",
              TS + "[E] Error[10]: IBuilder::buildSerializedNetwork: Error Code 10: Internal Error "
                   "(Could not find any implementation for node {ForeignNode[/Conv...]}.)",
              TS + "[E] Engine could not be created from network", TS + "[E] Engine set up failed", FAILED)
    assert (rec.failure, rec.failure_phase) == ("oom", "build")


def test_out_of_memory_allocating_for_inference() -> None:
    rec = run(*INFERRING[:-2], TS + "[E] Error[1]: [defaultAllocator.cpp::allocate::31] Error Code 1: Cuda "
              "Runtime (out of memory)", TS + "[E] Unable to create execution context for stream 0.",
              TS + "[E] Inference set up failed", FAILED)
    assert (rec.failure, rec.failure_phase) == ("oom", "inference")


def test_engine_from_another_version_fails_in_the_engine_set_up() -> None:
    # 10.x --loadEngine: deserialization happens at inference set-up, but the engine is what failed.
    [rec] = parse_lines([
        "&&&& RUNNING TensorRT.trtexec [TensorRT v101600] # trtexec --loadEngine=m.plan",
        TS + "[I] Loading standard plugins",
        TS + "[E] Error[6]: IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error (The engine plan "
             "file is not compatible with this version of TensorRT, expecting library version 10.16.0.72 "
             "got 10.3.0.26, please rebuild.)",
        TS + "[E] Engine deserialization failed", TS + "[E] Got invalid engine!",
        TS + "[E] Inference set up failed",
        "&&&& FAILED TensorRT.trtexec [TensorRT v101600] # trtexec --loadEngine=m.plan"], "x")
    assert (rec.failure, rec.failure_phase) == ("engine_mismatch", "build")


def test_phase_only_on_failed_records_and_from_the_known_set() -> None:
    passed = run(*INFERRING, "&&&& PASSED TensorRT.trtexec [TensorRT v8410] # trtexec --onnx=m.onnx")
    assert passed.status == "passed" and passed.failure_phase is None
    cut = run(*BUILDING)
    assert cut.status == "incomplete" and cut.failure_phase is None
    assert run(*BUILDING, "Segmentation fault").failure_phase in FAILURE_PHASES


def test_phase_survives_the_record_round_trip() -> None:
    from trtsweep.records import record_from_dict

    rec = run(*BUILDING, "Segmentation fault (core dumped)")
    back = record_from_dict(rec.to_dict())
    assert (back.failure, back.failure_phase) == ("crash", "build")
