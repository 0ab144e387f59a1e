"""`trtsweep import`: real logs and exports become a run folder that report and diagnose can read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from corpus_location import CORPUS
from example_sets import materialise

from trtsweep import store
from trtsweep.cli import main
from trtsweep.orchestrate.importer import pairing_stem


def test_pairing_stem_strips_extensions_and_export_words():
    assert pairing_stem(Path("resnet.log")) == "resnet"
    assert pairing_stem(Path("resnet.times.json")) == "resnet"
    assert pairing_stem(Path("resnet.onnx.engine.graph.json")) == "resnet"
    assert pairing_stem(Path("times_googlenet_None_int8_10.json")) == "googlenet_None_int8_10"
    assert pairing_stem(Path("raw_googlenet_None_int8_10.txt")) == "googlenet_None_int8_10"
    assert pairing_stem(Path("resnet-profile.json")) == "resnet"
    # Version-like dots and a variant's own words stay.
    assert pairing_stem(Path("hackcn__trt8.0.3_output-fp32.txt")) == "hackcn__trt8.0.3_output-fp32"
    assert pairing_stem(Path("03-fp16-b4-nocopy-graph.log")) == "03-fp16-b4-nocopy-graph"


@pytest.mark.corpus
def test_import_examples_h100(tmp_path):
    out = tmp_path / "run"
    logs = materialise(tmp_path, "h100-model-trained")
    res = CliRunner().invoke(main, ["import", str(logs), "-o", str(out)])
    assert res.exit_code == 0, res.output
    rs = store.load_result_set(out)
    by_id = {v.variant_id: v for v in rs.variants}
    assert sorted(by_id) == ["01-onnx-default", "02-build-fp16-dynamic", "03-fp16-b4-nocopy-graph",
                             "04-build-detailed", "05-fp16-dumpprofile", "06-fp16-default-run"]
    # 01-onnx-default.log: "[I] Throughput: 15374.3 qps", "Selected Device: NVIDIA H100 PCIe".
    first = by_id["01-onnx-default"].record
    assert first.throughput_qps == 15374.3
    assert first.device.name == "NVIDIA H100 PCIe"
    # 03: --shapes=x:4x1x28x28 --noDataTransfers --useCudaGraph
    assert by_id["03-fp16-b4-nocopy-graph"].axes["batch"] == 4
    assert by_id["03-fp16-b4-nocopy-graph"].axes["cuda_graph"] is True
    assert by_id["03-fp16-b4-nocopy-graph"].axes["data_transfers"] is False
    # 04's log is paired with its --exportLayerInfo JSON (detailed): 9 layers with types.
    detailed = by_id["04-build-detailed"]
    assert (out / "runs" / "04-build-detailed" / "layers.json").is_file()
    assert detailed.record.layers and all(layer.type for layer in detailed.record.layers)
    frame = pd.read_csv(out / "results.csv")
    assert len(frame) == 6
    assert set(frame["variant_status"]) == {"passed"}


@pytest.mark.corpus
def test_multi_run_log_pairs_exports_by_position(tmp_path):
    src = tmp_path / "logs"
    src.mkdir()
    # The Jetson 7.x corpus set: one log with 7 runs, times and profile files with 7 arrays each.
    for name in ("raw_googlenet_None_int8_10.txt", "times_googlenet_None_int8_10.json",
                 "profile_googlenet_None_int8_10.json"):
        shutil.copy(CORPUS / f"jetsontrtexec__{name}", src / name)
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["import", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    rs = store.load_result_set(out)
    assert len(rs.variants) == 7
    # The log's "[I] Batch: 1" / "Batch: 128" option echo of the first and last runs.
    assert rs.variants[0].axes["batch"] == 1 and rs.variants[-1].axes["batch"] == 128
    for v in rs.variants:
        assert (out / "runs" / v.variant_id / "times.json").is_file()
        assert v.record.layers, v.variant_id
        assert v.record.gpu_compute_cv_pct is not None


@pytest.mark.corpus
def test_unrecognized_files_are_listed_and_exit_1(tmp_path):
    src = tmp_path / "logs"
    src.mkdir()
    shutil.copy(CORPUS / "hackcn__trt10.14.1_result-01.log", src / "ada.log")
    (src / "notes.md").write_text("# my notes\n")
    res = CliRunner().invoke(main, ["import", str(src), "-o", str(tmp_path / "run")])
    assert res.exit_code == 1
    assert "unrecognized" in res.output and "notes.md" in res.output
    assert len(store.load_result_set(tmp_path / "run").variants) == 1
