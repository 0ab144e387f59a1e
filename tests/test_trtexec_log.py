"""Tests of the trtexec console log parser against the real corpus logs.

Every expected number below was read from the log file named in the test (the line is quoted in a
comment where it helps), never copied from parser output.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from corpus_location import CORPUS, manifest

from trtsweep.parsers.log_layers import fused_from, parse_profile_row, profile_layout
from trtsweep.parsers.log_sections import split_prefix
from trtsweep.parsers.textio import decode_head, read_head
from trtsweep.parsers.trtexec_log import looks_like, parse_lines, parse_log
from trtsweep.records import FAILURE_CLASSES, STATUSES, WARNING_CODES, RunRecord

MANIFEST = list(manifest().values())
LOG_KINDS = ("trtexec_log", "trtexec_verbose_log", "trtexec_failed_log")
LOG_FILES = [m["file"] for m in MANIFEST if m["kind"] in LOG_KINDS]
POLY_FILES = [m["file"] for m in MANIFEST if m["kind"] == "polygraphy_output"]
JSON_FILES = [m["file"] for m in MANIFEST if m["file"].endswith(".json")]


def runs(name: str) -> list[RunRecord]:
    return parse_log(CORPUS / name)


def one(name: str) -> RunRecord:
    records = runs(name)
    assert len(records) == 1, [r.status for r in records]
    return records[0]


def codes(rec: RunRecord) -> list[str]:
    return [w.code for w in rec.warnings]


def note_codes(rec: RunRecord) -> list[str]:
    return [n.code for n in rec.notes]


# ---------------------------------------------------------------------------------------------- whole corpus
@pytest.mark.corpus
def test_corpus_has_the_expected_log_files() -> None:
    assert len(LOG_FILES) >= 30


@pytest.mark.corpus
@pytest.mark.parametrize("name", LOG_FILES)
def test_every_corpus_log_parses(name: str) -> None:
    records = runs(name)
    assert records, name
    for rec in records:
        assert rec.kind == "trtexec_log"
        assert rec.status in STATUSES
        assert rec.failure is None or rec.failure in FAILURE_CLASSES
        assert all(w.code in WARNING_CODES for w in rec.warnings)
        json.dumps(rec.to_dict())  # the record is JSON-ready


@pytest.mark.corpus
@pytest.mark.parametrize("name", LOG_FILES)
def test_looks_like_claims_every_trtexec_log(name: str) -> None:
    assert looks_like(decode_head(read_head(CORPUS / name)))


@pytest.mark.corpus
@pytest.mark.parametrize("name", POLY_FILES + JSON_FILES)
def test_looks_like_refuses_polygraphy_and_json(name: str) -> None:
    assert not looks_like(decode_head(read_head(CORPUS / name)))


def test_looks_like_refuses_random_text() -> None:
    assert not looks_like("Hello world\nThroughput of the team was high.\n")
    assert not looks_like("")
    assert not looks_like('{"count": 3}')


@pytest.mark.corpus
def test_every_failed_log_gets_its_class() -> None:
    expected = {
        # The custom op AddScalar: "[6] creator && "Plugin not found, are the plugin name, version, and
        # namespace correct?"" in checkFallbackPluginImporter (line 148) is a missing plugin.
        "hackcn__trt10.16.0_result-08-FAILED.log": "plugin_missing",
        "clawmachine__trt10.3.0_nanosam_decoder_parse_FAILED_tail.log": "parse_error",
        # FAILED right after "Finish parsing network model" with no [E] line: the text names no cause.
        "hackcn__trt8.2.3_result-FP16-FAILED.txt": "other",
    }
    for name, cls in expected.items():
        rec = one(name)
        assert rec.status == "failed", name
        assert rec.failure == cls, name


# ---------------------------------------------------------------------------------------------- TRT 7.x
@pytest.mark.corpus
def test_trt70_host_latency_block_four_runs() -> None:
    records = runs("khairul__trt7.0_jetson_int8_googlenet_resnet50.txt")
    assert len(records) == 4
    first = records[0]
    assert first.status == "passed"
    assert first.trt_version is None  # 7.x prints no version
    assert first.command.endswith("--int8 --batch=1 --iterations=3 --output=prob --useSpinWait")
    assert first.throughput_qps == 497.678  # "throughput: 497.678 qps"
    # "percentile: 2.0083 ms at 99% (end to end 2.02002 ms at 99%)"
    assert first.latency_ms.percentiles["p99"] == 2.0083
    assert first.end_to_end_ms.percentiles["p99"] == 2.02002
    assert first.latency_ms.min == 1.98193
    assert first.gpu_compute_ms.median == 1.96393
    assert first.enqueue_ms is None  # no Enqueue Time block in 7.0
    assert first.host_walltime_s == 3.00395
    assert first.total_gpu_compute_s == 2.93972
    assert first.options["precision"] == ["fp32", "int8"]  # "Precision: FP32+INT8"
    assert first.options["max_batch"] == 1 and first.options["workspace_mib"] == 16.0
    assert records[1].throughput_qps == 337.987
    assert "resnet-50" in records[1].command


@pytest.mark.corpus
def test_trt7x_multi_run_log_one_record_per_run() -> None:
    records = runs("jetsontrtexec__raw_googlenet_None_int8_10.txt")
    assert len(records) == 7
    assert all(r.status == "passed" for r in records)
    first = records[0]
    assert first.throughput_qps == 479.452
    assert first.latency_ms.median == 2.03601
    assert first.end_to_end_ms.percentiles["p99"] == 2.59641
    assert first.enqueue_ms.median == 1.98887 and first.enqueue_ms.mean is None
    assert first.gpu_compute_ms.min == 1.9292
    assert first.gpu_compute_ms.percentiles["p99"] == 2.47803
    assert first.host_walltime_s == 3.00343
    assert first.total_gpu_compute_s == 2.86978
    assert first.options["batch"] == 1
    assert first.options["export_times"] == "times_googlenet_None_int8_10_1.json"
    assert records[1].options["batch"] == 4  # "Batch: 4"
    assert records[1].throughput_qps == 886.0  # "throughput: 886 qps"


@pytest.mark.corpus
def test_trt71_enqueue_block_seven_batches() -> None:
    records = runs("khairul__trt7_jetson_fp16_resnet50_batches.txt")
    assert len(records) == 7
    first, last = records[0], records[-1]
    assert first.options["precision"] == ["fp32", "fp16"]
    assert first.throughput_qps == 37.0368
    assert first.latency_ms.median == 26.9689
    assert first.enqueue_ms.median == 1.80298
    assert first.gpu_compute_ms.percentiles["p99"] == 27.0562
    assert "--batch=128" in last.command
    assert last.gpu_compute_ms.percentiles["p99"] == 2680.99
    assert last.throughput_qps == 47.7781
    assert last.total_gpu_compute_s == 8.01297


# ---------------------------------------------------------------------------------------------- TRT 8.0 – 8.2
@pytest.mark.corpus
def test_trt80_verbose_build_and_inference() -> None:
    rec = one("hackcn__trt8.0.3_output-fp32.txt")
    assert rec.status == "passed" and rec.failure is None
    assert rec.trt_version == "8.0.3"
    assert rec.device.name == "NVIDIA GeForce GTX 1070"
    assert rec.device.compute_capability == "6.1"
    assert rec.device.sm_count == 16
    assert rec.device.memory_gib == pytest.approx(8111 / 1024)
    assert rec.device.clock_mhz == pytest.approx(1645)
    assert rec.device.memory_clock_mhz == pytest.approx(4004)
    assert rec.throughput_qps == 6168.97
    assert rec.gpu_compute_ms.median == 0.152588
    assert rec.gpu_compute_ms.percentiles["p99"] == 0.157715
    assert rec.end_to_end_ms.median == 0.289062
    assert rec.d2h_ms.max == 0.0078125
    assert rec.host_walltime_s == 3.0005 and rec.total_gpu_compute_s == 2.82804
    assert rec.build.engine_build_s == 4.66332
    assert rec.build.engine_size_mib == 12.0  # "[TRT] Loaded engine size: 12 MB"
    opts = rec.options
    assert opts["precision"] == ["fp32"]
    assert opts["workspace_mib"] == 1024.0
    assert opts["build_shapes"] == {"x:0": {"min": "1x1x28x28", "opt": "4x1x28x28", "max": "16x1x28x28"}}
    assert opts["inference_shapes"] == {"x:0": "4x1x28x28"}
    assert opts["max_batch"] == "explicit" and opts["batch"] == "explicit"
    assert opts["percentiles"] == [99.0]
    assert opts["raw"]["Build Options"]["Input build shape"] == "x:0=1x1x28x28+4x1x28x28+16x1x28x28"
    # verbose "Engine Layer Information": 10 untagged Layer(...) lines
    assert len(rec.layers) == 10
    first = rec.layers[0]
    assert first.name == "Conv__25 + Relu" and first.type == "CaskConvolution" and first.precision == "fp32"
    assert first.fused_from == ["Conv__25", "Relu"]
    assert rec.layers[2].is_reformat  # "Reformatting CopyNode for Input Tensor 0 to Conv__27 + Relu_1"


@pytest.mark.corpus
def test_trt80_jetson_load_engine_with_shell_prompt() -> None:
    rec = one("violetta__trt8.0.1_jetson_nano_loadEngine_exportTimes_exportProfile.log")
    assert rec.status == "passed"
    assert rec.trt_version == "8.0.1"
    assert rec.device.name == "NVIDIA Tegra X1"
    assert rec.build.engine_load_s == 3.86437
    assert rec.build.engine_size_mib == 10.0  # "Loaded engine size: 10 MB"
    assert rec.throughput_qps == 24.5583
    assert rec.end_to_end_ms.median == 40.6718
    assert rec.options["warmup_ms"] == 50.0 and rec.options["iterations"] == 100
    assert "enqueue_bound" in codes(rec)


@pytest.mark.corpus
def test_trt821_jetson_build() -> None:
    rec = one("henryzhuhr__trt8.2.1_jetson_nano_ufld_build.log")
    assert rec.trt_version == "8.2.1"
    assert rec.build.engine_build_s == 184.708
    assert rec.build.engine_size_mib == 186.0
    assert rec.throughput_qps == 11.0613
    assert rec.options["workspace_mib"] == 2048.0
    assert rec.device.compute_capability == "5.3"


@pytest.mark.corpus
def test_trt823_fp32_and_failed_fp16() -> None:
    ok = one("hackcn__trt8.2.3_result-FP32.txt")
    assert ok.status == "passed" and ok.trt_version == "8.2.3"
    assert ok.throughput_qps == 6239.67
    assert ok.gpu_compute_ms.median == 0.153595 and ok.gpu_compute_ms.percentiles["p99"] == 0.158508
    assert ok.build.engine_build_s == 4.62952
    failed = one("hackcn__trt8.2.3_result-FP16-FAILED.txt")
    assert failed.status == "failed" and failed.failure == "other"
    assert failed.options["precision"] == ["fp32", "fp16"]  # "Precision: FP32+FP16"
    assert failed.throughput_qps is None


@pytest.mark.corpus
def test_trt824_profile_table_without_median() -> None:
    rec = one("modelacc__trt8.2.4_rtx3050ti_levit_loadEngine_dumpProfile_verbose.txt")
    assert rec.trt_version == "8.2.4"
    assert rec.throughput_qps == 105.134
    assert rec.gpu_compute_ms.median == 6.89099  # "GPU Compute Time: … median = 6.89099 ms"
    assert rec.build.engine_load_s == 1.634
    assert rec.options["dump_profile"] is True
    assert rec.options["export_layer_info"] == "./detailed_report.txt"  # from the command line
    assert len(rec.layers) == 435
    first, last = rec.layers[0], rec.layers[-1]
    assert first.name == "onnx::MatMul_1172 + (Unnamed Layer* 23) [Shuffle]"
    assert first.time_ms == 0.0030 and first.time_pct == 0.0 and first.median_ms is None
    assert last.name == "PWN(onnx::Div_1158 + (Unnamed Layer* 1932) [Shuffle], Div_658)"
    assert last.time_ms == 0.0146 and last.fused_from == []


# ---------------------------------------------------------------------------------------------- TRT 8.4
@pytest.mark.corpus
def test_trt841_fp16_build() -> None:
    rec = one("hackcn__trt8.4.1_result-FP16.log")
    assert rec.trt_version == "8.4.1"
    assert rec.options["precision"] == ["fp32", "fp16"]
    assert rec.options["memory_pools"]["workspace"] == 1024.0
    assert rec.end_to_end_ms is None  # 8.4 dropped the End-to-End line
    assert rec.throughput_qps == 6106.55
    assert rec.latency_ms.percentiles == {"p99": 0.433105}
    assert rec.gpu_compute_ms.median == 0.154663
    assert rec.build.engine_build_s == 3.05461 and rec.build.engine_deserialize_s == 0.00328369
    assert len(rec.layers) == 12 and rec.layers[0].name == "Conv-1 + ReLU-2"


@pytest.mark.corpus
def test_trt841_dump_layer_info_names_only() -> None:
    rec = one("hackcn__trt8.4.1_result-PrintInformation.log")
    assert rec.build.engine_load_s == 0.0107841 and rec.build.engine_deserialize_s == 0.428265
    names = [x.name for x in rec.layers]
    assert len(names) == 12
    assert names[0] == "Conv-1 + ReLU-2" and names[-1] == "(Unnamed Layer* 32) [Shuffle]"
    assert "Bindings:" not in names and "tensor-0" not in names
    assert all(x.type is None and x.time_ms is None for x in rec.layers)


@pytest.mark.corpus
def test_trt841_obey_constraints_log_cut_short() -> None:
    rec = one("segformer__trt8.4.1_a10_best_obey_calib_plugin_ABORTED.txt")
    assert rec.status == "incomplete" and rec.failure is None  # ends after "Start parsing network model"
    assert rec.device.name == "NVIDIA A10" and rec.device.sm_count == 72
    assert rec.options["precision"] == ["fp32", "fp16", "int8"]
    assert rec.options["precision_constraints"] == "obey"
    assert rec.options["workspace_mib"] == 23000.0
    assert rec.options["tactic_sources"] == {"cublas": True, "cudnn": False}
    plugin = "/home/pengsky/TRT-Hackathon-2022-SegFormer/TRT/LayerNormPlugin/LayerNorm.so"
    assert rec.options["plugins"] == [plugin]


@pytest.mark.corpus
def test_trt841_summary_tail_with_trailing_plugin_output() -> None:
    rec = one("tpg__trt8.4.1_yolov4_plugin_summary_tail_with_plugin_debug.log")
    assert rec.status == "passed" and rec.trt_version == "8.4.1"
    assert rec.throughput_qps == 128.422
    assert rec.gpu_compute_ms.percentiles["p99"] == 7.88892
    assert rec.options["onnx"] == "modified.onnx"


@pytest.mark.corpus
def test_two_summary_tails_without_status_lines() -> None:
    records = runs("trocr2022__trt8.x_rtx3050_two_summary_tails.log")
    assert len(records) == 2
    assert [r.status for r in records] == ["incomplete", "incomplete"]
    assert [r.throughput_qps for r in records] == [28.9757, 14.9463]
    assert records[0].end_to_end_ms.median == 34.9216
    assert records[1].gpu_compute_ms.percentiles["p99"] == 66.3162
    assert all(codes(r) == ["enqueue_bound"] for r in records)


# ---------------------------------------------------------------------------------------------- TRT 8.5
@pytest.mark.corpus
def test_trt852_summary_tail_fills_options_from_command() -> None:
    rec = one("idein__trt8.5.2_orin_nano_fp16_summary_tail.log")
    assert rec.status == "passed" and rec.trt_version == "8.5.2"
    assert rec.throughput_qps == 97.8649
    assert rec.gpu_compute_ms.median == 10.1851
    assert rec.gpu_compute_ms.percentiles == {"p90": 10.3206, "p95": 10.338, "p99": 10.356}
    assert rec.options["precision"] == ["fp32", "fp16"]  # from "--fp16" on the PASSED line
    assert rec.options["save_engine"] == "./fp16.trt"


@pytest.mark.corpus
def test_trt852_orin_load_engine() -> None:
    rec = one("lixiangyu__trt8.5.2_orin_loadEngine_shapes.log")
    assert rec.device.name == "Orin" and rec.device.compute_capability == "8.7" and rec.device.sm_count == 8
    assert rec.throughput_qps == 10.792
    assert rec.gpu_compute_ms.percentiles["p90"] == 89.1538
    assert rec.build.engine_load_s == 0.0251843 and rec.build.engine_deserialize_s == 9.30766
    assert rec.options["inference_shapes"] == {"input": "1x3x256x256"}


@pytest.mark.corpus
def test_trt852_profile_table_suppresses_summary() -> None:
    rec = one("alprjetson__trt8.5.2_xavier_lprnet_loadEngine_dumpProfile_verbose.log")
    assert rec.device.name == "Xavier" and rec.device.compute_capability == "7.2"
    assert rec.throughput_qps is None and rec.gpu_compute_ms is None
    # The "e2e network timing is not reported" line is [I]: a note, not a warning.
    assert codes(rec) == ["dynamic_shape_missing"]
    assert note_codes(rec) == ["profile_total_inaccurate"]
    assert len(rec.layers) == 28
    first = rec.layers[0]
    assert first.name == "[HostToDeviceCopy 0]"
    assert (first.time_ms, first.median_ms, first.time_pct) == (0.0329, 0.0293, 0.3)
    lstm = next(x for x in rec.layers if x.name == "{ForeignNode[lstm_W...Max_reduce_min]}")
    assert lstm.time_ms == 6.7584 and lstm.time_pct == 70.3
    assert lstm.fused_from == ["lstm_W", "Max_reduce_min"]


@pytest.mark.corpus
def test_trt853_plugin_profile() -> None:
    rec = one("sparsedrive__trt8.5.3_motion_plan_dumpProfile.log")
    assert rec.trt_version == "8.5.3"
    assert rec.options["plugins"] == ["projects/trt_plugin/build/libSparseDrivePlugin.so"]
    assert len(rec.layers) == 51
    first = rec.layers[0]
    assert first.name == "Reformatting CopyNode for Network Input det_classification_sigmoid"
    assert first.time_ms == 0.0089 and first.is_reformat
    assert "profile_total_inaccurate" in note_codes(rec)
    assert "profile_total_inaccurate" not in codes(rec)


@pytest.mark.corpus
def test_trt8510_qat_profile_joined_with_verbose_layer_info() -> None:
    rec = one("lix19937__trt8.5.10_qat_resnet18_best_dumpProfile.log")
    assert rec.trt_version == "8.5.10"
    assert rec.options["precision"] == ["fp32", "fp16", "int8"]  # --best
    assert rec.throughput_qps == 7329.45
    assert rec.gpu_compute_ms.median == 0.134155
    # 26 verbose Layer(...) lines, 24 profile rows: the join keeps all engine layers
    assert len(rec.layers) == 26
    first = rec.layers[0]
    assert first.name == "QuantizeLinear_2" and first.type == "Reformat" and first.precision == "int8"
    assert (first.time_ms, first.median_ms, first.time_pct) == (0.0115, 0.0079, 3.2)
    assert sum(1 for x in rec.layers if x.time_ms is not None) == 24


@pytest.mark.corpus
def test_trt8510_layer_info_and_profile_join_by_name() -> None:
    rec = one("lix19937dnn__trt8.5.10_posenc_dumpLayerInfo_dumpProfile_verbose.log")
    assert rec.build.engine_build_s == 20.3112
    names = [x.name for x in rec.layers]
    assert names == ["94", "Reformatting CopyNode for Output Tensor 0 to 94"]
    reformat = rec.layers[1]
    assert reformat.type == "Reformat" and reformat.precision == "fp32"
    assert (reformat.time_ms, reformat.median_ms, reformat.time_pct) == (0.3647, 0.3645, 100.0)
    assert rec.layers[0].type == "Constant" and rec.layers[0].time_ms is None


@pytest.mark.corpus
def test_trt8510_plugin_cuda_graph_run() -> None:
    rec = one("lix19937dnn__trt8.5.10_tsa_msda_plugin_best_cudagraph_dumpProfile_verbose.log")
    assert rec.throughput_qps == 4542.53
    assert rec.gpu_compute_ms.percentiles["p99"] == 0.0400391
    assert rec.gpu_compute_cv_pct == 3.05198
    assert rec.options["cuda_graph"] is True and rec.options["separate_profiling"] is True
    assert len(rec.layers) == 27  # 27 verbose Layer(...) lines, 13 of them in the profile
    assert rec.layers[0].name == "Reformatting CopyNode for Network Input query"
    assert rec.layers[0].time_ms == 0.0038


@pytest.mark.corpus
def test_trt8510_plugin_build() -> None:
    rec = one("lix19937__trt8.5.10_build_with_plugin_verbose.log")
    assert rec.device.name == "NVIDIA RTX 2000 Ada Generation Laptop GPU"
    assert rec.build.engine_build_s == 62.4793
    assert rec.throughput_qps == 74.8273
    assert [(x.name, x.type) for x in rec.layers] == [("/Identity_TRT", "PluginV2")]


# ---------------------------------------------------------------------------------------------- TRT 8.6
@pytest.mark.corpus
def test_trt860_build_only() -> None:
    rec = one("hackcn__trt8.6.0_result-02.log")
    assert rec.status == "passed" and rec.trt_version == "8.6.0"
    assert rec.throughput_qps is None
    # line 3438: "[I] Skipped inference phase since --skipInference is added." says why: a note
    assert note_codes(rec) == ["inference_skipped"]
    assert rec.notes[0].text == "Skipped inference phase since --skipInference is added."
    assert rec.build.engine_build_s == 9.55249 and rec.build.engine_deserialize_s == 0.00143286
    assert rec.options["precision"] == ["fp32", "fp16"]
    assert len(rec.layers) == 15
    first = rec.layers[0]
    assert first.name == "Reformatting CopyNode for Input Tensor 0 to Conv-1 + ReLU-2"
    # "… -> Reformatted Input Tensor 0 to Conv-1 + ReLU-2 (Half[-1,1:2,28,28])"
    assert first.type == "Reformat" and first.precision == "fp16" and first.is_reformat


@pytest.mark.corpus
def test_trt860_load_engine_unstable() -> None:
    rec = one("hackcn__trt8.6.0_result-04.log")
    assert rec.throughput_qps == 20565.7
    assert rec.gpu_compute_ms.median == 0.0439453 and rec.gpu_compute_ms.percentiles["p95"] == 0.0457764
    assert rec.gpu_compute_cv_pct == 45.3157
    assert rec.build.engine_load_s == 0.00697214 and rec.build.engine_deserialize_s == 0.00608274
    assert "unstable_gpu_compute" in codes(rec)


@pytest.mark.corpus
def test_trt861_profiling_run() -> None:
    rec = one("kalfazed__trt8.6.1_rtx3080_resnet50int8_profile_run.log")
    assert rec.trt_version == "8.6.1"
    assert rec.device.name == "NVIDIA GeForce RTX 3080" and rec.device.sm_count == 68
    assert rec.device.clock_mhz == pytest.approx(1740) and rec.device.memory_clock_mhz == pytest.approx(9501)
    assert rec.throughput_qps == 3406.14
    assert rec.gpu_compute_ms.median == 0.275391 and rec.gpu_compute_ms.percentiles["p95"] == 0.468018
    assert rec.h2d_ms.max == 0.0 and rec.d2h_ms.median == 0.0
    assert rec.gpu_compute_cv_pct == 22.8235
    assert rec.options["data_transfers"] is False and rec.options["spin_wait"] is True
    assert codes(rec).count("deprecated_flag") == 2  # --nvtxMode and --profilingVerbosity=verbose
    assert ("other", "Failed to collect layer timing info from previous enqueueV3()") in [
        (w.code, w.text) for w in rec.warnings]


# ---------------------------------------------------------------------------------------------- TRT 10.x
@pytest.mark.corpus
def test_trt1014_default_build() -> None:
    rec = one("hackcn__trt10.14.1_result-01.log")
    assert rec.trt_version == "10.14.1"
    assert rec.device.name == "NVIDIA RTX 6000 Ada Generation"
    assert rec.build.engine_size_mib == 12.5724 and rec.build.engine_build_s == 2.60577
    assert rec.throughput_qps == 23188.6
    assert rec.gpu_compute_ms.median == 0.0285645
    assert rec.gpu_compute_cv_pct == 12.8763


@pytest.mark.corpus
def test_trt1016_default_build_and_run() -> None:
    rec = one("hackcn__trt10.16.1_result-01.log")
    assert rec.status == "passed" and rec.trt_version == "10.16.1"
    model = "/work/trt-samples-for-hackathon-cn/cookbook/00-Data/model/model-trained.onnx"
    assert rec.command == f"trtexec --onnx={model}"
    assert rec.device.name == "NVIDIA H100 PCIe" and rec.device.compute_capability == "9.0"
    assert rec.device.memory_gib == pytest.approx(81081 / 1024)
    assert rec.device.clock_mhz == pytest.approx(1755) and rec.device.memory_clock_mhz == pytest.approx(1593)
    assert rec.throughput_qps == 15374.3
    assert rec.latency_ms.percentiles["p90"] == 0.0450439
    assert rec.gpu_compute_ms.median == 0.0361328 and rec.gpu_compute_ms.percentiles["p99"] == 0.041748
    assert rec.build.engine_build_s == 8.09138
    assert rec.build.engine_size_mib == 12.5744  # "Created engine with size: 12.5744 MiB"
    assert rec.build.engine_deserialize_s == 0.00676279
    assert rec.gpu_compute_cv_pct == 6.58751
    assert codes(rec) == ["dynamic_shape_missing", "unstable_gpu_compute"]
    assert rec.options["precision"] == ["fp32"] and rec.options["build_shapes"] == "model"
    assert rec.options["percentiles"] == [90.0, 95.0, 99.0]
    assert rec.layers is None


@pytest.mark.corpus
def test_trt1016_verbose_build_with_pool_trap() -> None:
    rec = one("hackcn__trt10.16.1_result-02.log")
    opts = rec.options
    assert opts["memory_pools"]["workspace"] == 0.000976562  # the "1024MiB" = 1 KiB trap
    assert opts["precision"] == ["fp32", "fp16"]
    assert opts["timing_cache_mode"] == "global" and opts["timing_cache_file"] == "model-trained.TimingCache"
    assert opts["builder_optimization_level"] == 5
    assert opts["build_shapes"] == {"x": {"min": "1x1x28x28", "opt": "4x1x28x28", "max": "16x1x28x28"}}
    assert rec.build.engine_build_s == 24.4854 and rec.build.engine_size_mib == 6.42511
    assert "deprecated_flag" in codes(rec)  # "Weakly-typed networks have been deprecated"
    assert len(rec.layers) == 6
    first = rec.layers[0]
    assert first.name == "{ForeignNode[node_conv2d...node_relu]}" and first.type == "Myelin"
    assert first.fused_from == ["node_conv2d", "node_relu"]


@pytest.mark.corpus
def test_trt1016_no_transfers_cuda_graph() -> None:
    rec = one("hackcn__trt10.16.1_result-03.log")
    assert rec.options["cuda_graph"] is True and rec.options["data_transfers"] is False
    assert rec.options["inference_shapes"] == {"x": "4x1x28x28"}  # "Input inference shape : x=4x1x28x28"
    assert rec.throughput_qps == 24896.9
    assert rec.h2d_ms.mean == 0.0 and rec.latency_ms.min == rec.gpu_compute_ms.min == 0.0383301


@pytest.mark.corpus
def test_trt1016_detailed_dump_layer_info() -> None:
    rec = one("hackcn__trt10.16.1_result-04.log")
    assert len(rec.layers) == 9  # nine "Name: …" lines after "[I] Layers:"
    first = rec.layers[0]
    assert first.name == "node_conv2d + node_relu"
    assert first.type == "CaskConvolution" and first.precision == "fp32"
    assert rec.build.engine_size_mib == 12.5765


@pytest.mark.corpus
def test_trt1016_profile_numbers_first() -> None:
    rec = one("hackcn__trt10.16.1_result-05.log")
    assert rec.throughput_qps is None
    assert codes(rec) == ["dynamic_shape_missing"]
    assert note_codes(rec) == ["profile_total_inaccurate"]
    # The advice line after the note (line 81: "To show e2e network timing report, add
    # --separateProfileRun ...") is part of it.
    assert "--separateProfileRun" in rec.notes[0].text
    assert len(rec.layers) == 15
    first = rec.layers[0]
    assert first.name == "__mye59_0_myl0_0"
    assert (first.time_ms, first.median_ms, first.time_pct) == (0.0017, 0.0018, 2.1)
    conv = rec.layers[1]
    assert conv.name == "node_conv2d_myl0_1" and conv.time_ms == 0.0105


@pytest.mark.corpus
def test_trt1016_dump_output_and_enqueue_bound() -> None:
    out = one("hackcn__trt10.16.1_result-06.log")
    assert out.throughput_qps == 12827.1 and out.gpu_compute_cv_pct == 7.10165
    plugin = one("hackcn__trt10.16.1_result-08.log")
    assert plugin.build.engine_size_mib == 0.00301743 and plugin.build.engine_build_s == 0.643486
    assert plugin.throughput_qps == 27315.5
    assert codes(plugin)[:3] == ["deprecated_flag", "dynamic_shape_missing", "enqueue_bound"]
    enqueue = next(w for w in plugin.warnings if w.code == "enqueue_bound")
    assert "--useCudaGraph" in enqueue.text  # advice line joined to the warning


@pytest.mark.corpus
def test_trt1016_failed_plugin_parse() -> None:
    rec = one("hackcn__trt10.16.0_result-08-FAILED.log")
    assert rec.trt_version == "10.16.0" and rec.device.sm_count == 142
    # AddScalar is not an ONNX op: its plugin (from --plugins=./AddScalarPlugin.so) was not found.
    assert rec.failure == "plugin_missing"
    assert rec.failure_phase == "parse"  # line 149: "[E] Failed to parse onnx file"
    assert "Plugin not found" in rec.failure_text
    assert "Engine set up failed" not in rec.failure_text


@pytest.mark.corpus
def test_trt103_failed_tail() -> None:
    rec = one("clawmachine__trt10.3.0_nanosam_decoder_parse_FAILED_tail.log")
    assert rec.trt_version == "10.3.0" and rec.status == "failed"
    assert rec.failure == "parse_error"
    assert "IIOneHotLayer cannot be used to compute a shape tensor" in rec.failure_text
    assert len(rec.failure_text.splitlines()) <= 3
    assert rec.options["build_shapes"]["point_labels"] == {"min": "1x1", "opt": "1x1", "max": "1x10"}


@pytest.mark.corpus
def test_dla_placement_fragment_is_an_incomplete_run() -> None:
    records = runs("jetsondla__trt8.4_orin_dla_layer_placement_fragment.log")
    assert [r.status for r in records] == ["incomplete"]
    assert records[0].throughput_qps is None and records[0].layers is None


# ---------------------------------------------------------------------------------------------- variants
def _lines(name: str) -> list[str]:
    return (CORPUS / name).read_text(encoding="utf-8").splitlines()


BASE = "hackcn__trt10.16.1_result-01.log"


def _check_base(rec: RunRecord) -> None:
    assert rec.trt_version == "10.16.1"
    assert rec.throughput_qps == 15374.3
    assert rec.gpu_compute_ms.median == 0.0361328
    assert rec.device.name == "NVIDIA H100 PCIe"
    assert rec.options["precision"] == ["fp32"]


@pytest.mark.corpus
def test_variant_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.log"
    path.write_bytes("\r\n".join(_lines(BASE)).encode())
    [rec] = parse_log(path)
    _check_base(rec)
    assert rec.status == "passed"


@pytest.mark.corpus
def test_variant_ansi_colours(tmp_path: Path) -> None:
    path = tmp_path / "ansi.log"
    coloured = [re.sub(r"\[([IWE])\]", "\x1b[1;32m[\\1]\x1b[0m", line) for line in _lines(BASE)]
    path.write_text("\n".join(coloured) + "\n")
    [rec] = parse_log(path)
    _check_base(rec)


@pytest.mark.corpus
def test_variant_trt_prefix_and_no_timestamps() -> None:
    stripped = [re.sub(r"^\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\] ", "", line) for line in _lines(BASE)]
    [rec] = parse_lines(["[TRT] " + line for line in stripped], "x")
    _check_base(rec)
    assert rec.status == "passed"


@pytest.mark.corpus
def test_variant_interleaved_foreign_lines() -> None:
    mixed: list[str] = []
    for i, line in enumerate(_lines(BASE)):
        mixed.append(line)
        if i % 7 == 0:
            mixed.append(f"nvidia-smi: GPU 0 util {i}%  [monitor]")
    [rec] = parse_lines(mixed, "x")
    _check_base(rec)
    assert rec.status == "passed"


@pytest.mark.corpus
def test_variant_truncated_mid_line() -> None:
    lines = _lines(BASE)
    cut = next(i for i, line in enumerate(lines) if "] GPU Compute Time: min" in line)
    partial = lines[:cut] + [lines[cut][:140]]  # cut inside the GPU Compute Time line
    [rec] = parse_lines(partial, "x")
    assert rec.status == "incomplete"
    assert rec.throughput_qps == 15374.3
    assert rec.gpu_compute_ms.min == 0.0331421
    assert "p99" not in rec.gpu_compute_ms.percentiles
    assert rec.d2h_ms is None


@pytest.mark.corpus
def test_variant_omitting_lines_and_garbage() -> None:
    rng = random.Random(7)
    alphabet = "[]&#:=%.-+x0123456789 abcIWEV\t\x1b"
    for _ in range(200):
        junk = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(20)]
        records = parse_lines(junk, "junk")
        assert all(r.status in STATUSES for r in records)
    lines = _lines("jetsontrtexec__raw_googlenet_None_int8_10.txt")
    shuffled = lines[:]
    rng.shuffle(shuffled)
    assert all(r.status in STATUSES for r in parse_lines(shuffled, "shuffled"))
    assert parse_lines(["hello", "world", ""], "text") == []


# ---------------------------------------------------------------------------------------------- synthetic
TS = "[07/07/2026-02:10:45] "
TRT11 = [
    "&&&& RUNNING TensorRT.trtexec [TensorRT v110100] [b5] # trtexec --onnx=model.onnx --tuneBuildRoutes",
    TS + "[I] === Model Options ===",
    TS + "[I] Format: ONNX",
    TS + "[I] Model: model.onnx",
    TS + "[I] === Build Options ===",
    TS + "[I] Memory Pools: workspace: default, dlaSRAM: default, dlaLocalDRAM: default, "
         "dlaGlobalDRAM: default, tacticSharedMem: default",
    TS + "[I] Precision: Strongly Typed",
    TS + "[I] Input build shape (profile 0): x=1x1x28x28+4x1x28x28+16x1x28x28",
    TS + "[I] === Inference Options ===",
    TS + "[I] Input inference shape : x=4x1x28x28",
    TS + "[I] Inference Streams: 1",
    TS + "[I] Data transfers: Disabled",
    TS + "[I] Spin-wait: Enabled",
    TS + "[I] CUDA Graph: Enabled",
    TS + "[I] === Reporting Options ===",
    TS + "[I] Percentiles: 90,99,99.9",
    TS + "[I]",
    TS + "[I] TensorRT version: 11.1.0",
    "",
    "&&&& TASK_BEGIN [iter=0] BuildRoute = 'r0'",
    "&&&& RUNNING TensorRT.trtexec [TensorRT v110100] [b5] # trtexec --setBuildRoute=r0 --saveEngine=c.plan",
    "&&&& PASSED TensorRT.trtexec [TensorRT v110100] [b5] # trtexec --setBuildRoute=r0 --saveEngine=c.plan",
    "&&&& TASK_END [iter=0] BuildRoute = 'r0'",
    "",
    TS + "[I] Created engine with size: 1.5 MiB",
    TS + "[I] Engine built in 2.5 sec.",
    TS + "[I] === Performance summary ===",
    TS + "[I] Throughput: 1000 qps",
    TS + "[I] Latency: min = 0.5 ms, max = 2 ms, mean = 0.75 ms, median = 0.7 ms, percentile(90%) = 0.8 ms, "
         "percentile(99%) = 0.9 ms, percentile(99.9%) = 1.5 ms",
    TS + "[I] GPU Compute Time: min = 500 us, max = 2000 us, mean = 750 us, median = 700 us, "
         "percentile(90%) = 800 us, percentile(99%) = 900 us, percentile(99.9%) = 1500 us",
    TS + "[I] Total Host Walltime: 3000 ms",
    TS + "[W] * Throughput may be bound by Enqueue Time rather than GPU Compute and the GPU may be "
         "under-utilized.",
    TS + "[W]   If you are using --noCudaGraph, removing it may increase throughput.",
    TS + "[W] --useCudaGraph is deprecated. CUDA graph is now enabled by default.",
    "&&&& PASSED TensorRT.trtexec [TensorRT v110100] [b5] # trtexec --onnx=model.onnx --tuneBuildRoutes",
]


def test_synthetic_trt11_strongly_typed_defaults_and_tuning() -> None:
    [rec] = parse_lines(TRT11, "trt11")
    assert rec.status == "passed"
    assert rec.trt_version == "11.1.0"
    assert rec.command == "trtexec --onnx=model.onnx --tuneBuildRoutes"
    opts = rec.options
    assert opts["precision"] == ["strongly_typed"]
    assert opts["cuda_graph"] is True and opts["spin_wait"] is True and opts["data_transfers"] is False
    assert opts["percentiles"] == [90.0, 99.0, 99.9]
    assert opts["onnx"] == "model.onnx"
    assert opts["build_shapes"] == {"x": {"min": "1x1x28x28", "opt": "4x1x28x28", "max": "16x1x28x28"}}
    assert rec.latency_ms.percentiles == {"p90": 0.8, "p99": 0.9, "p99.9": 1.5}
    assert rec.gpu_compute_ms.median == pytest.approx(0.7)  # printed in us
    assert rec.host_walltime_s == pytest.approx(3.0)  # printed in ms
    assert rec.build.engine_size_mib == 1.5 and rec.build.engine_build_s == 2.5
    assert codes(rec) == ["enqueue_bound", "deprecated_flag"]
    assert "--noCudaGraph" in rec.warnings[0].text


def _failed(*lines: str) -> RunRecord:
    body = ["&&&& RUNNING TensorRT.trtexec [TensorRT v100300] # trtexec --onnx=m.onnx", *lines,
            "&&&& FAILED TensorRT.trtexec [TensorRT v100300] # trtexec --onnx=m.onnx"]
    [rec] = parse_lines(body, "synthetic")
    assert rec.status == "failed"
    return rec


@pytest.mark.parametrize(("lines", "cls"), [
    ((TS + "[E] Error[1]: [defaultAllocator.cpp::allocate::31] Error Code 1: Cuda Runtime (out of memory)",
      TS + "[E] Engine could not be created from network", TS + "[E] Engine set up failed"), "oom"),
    ((TS + "[E] Error[6]: The engine plan file is not compatible with this version of TensorRT, expecting "
           "library version 10.12.0.36 got 10.3.0.26, please rebuild.",
      TS + "[E] Engine deserialization failed", TS + "[E] Got invalid engine!",
      TS + "[E] Inference set up failed"),
     "engine_mismatch"),
    ((TS + "[E] [TRT] 1: [pluginV2Runner.cpp::load::300] Error Code 1: Serialization (Serialization "
           "assertion creator failed.Cannot deserialize plugin since corresponding IPluginCreator not found "
           "in Plugin Registry)",
      TS + "[E] [TRT] 4: [runtime.cpp::deserializeCudaEngine::66] Error Code 4: Internal Error "
           "(Engine deserialization failed.)"), "plugin_missing"),
    ((TS + "[E] Error[3]: IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check "
           "failed, condition: satisfyProfile. Set dimension [1,3,2048,2048] for tensor input does not "
           "satisfy any optimization profiles.)", TS + "[E] Inference set up failed"), "shape_error"),
    ((TS + "[E] Unknown option: --fp16 ", "=== Model Options ===", "  --onnx=<file>  ONNX model"),
     "invalid_argument"),
    ((TS + "[I] Start parsing network model.", "Segmentation fault (core dumped)"), "crash"),
    ((TS + "[I] [TRT] No importer registered for op: Round. Attempting to import as plugin.",
      TS + "[E] [TRT] 3: getPluginCreator could not find plugin: Round version: 1",
      TS + "[E] Failed to parse onnx file", TS + "[E] Engine set up failed"), "unsupported_op"),
])
def test_failure_classes_from_reference_messages(lines: tuple[str, ...], cls: str) -> None:
    rec = _failed(*lines)
    assert rec.failure == cls
    assert rec.failure_text
    assert "Engine set up failed" not in rec.failure_text.splitlines()[0]


def test_crash_without_failed_line_is_failed() -> None:
    body = ["&&&& RUNNING TensorRT.trtexec [TensorRT v8401] # trtexec --onnx=m.onnx",
            TS + "[I] Start parsing network model",
            "terminate called after throwing an instance of 'std::out_of_range'",
            "Aborted (core dumped)"]
    [rec] = parse_lines(body, "crash")
    assert rec.status == "failed" and rec.failure == "crash"


def test_oom_warning_alone_does_not_fail_a_passed_run() -> None:
    body = ["&&&& RUNNING TensorRT.trtexec [TensorRT v100300] # trtexec --onnx=m.onnx",
            TS + "[W] [TRT] Requested amount of GPU memory (15485030400 bytes) could not be allocated.",
            "&&&& PASSED TensorRT.trtexec [TensorRT v100300] # trtexec --onnx=m.onnx"]
    [rec] = parse_lines(body, "oom-warning")
    assert rec.status == "passed" and rec.failure is None


# ---------------------------------------------------------------------------------------------- helpers
def test_split_prefix_handles_double_timestamp_and_tags() -> None:
    line = split_prefix("[06/11/2020-10:40:02] [06/11/2020-10:40:02] [I] [TRT] Detected 1 inputs")
    assert (line.severity, line.trt, line.text) == ("I", True, "Detected 1 inputs")
    assert split_prefix("[TRT] [W] --x flag has been deprecated").trt is False


def test_profile_layouts_and_fusion_names() -> None:
    assert profile_layout("   Time(ms)     Avg.(ms)   Median(ms)   Time(%)   Layer") == "numbers_first"
    assert profile_layout("Layer   Time (ms)   Avg. Time (ms)   Time %") == "name_first"
    row = "  Reformatting CopyNode for Output Tensor 0 to 94   324.56  0.3647  0.3645  100.0"
    name, timing = parse_profile_row(row, "name_first_median")
    assert name == "Reformatting CopyNode for Output Tensor 0 to 94" and timing.median_ms == 0.3645
    assert fused_from("conv1 + PWN(re_lu_clip)") == ["conv1", "PWN(re_lu_clip)"]
    assert fused_from("{ForeignNode[a + b...c]}") == ["a", "b", "c"]
    assert fused_from("Reformatting CopyNode for Input Tensor 0 to a + b") == []


@pytest.mark.corpus
def test_shape_trtexec_chose_for_a_dynamic_input_is_the_inference_shape():
    # hackcn__trt10.16.1_result-06.log line 72: "[W] Shape missing for input with dynamic shape:
    # xAutomatically setting shape to: 1x1x28x28" (the echo says "Input inference shapes: model").
    (rec,) = parse_log(CORPUS / "hackcn__trt10.16.1_result-06.log")
    assert rec.options["inference_shapes"] == {"x": "1x1x28x28"}
    assert rec.options["inference_shapes_chosen_by_trtexec"] is True
    # alprjetson 8.5.2 line 133: "...dynamic shape: image_inputAutomatically setting shape to: 1x3x48x96"
    (rec,) = parse_log(CORPUS / "alprjetson__trt8.5.2_xavier_lprnet_loadEngine_dumpProfile_verbose.log")
    assert rec.options["inference_shapes"] == {"image_input": "1x3x48x96"}
    # An explicit --shapes wins over nothing: hackcn__trt10.16.1_result-03.log ran --shapes=x:4x1x28x28.
    (rec,) = parse_log(CORPUS / "hackcn__trt10.16.1_result-03.log")
    assert rec.options["inference_shapes"] == {"x": "4x1x28x28"}
    assert "inference_shapes_chosen_by_trtexec" not in rec.options
