"""The analysis layer: one definition per figure, and one test per contradiction issue #11 found.

Each ``test_contradiction_*`` reproduces one bullet of the issue's "Why" list: it failed on the code
before the analysis layer (where two outputs disagreed, or an output disagreed with the data) and passes
now. Run folders are written through the store, as ``run``/``import`` write them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from corpus_location import CORPUS
from test_diagnose import ax, make_rs, one, rec, simple

from trtsweep import diagnose as dg
from trtsweep.analysis import axes as axmod
from trtsweep.analysis import metrics
from trtsweep.analysis.baseline import Baseline
from trtsweep.analysis.layers import layer_shares, variant_layers
from trtsweep.analysis.model import build_model
from trtsweep.orchestrate.importer import import_folder
from trtsweep.records import LayerRecord, RunRecord, Stats
from trtsweep.reports import html, tables
from trtsweep.reports.markdown import markdown_summary
from trtsweep.reports.tables import fmt
from trtsweep.store import load_result_set

PYTORCH = {"label": "PyTorch", "latency_ms": {"1": 40.0, "2": 60.0, "4": 90.0, "8": 160.0}}


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


# ---------------------------------------------------------------- definitions

def test_samples_per_s_follow_trtexecs_query_semantics() -> None:
    # Explicit batch (ONNX, 8.0+): a query is one enqueue of a whole batch -> samples/s = qps x batch.
    explicit = rec(latency=10.0, qps=100.0)
    f = metrics.repeat_figures(explicit, batch=4, streams=1)
    assert f.samples_per_s == pytest.approx(400.0) and f.batches_per_s == pytest.approx(100.0)
    # Implicit batch (--batch=N, 7.x Caffe/UFF): trtexec already multiplies by the batch.
    implicit = rec(latency=2680.0, qps=47.7781, options={"batch": 128})
    assert axmod.implicit_batch(implicit)
    f = metrics.repeat_figures(implicit, batch=128, streams=1, implicit_batch=True)
    assert f.samples_per_s == pytest.approx(47.7781) and f.batches_per_s == pytest.approx(47.7781 / 128)
    # 7.x explicit-batch engines print 0 qps: samples/s come from the time per batch.
    zero = rec(latency=20.0, qps=0.0)
    assert metrics.repeat_figures(zero, batch=2, streams=1).samples_per_s == pytest.approx(100.0)


def test_time_per_batch_basis() -> None:
    one_stream = metrics.repeat_figures(rec(latency=10.0, qps=110.0), batch=1, streams=1)
    assert (one_stream.time_per_batch_ms, one_stream.basis) == (10.0, metrics.LATENCY)
    two = metrics.repeat_figures(rec(latency=18.0, qps=200.0), batch=1, streams=2)
    assert two.time_per_batch_ms == pytest.approx(5.0) and two.basis == metrics.THROUGHPUT


def test_precision_names() -> None:
    assert axmod.precision_name(["fp32", "fp16", "int8"]) == "fp16+int8"
    assert axmod.precision_name(["fp32", "fp16"]) == "fp16"
    assert axmod.precision_name("FP32+TF32") == "tf32"
    assert axmod.precision_name("int8") == "int8"
    layers = [LayerRecord("a", precision="int8"), LayerRecord("b", precision="int8"),
              LayerRecord("r", precision="fp32", is_reformat=True)]
    assert axmod.layer_precision(layers) == "int8"  # reformats only convert between the others
    assert axmod.layer_precision([*layers, LayerRecord("c", precision="fp16")]) == "mixed"
    assert axmod.layer_precision([LayerRecord("a")]) is None


# ---------------------------------------------------------------- one test per contradiction

def test_contradiction_best_variant_is_the_same_in_every_output(tmp_path: Path) -> None:
    # The numbers: fp16 batch 1 with 2 streams has the most qps (263), fp16 batch 4 with 2 streams
    # the most samples/s (4 x 81 = 324). The best variant is one rule: samples/s.
    root = tmp_path / "run"
    fp16 = {"precision": "fp16", "streams": 2}
    make_rs(root, [
        {"id": "b1-s2", "axes": ax(batch=1, **fp16), "record": rec(latency=7.0, qps=263.0)},
        {"id": "b4-s2", "axes": ax(batch=4, **fp16), "record": rec(latency=24.0, qps=81.0)},
    ])
    model = build_model(load_result_set(root))
    assert model.best.variant_id == "b4-s2" and model.best.samples_per_s == pytest.approx(324.0)
    res = html.build_report([root], tmp_path / "rep")
    page = _text(res.index_html.read_text())
    assert "Most samples/s: 324 samples/s b4-s2" in page
    rows = tables.variant_rows([model], ["r"])
    assert [r["variant_id"] for r in rows if r["overall_best"]] == ["b4-s2"]
    assert "Most samples/s: **324** with `b4-s2`" in markdown_summary([root])


def test_contradiction_speedup_uses_the_median_over_repeats(tmp_path: Path) -> None:
    # Repeats of 10.0, 5.0 and 5.2 ms: the variant's time per batch is 5.2 ms, so the speedup against
    # 40 ms is 40 / 5.2 = 7.69x in the report, the Markdown and the diagnosis (not 40 / 10 from repeat 0).
    root = tmp_path / "run"
    make_rs(root, [{"id": "v", "axes": ax(), "records": [simple(10.0), simple(5.0), simple(5.2)]}],
            baseline=PYTORCH, expect=3.0)
    model = build_model(load_result_set(root))
    view = model.view("v")
    assert view.time_per_batch_ms == pytest.approx(5.2) and view.speedup.ratio == pytest.approx(40 / 5.2)
    assert f"{fmt(40 / 5.2)}× (latency)" in markdown_summary([root])
    rows = tables.variant_rows([model], ["r"])
    assert rows[0]["metrics"]["speedup"] == pytest.approx(40 / 5.2)
    met = one(dg.diagnose(load_result_set(root)), "expectation_met")
    assert met.evidence[0].values["speedup"] == pytest.approx(40 / 5.2)


def test_contradiction_one_axis_reader_for_imported_precisions(tmp_path: Path) -> None:
    # One imported log built with --fp16 --int8: trtexec echoes "Precision: FP32+FP16+INT8". The report
    # said "fp16+int8" and the diagnosis "int8"; now both read analysis.axes.
    logged = rec(latency=2.0, qps=500.0, options={"precision": ["fp32", "fp16", "int8"],
                                                   "inference_shapes": {"x": "1x3x224x224"}})
    assert axmod.axes_from_record(logged)["precision"] == "fp16+int8"
    root = tmp_path / "run"
    rs = make_rs(root, [{"id": "log", "axes": {}, "record": logged}])
    model = build_model(rs)
    row = tables.variant_rows([model], ["r"])[0]
    ctx = dg.check_inputs(rs)
    assert row["precision"] == ctx.views[0].precision == model.view("log").precision == "fp16+int8"
    assert row["batch"] == ctx.views[0].batch == 1
    assert "fp32_only" not in [f.code for f in dg.diagnose(rs)]


def test_contradiction_streams_finding_covers_every_batch(tmp_path: Path) -> None:
    # Two streams give 1.90x samples/s at batches 1, 2 and 4 and nothing at 8: the finding must say both,
    # not "keep one stream" from batch 8 alone.
    variants = []
    for b in (1, 2, 4, 8):
        t = 4.0 + 12.0 * b
        gain = 1.9 if b < 8 else 0.95
        variants.append({"id": f"b{b}-s1", "axes": ax(batch=b, streams=1),
                         "record": rec(latency=t, qps=1000 / t)})
        variants.append({"id": f"b{b}-s2", "axes": ax(batch=b, streams=2),
                         "record": rec(latency=2 * t, qps=gain * 1000 / t)})
    f = one(dg.diagnose(make_rs(tmp_path, variants)), "streams_no_gain")
    assert "1.90x at batch 1–4" in f.title and "none at batch 8" in f.title
    assert {e.values["batch"] for e in f.evidence} == {1, 2, 4, 8}
    assert "more streams at batch 1, 2, 4" in f.next_step and "one stream at batch 8" in f.next_step


def test_contradiction_hotspot_is_not_sized_from_a_slower_variant_and_ties_are_said(tmp_path: Path) -> None:
    # The seed case's layer split: two layers tie at 22.4 % of the layer time.
    shares = (("conv", 22.4), ("fc", 22.4), ("pool", 19.2), ("conv2", 19.2), ("tail", 16.8))
    slow = simple(10.0, layers=[LayerRecord(n, time_ms=p / 10, time_pct=p) for n, p in shares])
    rs = make_rs(tmp_path, [{"id": "slow", "axes": ax(precision="fp32"), "record": slow},
                            {"id": "fast", "axes": ax(precision="fp16"), "record": simple(4.0)}], PYTORCH)
    findings = dg.diagnose(rs)
    f = one(findings, "layer_hotspot")
    assert f.title == "2 layers take 22 % of GPU time each"
    assert f.explained_ms is None and f.severity == "low"  # the best variant (fast) has no hotspot
    order = [x.code for x in findings]
    sized = [x for x in findings if x.explained_at]
    assert all(order.index(x.code) < order.index("layer_hotspot") for x in sized if x.severity != "low")


def test_contradiction_next_step_never_proposes_a_measured_precision(tmp_path: Path) -> None:
    variants = [{"id": f"{p}-b{b}", "axes": ax(precision=p, batch=b), "record": simple(t * scale)}
                for p, scale in (("fp32", 1.0), ("fp16", 0.45)) for b, t in ((1, 16), (8, 100))]
    f = one(dg.diagnose(make_rs(tmp_path, variants, PYTORCH)), "batch_saturation")
    assert "fp16" not in (f.yaml_snippet or "") and "int8" in (f.yaml_snippet or "")


def test_contradiction_explained_ms_has_one_basis(tmp_path: Path) -> None:
    # precision_gain used the batch-4, 2-stream pair while the batch-8 gain was larger; now every sized
    # finding is sized on the best variant of a batch the baseline gives (1 and 8 here), and says where.
    variants = []
    for b in (1, 4, 8):
        t = 4.0 + 12.0 * b
        variants.append({"id": f"fp32-b{b}", "axes": ax(batch=b),
                         "record": rec(latency=t, gpu=0.6 * t, h2d=0.01, d2h=0.01, qps=1000 / t)})
    rs = make_rs(tmp_path, variants, {"label": "PyTorch", "latency_ms": {"1": 40.0, "8": 160.0}}, expect=3.0)
    model = build_model(rs)
    for f in dg.diagnose(rs):
        if f.explained_at and f.code != "speedup_shortfall":
            at = f.explained_at
            assert at["batch"] in (1, 8)
            assert at["variant_id"] == model.best_by_batch[(None, at["batch"])].variant_id
            assert f.explained_ms <= at["time_per_batch_ms"]


def test_contradiction_expectation_met_is_said_with_where_and_by_how_much(tmp_path: Path) -> None:
    # fp16 at batch 8: 160 / 45.07 = 3.55x against an expected 3x: a finding says so (it used to vanish).
    pytorch_b8 = {"label": "PyTorch", "latency_ms": {"8": 160.0}}
    rs = make_rs(tmp_path, [{"id": "fp16-b8", "axes": ax(precision="fp16", batch=8),
                             "record": simple(45.07)}], pytorch_b8, expect=3.0)
    f = one(dg.diagnose(rs), "expectation_met")
    assert "Expected 3x reached" in f.title
    e = f.evidence[0]
    assert e.variant_id == "fp16-b8" and "3.55x, expected 3x (reached, 18 % above)" in e.text
    # Partly met: the shortfall says where the target is reached.
    rs2 = make_rs(tmp_path / "b", [{"id": "b1", "axes": ax(batch=1), "record": simple(10.0)},
                                   {"id": "b8", "axes": ax(batch=8), "record": simple(100.0)}],
                  {"label": "PyTorch", "latency_ms": {"1": 40.0, "8": 160.0}}, expect=3.0)
    short = one(dg.diagnose(rs2), "speedup_shortfall")
    assert "Reached at batch 1 (4.00x, b1)" in short.explanation


def test_contradiction_evidence_lines_are_labelled_and_not_duplicated(tmp_path: Path) -> None:
    # Four batch 1 -> 8 lines used to look alike; CUDA graph on/off pairs with equal figures repeated.
    variants = []
    for s in (1, 2):
        for g in (False, True):
            for b in (1, 8):
                t = (4.0 + 12.0 * b) / (1.9 if s == 2 and b == 1 else 1.0)
                variants.append({"id": f"s{s}-g{int(g)}-b{b}", "axes": ax(batch=b, streams=s, cuda_graph=g),
                                 "record": rec(latency=t * s, qps=1000 / t)})
    f = one(dg.diagnose(make_rs(tmp_path, variants, PYTORCH)), "batch_saturation")
    texts = [e.text for e in f.evidence]
    assert len(texts) == len(set(texts))
    assert any(t.startswith("streams=1, cuda_graph=false|true: batch 1 -> 8") for t in texts), texts
    assert any(t.startswith("streams=2, cuda_graph=false|true: batch 1 -> 8") for t in texts), texts


def test_contradiction_multi_stream_speedup_names_its_basis(tmp_path: Path) -> None:
    root = tmp_path / "run"
    make_rs(root, [{"id": "s2", "axes": ax(streams=2), "record": rec(latency=16.0, qps=237.0)}], PYTORCH)
    model = build_model(load_result_set(root))
    sp = model.view("s2").speedup
    assert sp.basis == "throughput" and sp.ratio == pytest.approx(40 / (1000 / 237.0))
    assert f"{fmt(sp.ratio)}× (throughput)" in markdown_summary([root])
    page = _text(html.build_report([root], tmp_path / "rep").index_html.read_text())
    assert f"{fmt(sp.ratio)}× (throughput)" in page


@pytest.mark.corpus
def test_contradiction_loaded_int8_engine_is_not_called_fp32(tmp_path: Path) -> None:
    # kalfazed: a --loadEngine run (its echo says "Precision: FP32", which is trtexec's default, not the
    # engine's) with the engine's --exportLayerInfo: 56 layers run Int8, 3 FP32.
    src = tmp_path / "logs"
    src.mkdir()
    for name, target in (("kalfazed__trt8.6.1_rtx3080_resnet50int8_profile_run.log", "resnet.log"),
                         ("kalfazed__trt8.6.1_resnet50int8.engine.graph.json", "resnet.graph.json")):
        (src / target).write_bytes((CORPUS / name).read_bytes())
    import_folder(src, tmp_path / "run")
    rs = load_result_set(tmp_path / "run")
    model = build_model(rs)
    assert model.views[0].precision == "mixed"  # int8 and fp32 layers: what the engine runs, not "fp32"
    assert "fp32_only" not in [f.code for f in dg.diagnose(rs)]


@pytest.mark.corpus
def test_contradiction_trt7_implicit_batch_samples_per_s(tmp_path: Path) -> None:
    # khairul__trt7_jetson_fp16_resnet50_batches.txt, the batch-128 run: "Batch: 128" (line 558),
    # "median: 2679.98 ms" host latency (line 591), "throughput: 47.7781 qps" (line 593), GPU compute
    # median 2671.88 ms (line 603). Implicit batch: the qps already counts samples.
    src = tmp_path / "logs"
    src.mkdir()
    (src / "trt7.txt").write_bytes((CORPUS / "khairul__trt7_jetson_fp16_resnet50_batches.txt").read_bytes())
    import_folder(src, tmp_path / "run")
    rs = load_result_set(tmp_path / "run")
    model = build_model(rs)
    b128 = next(v for v in model.views if v.batch == 128)
    assert b128.samples_per_s == pytest.approx(47.7781)
    assert b128.time_per_batch_ms == pytest.approx(2679.98)
    assert f"| {fmt(47.7781)} |" in markdown_summary([tmp_path / "run"])
    doc = json.loads(dg.render_json(dg.diagnose(rs)))
    for f in doc["findings"]:
        for e in f["evidence"]:
            if e["variant_id"] == b128.variant_id and "samples_per_s_to" in e["values"]:
                assert e["values"]["samples_per_s_to"] == pytest.approx(47.76, rel=1e-3)
    host = [f for f in doc["findings"] if f["code"] == "host_overhead"]
    assert not host or host[0]["severity"] != "high"


def test_contradiction_layer_charts_use_the_engine_layer_info(tmp_path: Path) -> None:
    # The run's profile has times only; the engine's layers.json (build step) has type and precision.
    timed = [LayerRecord("conv1 + relu", time_ms=0.6), LayerRecord("fc", time_ms=0.4)]
    info = [LayerRecord("conv1 + relu", type="CaskConvolution", precision="fp16"),
            LayerRecord("fc", type="CaskGemm", precision="fp16")]
    joined = variant_layers(timed, info)
    split = layer_shares(joined)
    assert split.by_precision == {"fp16": pytest.approx(100.0)}
    assert split.by_type == {"CaskConvolution": pytest.approx(60.0), "CaskGemm": pytest.approx(40.0)}
    # Without any precision or type the split says so (None) instead of "unknown".
    bare = layer_shares(timed)
    assert bare.by_precision is None and bare.by_type is None
    build = RunRecord(source="b", kind="trtexec_log", status="passed", layers=info)
    root = tmp_path / "run"
    make_rs(root, [{"id": "v", "axes": ax(precision="fp16"), "record": simple(1.0, layers=timed),
                    "build": build}])
    res = html.build_report([root], tmp_path / "rep")
    assert "time_share.png" in {p.name for p in res.pngs}
    assert not any("state no" in m for m in res.missing)


def test_baseline_that_matches_nothing_is_said(tmp_path: Path) -> None:
    rs = make_rs(tmp_path, [{"id": "v", "axes": ax(), "record": simple(1.0)}])
    model = build_model(rs, Baseline("fp8", selector={"precision": "fp8"}))
    assert model.notes == ["baseline 'fp8' gives no speedup: no measured variant matches precision=fp8"]


def test_variant_baseline_prefers_the_closest_variant(tmp_path: Path) -> None:
    rs = make_rs(tmp_path, [
        {"id": "fp32-s1", "axes": ax(streams=1), "record": simple(10.0)},
        {"id": "fp32-s2", "axes": ax(streams=2), "record": rec(latency=12.0, qps=180.0)},
        {"id": "fp16-s2", "axes": ax(precision="fp16", streams=2), "record": rec(latency=6.0, qps=400.0)}])
    model = build_model(rs, Baseline("fp32", selector={"precision": "fp32"}))
    assert model.view("fp16-s2").speedup.baseline_variant == "fp32-s2"  # same streams, not the first fp32


def test_statistics_of_a_view_are_medians_over_repeats(tmp_path: Path) -> None:
    reps = [rec(latency=x, gpu=x * 0.9, qps=1000 / x) for x in (3.0, 1.0, 2.0)]
    view = build_model(make_rs(tmp_path, [{"id": "v", "axes": ax(), "records": reps}])).view("v")
    assert view.latency == 2.0 and view.gpu == pytest.approx(1.8) and view.qps == pytest.approx(500.0)
    assert view.repeat_ms == [3.0, 1.0, 2.0] and view.time_per_batch_ms == 2.0
    assert isinstance(Stats(median=1.0).median, float)
