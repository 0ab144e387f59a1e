"""Exact values for the 26 corpus files added in the last round, each read by hand from the file.

Every expected value carries the line (or lines) of the file it comes from; none was copied from parser
output. Where the two disagreed, the parser was fixed (see the commit history): the older Polygraphy
"Engine Inputs" report (fpenet), the C assert() crash (lix19937), "Cannot find device ID" (ristcctv), the
custom-op plugin lookup and the [I] notes.
"""

from __future__ import annotations

import pytest
from corpus_location import CORPUS

from trtsweep.parsers import parse_file
from trtsweep.records import RunRecord

pytestmark = pytest.mark.corpus


def runs(name: str) -> list[RunRecord]:
    return parse_file(CORPUS / name)


def one(name: str) -> RunRecord:
    records = runs(name)
    assert len(records) == 1, [r.status for r in records]
    return records[0]


def codes(rec: RunRecord) -> list[str]:
    return [w.code for w in rec.warnings]


def notes(rec: RunRecord) -> list[str]:
    return [n.code for n in rec.notes]


def layer(rec: RunRecord, name: str):
    assert rec.layers is not None
    return next(x for x in rec.layers if x.name == name)


# ---------------------------------------------------------------------------------------------- trtexec logs
def test_bugdev021_trt852_shell_prompt_before_the_run() -> None:
    rec = one("bugdev021__trt8.5.2_yolov8seg_nms_fp16_workspace_deprecated.log")
    # line 1 is the shell prompt; line 2: "&&&& RUNNING TensorRT.trtexec [TensorRT v8502] # trtexec ..."
    assert rec.kind == "trtexec_log" and rec.status == "passed"  # last line: "&&&& PASSED ..."
    assert rec.trt_version == "8.5.2"  # line 78: "TensorRT version: 8.5.2"
    assert rec.command == ("trtexec --onnx=yolov8n-seg-nms.onnx --saveEngine=yolov8-seg-nms.trt "
                           "--workspace=8192 --fp16 --plugins")
    # lines 69-76: the device block
    assert rec.device.name == "NVIDIA GeForce RTX 3090" and rec.device.compute_capability == "8.6"
    assert rec.device.sm_count == 82 and rec.device.clock_mhz == 1695.0
    assert rec.device.memory_clock_mhz == 9751.0
    assert rec.device.memory_gib == pytest.approx(24268 / 1024)
    assert rec.options["precision"] == ["fp32", "fp16"]  # line 13: "Precision: FP32+FP16"
    assert rec.options["memory_pools"]["workspace"] == 8192.0  # line 10: "Memory Pools: workspace: 8192 MiB"
    assert rec.options["percentiles"] == [90.0, 95.0, 99.0]  # line 60
    assert rec.build.engine_build_s == 351.008  # line 120: "Engine built in 351.008 sec."
    assert rec.build.engine_deserialize_s == 0.0285541  # line 125
    assert rec.build.engine_size_mib == 8.0  # line 121: "[I] [TRT] Loaded engine size: 8 MiB"
    assert rec.throughput_qps == 196.933  # line 210
    # line 211: "Latency: min = 9.57434 ms, max = 9.91241 ms, mean = 9.77405 ms, median = 9.76929 ms,
    # percentile(90%) = 9.82129 ms, percentile(95%) = 9.8645 ms, percentile(99%) = 9.89069 ms"
    assert (rec.latency_ms.min, rec.latency_ms.max, rec.latency_ms.mean, rec.latency_ms.median) == (
        9.57434, 9.91241, 9.77405, 9.76929)
    assert rec.latency_ms.percentiles == {"p90": 9.82129, "p95": 9.8645, "p99": 9.89069}
    assert rec.enqueue_ms.median == 1.43552  # line 212
    assert rec.h2d_ms.mean == 1.63357  # line 213
    # line 214
    assert rec.gpu_compute_ms.median == 4.9054 and rec.gpu_compute_ms.percentiles["p99"] == 5.02271
    assert rec.d2h_ms.max == 3.28564  # line 215
    assert rec.host_walltime_s == 3.01626 and rec.total_gpu_compute_s == 2.91731  # lines 216-217
    assert rec.end_to_end_ms is None  # 8.5 prints no End-to-End line
    # line 3 is the only trtexec [W] line (the [W] [TRT] lines are TensorRT's, not trtexec's warnings)
    assert codes(rec) == ["deprecated_flag"]
    assert "--workspace flag has been deprecated" in rec.warnings[0].text


def test_hackcn_trt10141_profile_run_notes_and_layers() -> None:
    rec = one("hackcn__trt10.14.1_result-05.log")
    assert rec.status == "passed" and rec.trt_version == "10.14.1"  # lines 1, 66, 108
    assert rec.device.name == "NVIDIA RTX 6000 Ada Generation" and rec.device.sm_count == 142  # lines 53, 57
    assert rec.options["load_engine"] == "./model-trained.trt"  # line 1: --loadEngine=./model-trained.trt
    assert rec.options["export_times"] == "./model-trained-exportTimes.json"  # line 46
    assert rec.build.engine_deserialize_s == 0.0222253 and rec.build.engine_size_mib == 6.0  # lines 69, 68
    # line 84: the e2e timing is not reported (--dumpProfile without --separateProfileRun): no summary
    assert rec.throughput_qps is None and rec.gpu_compute_ms is None
    assert notes(rec) == ["profile_total_inaccurate"]
    assert "--separateProfileRun" in rec.notes[0].text  # line 85, the advice that follows
    # line 76 (dynamic shape) and line 107 ("The engine uses 2 auxiliary streams, ...") are the [W] lines
    assert codes(rec) == ["dynamic_shape_missing", "other"]
    assert rec.options["inference_shapes"] == {"x": "1x1x28x28"}  # line 76: "... setting shape to: 1x1x28x28"
    # lines 89-104: 16 profile rows (numbers first), then "Total" (line 105)
    assert len(rec.layers) == 16
    # line 89: "141.32  0.0067  0.0060  9.4  Reformatting CopyNode for Input Tensor 0 ..."
    first = rec.layers[0]
    assert first.name == "Reformatting CopyNode for Input Tensor 0 to node_conv2d + node_relu"
    assert (first.time_ms, first.median_ms, first.time_pct, first.is_reformat) == (0.0067, 0.0060, 9.4, True)
    linear = layer(rec, "node_linear_myl7_1")  # line 96: "194.58  0.0092  0.0092  12.9  node_linear_myl7_1"
    assert (linear.time_ms, linear.time_pct) == (0.0092, 12.9)


def test_hackcn_trt10161_load_inputs_and_dump_output() -> None:
    rec = one("hackcn__trt10.16.1_result-07.log")
    assert rec.status == "passed" and rec.trt_version == "10.16.1"  # lines 1, 67, 505
    assert rec.device.name == "NVIDIA H100 PCIe" and rec.device.sm_count == 114  # lines 54, 58
    assert rec.device.compute_capability == "9.0" and rec.device.clock_mhz == 1755.0  # lines 57, 62
    assert rec.build.engine_deserialize_s == 0.0246159 and rec.build.engine_size_mib == 6.0  # lines 70, 69
    assert rec.throughput_qps == 12764.5  # line 489
    assert rec.latency_ms.median == 0.0621338 and rec.latency_ms.percentiles["p99"] == 0.0712891  # line 490
    assert rec.enqueue_ms.mean == 0.0413088  # line 491
    assert rec.gpu_compute_ms.min == 0.0474243 and rec.gpu_compute_ms.max == 0.166016  # line 493
    assert rec.d2h_ms.percentiles == {"p90": 0.00415039, "p95": 0.00415039, "p99": 0.0045166}  # line 494
    assert rec.host_walltime_s == 3.00011 and rec.total_gpu_compute_s == 2.02334  # lines 495-496
    assert rec.gpu_compute_cv_pct == 7.22113  # line 497: "coefficient of variance = 7.22113%"
    assert codes(rec) == ["dynamic_shape_missing", "unstable_gpu_compute"]  # lines 73, 497
    assert "locking GPU clock frequency" in rec.warnings[1].text  # line 498, the advice
    assert rec.layers is None  # the --dumpOutput tensors (lines 501-504) are not layers


def test_hackcn_trt803_fp16_verbose_layers_on_a_gtx1070() -> None:
    rec = one("hackcn__trt8.0.3_output-fp16.txt")
    assert rec.status == "passed" and rec.trt_version == "8.0.3"  # line 69: "TensorRT version: 8003"
    assert rec.options["precision"] == ["fp32", "fp16"]  # line 11
    assert rec.options["workspace_mib"] == 1024.0  # line 8: "Workspace: 1024 MiB"
    # line 25: "Input build shape: x:0=1x1x28x28+4x1x28x28+16x1x28x28"
    assert rec.options["build_shapes"] == {
        "x:0": {"min": "1x1x28x28", "opt": "4x1x28x28", "max": "16x1x28x28"}}
    assert rec.options["inference_shapes"] == {"x:0": "4x1x28x28"}  # line 33
    assert rec.device.name == "NVIDIA GeForce GTX 1070" and rec.device.compute_capability == "6.1"  # 60-61
    assert rec.device.memory_gib == pytest.approx(8111 / 1024)  # line 64
    assert rec.build.engine_build_s == 5.6936  # line 1029
    assert rec.build.engine_size_mib == 12.0  # line 1020: "Loaded engine size: 12 MB" (8.0 says MB)
    assert rec.throughput_qps == 6330.83  # line 2948
    assert rec.end_to_end_ms.median == 0.289673  # line 2950
    assert rec.enqueue_ms.percentiles == {"p99": 0.0604248}  # line 2951: a single percentile in 8.0
    assert rec.gpu_compute_ms.mean == 0.15302  # line 2953
    assert rec.host_walltime_s == 3.00039 and rec.total_gpu_compute_s == 2.90662  # lines 2955-2956
    # lines 1009-1018: 10 verbose layer lines; a GTX 1070 has no fast FP16, so every output is Float
    assert len(rec.layers) == 10
    # line 1009: "Layer(CaskConvolution): Conv__25 + Relu, Tactic: ..., -> Relu:0[Float(...)]"
    conv = rec.layers[0]
    assert (conv.name, conv.type, conv.precision) == ("Conv__25 + Relu", "CaskConvolution", "fp32")
    assert conv.fused_from == ["Conv__25", "Relu"]
    top_k = rec.layers[-1]  # line 1018: outputs [Float(-2,1)] and an index output [Int32(-2,1)]
    assert (top_k.name, top_k.type, top_k.precision) == ("y + z", "LogSoftmaxTopK", "fp32")
    assert sum(x.is_reformat for x in rec.layers) == 2  # lines 1011 and 1013


def test_hackcn_trt823_load_engine_fp32() -> None:
    rec = one("hackcn__trt8.2.3_result-load-FP32.txt")
    assert rec.status == "passed" and rec.trt_version == "8.2.3"  # lines 1, 71, 2021
    assert rec.options["load_engine"] == "./model-FP32.plan" and rec.options["precision"] == ["fp32"]  # 1, 11
    assert rec.build.engine_load_s == 0.529544 and rec.build.engine_size_mib == 12.0  # lines 116, 109
    assert rec.throughput_qps == 6199.99  # line 1999
    assert rec.latency_ms.min == 0.156128 and rec.latency_ms.percentiles == {"p99": 0.164795}  # line 2000
    assert rec.end_to_end_ms.mean == 0.284975  # line 2001
    assert rec.enqueue_ms.max == 0.170715  # line 2002
    assert rec.d2h_ms.max == 0.00506592  # line 2005
    assert rec.host_walltime_s == 3.00049 and rec.total_gpu_compute_s == 2.8484  # lines 2006-2007
    assert rec.layers is None  # no layer information in this log (only --exportLayerInfo to a file)
    assert rec.warnings == []  # captured from stdout only: no [W] lines at all


def test_hackcn_trt841_load_and_inference() -> None:
    rec = one("hackcn__trt8.4.1_result-loadAndInference.log")
    assert rec.status == "passed" and rec.trt_version == "8.4.1"  # lines 1, 72, 2019
    assert rec.options["inference_shapes"] == {"tensor-0": "4x1x28x28"}  # line 36
    assert rec.options["percentiles"] == [99.0]  # line 54: "Percentile: 99"
    assert rec.build.engine_load_s == 0.011387 and rec.build.engine_deserialize_s == 0.429032  # 111, 118
    assert rec.build.engine_size_mib == 12.0  # line 113
    assert rec.throughput_qps == 6207.5  # line 1999
    assert rec.latency_ms.percentiles == {"p99": 0.388947}  # line 2000
    assert rec.end_to_end_ms is None  # 8.4 prints no End-to-End line
    assert rec.enqueue_ms.median == 0.0305176  # line 2001
    assert rec.gpu_compute_ms.min == 0.153564 and rec.gpu_compute_ms.max == 0.516113  # line 2003
    assert rec.host_walltime_s == 3.0004 and rec.total_gpu_compute_s == 2.97849  # lines 2005-2006


def test_hackcn_trt860_load_engine_unstable() -> None:
    rec = one("hackcn__trt8.6.0_result-03.log")
    assert rec.status == "passed" and rec.trt_version == "8.6.0"  # lines 1, 90, 6489
    assert rec.device.name == "NVIDIA GeForce RTX 3090" and rec.device.sm_count == 82  # lines 79, 81
    assert rec.device.clock_mhz == 1695.0  # line 85: "Application Compute Clock Rate: 1.695 GHz"
    assert rec.options["streams"] == 1  # line 55: "Inference Streams: 1"
    assert rec.build.engine_load_s == 0.00682958 and rec.build.engine_deserialize_s == 0.00584987  # 140, 144
    assert rec.build.engine_size_mib == 6.0  # line 141
    assert rec.throughput_qps == 21009.2  # line 6467
    assert rec.latency_ms.percentiles == {"p90": 0.0532227, "p95": 0.053772, "p99": 0.0630798}  # line 6468
    assert rec.enqueue_ms.min == 0.0224609  # line 6469
    assert rec.h2d_ms.max == 0.131775  # line 6470
    assert rec.gpu_compute_ms.median == 0.0439453  # line 6471
    assert rec.host_walltime_s == 3.00012 and rec.total_gpu_compute_s == 2.84346  # lines 6473-6474
    assert rec.gpu_compute_cv_pct == 44.3558  # line 6475
    assert codes(rec) == ["unstable_gpu_compute"]


def test_jetsontrtexec_trt7_resnet50_seven_batches() -> None:
    records = runs("jetsontrtexec__raw_ResNet50_N2_None_int8_10.txt")
    # seven RUNNING/PASSED pairs: lines 1/177, 178/303, 304/411, 412/506, 507/595, 596/681, 682/764
    assert len(records) == 7 and all(r.status == "passed" for r in records)
    assert [r.options["batch"] for r in records] == [1, 4, 8, 16, 32, 64, 128]  # "Batch: N" lines 28, 205 ...
    assert [r.throughput_qps for r in records] == [318.785, 595.253, 700.443, 717.65, 775.89, 848.189,
                                                    508.664]  # lines 164, 290, 398, 493, 582, 668, 751
    first = records[0]
    assert first.trt_version is None  # a 7.x build prints no version
    assert first.options["precision"] == ["fp32", "int8"]  # line 12: "Precision: FP32+INT8"
    # lines 158-176: the 7.1 block summary of the first run
    assert (first.latency_ms.min, first.latency_ms.max, first.latency_ms.mean, first.latency_ms.median) == (
        3.05505, 5.60945, 3.1141, 3.09796)
    assert first.latency_ms.percentiles == {"p99": 3.4563}  # line 163
    assert first.end_to_end_ms.percentiles == {"p99": 3.47168} and first.end_to_end_ms.min == 3.06653
    assert first.enqueue_ms.median == 3.05493 and first.enqueue_ms.mean is None  # lines 166-169
    assert first.gpu_compute_ms.mean == 3.05402 and first.gpu_compute_ms.percentiles == {"p99": 3.41711}
    assert first.host_walltime_s == 3.00516 and first.total_gpu_compute_s == 2.92575  # lines 165, 176
    assert records[1].latency_ms.median == 6.65775  # line 288
    assert records[2].gpu_compute_ms.percentiles == {"p99": 12.8194}  # line 409


def test_khairul_trt7_int8_resnet50_seven_batches() -> None:
    records = runs("khairul__trt7_jetson_int8_resnet50_batches.txt")
    assert len(records) == 7 and all(r.status == "passed" for r in records)  # RUNNING lines 1, 95, ..., 487
    assert [r.options["batch"] for r in records] == [1, 4, 8, 16, 32, 64, 128]  # lines 28, 122, ..., 514
    assert [r.throughput_qps for r in records] == [18.0758, 20.0093, 21.3609, 22.3395, 23.453, 24.7251,
                                                    24.7792]  # lines 81, 162, 241, 319, 396, 473, 550
    assert [r.host_walltime_s for r in records] == [3.09807, 3.39842, 3.74516, 4.29733, 5.45773, 7.76538,
                                                     15.4969]  # lines 82, 163, 242, 320, 397, 474, 551
    first, last = records[0], records[-1]
    assert first.options["precision"] == ["fp32", "int8"]  # line 12
    assert first.latency_ms.median == 55.2737 and first.end_to_end_ms.median == 55.2913  # line 79
    assert first.enqueue_ms.min == 3.87885 and first.enqueue_ms.max == 5.10864  # lines 84-85
    assert first.gpu_compute_ms.percentiles == {"p99": 57.4766}  # line 92
    assert first.total_gpu_compute_s == 3.09382  # line 93
    assert last.gpu_compute_ms.median == 5155.22 and last.total_gpu_compute_s == 15.4726  # lines 561-562


def test_lidarai_trt823_three_layer_sources_joined() -> None:
    rec = one("lidarai__trt8.2.3_a100_centerpoint_rpn_verbose_dumpLayerInfo_dumpProfile.log")
    assert rec.status == "passed" and rec.trt_version == "8.2.3"  # lines 1, 71, 16675
    assert rec.device.name == "NVIDIA A100-PCIE-40GB" and rec.device.sm_count == 108  # lines 62, 64
    assert rec.device.clock_mhz == 1410.0 and rec.device.memory_clock_mhz == 1215.0  # lines 65, 69
    assert rec.options["precision"] == ["fp32", "fp16"]  # line 11
    assert rec.build.engine_build_s == 85.4169 and rec.build.engine_size_mib == 13.0  # lines 16200, 16193
    assert rec.throughput_qps == 424.281  # line 16554
    assert rec.end_to_end_ms.percentiles == {"p99": 4.6543}  # line 16556
    assert rec.gpu_compute_ms.median == 2.35217  # line 16559
    assert rec.host_walltime_s == 3.00508 and rec.total_gpu_compute_s == 2.99837  # lines 16561-16562
    # 94 layers: verbose layer info (lines 16097-16190), --dumpLayerInfo (16204-16297), profile (16579-16672)
    assert len(rec.layers) == 94
    conv = layer(rec, "Conv_15 + Relu_16")
    assert conv.type == "CaskConvolution" and conv.precision == "fp16"  # line 16098: "... [Half(1,128,...)]"
    # line 16580: "Conv_15 + Relu_16  83.17  0.1065  4.1"
    assert (conv.time_ms, conv.time_pct) == (0.1065, 4.1)
    assert conv.fused_from == ["Conv_15", "Relu_16"]
    # line 16672: "Reformatting CopyNode for Output Tensor 0 to Conv_169  5.68  0.0073  0.3"
    last = rec.layers[-1]
    assert last.name == "Reformatting CopyNode for Output Tensor 0 to Conv_169"
    assert last.is_reformat and (last.time_ms, last.time_pct) == (0.0073, 0.3)


def test_lix19937_trt8410_myelin_assert_is_a_build_crash() -> None:
    rec = one("lix19937__trt8.4.10_orin_myelin_assert_crash.log")
    assert rec.trt_version == "8.4.10"  # line 72: "TensorRT version: 8.4.10"
    assert rec.device.name == "Orin" and rec.device.compute_capability == "8.7"  # lines 63-64
    assert rec.device.sm_count == 16 and rec.device.memory_gib == pytest.approx(28893 / 1024)  # lines 65, 67
    assert rec.options["precision"] == ["fp32", "fp16", "int8"]  # line 11: "Precision: FP32+FP16+INT8"
    # line 348, the last: "trtexec: /root/gpgpu/.../graph.cpp:1059: ...: Assertion `0 && "Unsupported type"'
    # failed." -- the process died (no &&&& FAILED line), after "Finish parsing network model" (line 237)
    # while timing a Myelin tactic: a crash during the build.
    assert rec.status == "failed" and rec.failure == "crash" and rec.failure_phase == "build"
    assert "Assertion `0 && \"Unsupported type\"' failed." in rec.failure_text
    assert rec.failure_text.startswith(
        "trtexec: /root/gpgpu/MachineLearning/myelin/src/compiler/ir/graph.cpp:1059")
    assert rec.throughput_qps is None


def test_qwenimage_trt10130_summary_tail_with_its_command() -> None:
    rec = one("qwenimage__trt10.13.0_bf16_dynamic_dit_summary_tail.log")
    # line 18: "&&&& PASSED TensorRT.trtexec [TensorRT v101300] [b35] # trtexec ..."
    assert rec.status == "passed"
    assert rec.trt_version == "10.13.0"
    assert rec.options["precision"] == ["fp32", "bf16"]  # line 18: --bf16 (the echo is not in the tail)
    assert rec.options["build_shapes"]["hidden_states"] == {"min": "1x3364x64", "opt": "1x6032x64",
                                                            "max": "1x10816x64"}  # line 18
    assert rec.options["inference_shapes"]["timestep"] == "1"  # line 18: --shapes=...,timestep:1,...
    assert rec.throughput_qps == 0.562059  # line 6
    assert rec.latency_ms.percentiles == {"p90": 1673.26, "p95": 1674.64, "p99": 1674.64}  # line 7
    assert rec.enqueue_ms.mean == 1663.95  # line 8
    assert rec.h2d_ms.min == 0.631348  # line 9
    assert rec.gpu_compute_ms.median == 1667.19  # line 10
    assert rec.d2h_ms.max == 0.0664062  # line 11
    assert rec.host_walltime_s == 17.7917 and rec.total_gpu_compute_s == 16.662  # lines 12-13
    assert codes(rec) == ["enqueue_bound"]  # line 14
    assert "--useCudaGraph" in rec.warnings[0].text  # line 15, the advice
    assert rec.device.name is None  # the tail holds no device block


def test_ristcctv_trt1080_missing_device_is_an_invalid_argument() -> None:
    rec = one("ristcctv__trt10.8.0_device_id_not_found_FAILED.log")
    assert rec.trt_version == "10.8.0"  # line 1: "[TensorRT v100800] [b43]"
    assert rec.options["precision"] == ["fp32", "fp16"]  # line 9
    assert rec.options["build_shapes"] == {"images": {"min": "1x3x640x640", "opt": "3x3x640x640",
                                                      "max": "10x3x640x640"}}  # line 47
    assert rec.options["inference_shapes"] == {"images": "3x3x640x640"}  # line 59
    # lines 91-93: "Available Devices:" lists only Device 0, then "[I] Cannot find device ID 1!" and the log
    # ends (trtexec exits with no FAILED line, reference §2.2): --device=1 was a bad argument
    assert rec.status == "failed" and rec.failure == "invalid_argument"
    assert rec.failure_text == "[I] Cannot find device ID 1!"
    assert rec.failure_phase is None  # it failed before parsing, building or inference began
    assert rec.device.name is None  # no device was selected


def test_segformer_trt841_truncated_while_parsing() -> None:
    rec = one("segformer__trt8.4.1_a10_int8_dynamic_plugin_verbose_TRUNCATED.txt")
    # the file ends in the middle of the ONNX parse (last line: "Registering layer:
    # backbone.block2.1.attn.q.bias for ONNX node: ...")
    assert rec.status == "incomplete" and rec.failure is None and rec.failure_phase is None
    assert rec.trt_version == "8.4.1" and rec.device.name == "NVIDIA A10"  # lines 72, 63
    assert rec.device.sm_count == 72 and rec.device.memory_clock_mhz == 6251.0  # lines 65, 70
    assert rec.options["precision"] == ["fp32", "int8"]  # line 11
    assert rec.options["plugins"] == ["./LayerNormPlugin/LayerNorm.so"]  # line 33
    assert rec.options["build_shapes"] == {"input": {"min": "1x3x1024x1024", "opt": "4x3x1024x1024",
                                                     "max": "8x3x1024x1024"}}  # line 28
    assert rec.options["inference_shapes"] == {"input": "4x3x1024x1024"}  # line 36
    # "No importer registered for op: LayerNorm" (line 1140 and on) is followed each time by "Successfully
    # created plugin: LayerNorm": the plugin was found, nothing failed
    assert rec.throughput_qps is None and rec.layers is None


def test_sparsedrive_trt853_map_det_profile_838_layers() -> None:
    rec = one("sparsedrive__trt8.5.3_map_det_dumpProfile.log")
    assert rec.status == "passed" and rec.trt_version == "8.5.3"  # lines 1, 76, 996
    assert rec.device.name == "NVIDIA GeForce RTX 3090"  # line 67
    assert rec.device.memory_gib == pytest.approx(24130 / 1024)  # line 71
    assert rec.options["plugins"] == ["projects/trt_plugin/build/libSparseDrivePlugin.so"]  # line 1
    assert rec.options["export_profile"] == "my_profile.json"  # line 64
    assert rec.build.engine_load_s == 0.213515 and rec.build.engine_deserialize_s == 0.381095  # lines 78, 83
    assert rec.build.engine_size_mib == 156.0  # line 79: "Loaded engine size: 156 MiB"
    assert rec.throughput_qps is None and notes(rec) == ["profile_total_inaccurate"]  # line 151
    assert rec.warnings == []
    # lines 156-993: 838 profile rows (name first, with a median column), then "Total" (line 994)
    assert len(rec.layers) == 838
    # line 156: "Reformatting CopyNode for Network Input prev_map_feat 1.50 0.0127 0.0051 0.1"
    first = rec.layers[0]
    assert first.name == "Reformatting CopyNode for Network Input prev_map_feat"
    assert (first.time_ms, first.median_ms, first.time_pct) == (0.0127, 0.0051, 0.1)


def test_trtelan_trt841_indented_failed_tail() -> None:
    # Every line of the file is indented by four spaces (pasted from a Markdown code block).
    rec = one("trtelan__trt8.4.1_a10_reflectpad_parse_FAILED_tail.log")
    # line 10: "&&&& FAILED ... [TensorRT v8401]"
    assert rec.status == "failed" and rec.trt_version == "8.4.1"
    # line 3: "[6] Invalid Node - Pad_13" under the ModelImporter error of line 2;
    # line 5: "Failed to parse onnx file"
    assert rec.failure == "parse_error" and rec.failure_phase == "parse"
    assert "[6] Invalid Node - Pad_13" in rec.failure_text
    assert rec.options["onnx"] == "unit.onnx" and rec.options["workspace_mib"] == 40960.0  # line 10
    assert rec.options["build_shapes"] == {  # line 10: --minShapes=lr:1x3x64x64 ...
        "lr": {"min": "1x3x64x64", "opt": "1x3x80x80", "max": "1x3x120x120"}}


# ---------------------------------------------------------------------------------------------- Polygraphy
def test_fpenet_polygraphy_inspect_engine_older_format() -> None:
    rec = one("fpenet__polygraphy_inspect_engine_tao_fpenet.txt")
    # An older Polygraphy (TAO container): "---- 1 Engine Inputs ----", "(48 layers)"; no command line.
    assert rec.kind == "polygraphy_inspect" and rec.status == "passed"
    poly = rec.polygraphy
    assert poly["model_kind"] == "engine" and poly["model_name"] == "Unnamed Network 0"  # lines 2-3
    assert poly["layer_count"] == 48  # line 3: "Explicit Batch Engine (48 layers)"
    assert poly["inputs"] == [{"name": "input_face_images:0", "dtype": "float32", "shape": [-1, 1, 80, 80]}]
    assert [o["name"] for o in poly["outputs"]] == ["softargmax/strided_slice:0",
                                                    "softargmax/strided_slice_1:0"]  # lines 9-10
    assert poly["outputs"][1]["shape"] == [-1, 80]  # line 10
    assert poly["device_memory_bytes"] == 15833600  # line 13
    assert poly["profiles"] == [{"profile": 0, "inputs": {"input_face_images:0": {
        "min": [1, 1, 80, 80], "opt": [1, 1, 80, 80], "max": [2, 1, 80, 80]}}}]  # lines 16-17


def test_hackcn_poly038_inspect_onnx_model() -> None:
    rec = one("hackcn__poly0.38_result-inspectOnnxModel.log")
    assert rec.kind == "polygraphy_inspect" and rec.status == "passed"
    poly = rec.polygraphy
    assert poly["model_name"] == "onnx_graphsurgeon_graph" and poly["opset"] == 11  # line 4
    assert poly["inputs"] == [{"name": "tensor-0", "dtype": "float32", "shape": ["B", 1, 28, 28]}]  # line 7
    assert poly["outputs"] == [{"name": "tensor-15", "dtype": "int32", "shape": []}]  # line 10
    assert poly["initializer_count"] == 9  # line 12: "---- 9 Initializer(s) ----"
    assert poly["node_count"] == 15  # line 536: "---- 15 Node(s) ----"
    # lines 537-620: Node 0 ... Node 14
    assert poly["op_counts"] == {"Conv": 2, "Relu": 3, "MaxPool": 2, "Transpose": 1, "Reshape": 1,
                                 "MatMul": 2, "Add": 2, "Softmax": 1, "ArgMax": 1}


def test_hackcn_poly04926_two_runs_compared() -> None:
    rec = one("hackcn__poly0.49.26_Run_result-09.log")
    assert rec.kind == "polygraphy_run" and rec.status == "passed"  # lines 29, 215: PASSED
    assert rec.trt_version == "10.16.2.5"  # line 8: "Loaded Module: tensorrt | Version: 10.16.2.5"
    assert rec.build.engine_size_mib == 6.0  # line 9: "Loaded engine size: 6 MiB"
    poly = rec.polygraphy
    assert poly["version"] == "0.49.26"  # line 2
    assert [i["runtime_s"] for i in poly["invocations"]] == [1.555, 1.447]  # lines 29, 215
    assert [i["status"] for i in poly["invocations"]] == ["passed", "passed"]
    times = {r["name"]: r["inference_ms"] for r in poly["runners"]}
    # lines 26 and 51: "| Completed 1 iteration(s) in 3.135 ms | Average inference time: 3.135 ms."
    assert times == {"trt-runner-N0-07/07/26-02:10:00": 3.135, "trt-runner-N0-07/07/26-02:10:04": 2.737}
    assert [c["output"] for c in poly["comparisons"]] == ["y", "z"]  # lines 55, 148
    assert all(c["passed"] for c in poly["comparisons"])  # lines 147, 212
    assert poly["comparisons"][0]["atol"] == 1e-05 and poly["comparisons"][0]["rtol"] == 1e-05
    assert poly["accuracy_summaries"][0]["passed_iterations"] == 1  # line 214: "Passed: 1/1 iterations"


# ---------------------------------------------------------------------------------------------- JSON exports
def test_fuzzylabs_mobilenet_v2_layer_info() -> None:
    rec = one("fuzzylabs__mobilenet_v2_fp16.graph.json")
    assert rec.kind == "export_layer_info" and rec.status == "passed"
    assert len(rec.layers) == 57  # 57 "LayerType" keys; "Bindings" at line 2399
    assert rec.options["bindings"] == ["input", "output"]  # lines 2399-2400
    # lines 2-3: "Reformatting CopyNode for Input Tensor 0 to ...", "LayerType": "Reformat"
    first = rec.layers[0]
    assert first.type == "Reformat" and first.is_reformat and first.precision == "fp16"
    assert first.name == ("Reformatting CopyNode for Input Tensor 0 to /features/features.0/features.0.0/Conv"
                          " + /features/features.0/features.0.2/Clip")


def test_hackcn_trt860_model_information_names_only() -> None:
    rec = one("hackcn__trt8.6.0_modelInformation.log")
    assert rec.kind == "export_layer_info" and rec.options["verbosity"] == "layer_names_only"  # plain strings
    assert len(rec.layers) == 15  # lines 1-15
    assert rec.options["bindings"] == ["tensor-0", "tensor-15"]  # lines 17-18
    assert rec.layers[0].name == "Reformatting CopyNode for Input Tensor 0 to Conv-1 + ReLU-2"  # line 1
    assert rec.layers[0].type is None and rec.layers[0].precision is None  # names only: nothing else known
    assert rec.layers[13].fused_from == ["Softmax-14", "ArgMax-15"]  # line 14: "Softmax-14 + ArgMax-15"


def test_modelacc_trt824_levit_layer_names() -> None:
    rec = one("modelacc__trt8.2.4_levit_exportLayerInfo_names_only.json")
    assert rec.kind == "export_layer_info" and len(rec.layers) == 435  # lines 1-435
    assert rec.options["bindings"] == ["input", "output"]  # lines 437-438
    assert rec.layers[0].name == "onnx::MatMul_1172 + (Unnamed Layer* 23) [Shuffle]"  # line 1
    assert rec.layers[-1].name == "PWN(onnx::Div_1158 + (Unnamed Layer* 1932) [Shuffle], Div_658)"  # line 435


def test_lix19937ea_profile_1309_layers_501_runs() -> None:
    rec = one("lix19937ea__dmt_profile_tofp16.json")
    assert rec.kind == "export_profile" and rec.status == "passed"
    assert rec.options["profile_count"] == 501  # line 2: { "count" : 501 }
    assert len(rec.layers) == 1309  # lines 3-1311
    last = rec.layers[-1]  # line 1311: "__myl_Sigm_myl8_1204", "averageMs" : 0.00575985, "medianMs" : 0.00576
    assert last.name == "__myl_Sigm_myl8_1204"
    assert (last.time_ms, last.median_ms, last.time_pct) == (0.00575985, 0.00576, 0.0136735)


def test_trex_a100_fp16_resnet_graph() -> None:
    rec = one("trex__A100_fp16_resnet.onnx.engine.graph.json")
    assert rec.kind == "export_layer_info" and len(rec.layers) == 36
    assert rec.options["bindings"] == ["input.1", "191"]  # line 1057
    first = rec.layers[0]  # lines 2-9: a Reformat whose input is "Row major linear FP32"
    assert first.name == "Reformatting CopyNode for Input Tensor 0 to Conv_0 + Relu_1"
    assert first.type == "Reformat"
    assert layer(rec, "Conv_0 + Relu_1").type == "CaskConvolution"  # line 23


def test_trex_a100_fp16_resnet_profile() -> None:
    rec = one("trex__A100_fp16_resnet.onnx.engine.profile.json")
    assert rec.kind == "export_profile" and rec.options["profile_count"] == 1  # line 2: { "count" : 1 }
    assert len(rec.layers) == 36
    conv = layer(rec, "Conv_0 + Relu_1")  # line 4: "averageMs" : 0.111616, "medianMs" : 0.111616, 10.9768 %
    assert (conv.time_ms, conv.median_ms, conv.time_pct) == (0.111616, 0.111616, 10.9768)
    assert rec.layers[0].time_pct == 7.95569  # line 3


def test_trex_a100_fp16_resnet_timing() -> None:
    rec = one("trex__A100_fp16_resnet.onnx.engine.timing.json")
    assert rec.kind == "export_times" and rec.options["sample_count"] == 3698  # lines 2-3699, one sample each
    assert rec.options["era"] == "8.4+"  # startH2dMs without endToEndMs
    # computeMs: largest 0.873472 (line 2), smallest 0.842751 (lines 18, 22, ...); float32 in the record
    assert rec.gpu_compute_ms.max == pytest.approx(0.873472, rel=1e-6)
    assert rec.gpu_compute_ms.min == pytest.approx(0.842751, rel=1e-6)
    # h2dMs and d2hMs are 0 in every sample (--noDataTransfers)
    assert rec.h2d_ms.max == 0.0 and rec.d2h_ms.max == 0.0
    # walltime: last endD2hMs 3201.78 (line 3699) - first startH2dMs 2.57741 (line 2)
    assert rec.host_walltime_s == pytest.approx((3201.78 - 2.57741) / 1000, rel=1e-6)
