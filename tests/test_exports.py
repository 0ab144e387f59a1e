"""JSON export parsers on the real corpus files; expected values were read from the files by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus_location import CORPUS, manifest
from hypothesis import given, settings
from hypothesis import strategies as st

from trtsweep.parsers import exports
from trtsweep.records import RunRecord

EXPORT_FILES = sorted(f for f, m in manifest().items() if m["kind"].startswith("export_"))
KIND_OF = {"export_times_json": "export_times", "export_profile_json": "export_profile",
           "export_layerinfo_json": "export_layer_info"}


def _text(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ sniff


@pytest.mark.corpus
@pytest.mark.parametrize("name", EXPORT_FILES)
def test_sniff_every_corpus_export(name: str) -> None:
    kind = KIND_OF[manifest()[name]["kind"]]
    assert exports.sniff(_text(name)) == kind
    assert exports.sniff(_text(name)[:300]) == kind  # a truncated head is enough


@pytest.mark.parametrize(
    "text",
    [
        '{"foo": 1}',
        "[1,2,3]",
        '{"lst": [["onnxrt-runner-N0", [{"outputs": {}}]]], "polygraphy_class": "RunResults"}',
        '[\n  { "name" : "prob", "dimensions" : "1x1000x1x1", "values" : [ 0.1, 0.2',  # --exportOutput
        "&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=a.onnx",
        "",
        "[",
        '{"Layers"',
        "not json at all {",
    ],
)
def test_sniff_rejects_other_content(text: str) -> None:
    assert exports.sniff(text) is None


def test_sniff_layer_info_11x_io_tensors() -> None:
    assert exports.sniff('{"I/O Tensors": [{"Name": "x"') == "export_layer_info"


# ------------------------------------------------------------------------------------ every file


@pytest.mark.corpus
@pytest.mark.parametrize("name", EXPORT_FILES)
def test_every_corpus_export_parses(name: str) -> None:
    kind = KIND_OF[manifest()[name]["kind"]]
    records = exports.parse_export(CORPUS / name, kind)
    assert records and all(r.kind == kind and r.status == "passed" for r in records)
    for rec in records:
        json.dumps(rec.to_dict())  # the contract form is JSON-ready


# ------------------------------------------------------------------------------------------ times


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "count", "era"),
    [
        ("fuzzylabs__alexnet_fp16.timing.json", 6039, "8.4+"),
        ("trex__mobilenet.qat.onnx.engine.timing.json", 6580, "8.4+"),
        ("trex__RTX3090_tf_fp32_resnet.onnx.engine.timing.json", 263, "8.4+"),
        ("kalfazed__trt8.6.1_resnet50int8.engine.timing.json", 10220, "8.4+"),
    ],
)
def test_times_sample_counts(name: str, count: int, era: str) -> None:
    (rec,) = exports.parse_export(CORPUS / name, "export_times")
    assert rec.options["sample_count"] == count  # = number of "computeMs" keys in the file
    assert rec.options["era"] == era
    assert rec.options["warmup_included"] is None  # 8.4 and 8.5+ share the layout
    assert rec.options["throughput_basis"] == "per_enqueue"
    assert rec.end_to_end_ms is None  # no endToEndMs key from 8.4
    assert rec.h2d_ms is not None and rec.h2d_ms.max == 0.0  # these runs used --noDataTransfers


@pytest.mark.corpus
def test_times_concatenated_arrays_one_record_each() -> None:
    records = exports.parse_export(CORPUS / "jetsontrtexec__times_googlenet_None_int8_10.json",
                                   "export_times")
    # Array lengths counted in the file: 3126 "computeMs" keys over 7 arrays (one per run, batch 1..128).
    assert [r.options["sample_count"] for r in records] == [1520, 708, 426, 239, 129, 68, 36]
    assert all(r.options["era"] == "7.1-7.2" and r.options["warmup_included"] is True for r in records)
    assert [r.options["array_index"] for r in records] == list(range(7))
    assert records[0].end_to_end_ms is not None


@pytest.mark.corpus
def test_times_7x_swapped_keys_and_warmup_cut() -> None:
    first = json.JSONDecoder().raw_decode(_text("jetsontrtexec__times_googlenet_None_int8_10.json"))[0]
    rec = exports.parse_times(first, "jetson", warmup_ms=200, percentiles=(99,))
    # The log says: "Warmup completed 80 queries over 200 ms", "Timing trace has 1440 queries over 3.00343 s"
    assert rec.options["warmup_dropped"] == 80
    assert rec.options["sample_count"] == 1440
    assert rec.options["warmup_included"] is False
    assert f"{rec.host_walltime_s:.6g}" == "3.00343"  # walltime from startEnqMs (= H2D start in 7.1-7.2)
    assert list(rec.gpu_compute_ms.percentiles) == ["p99"]


def _sample(t0: float, compute: float, era: str) -> dict[str, float]:
    """One synthetic sample of a given era (H2D 0.1 ms, D2H 0.05 ms, enqueue 0.02 ms before H2D)."""
    h2d_s, c_s = t0, t0 + 0.1
    c_e = c_s + compute
    d_e = c_e + 0.05
    if era == "7.0":
        return {"startInMs": h2d_s, "endInMs": c_s, "startComputeMs": c_s, "endComputeMs": c_e,
                "startOutMs": c_e, "endOutMs": d_e, "inMs": 0.1, "computeMs": compute, "outMs": 0.05,
                "latencyMs": compute + 0.15, "endToEndMs": d_e - h2d_s}
    sample = {"startEnqMs": t0 - 0.02, "endEnqMs": t0, "startH2dMs": h2d_s, "endH2dMs": c_s,
              "startComputeMs": c_s, "endComputeMs": c_e, "startD2hMs": c_e, "endD2hMs": d_e, "h2dMs": 0.1,
              "computeMs": compute, "d2hMs": 0.05, "latencyMs": compute + 0.15}
    if era == "8.0-8.2":
        sample["endToEndMs"] = d_e - h2d_s
    return sample


@pytest.mark.parametrize("era", ["7.0", "8.0-8.2", "8.4+"])
def test_times_eras_synthetic(era: str) -> None:
    computes = [4.0, 1.0, 2.0, 3.0]
    samples = [_sample(10.0 * (i + 1), c, era) for i, c in enumerate(computes)]
    rec = exports.parse_times(list(reversed(samples)), "synthetic", percentiles=(50,))  # order restored
    assert rec.options["era"] == era and rec.options["sample_count"] == 4
    g = rec.gpu_compute_ms
    assert (g.min, g.max, g.mean, g.median, g.percentiles["p50"]) == (1.0, 4.0, 2.5, 2.5, 2.0)
    assert (rec.end_to_end_ms is not None) == (era != "8.4+")
    assert (rec.enqueue_ms is None) == (era == "7.0")
    assert rec.total_gpu_compute_s == pytest.approx(0.01)
    # walltime: last D2H end (40 + 0.1 + 3 + 0.05) - first H2D start (10) = 33.15 ms
    assert rec.host_walltime_s == pytest.approx(0.03315, rel=1e-6)
    assert rec.throughput_qps == pytest.approx(4 / 0.03315, rel=1e-6)


def test_times_warmup_cut_synthetic() -> None:
    samples = [_sample(t, 1.0, "8.0-8.2") for t in (0.0, 50.0, 150.0, 210.0, 260.0)]
    rec = exports.parse_times(samples, "s", warmup_ms=200)
    # compute starts 0.1, 50.1, 150.1, 210.1, 260.1: the first >= 200 is the 4th sample
    assert rec.options["warmup_dropped"] == 3 and rec.options["sample_count"] == 2
    assert exports.parse_times(samples, "s", warmup_ms=1000).status == "incomplete"


@pytest.mark.corpus
def test_times_truncated_file(tmp_path: Path) -> None:
    text = _text("kalfazed__trt8.6.1_resnet50int8.engine.timing.json")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    (rec,) = exports.parse_export(cut, "export_times")
    assert rec.kind == "export_times" and rec.status == "incomplete"
    assert 4000 < rec.options["sample_count"] < 10220


def test_times_value_beyond_float32_is_a_corrupt_row_not_inf() -> None:
    # Found by the fuzzer on a mutated real export: "endEnqMs" : 1e66.26 read as 1e66. trtexec stores
    # times as C floats, so such a row is corruption; it must not turn the enqueue statistics into inf.
    row = {"startEnqMs": 1.0, "endEnqMs": 1.01, "startH2dMs": 2.0, "endH2dMs": 2.0, "startComputeMs": 2.0,
           "endComputeMs": 3.0, "startD2hMs": 3.0, "endD2hMs": 3.0, "h2dMs": 0, "computeMs": 1.0,
           "d2hMs": 0, "latencyMs": 1.0}
    rows = [dict(row, startEnqMs=row["startEnqMs"] + i, endEnqMs=row["endEnqMs"] + i,
                 startH2dMs=2.0 + i, startComputeMs=2.0 + i) for i in range(5)]
    rows[3]["endEnqMs"] = 1e66
    rec = exports.parse_times(rows, "f")
    assert rec.enqueue_ms is not None and rec.enqueue_ms.max is not None and rec.enqueue_ms.max < 1
    json.dumps(rec.to_dict(), allow_nan=False)


# ---------------------------------------------------------------------------------------- profile


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "count", "n_layers", "first", "avg", "median"),
    [
        ("fuzzylabs__resnet18_fp16.profile.json", 21071, 26,
         "Reformatting CopyNode for Input Tensor 0 to /conv1/Conv + /relu/Relu", 0.00800422, 0.008192),
        ("trex__mobilenet.qat.onnx.engine.profile.json", 4216, 85, "QuantizeLinear_2", 0.0122041, None),
        ("trex__notebooks_profile.json", 11, 86, "[trainStation1]", 1.52, 1.08902),
        ("trex__RTX3090_tf_fp32_resnet.onnx.engine.profile.json", 1, 103, "resnet50/conv1_conv/Conv2D__6",
         0.08704, 0.08704),
        ("detrlogs__detr-profile.json", 641, 840, "/model/model/Transpose_1_output_0", 0.0, 0.0),
        ("lix19937ea__aeb_profile.json", 839, 104,
         "{ForeignNode[/bev_decoder/Constant_output_0.../bev_decoder/Where_13]}", 0.0283161, 0.02848),
    ],
)
def test_profile_values(name: str, count: int, n_layers: int, first: str, avg: float,
                        median: float | None) -> None:
    rec = exports.parse_profile_text(_text(name), name)
    assert rec.kind == "export_profile"
    assert rec.options["profile_count"] == count
    assert len(rec.layers) == n_layers == rec.options["layer_count"]
    layer = rec.layers[0]
    assert (layer.name, layer.time_ms, layer.median_ms) == (first, avg, median)


@pytest.mark.corpus
def test_profile_7x_concatenated() -> None:
    records = exports.parse_export(CORPUS / "jetsontrtexec__profile_googlenet_None_int8_10.json",
                                   "export_profile")
    assert [r.options["profile_count"] for r in records] == [1520, 708, 426, 239, 129, 68, 36]
    first = records[0].layers[0]
    assert first.name == "conv1/7x7_s2 + conv1/relu_7x7 + pool1/3x3_s2 input reformatter 0"
    assert (first.time_ms, first.time_pct, first.median_ms) == (0.0468854, 2.38803, None)
    assert first.is_reformat and first.fused_from == []
    assert records[0].layers[1].fused_from == ["conv1/7x7_s2", "conv1/relu_7x7", "pool1/3x3_s2"]


@pytest.mark.corpus
def test_profile_unescaped_names_are_recovered() -> None:
    text = _text("kalfazed__trt8.6.1_resnet50int8.engine.profile.json")
    raw_name = 'my "soft\\max"\\tlayer'  # a quote, a backslash, and "\t" that JSON would turn into a tab
    injected = text.replace('"name" : "/softmax/Softmax"', f'"name" : "{raw_name}"')
    injected = injected.replace('"name" : "/backbone/fc/Gemm"', '"name" : "gemm \\"A\\" \\"')
    assert injected != text
    with pytest.raises(json.JSONDecodeError):
        json.loads(injected)
    rec = exports.parse_profile_text(injected, "injected")
    assert rec.kind == "export_profile" and rec.options["recovered_unescaped_rows"] is True
    assert rec.options["profile_count"] == 6402 and len(rec.layers) == 59
    last = rec.layers[-1]
    assert last.name == raw_name and last.time_ms == 0.00423771 and last.median_ms == 0.004096
    assert any(x.name == 'gemm \\"A\\" \\' for x in rec.layers)


def test_profile_valid_json_backslash_escape_is_kept_raw() -> None:
    # A name "a\nb" is valid JSON but trtexec meant the two characters backslash and n.
    text = ('[\n  { "count" : 2 }\n'
            ', { "name" : "a\\nb", "timeMs" : 2, "averageMs" : 1, "percentage" : 100 }\n]\n')
    rec = exports.parse_profile_text(text, "t")
    assert rec.layers[0].name == "a\\nb"


# ------------------------------------------------------------------------------------- layer info


@pytest.mark.corpus
def test_layer_info_detailed_kalfazed() -> None:
    data = json.loads(_text("kalfazed__trt8.6.1_resnet50int8.engine.graph.json"))
    rec = exports.parse_layer_info(data, "k")
    assert rec.kind == "export_layer_info" and rec.options["verbosity"] == "detailed"
    assert len(rec.layers) == 59 and rec.options["bindings"] == ["input0", "output0"]
    reformat, conv = rec.layers[0], rec.layers[1]
    assert reformat.is_reformat and reformat.type == "Reformat" and reformat.precision == "int8"
    assert conv.type == "CaskConvActPool" and conv.precision == "int8"
    assert conv.fused_from == ["/backbone/conv1/Conv", "/backbone/relu/Relu", "/backbone/maxpool/MaxPool"]


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "n_layers", "bindings"),
    [
        ("hackcn__trt8.2.3_modelInformation.txt", 12, ["x:0", "z:0"]),
        ("hackcn__trt8.4.1_modelInformation.log", 12, ["tensor-0", "tensor-15"]),
        ("detrlogs__detr-layer-info.json", 840, ["image", "boxes", "logits", "classes"]),
    ],
)
def test_layer_info_names_only(name: str, n_layers: int, bindings: list[str]) -> None:
    rec = exports.parse_export(CORPUS / name, "export_layer_info")[0]
    assert rec.options["verbosity"] == "layer_names_only"
    assert len(rec.layers) == n_layers and rec.options["bindings"] == bindings
    assert all(x.type is None and x.precision is None for x in rec.layers)


@pytest.mark.corpus
def test_layer_info_names_only_reformat_and_fusion() -> None:
    rec = exports.parse_export(CORPUS / "hackcn__trt8.2.3_modelInformation.txt", "export_layer_info")[0]
    by_name = {x.name: x for x in rec.layers}
    assert by_name["Reformatting CopyNode for Output Tensor 0 to MaxPool2d"].is_reformat
    assert by_name["Conv__25 + Relu"].fused_from == ["Conv__25", "Relu"]
    assert by_name["(Unnamed Layer* 52) [Shuffle]"].fused_from == ["(Unnamed Layer* 52) [Shuffle]"]


@pytest.mark.corpus
def test_layer_info_10x_float_and_metadata() -> None:
    rec = exports.parse_export(CORPUS / "hackcn__trt10.16.1_model-trained-exportLayerInfo.log",
                               "export_layer_info")[0]
    assert len(rec.layers) == 9 and rec.options["bindings"] == ["x", "y", "z"]
    first = rec.layers[0]
    assert (first.name, first.type, first.precision) == ("node_conv2d + node_relu", "CaskConvolution", "fp32")
    assert first.fused_from == ["node_conv2d", "node_relu"]


@pytest.mark.corpus
def test_layer_info_unit_separator_metadata() -> None:
    rec = exports.parse_export(CORPUS / "lix19937ea__dmt_layers_tofp16.json", "export_layer_info")[0]
    assert len(rec.layers) == 1309
    layer = next(x for x in rec.layers if x.name == "__myl_GridCastReshTran_myl2_8")
    prefix = "/neck_lss/view_transformer/encoder/layers.0/ca/"
    assert layer.fused_from == [prefix + "GridSample", prefix + "Reshape_2", prefix + "Transpose_1"]


def test_layer_info_11x_synthetic() -> None:
    data = {
        "Layers": [
            {"Name": "conv\x1erelu", "LayerType": "CaskConvolution",
             "Inputs": [{"Name": "x", "Format": "Row major linear", "DataType": "Float"}],
             "Outputs": [{"Name": "y", "Format": "Channel major", "DataType": "Half"}],
             "Metadata": "[ONNX Layer: conv]\x1e[ONNX Layer: relu]"},
            {"Name": "conv\x1erelu [profile 1]", "LayerType": "CaskConvolution",
             "Outputs": [{"Name": "y", "DataType": "Half"}]},
        ],
        "I/O Tensors": [
            {"Name": "x", "IOMode": "Input", "DataType": "Float", "Dimensions": [1, 3, 224, 224],
             "Location": "Device", "IsShapeInferenceIO": False,
             "ProfileInfo": [{"MinShape": [1, 3, 224, 224], "OptShape": [1, 3, 224, 224],
                              "MaxShape": [1, 3, 224, 224],
                              "Format": "Row major linear FP32 format (kLINEAR)"}]},
            {"Name": "y", "IOMode": "Output", "DataType": "Half", "Dimensions": [1, 1000],
             "Location": "Device"},
        ],
    }
    rec = exports.parse_layer_info(data, "eleven")
    assert rec.options["bindings"] == ["x", "y"]
    assert rec.options["io_tensors"][0]["io_mode"] == "Input"
    assert rec.options["profiles"] == [0, 1]
    assert [x.name for x in rec.layers] == ["conv + relu", "conv + relu [profile 1]"]
    assert rec.layers[0].precision == "fp16" and rec.layers[0].fused_from == ["conv", "relu"]
    assert rec.layers[1].fused_from == ["conv", "relu"]


@pytest.mark.corpus
def test_layer_info_truncated(tmp_path: Path) -> None:
    text = _text("kalfazed__trt8.6.1_resnet50int8.engine.graph.json")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    (rec,) = exports.parse_export(cut, "export_layer_info")
    assert rec.kind == "export_layer_info" and rec.status == "incomplete"
    assert 10 < len(rec.layers) < 59


# ------------------------------------------------------------------------------------------ fuzz

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["count", "name", "computeMs", "startH2dMs", "startInMs", "startEnqMs", "Layers",
                         "Bindings", "I/O Tensors", "Name", "Outputs", "Metadata", "averageMs", "x"]),
        inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_fuzz_pure_functions_never_raise(data: object) -> None:
    assert isinstance(exports.parse_times(data, "f"), RunRecord)  # type: ignore[arg-type]
    assert isinstance(exports.parse_layer_info(data, "f"), RunRecord)
    text = json.dumps(data, allow_nan=True)
    assert isinstance(exports.parse_profile_text(text, "f"), RunRecord)
    assert exports.sniff(text) in (None, "export_times", "export_profile", "export_layer_info")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_text_never_raises(text: str) -> None:
    assert isinstance(exports.parse_profile_text(text, "f"), RunRecord)
    assert isinstance(exports.parse_layer_info(text, "f"), RunRecord)
    exports.sniff(text)
