"""Layer diff of ``trtsweep compare --layers``: matching by name and through ONNX nodes, shares, reformats."""

from __future__ import annotations

import pytest

from trtsweep.analysis.compare_layers import layer_nodes, variant_diff
from trtsweep.records import LayerRecord as L


def test_name_then_onnx_nodes_then_leftovers() -> None:
    a = [L("conv1 + relu1", time_ms=1.0, precision="fp16", fused_from=["conv1", "relu1"]),
         L("pool", time_ms=0.5, precision="fp16"),
         L("fc", time_ms=2.0, precision="fp16"),
         L("Reformatting CopyNode for Input Tensor 0 to conv1", time_ms=0.1, is_reformat=True)]
    b = [L("conv1_myl0_1", time_ms=1.5, precision="fp16"),  # the Myelin layer of node conv1
         L("pool", time_ms=0.5, precision="fp16"),
         L("fc", time_ms=3.0, precision="fp32"),
         L("extra", time_ms=0.2)]
    d = variant_diff(1, "batch=1", "a", "b", a, b)
    by = {(tuple(r.names_a), tuple(r.names_b)): r for r in d.rows}
    assert by[(("pool",), ("pool",))].matched_by == "name"
    fused = by[(("conv1 + relu1",), ("conv1_myl0_1",))]
    assert fused.matched_by == "onnx nodes" and fused.delta_ms == pytest.approx(0.5)
    assert [r.names_b for r in d.appeared] == [["extra"]] and d.disappeared == []
    assert d.precision_changes == [("fc", "fp16", "fp32")]
    assert d.graph_changed and d.reformats == (1, 0)
    # total 3.6 -> 5.2 ms: fc's +1.0 is 62.5 % of the +1.6 ms change
    assert d.total_a == pytest.approx(3.6) and d.total_b == pytest.approx(5.2)
    assert by[(("fc",), ("fc",))].share == pytest.approx(1.0 / 1.6)
    assert d.top[0].names_a == ["fc"]


def test_same_graph_and_untimed_layers() -> None:
    a = [L("x"), L("y")]
    d = variant_diff(1, "k", "a", "b", a, [L("x"), L("y")])
    assert not d.graph_changed and not d.timed and d.appeared == []
    assert "graphs are compared" in d.notes[0]


def test_layer_nodes() -> None:
    assert layer_nodes(L("a + b")) == {"a", "b"}
    assert layer_nodes(L("node_conv2d_myl0_1")) == {"node_conv2d"}
    assert layer_nodes(L("__myl_CastReshCast_myl5_6")) == set()
    assert layer_nodes(L("whatever", fused_from=["n1"])) == {"n1"}
