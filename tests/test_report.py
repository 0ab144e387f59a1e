"""The HTML report, its charts, tables and Markdown summary, on run folders built in tmp_path.

The run folders are written with the store's own functions and hand-made records shaped like what the
parsers produce from real logs (TensorRT 8/10 with a full timing breakdown, TensorRT 7 with host latency
only), so the report is tested against the run-folder contract rather than against a parser.
"""

from __future__ import annotations

import itertools
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from trtsweep import store
from trtsweep.analysis.baseline import baseline_from_cli
from trtsweep.analysis.model import build_model
from trtsweep.records import BuildInfo, Device, LayerRecord, RunRecord, Stats
from trtsweep.reports import data as report_data
from trtsweep.reports import html, plots, tables
from trtsweep.reports.markdown import markdown_summary, md_escape
from trtsweep.store.meta import RunMeta

SCRIPT_NAME = "<script>alert(1)</script>"
SPEED = {"fp32": 1.0, "tf32": 1.3, "fp16": 2.4, "int8": 3.9}


def stats(median: float, spread: float = 0.1) -> Stats:
    return Stats(
        min=median * (1 - spread),
        max=median * (1 + 3 * spread),
        mean=median * (1 + spread / 2),
        median=median,
        percentiles={
            "p90": median * (1 + spread),
            "p95": median * (1 + 1.5 * spread),
            "p99": median * (1 + 2 * spread),
        },
    )


def layers_for(precision: str, scale: float, evil: bool = False) -> list[LayerRecord]:
    kinds = ["Convolution", "Convolution", "PointWise", "Pooling", "MatrixMultiply", "Softmax"]
    out = []
    for i in range(18):
        name = f"/backbone/stage{i // 4}/conv{i}/Conv + Relu"
        out.append(
            LayerRecord(
                name=name,
                type=kinds[i % len(kinds)],
                precision=precision if i % 5 else "fp32",
                time_ms=scale * (0.05 + 0.01 * (i % 7)),
            )
        )
    out.append(
        LayerRecord(
            name="Reformatting CopyNode for Input Tensor 0 to conv3",
            type="Reformat",
            precision=precision,
            time_ms=scale * 0.04,
            is_reformat=True,
        )
    )
    if evil:
        out.append(LayerRecord(name=SCRIPT_NAME, type="PluginV2", precision="fp32", time_ms=scale * 0.2))
    return out


def passed_record(
    precision: str,
    batch: int,
    streams: int = 1,
    graph: bool = False,
    trt7: bool = False,
    with_layers: bool = True,
    gpu: str = "NVIDIA A10",
    gpu_speed: float = 1.0,
    evil: bool = False,
) -> RunRecord:
    compute = 0.9 * batch**0.8 / SPEED.get(precision, 1.0) / gpu_speed
    h2d, d2h = 0.05 * batch, 0.01 * batch
    latency = compute + h2d + d2h + (0.01 if graph else 0.05)
    qps = 1000.0 / compute * (1.6 if streams > 1 else 1.0) * (1.08 if graph else 1.0)
    rec = RunRecord(
        source="run.log",
        kind="trtexec_log",
        status="passed",
        trt_version="7.1.3" if trt7 else "10.3.0",
        command=f"trtexec --onnx=model.onnx --{precision} --shapes=input:{batch}x3x224x224",
        device=Device(name=gpu, compute_capability="8.6"),
        options={"precision": precision},
        build=BuildInfo(
            engine_build_s=30.0 + 10 * SPEED.get(precision, 1),
            engine_size_mib=100.0 / SPEED.get(precision, 1),
        ),
        throughput_qps=qps,
        latency_ms=stats(latency),
        gpu_compute_cv_pct=1.2,
    )
    if not trt7:
        rec.gpu_compute_ms = stats(compute)
        rec.h2d_ms, rec.d2h_ms, rec.enqueue_ms = stats(h2d), stats(d2h), stats(0.2)
        rec.end_to_end_ms = stats(latency * streams)
        if with_layers:
            rec.layers = layers_for(precision, compute / 1.5, evil=evil)
    return rec


def failed_record(cause: str, text: str) -> RunRecord:
    return RunRecord(
        source="run.log",
        kind="trtexec_log",
        status="failed",
        failure=cause,
        failure_text=text,
        trt_version="10.3.0",
    )


def make_run(
    root: Path,
    variants: list[dict[str, Any]],
    env: dict[str, Any] | None = None,
    baseline: dict[str, Any] | None = None,
    expect_speedup: float | None = None,
) -> Path:
    """Write a run folder: spec.lock.json, env.json, one step folder per variant (and its engine)."""
    lock: dict[str, Any] = {
        "variants": [
            {"id": v["id"], "axes": v["axes"], "build_id": v.get("build_id"), "model": "model.onnx"}
            for v in variants
        ]
    }
    if baseline is not None:
        lock["baseline"] = baseline
    if expect_speedup is not None:
        lock["expect_speedup"] = expect_speedup
    store.atomic_write_json(root / store.LOCK_FILE, lock)
    if env is not None:
        store.atomic_write_json(root / "env.json", env)
        if env.get("date"):
            # What `trtsweep run` writes: the run's identity, with the day it was measured.
            meta = RunMeta(run_id=f"test-{root.name}", created=f"{env['date']}T10:00:00+00:00", origin="run",
                           host=env.get("host"), gpus=env.get("gpus") or [])
            store.atomic_write_json(root / store.META_FILE, meta.to_dict())
    for v in variants:
        step = store.variant_dir(root, v["id"])
        step.mkdir(parents=True, exist_ok=True)
        if v.get("argv"):
            store.atomic_write_json(step / "cmd.json", {"argv": v["argv"]})
        if v.get("log") is not None:
            (step / "run.log").write_text(v["log"])
        if v.get("build_id") and v.get("build") is not None:
            store.write_step(store.engine_dir(root, v["build_id"]), v["build"], v["build"].status)
        rec = v.get("record")
        extra = {"reason": v["reason"]} if v.get("reason") else {}
        store.write_step(step, rec, v.get("status") or (rec.status if rec else "skipped"), **extra)
    return root


def env_for(gpu: str, host: str, date: str) -> dict[str, Any]:
    return {
        "host": host,
        "date": date,
        "driver": "550.54.15",
        "cuda": "12.4",
        "gpus": [{"name": gpu, "memory_gib": 24}],
        "trtexec": {"path": "/usr/src/tensorrt/bin/trtexec", "version": "10.3.0"},
    }


def full_sweep(
    root: Path,
    gpu: str = "NVIDIA A10",
    host: str = "lab-a10",
    date: str = "2024-05-02",
    gpu_speed: float = 1.0,
    baseline: dict[str, Any] | None = None,
) -> Path:
    """fp32/fp16/int8 × batch 1/8/32 × streams 1/2 × CUDA graph off/on, plus two failures."""
    variants = []
    for prec, batch, streams, graph in itertools.product(
        ("fp32", "fp16", "int8"), (1, 8, 32), (1, 2), (False, True)
    ):
        vid = f"{prec}-b{batch}-s{streams}-{'graph' if graph else 'nograph'}"
        build_id = f"{prec}-b{batch}"
        argv = [
            "trtexec",
            f"--loadEngine=engines/{build_id}/engine.plan",
            f"--streams={streams}",
            f"--shapes=input:{batch}x3x224x224",
        ] + (["--useCudaGraph"] if graph else [])
        rec = passed_record(
            prec, batch, streams, graph, gpu=gpu, gpu_speed=gpu_speed, evil=(prec, batch) == ("int8", 8)
        )
        build = RunRecord(
            source="build.log",
            kind="trtexec_log",
            status="passed",
            command=f"trtexec --onnx=model.onnx --{prec} --saveEngine=engines/{build_id}/engine.plan",
            build=rec.build,
        )
        variants.append(
            {
                "id": vid,
                "axes": {
                    "precision": prec,
                    "batch": batch,
                    "shapes": "static",
                    "streams": streams,
                    "cuda_graph": graph,
                },
                "build_id": build_id,
                "build": build,
                "record": rec,
                "argv": argv,
            }
        )
    variants.append(
        {
            "id": "int8-b64-s1-nograph",
            "axes": {"precision": "int8", "batch": 64, "shapes": "static", "streams": 1, "cuda_graph": False},
            "record": failed_record(
                "oom", "[E] [TRT] 2: Requested amount of GPU memory could not be allocated"
            ),
            "log": "line 1\n[E] Error[2]: Requested amount of GPU memory (1073741824 bytes) could not "
            "be allocated\n&&&& FAILED TensorRT.trtexec [TensorRT v100300] # trtexec\n",
        }
    )
    variants.append(
        {
            "id": "fp16-b64-s1-nograph",
            "axes": {
                "precision": "fp16",
                "batch": 64,
                "shapes": "dynamic",
                "streams": 1,
                "cuda_graph": False,
            },
            "status": "skipped",
            "reason": "engine fp16-b64 failed: unsupported_op",
        }
    )
    return make_run(
        root,
        variants,
        env_for(gpu, host, date),
        baseline
        if baseline is not None
        else {"label": "PyTorch eager", "latency_ms": {"1": 12, "8": 40, "32": 130}},
        expect_speedup=3.0,
    )


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


# --- tests -------------------------------------------------------------------------------------


def test_full_sweep_report_has_every_chart_and_table(tmp_path: Path) -> None:
    run = full_sweep(tmp_path / "run")
    res = html.build_report([run])
    assert res.out_dir == run / "report"
    names = {p.name for p in res.pngs}
    assert names == {
        f"{n}.png"
        for n in (
            "throughput",
            "latency",
            "speedup",
            "breakdown",
            "streams_graphs",
            "top_layers",
            "time_share",
            "reformat",
            "build",
        )
    }
    for p in res.pngs:
        w, h = png_size(p)
        assert 300 < w < 2500 and 200 < h < 4000, (p.name, w, h)
    page = res.index_html.read_text()
    for name in names:
        assert f'src="{name}"' in page
    assert "http://" not in page and "https://" not in page  # nothing from the network
    assert '<link rel="stylesheet"' not in page and "<script src" not in page
    assert "PyTorch eager" in page and "★" not in page.split("<style>")[0]
    assert "out of memory" in page or "oom" in page
    assert "Requested amount of GPU memory" in page  # last log lines of the failed variant
    assert "engine fp16-b64 failed: unsupported_op" in page
    assert "550.54.15" in page and "12.4" in page and "10.3.0" in page  # environment
    assert "--loadEngine=engines/fp16-b8/engine.plan" in page  # exact commands
    assert 'class="star"' in page  # the best variant of a batch is starred
    assert res.summary_md.read_text().startswith("# ")
    assert not any("speedup" in m.lower() for m in res.missing), res.missing


def test_layer_names_from_logs_are_escaped(tmp_path: Path) -> None:
    run = full_sweep(tmp_path / "run")
    res = html.build_report([run], tmp_path / "out")
    # Only the layer charts would show it; make the 'evil' variant the one whose layers are drawn and
    # check the table path too via a variant id with markup.
    page = res.index_html.read_text()
    assert SCRIPT_NAME not in page
    rs = store.load_result_set(run)
    rs.variants[0].variant_id = SCRIPT_NAME
    data = report_data.collect([rs])
    data.plots = []
    out = html.render_html(data)
    assert SCRIPT_NAME not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert out.count("<script>") == 1  # the page's own sorting script only
    assert "<script>" not in md_escape(SCRIPT_NAME)


def test_evil_layer_name_in_chart_does_not_break_plotting(tmp_path: Path) -> None:
    run = full_sweep(tmp_path / "run")
    rs = store.load_result_set(run)
    for v in rs.variants:
        for rec in v.records:
            if rec.layers:
                rec.layers[0].name = "$\\frac{a}{" + SCRIPT_NAME  # broken mathtext must not raise
    models = [build_model(rs)]
    labels = tables.run_labels(models)
    ctx = plots.PlotContext(models, labels, tables.variant_rows(models, labels), tmp_path)
    assert plots.top_layers(ctx).path is not None


def test_failed_only_run_says_what_is_missing(tmp_path: Path) -> None:
    run = make_run(
        tmp_path / "run",
        [
            {
                "id": "fp16-b1",
                "axes": {"precision": "fp16", "batch": 1},
                "record": failed_record(
                    "unsupported_op", "[E] [TRT] ModelImporter: No importer registered for op: Foo"
                ),
                "log": "[E] [TRT] ModelImporter: No importer registered for op: Foo\n"
                "&&&& FAILED TensorRT.trtexec\n",
            },
            {
                "id": "fp32-b1",
                "axes": {"precision": "fp32", "batch": 1},
                "status": "timeout",
                "reason": "timed out after 600 s",
            },
        ],
    )
    res = html.build_report([run])
    assert res.pngs == []
    assert any("no variant passed" in m for m in res.missing)
    assert any("no baseline" in m for m in res.missing)
    page = res.index_html.read_text()
    assert "No importer registered for op: Foo" in page and "unsupported_op" in page
    assert "timed out after 600 s" in page and ">timeout<" in page
    assert "<img" not in page
    assert "Not drawn:" in page and "could not be drawn" in page


def test_single_variant_without_baseline_or_env(tmp_path: Path) -> None:
    run = make_run(
        tmp_path / "run",
        [{"id": "only", "axes": {"precision": "fp16", "batch": 4}, "record": passed_record("fp16", 4)}],
    )
    res = html.build_report([run], title="One variant")
    assert {p.name for p in res.pngs} >= {"throughput.png", "latency.png", "breakdown.png", "top_layers.png"}
    assert "speedup.png" not in {p.name for p in res.pngs}
    assert any("no env.json" in m for m in res.missing)
    assert any("streams or in cuda_graph" in m for m in res.missing)
    page = res.index_html.read_text()
    assert "<title>One variant</title>" in page
    assert "NVIDIA A10" in page  # GPU from the record when env.json is absent
    assert "Every variant passed." in page


def test_trt7_records_without_breakdown_or_layers(tmp_path: Path) -> None:
    run = make_run(
        tmp_path / "run",
        [
            {
                "id": f"fp16-b{b}",
                "axes": {"precision": "fp16", "batch": b},
                "record": passed_record("fp16", b, trt7=True),
            }
            for b in (1, 2, 4)
        ],
        baseline={"label": "fp32", "variant": {"precision": "fp32"}},
    )
    res = html.build_report([run])
    names = {p.name for p in res.pngs}
    assert "throughput.png" in names and "latency.png" in names
    assert "breakdown.png" not in names and "top_layers.png" not in names
    joined = " ".join(res.missing)
    assert "TensorRT 7" in joined and "per-layer" in joined
    assert "no variant could be compared with fp32" in joined  # baseline matches nothing: said, not drawn
    assert "7.1.3" in res.index_html.read_text()


def test_imported_run_with_axes_from_the_log_only(tmp_path: Path) -> None:
    """`trtsweep import` may leave axes empty; precision then comes from the record's options."""
    recs = [passed_record("int8", 1, with_layers=False), passed_record("fp16", 1, with_layers=False)]
    run = make_run(tmp_path / "run", [{"id": f"log{i}", "axes": {}, "record": r} for i, r in enumerate(recs)])
    res = html.build_report([run])
    page = res.index_html.read_text()
    assert "log0" in page and "log1" in page
    assert any("batch" in m for m in res.missing)  # no batch: the per-batch charts say so
    assert "build.png" in {p.name for p in res.pngs}  # build figures from the run records
    assert "trtexec --onnx=model.onnx --int8" in page  # command from the log when no cmd.json


def test_three_gpus_side_by_side(tmp_path: Path) -> None:
    runs = [
        full_sweep(tmp_path / name, gpu=gpu, host=host, date=date, gpu_speed=speed)
        for name, gpu, host, date, speed in (
            ("a", "NVIDIA A10", "lab-a10", "2024-05-02", 1.0),
            ("b", "NVIDIA H100 80GB HBM3", "dgx-1", "2024-05-03", 3.1),
            ("c", "NVIDIA GeForce RTX 3080", "ws-7", "2024-05-04", 1.4),
        )
    ]
    res = html.build_report(runs, tmp_path / "side")
    page = res.index_html.read_text()
    for label in (
        "NVIDIA A10 / lab-a10 / 2024-05-02",
        "NVIDIA H100 80GB HBM3 / dgx-1 / 2024-05-03",
        "NVIDIA GeForce RTX 3080 / ws-7 / 2024-05-04",
    ):
        assert label in page
    w, _ = png_size(tmp_path / "side" / "throughput.png")
    assert w > 1200  # three panels side by side
    md = (tmp_path / "side" / "summary.md").read_text()
    assert md.count("## NVIDIA") == 3
    assert "<title>trtsweep report: 3 runs side by side</title>" in page


def test_same_labels_get_folder_names(tmp_path: Path) -> None:
    a = full_sweep(tmp_path / "a")
    b = full_sweep(tmp_path / "b")
    labels = tables.run_labels([store.load_result_set(a), store.load_result_set(b)])
    assert len(set(labels)) == 2 and labels[0].endswith("(a)")


def test_variant_baseline_option_and_best_marks(tmp_path: Path) -> None:
    run = full_sweep(tmp_path / "run")
    base = baseline_from_cli(baseline="precision=fp32,streams=1,cuda_graph=false")
    rs = store.load_result_set(run)
    rows = tables.variant_rows([build_model(rs, base)], ["r"])
    by_id = {r["variant_id"]: r for r in rows}
    assert by_id["fp32-b8-s1-nograph"]["metrics"]["speedup"] == pytest.approx(1.0)
    assert by_id["int8-b8-s2-graph"]["metrics"]["speedup"] > 1.0
    assert by_id["int8-b8-s2-graph"]["best_in_batch"]
    assert sum(r["overall_best"] for r in rows) == 1
    res = html.build_report([run], tmp_path / "out", baseline=base)
    assert "speedup.png" in {p.name for p in res.pngs}


def test_findings_naming_a_hostile_variant_are_shown_escaped(tmp_path: Path) -> None:
    run = full_sweep(tmp_path / "run")
    lock = store.read_json(run / store.LOCK_FILE)
    old = lock["variants"][0]["id"]
    hostile = "<svg onload=alert(1)>"  # a variant id that is markup (a log's name, from an import)
    lock["variants"][0]["id"] = hostile
    store.atomic_write_json(run / store.LOCK_FILE, lock)
    (run / "runs" / old).rename(run / "runs" / hostile)
    res = html.build_report([run])
    page = res.index_html.read_text()
    assert "<h2>Findings</h2>" in page and "&lt;svg onload=alert(1)&gt;" in page.split("<h2>Findings</h2>")[1]
    assert hostile not in page
    assert page.count("<script>") == 1  # the page's own sorting script only


def test_markdown_summary_for_ci(tmp_path: Path) -> None:
    run = full_sweep(tmp_path / "run")
    md = markdown_summary([run])
    assert "| batch | best variant | time per batch (ms) | samples/s |" in md
    assert "int8" in md and "oom" in md
    assert "<script>" not in md
    assert md == markdown_summary([store.load_result_set(run)])


def test_not_a_run_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        html.build_report([tmp_path])


def test_results_of_tables_are_json_friendly(tmp_path: Path) -> None:
    """Rows are plain data a CLI could dump as JSON (sets aside)."""
    rs = store.load_result_set(full_sweep(tmp_path / "run"))
    labels = tables.run_labels([rs])
    for rows in (
        tables.failure_rows([rs], labels),
        tables.environment_rows([rs], labels),
        tables.command_rows([rs], labels),
    ):
        json.dumps(rows)
    assert tables.fmt(None) == "—" and tables.fmt(1234.5) == "1,234" and tables.fmt(0.012345) == "0.0123"


def test_open_flag_hands_the_written_page_to_the_browser(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import stat
    import time

    from click.testing import CliRunner

    from trtsweep.cli import main

    run = make_run(
        tmp_path / "run",
        [{"id": "only", "axes": {"precision": "fp16", "batch": 4}, "record": passed_record("fp16", 4)}],
    )
    # A stand-in for the desktop's opener (xdg-open on Linux) that notes what it was asked to open.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    opened = tmp_path / "opened.txt"
    opener = bindir / "xdg-open"
    opener.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    opener.chmod(opener.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    res = CliRunner().invoke(main, ["report", str(run), "--open"])
    assert res.exit_code == 0, res.output
    index = (run / "report" / "index.html").resolve()
    for _ in range(100):  # the opener is started, not waited for
        if opened.is_file() and opened.read_text().strip():
            break
        time.sleep(0.05)
    assert opened.read_text().strip() == str(index)
    # No opener at all (a server): the report is still written, exit 0, and the user is told where it is.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    res = CliRunner().invoke(main, ["report", str(run), "--open"])
    assert res.exit_code == 0 and "could not open a browser" in res.output and "index.html" in res.output
    res = CliRunner().invoke(main, ["report", str(run), "--open", "--format", "md"])
    assert res.exit_code == 2 and "--open" in res.output
