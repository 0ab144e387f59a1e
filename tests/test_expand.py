"""Expansion of a spec into variants: counts, ids, build keys, include/exclude, --only, baselines, lock."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from trtsweep.sweeps.expand import (
    BaselineRef,
    Variant,
    baseline_for,
    build_id,
    expand,
    resolve_baselines,
    select,
    spec_lock,
    variant_id,
)
from trtsweep.sweeps.schema import SpecError
from trtsweep.sweeps.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "sweep.example.yaml"
MODEL = ROOT / "examples" / "models" / "tracker.onnx"

SMALL = """\
models:
  - name: tracker
    onnx: tracker.onnx
    inputs:
      images: {shape: [batch, 3, 128, 64]}
matrix:
  precision: [fp32, fp16]
  batch: [1, 4]
  streams: [1, 2]
"""


def variants_of(tmp_path: Path, text: str, name: str = "sweep.yaml") -> list[Variant]:
    shutil.copy(MODEL, tmp_path / "tracker.onnx")
    (tmp_path / name).write_text(textwrap.dedent(text))
    return expand(load_spec(tmp_path / name))


@pytest.fixture(scope="module")
def seed() -> list[Variant]:
    return expand(load_spec(EXAMPLE))


# ---------------------------------------------------------------- the seed case


def test_seed_counts(seed: list[Variant]) -> None:
    assert len(seed) == 2 * 4 * 2 * 2 * 2 == 64
    assert len({v.id for v in seed}) == 64
    # precision x (4 static batches + 1 dynamic engine)
    assert len({v.build_id for v in seed}) == 10
    assert len({v.build for v in seed}) == 10


def test_seed_order_is_the_matrix_order(seed: list[Variant]) -> None:
    first, last = seed[0].axes, seed[-1].axes
    assert (first["precision"], first["batch"], first["shapes"], first["streams"], first["cuda_graph"]) == \
        ("fp32", 1, "static", 1, False)
    assert (last["precision"], last["batch"], last["shapes"], last["streams"], last["cuda_graph"]) == \
        ("fp16", 8, "dynamic", 2, True)
    assert [k for k, _ in seed[0].axis_values][:3] == ["model", "precision", "batch"]


def test_ids_are_pinned(seed: list[Variant]) -> None:
    # The ids name run folders across runs and are matched by `compare`: they must never drift.
    assert seed[0].id == "tracker-fp32-b1-st-s1-0ad9d6"
    assert seed[-1].id == "tracker-fp16-b8-dyn-s2-graph-f8b80e"
    for v in seed:
        assert re.fullmatch(r"tracker-fp(32|16)-b[1248]-(st|dyn)-s[12](-graph)?-[0-9a-f]{6}", v.id), v.id


def test_static_and_dynamic_build_keys(seed: list[Variant]) -> None:
    static = next(v for v in seed if v.axes["shapes"] == "static" and v.runtime.batch == 4)
    (profile,) = static.build.profile
    assert profile.min == profile.opt == profile.max == (4, 3, 128, 64)
    assert static.build.batch == 4 and "-st-b4-" in static.build_id
    dynamic = [v for v in seed if v.axes["shapes"] == "dynamic" and v.axes["precision"] == "fp16"]
    assert len({v.build_id for v in dynamic}) == 1  # one engine serves every batch
    (profile,) = dynamic[0].build.profile
    assert (profile.min, profile.opt, profile.max) == ((1, 3, 128, 64), (8, 3, 128, 64), (8, 3, 128, 64))
    assert dynamic[0].build.batch is None
    assert sorted({v.runtime.batch for v in dynamic}) == [1, 2, 4, 8]
    for v in dynamic:
        (shape,) = v.runtime.shapes
        assert shape.name == "images" and shape.dims == (v.runtime.batch, 3, 128, 64)


def test_runtime_axes_share_the_engine(seed: list[Variant]) -> None:
    groups: dict[str, set[tuple]] = {}
    for v in seed:
        groups.setdefault(v.build_id, set()).add((v.runtime.streams, v.runtime.cuda_graph))
    assert all(len(g) == 4 for g in groups.values())  # 2 streams x 2 graph settings per engine


def test_typed_model_only_for_its_precision(seed: list[Variant]) -> None:
    for v in seed:
        if v.axes["precision"] == "fp16":
            assert v.build.typed_onnx.endswith("tracker_fp16.onnx") and v.build.typed_onnx_sha256
        else:
            assert v.build.typed_onnx is None and v.build.typed_onnx_sha256 is None
        assert v.build.onnx.endswith("tracker.onnx")


# ---------------------------------------------------------------- stability


def test_ids_stable_across_loads_key_order_and_explicit_defaults(tmp_path: Path) -> None:
    a = variants_of(tmp_path, SMALL, "a.yaml")
    reordered = """\
    matrix:
      streams: [1, 2]
      cuda_graph: false
      batch: [1, 4]
      precision: [fp32, fp16]
      data_transfers: true
    models:
      - inputs:
          images: {shape: [batch, 3, 128, 64]}
        onnx: ./tracker.onnx
        name: tracker
    run: {repeats: 5}
    """
    b = variants_of(tmp_path, reordered, "b.yaml")
    assert {v.id for v in a} == {v.id for v in b}
    assert [v.id for v in a] == [v.id for v in b]  # order follows the schema, not the YAML
    assert [v.build_id for v in a] == [v.build_id for v in b]
    assert [v.id for v in a] == [v.id for v in variants_of(tmp_path, SMALL, "a.yaml")]


def test_build_id_follows_model_content_not_path(tmp_path: Path) -> None:
    here = variants_of(tmp_path, SMALL)
    moved = tmp_path / "moved"
    moved.mkdir()
    there = variants_of(moved, SMALL)
    assert [v.build_id for v in here] == [v.build_id for v in there]
    (moved / "tracker.onnx").write_bytes(MODEL.read_bytes() + b"\0")  # different content
    changed = expand(load_spec(moved / "sweep.yaml"))
    assert [v.id for v in changed] == [v.id for v in here]  # same variant ...
    assert not {v.build_id for v in changed} & {v.build_id for v in here}  # ... different engine


def test_id_and_build_id_helpers() -> None:
    axes = {"model": "My Model (v2)", "precision": "fp16", "batch": 8, "shapes": "dynamic", "streams": 2,
            "cuda_graph": True, "spin_wait": False, "data_transfers": False, "threads": False,
            "builder_optimization_level": 5, "workspace_mib": 512, "build_flags": ("--x",), "run_flags": ()}
    slug = r"my_model_v2-fp16-b8-dyn-s2-graph-nodt-O5-ws512-bflags-[0-9a-f]{6}"
    assert re.fullmatch(slug, variant_id(axes))
    assert variant_id(axes) == variant_id(dict(reversed(list(axes.items()))))


def test_build_flag_sets_make_separate_engines(tmp_path: Path) -> None:
    text = SMALL + "  build_flags: [[], [--sparsity=enable]]\n  run_flags: [--exposeDMA]\n"
    v = variants_of(tmp_path, text)
    assert len(v) == 16 and len({x.build_id for x in v}) == 8
    assert {x.build.build_flags for x in v} == {(), ("--sparsity=enable",)}
    assert all(x.runtime.run_flags == ("--exposeDMA",) for x in v)
    assert build_id(v[0].build) == v[0].build_id


# ---------------------------------------------------------------- include / exclude


def test_exclude_then_include(tmp_path: Path) -> None:
    text = SMALL + """\
exclude:
  - {precision: fp16, streams: 2}
  - {batch: 4, streams: [1, 2], precision: fp32}
include:
  - {precision: fp16, batch: 4, streams: 2}
  - {precision: fp32, batch: 1, streams: 1}
  - {precision: int8, batch: [1, 4]}
"""
    got = [(v.axes["precision"], v.runtime.batch, v.runtime.streams) for v in variants_of(tmp_path, text)]
    assert got == [
        ("fp32", 1, 1), ("fp32", 1, 2), ("fp16", 1, 1), ("fp16", 4, 1),  # matrix minus exclude
        ("fp16", 4, 2),  # re-included; ("fp32", 1, 1) was already there and is not repeated
        ("int8", 1, 1), ("int8", 1, 2), ("int8", 4, 1), ("int8", 4, 2),  # omitted axis: every matrix value
    ]


def test_dynamic_profile_follows_the_batches_left(tmp_path: Path) -> None:
    text = SMALL + "  shapes: dynamic\nexclude:\n  - {batch: 4}\ninclude:\n  - {batch: 16, precision: fp16}\n"
    v = variants_of(tmp_path, text)
    (profile,) = v[0].build.profile
    assert (profile.min[0], profile.opt[0], profile.max[0]) == (1, 16, 16)


def test_profile_override_is_used(tmp_path: Path) -> None:
    text = SMALL.replace("{shape: [batch, 3, 128, 64]}", "{shape: [batch, 3, 128, 64], min: [1, 3, 128, 64], "
                         "opt: [2, 3, 128, 64], max: [32, 3, 128, 64]}") + "  shapes: [dynamic, static]\n"
    v = variants_of(tmp_path, text)
    dyn = next(x for x in v if x.axes["shapes"] == "dynamic")
    (profile,) = dyn.build.profile
    assert (profile.min[0], profile.opt[0], profile.max[0]) == (1, 2, 32)
    static = next(x for x in v if x.axes["shapes"] == "static" and x.runtime.batch == 4)
    assert static.build.profile[0].opt == (4, 3, 128, 64)  # static engines ignore the override


# ---------------------------------------------------------------- --only


def test_select(seed: list[Variant]) -> None:
    assert len(select(seed, [])) == 64
    assert len(select(seed, ["precision=fp16"])) == 32
    assert len(select(seed, ["precision=fp16", "batch=1,8"])) == 16
    assert len(select(seed, ["batch=1", "batch=8"])) == 32  # a repeated key adds alternatives
    assert len(select(seed, ["cuda_graph=on", "shapes=dynamic", "streams=2"])) == 8
    assert [v.id for v in select(seed, [f"id={seed[5].id}"])] == [seed[5].id]
    assert len(select(seed, [f"build_id={seed[0].build_id}"])) == 4
    assert len(select(seed, ["model=tracker"])) == 64


@pytest.mark.parametrize(
    ("only", "message"),
    [
        ("precison=fp16", "--only: unknown key 'precison'; did you mean 'precision'?"),
        ("precision=fp61", "--only: precision: 'fp61' is not valid; did you mean 'fp16'?"),
        ("precision=int8", "--only: no variant has precision=int8; values in this sweep: fp32, fp16"),
        ("batch=two", "--only: batch: 'two' is not an integer >= 1"),
        ("batch=16", "--only: no variant has batch=16; values in this sweep: 1, 2, 4, 8"),
        ("cuda_graph=maybe", "--only: cuda_graph: 'maybe' is not true or false"),
        ("model=trackr", "--only: model: unknown model 'trackr'; did you mean 'tracker'?"),
        ("fp16", "--only: expected KEY=VALUE[,VALUE...], got 'fp16'"),
    ],
)
def test_select_errors(seed: list[Variant], only: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        select(seed, [only])
    assert str(info.value) == message


def test_select_reports_all_problems(seed: list[Variant]) -> None:
    with pytest.raises(SpecError) as info:
        select(seed, ["precison=fp16", "batch=3"])
    assert len(info.value.problems) == 2


def test_select_model_name_with_comma(tmp_path: Path) -> None:
    v = variants_of(tmp_path, SMALL.replace("name: tracker", "name: 'a,b'"))
    assert len(select(v, ["model=a,b"])) == 8


# ---------------------------------------------------------------- baselines


def test_external_baseline(seed: list[Variant]) -> None:
    spec = load_spec(EXAMPLE)
    refs = resolve_baselines(spec.baseline, seed)
    assert len(refs) == 32  # batches 1 and 8 only; 2 and 4 have no figure
    for v in seed:
        expected = {1: 40.0, 8: 160.0}.get(v.runtime.batch)
        ref = refs.get(v.id)
        assert (ref.latency_ms if ref else None) == expected
        if ref:
            assert ref == BaselineRef("PyTorch", None, expected)
    assert baseline_for(spec.baseline, seed[0], seed) == BaselineRef("PyTorch", None, 40.0)
    assert resolve_baselines(None, seed) == {}


def test_variant_baseline_pairs_equal_other_axes(tmp_path: Path) -> None:
    text = SMALL + "  cuda_graph: [false, true]\nbaseline: {label: fp32 eager, variant: {precision: fp32, " \
        "cuda_graph: false}}\n"
    v = variants_of(tmp_path, text)
    spec = load_spec(tmp_path / "sweep.yaml")
    refs = resolve_baselines(spec.baseline, v)
    assert len(refs) == len(v) == 16
    by_id = {x.id: x for x in v}
    for x in v:
        base = by_id[refs[x.id].variant_id]
        assert refs[x.id].label == "fp32 eager"
        assert base.axes["precision"] == "fp32" and base.axes["cuda_graph"] is False
        assert (base.runtime.batch, base.runtime.streams) == (x.runtime.batch, x.runtime.streams)


# ---------------------------------------------------------------- lock


def test_spec_lock_is_json(seed: list[Variant]) -> None:
    lock = json.loads(json.dumps(spec_lock(seed)))
    assert lock["lock_version"] == 1
    assert [e["id"] for e in lock["variants"]] == [v.id for v in seed]
    last = lock["variants"][-1]
    assert last["axes"]["precision"] == "fp16" and last["axes"]["build_flags"] == []
    assert last["build_id"] == seed[-1].build_id
    assert last["build"]["profile"] == [["images", [1, 3, 128, 64], [8, 3, 128, 64], [8, 3, 128, 64]]]
    assert last["build"]["typed_onnx"].endswith("tracker_fp16.onnx")
    assert last["runtime"]["shapes"] == {"images": [8, 3, 128, 64]}
    assert last["runtime"]["streams"] == 2 and last["runtime"]["cuda_graph"] is True
