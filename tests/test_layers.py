"""Layer building, joining and summaries, on real profile + layer-info pairs."""

from __future__ import annotations

import json

import pytest
from corpus_location import CORPUS

from trtsweep.analysis.layers import layer_shares, timed
from trtsweep.parsers import exports
from trtsweep.parsers.layers import (
    fused_from,
    is_reformat,
    join_layers,
    layer_key,
    metadata_onnx_layers,
    normalize_precision,
)
from trtsweep.records import LayerRecord


def _pair(profile: str, info: str) -> tuple[list[LayerRecord], list[LayerRecord]]:
    p = exports.parse_export(CORPUS / profile, "export_profile")[0]
    i = exports.parse_export(CORPUS / info, "export_layer_info")[0]
    return p.layers or [], i.layers or []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Row major linear FP32", "fp32"),
        ("Thirty-two wide channel vectorized row major Int8 format", "int8"),
        ("Channel major FP16 format where channel % 8 == 0", "fp16"),
        ("Half", "fp16"),
        ("Float", "fp32"),
        ("Int64", "int64"),
        ("kBF16", "bf16"),
        ("Bool", "bool"),
        ("Unknown format", None),
        ("", None),
    ],
)
def test_normalize_precision(text: str, expected: str | None) -> None:
    assert normalize_precision(text) == expected


def test_fused_from_variants() -> None:
    assert fused_from("a + b + c") == ["a", "b", "c"]
    assert fused_from("{ForeignNode[/Split_2.../Concat_1]}") == ["/Split_2", "/Concat_1"]
    assert fused_from("features.0.0.weight + QuantizeLinear_8 + Conv_12 + PWN(Clip_16)") == [
        "features.0.0.weight", "QuantizeLinear_8", "Conv_12", "Clip_16"]
    assert fused_from("PWN(PWN(/Mul, /Add), /Relu)") == ["/Mul", "/Add", "/Relu"]
    assert fused_from("Reformatting CopyNode for Input Tensor 0 to a + b") == []
    assert fused_from("x [profile 2]") == ["x"]
    assert fused_from("a\x1eb") == ["a", "b"]
    meta = "[ONNX Layer: p]\x1f[ONNX Layer: q]\x1e[ONNX Layer: r]"
    assert fused_from("ignored name", meta) == ["p", "q", "r"]


def test_metadata_items_keep_brackets_inside_names() -> None:
    meta = "[ONNX Layer: (Unnamed Layer* 21) [Shuffle]]\x1e[ONNX Layer: add_2]"
    assert metadata_onnx_layers(meta) == ["(Unnamed Layer* 21) [Shuffle]", "add_2"]
    assert metadata_onnx_layers("") == []


def test_is_reformat() -> None:
    assert is_reformat("anything", layer_type="Reformat")
    assert is_reformat("anything", origin="REFORMAT")
    assert is_reformat("conv1 input reformatter 0")
    assert not is_reformat("conv1", layer_type="CaskConvolution")


def test_layer_key() -> None:
    assert layer_key("a\x1eb [profile 1]") == layer_key("a + b")


@pytest.mark.corpus
def test_join_kalfazed_profile_and_graph() -> None:
    prof, info = _pair("kalfazed__trt8.6.1_resnet50int8.engine.profile.json",
                       "kalfazed__trt8.6.1_resnet50int8.engine.graph.json")
    joined = join_layers(prof, info)
    assert len(joined) == 59
    soft = next(x for x in joined if x.name == "/softmax/Softmax")
    # profile row: averageMs 0.00423771, medianMs 0.004096; graph: LayerType CaskSoftMaxV2
    assert (soft.time_ms, soft.median_ms, soft.type) == (0.00423771, 0.004096, "CaskSoftMaxV2")
    conv = joined[1]
    assert conv.type == "CaskConvActPool" and conv.precision == "int8" and conv.time_ms == 0.00774412
    shares = layer_shares(joined)
    assert shares is not None and shares.by_precision is not None and shares.by_type is not None
    # Two "Reformatting CopyNode" layers: a Reformat (1.13193 %) and a NoOp one (0 %).
    assert sum(x.is_reformat for x in joined) == 2
    # All layers ran 6402 times, so the averageMs share equals the file's percentage.
    assert shares.reformat_pct == pytest.approx(1.13193, abs=2e-4)
    assert sum(shares.by_precision.values()) == pytest.approx(100.0)
    assert sum(shares.by_type.values()) == pytest.approx(100.0)
    assert shares.by_precision["int8"] > 90


@pytest.mark.corpus
def test_join_trex_mobilenet_qat() -> None:
    prof, info = _pair("trex__mobilenet.qat.onnx.engine.profile.json",
                       "trex__mobilenet.qat.onnx.engine.graph.json")
    joined = join_layers(prof, info)
    assert len(joined) == 85
    # 12 layers with Origin REFORMAT plus one NoOp named "Reformatting CopyNode ..."
    assert sum(x.is_reformat for x in joined) == 13
    first = joined[0]
    assert (first.name, first.type, first.time_ms) == ("QuantizeLinear_2", "Scale", 0.0122041)
    assert first.precision == "int8"  # output "Thirty-two wide channel vectorized row major Int8 format"
    assert sum(x.type == "CaskConvolution" for x in joined) == 34


@pytest.mark.corpus
def test_join_fuzzylabs_resnet18() -> None:
    prof, info = _pair("fuzzylabs__resnet18_fp16.profile.json", "fuzzylabs__resnet18_fp16.graph.json")
    joined = join_layers(prof, info)
    shares = layer_shares(joined)
    assert shares is not None and shares.by_precision is not None
    assert len(joined) == 26 and sum(x.is_reformat for x in joined) == 2
    raw = json.loads((CORPUS / "fuzzylabs__resnet18_fp16.profile.json").read_text())
    # The two reformat rows have percentage 2.20189 and 0 in the file.
    assert shares.reformat_pct == pytest.approx(2.20189, abs=2e-3)
    assert shares.total_ms == pytest.approx(sum(r["averageMs"] for r in raw[1:]))
    assert shares.by_precision["fp16"] > 90
    conv = next(x for x in joined if x.name == "/conv1/Conv + /relu/Relu")
    assert conv.fused_from == ["/conv1/Conv", "/relu/Relu"] and conv.precision == "fp16"


@pytest.mark.corpus
def test_join_names_only_keeps_profile_times() -> None:
    prof, info = _pair("trex__notebooks_profile.json", "trex__notebooks_layer_info.json")
    joined = join_layers(prof, info)
    assert len(joined) == 86
    assert joined[0].name == "[trainStation1]" and joined[0].time_ms == 1.52


def test_join_by_normalised_name_and_profile_suffix() -> None:
    profile = [LayerRecord(name="a + b", time_ms=1.0), LayerRecord(name="c", time_ms=3.0)]
    info = [
        LayerRecord(name="a\x1eb", type="CaskConvolution", precision="fp16", fused_from=["a", "b"]),
        LayerRecord(name="a\x1eb [profile 1]", type="CaskConvolution", precision="fp16"),
        LayerRecord(name="c [profile 1]", type="Shuffle"),
        LayerRecord(name="d", type="NoOp"),
    ]
    joined = join_layers(profile, info)
    assert [x.name for x in joined] == ["a + b", "c", "d"]
    assert joined[0].type == "CaskConvolution" and joined[0].time_ms == 1.0
    assert joined[1].type == "Shuffle" and joined[1].time_ms == 3.0
    assert joined[2].time_ms is None
    shares = layer_shares(joined)
    assert shares is not None and shares.by_precision == {"unknown": 75.0, "fp16": 25.0}
    assert len(timed(joined)) == 2


def test_summarize_without_times() -> None:
    layers = [LayerRecord(name="x"), LayerRecord(name="Reformatting CopyNode y", is_reformat=True)]
    assert layer_shares(layers) is None and timed(layers) == []
    assert join_layers() == [] and join_layers([]) == []
