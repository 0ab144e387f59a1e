"""inspect: ONNX model facts (dynamic dims, op histogram, ops to check) and the engine layer mapping.

The models are built here with onnx.helper; the layer-info exports are real corpus files:
``hackcn__trt10.16.1_model-trained-exportLayerInfo.log`` (detailed, with ``[ONNX Layer: ...]`` metadata)
and ``hackcn__trt8.4.1_modelInformation.log`` (names only). The test models reproduce the node names
of the cookbook model those engines were built from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from corpus_location import CORPUS
from onnx import TensorProto, helper, numpy_helper

from trtsweep.inspect.onnx import inspect_onnx, load_layer_info, map_layers, render_inspect_text
from trtsweep.parsers.layers import fused_from, make_layer


def _weights(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def cookbook_model(path: Path, names: list[str] | None = None) -> Path:
    """The hackathon cookbook MNIST net: conv-relu-pool x2, reshape, linear-relu, linear, softmax, argmax.

    ``names`` overrides the 12 node names (default: the TensorRT 10 export's names plus an unnamed-by-TRT
    reshape). Input batch is dynamic ('B')."""
    n = names or ["node_conv2d", "node_relu", "node_max_pool2d", "node_conv2d_1", "node_relu_1",
                  "node_max_pool2d_1", "node_view", "node_linear", "node_relu_2", "node_linear_1",
                  "node_softmax", "node_argmax"]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 1, 28, 28])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 10])
    z = helper.make_tensor_value_info("z", TensorProto.INT64, ["B"])
    inits = [_weights("w1", 32, 1, 5, 5), _weights("w2", 64, 32, 5, 5), _weights("fc1", 3136, 1024),
             _weights("fc2", 1024, 10),
             numpy_helper.from_array(np.array([-1, 3136], dtype=np.int64), "shape")]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name=n[0], pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name=n[1]),
        helper.make_node("MaxPool", ["r1"], ["p1"], name=n[2], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], name=n[3], pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"], name=n[4]),
        helper.make_node("MaxPool", ["r2"], ["p2"], name=n[5], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p2", "shape"], ["flat"], name=n[6]),
        helper.make_node("MatMul", ["flat", "fc1"], ["m1"], name=n[7]),
        helper.make_node("Relu", ["m1"], ["r3"], name=n[8]),
        helper.make_node("MatMul", ["r3", "fc2"], ["m2"], name=n[9]),
        helper.make_node("Softmax", ["m2"], ["y"], name=n[10], axis=1),
        helper.make_node("ArgMax", ["y"], ["z"], name=n[11], axis=1, keepdims=0),
    ]
    model = helper.make_model(helper.make_graph(nodes, "mnist", [x], [y, z], inits),
                              opset_imports=[helper.make_opsetid("", 17)], producer_name="test")
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def test_inputs_outputs_dynamic_dims_and_histogram(tmp_path):
    info = inspect_onnx(cookbook_model(tmp_path / "m.onnx"))
    assert info["node_count"] == 12 and info["opsets"] == {"ai.onnx": 17}
    (x,) = info["inputs"]  # initializers are not inputs
    assert x["name"] == "x" and x["dtype"] == "float"
    assert [d["dynamic"] for d in x["dims"]] == [True, False, False, False] and x["dims"][0]["param"] == "B"
    assert info["dynamic"] is True
    assert [o["dtype"] for o in info["outputs"]] == ["float", "int64"]
    assert info["op_histogram"] == {"Conv": 2, "MatMul": 2, "MaxPool": 2, "Relu": 3, "ArgMax": 1,
                                    "Reshape": 1, "Softmax": 1}
    assert list(info["op_histogram"])[0] == "Relu"  # most frequent first
    assert info["attention_ops"] == [] and info["layer_info"] is None


def test_ops_that_need_plugins_or_block_fusion(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    nodes = [helper.make_node("Cast", ["x"], ["a"], to=TensorProto.FLOAT, name="cast"),
             helper.make_node("NonZero", ["a"], ["nz"], name="nz"),
             helper.make_node("AddScalar", ["a"], ["y"], domain="custom", name="plugin")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("custom", 1)])
    onnx.save(model, tmp_path / "p.onnx")
    info = inspect_onnx(tmp_path / "p.onnx")
    ops = {a["op"]: a for a in info["attention_ops"]}
    assert ops["custom::AddScalar"]["category"] == "plugin"
    assert info["attention_ops"][0]["category"] == "plugin"  # plugins listed first
    assert ops["NonZero"]["category"] == "fusion" and ops["Cast"]["count"] == 1
    assert info["dynamic"] is False
    assert "custom::AddScalar" in render_inspect_text(info)


def test_subgraph_nodes_are_counted(tmp_path):
    body_out = helper.make_tensor_value_info("o", TensorProto.FLOAT, [1])
    then = helper.make_graph([helper.make_node("Relu", ["x"], ["o"])], "then", [], [body_out])
    other = helper.make_graph([helper.make_node("Neg", ["x"], ["o"])], "else", [], [body_out])
    c = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    node = helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other)
    onnx.save(helper.make_model(helper.make_graph([node], "g", [c, x], [y])), tmp_path / "if.onnx")
    info = inspect_onnx(tmp_path / "if.onnx")
    assert info["op_histogram"] == {"If": 1, "Neg": 1, "Relu": 1}
    assert {a["op"] for a in info["attention_ops"]} == {"If"}


@pytest.mark.corpus
def test_detailed_layer_info_maps_onnx_nodes_by_metadata(tmp_path):
    export = CORPUS / "hackcn__trt10.16.1_model-trained-exportLayerInfo.log"
    info = inspect_onnx(cookbook_model(tmp_path / "m.onnx"), layer_info=export)
    li = info["layer_info"]
    assert li["mapped_by"] == "metadata"
    assert li["engine_layers"] == 9 and li["reformat_layers"] == 0
    assert li["fusion_ratio"] == pytest.approx(12 / 9, abs=1e-3)
    assert li["layers"]["node_conv2d + node_relu"] == ["node_conv2d", "node_relu"]
    assert li["layers"]["node_linear_myl4_0"] == ["node_linear", "node_relu_2"]
    assert li["layers"]["__myl_CastReshCast_myl4_4"] == []  # its Metadata is empty in the export
    assert li["unmapped_onnx_nodes"] == ["node_view"]
    text = render_inspect_text(info)
    assert "fusion ratio 1.333" in text and "node_conv2d + node_relu <- node_conv2d, node_relu" in text


@pytest.mark.corpus
def test_names_only_layer_info_maps_by_layer_names(tmp_path):
    names = ["Conv-1", "ReLU-2", "MaxPool-3", "Conv-4", "ReLU-5", "MaxPool-6", "Reshape-7", "MatMul-9",
             "ReLU-11", "MatMul-12", "Softmax-14", "ArgMax-15"]
    export = CORPUS / "hackcn__trt8.4.1_modelInformation.log"
    li = inspect_onnx(cookbook_model(tmp_path / "m.onnx", names), layer_info=export)["layer_info"]
    assert li["mapped_by"] == "names"
    assert li["reformat_layers"] == 2 and li["engine_layers"] == 10
    assert li["layers"]["Conv-1 + ReLU-2"] == ["Conv-1", "ReLU-2"]
    assert li["layers"]["Softmax-14 + ArgMax-15"] == ["Softmax-14", "ArgMax-15"]
    assert li["layers"]["Transpose-7 + Reshape-7 + reshape_before_MatMul-9"] == ["Reshape-7"]
    assert li["unmapped_onnx_nodes"] == []
    assert "(Unnamed Layer* 32) [Shuffle]" in li["layers_without_onnx"]


def test_foreign_node_ranges_and_myelin_names():
    onnx_names = ["a", "b", "c", "d", "node_conv2d"]
    layers = [make_layer(name, fused_from=fused_from(name)) for name in (
        "{ForeignNode[a...c]}", "node_conv2d_myl0_1", "Reformatting CopyNode for Input Tensor 0 to d")]
    li = map_layers(onnx_names, layers)
    assert li["layers"] == {"{ForeignNode[a...c]}": ["a", "b", "c"], "node_conv2d_myl0_1": ["node_conv2d"]}
    assert li["unmapped_onnx_nodes"] == ["d"] and li["reformat_layers"] == 1


def test_load_layer_info_rejects_other_json(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"count": 3}')
    with pytest.raises(ValueError):
        load_layer_info(bad)


def test_missing_and_invalid_model(tmp_path):
    with pytest.raises(FileNotFoundError):
        inspect_onnx(tmp_path / "none.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\xffnot a model at all" * 10)
    with pytest.raises(ValueError):
        inspect_onnx(junk)
