"""Loading and validating sweep files: the example, the ONNX models it names, and every kind of bad input."""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from pathlib import Path

import onnx
import pytest

from trtsweep.sweeps.schema import AXIS_NAMES, SWEEP, Problem, SpecError, describe
from trtsweep.sweeps.spec import Spec, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "sweep.example.yaml"
MODELS = ROOT / "examples" / "models"

GOOD = """\
models:
  - name: tracker
    onnx: models/tracker.onnx
    inputs:
      images: {shape: [batch, 3, 128, 64]}
matrix:
  precision: [fp32, fp16]
  batch: [1, 8]
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    """A sweep file next to a copy of the tracker model (in models/)."""
    (tmp_path / "models").mkdir(exist_ok=True)
    for model in ("tracker.onnx", "tracker_fp16.onnx"):
        shutil.copy(MODELS / model, tmp_path / "models" / model)
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def pos(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of the ``nth`` occurrence of ``needle`` in ``text``."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def problems(path: Path) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.exit_code == 2
    return info.value.problems


def one_problem(path: Path) -> Problem:
    found = problems(path)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- the example and its models


def test_example_loads() -> None:
    spec = load_spec(EXAMPLE)
    assert isinstance(spec, Spec)
    assert [m.name for m in spec.models] == ["tracker"]
    model = spec.models[0]
    assert model.onnx.path == MODELS / "tracker.onnx"
    assert model.onnx.sha256 == hashlib.sha256((MODELS / "tracker.onnx").read_bytes()).hexdigest()
    assert model.typed_onnx("fp16").path == MODELS / "tracker_fp16.onnx"
    assert model.typed_onnx("fp32") is None
    assert model.inputs[0].name == "images" and model.inputs[0].shape == (None, 3, 128, 64)
    assert spec.axis_values("precision") == ("fp32", "fp16")
    assert spec.axis_values("batch") == (1, 2, 4, 8)
    assert spec.axis_values("shapes") == ("static", "dynamic")
    assert spec.axis_values("streams") == (1, 2)
    assert spec.axis_values("cuda_graph") == (False, True)
    assert spec.baseline.label == "PyTorch" and spec.baseline.latency_ms == ((1, 40), (8, 160))
    assert spec.expect_speedup == 3.0
    assert spec.run.repeats == 3 and spec.run.percentiles == (50, 90, 99)
    assert spec.trtexec.path is None


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text()
    for field in SWEEP.fields:
        assert f"{field.name}:" in text, field.name
    for axis in AXIS_NAMES:
        assert f"{axis}:" in text, axis


@pytest.mark.parametrize("name", ["tracker.onnx", "tracker_fp16.onnx"])
def test_example_models_are_small_valid_and_dynamic(name: str) -> None:
    path = MODELS / name
    assert path.stat().st_size < 200_000
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    (inp,) = model.graph.input
    assert inp.name == "images"
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    expected = onnx.TensorProto.FLOAT16 if "fp16" in name else onnx.TensorProto.FLOAT
    assert inp.type.tensor_type.elem_type == expected
    assert model.graph.output[0].name == "embeddings"


def test_make_tracker_is_deterministic(tmp_path: Path) -> None:
    import runpy

    module = runpy.run_path(str(MODELS / "make_tracker.py"))
    import numpy as np

    built = module["build"](np.float32).SerializeToString()
    assert built == (MODELS / "tracker.onnx").read_bytes()


# ---------------------------------------------------------------- good inputs


def test_defaults_filled_and_scalars_become_tuples(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD + "  streams: 2\n  workspace_mib: 1024.0\n"))
    assert spec.axis_values("streams") == (2,)
    assert spec.axis_values("workspace_mib") == (1024,)  # 1024.0 normalised: ids do not depend on it
    assert isinstance(spec.axis_values("workspace_mib")[0], int)
    assert spec.axis_values("cuda_graph") == (False,)
    assert spec.axis_values("build_flags") == ((),)
    assert spec.run.warmup_ms == 200 and spec.gpus is None and spec.baseline is None


def test_relative_paths_resolve_against_the_sweep_folder(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, GOOD)
    monkeypatch.chdir("/")
    assert load_spec(path).models[0].onnx.path == tmp_path / "models" / "tracker.onnx"


def test_odd_characters_in_names_and_paths(tmp_path: Path) -> None:
    odd = tmp_path / "we'ird; dir \"x\""
    odd.mkdir()
    shutil.copy(MODELS / "tracker.onnx", odd / "m o;d'el.onnx")
    text = """\
    models:
      - name: "my 'tracker'; v2 \\"x\\""
        onnx: "we'ird; dir \\"x\\"/m o;d'el.onnx"
        inputs:
          "input: 0 'a'": {shape: [batch, 3, 128, 64]}
    """
    spec = load_spec(write(tmp_path, text))
    model = spec.models[0]
    assert model.name == "my 'tracker'; v2 \"x\""
    assert model.onnx.path == odd / "m o;d'el.onnx"
    assert model.inputs[0].name == "input: 0 'a'"


def test_flag_sets_and_version_as_number(tmp_path: Path) -> None:
    text = GOOD + "  build_flags: [[], [--sparsity=enable, --maxAuxStreams=2]]\n" \
        "  run_flags: [--exposeDMA]\ntrtexec: {version: 10.3}\n"
    spec = load_spec(write(tmp_path, text))
    assert spec.axis_values("build_flags") == ((), ("--sparsity=enable", "--maxAuxStreams=2"))
    assert spec.axis_values("run_flags") == (("--exposeDMA",),)
    assert spec.trtexec.version == "10.3"


def test_profile_override(tmp_path: Path) -> None:
    text = GOOD.replace("{shape: [batch, 3, 128, 64]}",
                        "{shape: [batch, 3, 128, 64], min: [1, 3, 128, 64], opt: [4, 3, 128, 64], "
                        "max: [16, 3, 128, 64]}")
    inp = load_spec(write(tmp_path, text)).models[0].inputs[0]
    assert (inp.min, inp.opt, inp.max) == ((1, 3, 128, 64), (4, 3, 128, 64), (16, 3, 128, 64))


# ---------------------------------------------------------------- bad inputs, one at a time


def test_broken_yaml(tmp_path: Path) -> None:
    text = GOOD.replace("batch: [1, 8]", "batch: [1, 8")
    p = one_problem(write(tmp_path, text))
    assert p.message.startswith("YAML syntax error")
    assert p.line == len(text.splitlines()) + 1  # the parser notices at the end of the stream


def test_tab(tmp_path: Path) -> None:
    text = GOOD.replace("  precision:", "\tprecision:")
    p = one_problem(write(tmp_path, text))
    assert (p.line, p.col) == pos(text, "\t")
    assert "tab" in p.message
    assert str(p).startswith(f"{tmp_path / 'sweep.yaml'}:{p.line}:{p.col}: ")


def test_wrong_type(tmp_path: Path) -> None:
    text = GOOD.replace("batch: [1, 8]", "batch: [1, eight]")
    p = one_problem(write(tmp_path, text))
    assert (p.line, p.col) == pos(text, "eight")
    assert p.message == "matrix.batch[1] must be an integer >= 1, got 'eight' (a string)"


def test_unknown_key_suggests(tmp_path: Path) -> None:
    text = GOOD.replace("  precision:", "  precison:")
    p = one_problem(write(tmp_path, text))
    assert (p.line, p.col) == pos(text, "precison")
    assert p.message == "unknown key 'precison' in matrix; did you mean 'precision'?"


def test_unknown_axis_value(tmp_path: Path) -> None:
    text = GOOD.replace("[fp32, fp16]", "[fp32, fp61]")
    p = one_problem(write(tmp_path, text))
    assert (p.line, p.col) == pos(text, "fp61")
    assert "unknown value 'fp61' in matrix.precision[1]; did you mean 'fp16'?" == p.message


def test_missing_model_file(tmp_path: Path) -> None:
    text = GOOD.replace("models/tracker.onnx", "models/nope.onnx")
    p = one_problem(write(tmp_path, text))
    assert (p.line, p.col) == pos(text, "models/nope.onnx")
    assert "models/nope.onnx" in p.message and str(tmp_path / "models" / "nope.onnx") in p.message


def test_missing_precision_onnx_file(tmp_path: Path) -> None:
    text = GOOD.replace("    inputs:", "    precision_onnx: {fp16: models/gone.onnx}\n    inputs:")
    p = one_problem(write(tmp_path, text))
    assert (p.line, p.col) == pos(text, "models/gone.onnx") and "gone.onnx" in p.message


def test_unsafe_tag_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = GOOD + f"expect_speedup: !!python/object/apply:os.system ['touch {marker}']\n"
    p = one_problem(write(tmp_path, text))
    assert not marker.exists()
    assert (p.line, p.col) == pos(text, "!!python")
    assert "!!python/object/apply:os.system" in p.message and "not allowed" in p.message


def test_duplicate_key(tmp_path: Path) -> None:
    text = GOOD + "  batch: [2]\n"
    p = one_problem(write(tmp_path, text))
    assert (p.line, p.col) == pos(text, "batch:", 1)
    assert p.message == "duplicate key 'batch' in matrix"


def test_missing_required_and_empty_file(tmp_path: Path) -> None:
    p = one_problem(write(tmp_path, "matrix: {batch: 1}\n"))
    assert (p.line, p.col) == (1, 1) and "missing required key 'models'" in p.message
    p = one_problem(write(tmp_path, "# nothing\n"))
    assert p.line is None and "empty" in p.message


@pytest.mark.parametrize(
    ("rule", "needle", "message"),
    [
        ("exclude:\n  - {precison: fp16}\n", "precison",
         "unknown key 'precison' in exclude[0]; did you mean 'precision'?"),
        ("exclude:\n  - {batch: 16}\n", "16",
         "exclude[0]: batch 16 is not in the matrix (1, 8), so it matches nothing"),
        ("exclude:\n  - {}\n", "{}", "exclude[0] is empty; name at least one axis"),
        ("include:\n  - {model: trakcer, batch: 4}\n", "trakcer",
         "unknown model 'trakcer' in include[0]; did you mean 'tracker'?"),
        ("include:\n  - {batch: 0}\n", "0}", "include[0].batch must be an integer >= 1, got 0"),
        ("include: {batch: 4}\n", "{batch", "include must be a list, got a mapping"),
    ],
)
def test_bad_include_exclude(tmp_path: Path, rule: str, needle: str, message: str) -> None:
    text = GOOD + rule
    p = one_problem(write(tmp_path, text))
    assert p.message == message
    assert (p.line, p.col) == pos(text, needle, GOOD.count(needle))  # the first occurrence after GOOD


def test_input_checks(tmp_path: Path) -> None:
    text = GOOD.replace("images: {shape: [batch, 3, 128, 64]}",
                        "'a,b': {shape: [batch, 3]}\n      two: {shape: [batch, batch]}\n"
                        "      ranged: {shape: [batch, 3], min: [1, 3], opt: [9, 3], max: [4, 3]}")
    found = problems(write(tmp_path, text))
    messages = [p.message for p in found]
    assert "input name 'a,b' contains ',', which trtexec shape flags cannot express" in messages
    assert any("must mark exactly one dimension as 'batch', got 2" in m for m in messages)
    assert any("need min <= opt <= max" in m for m in messages)
    assert len(found) == 3


def test_profile_must_contain_every_batch(tmp_path: Path) -> None:
    text = GOOD.replace("{shape: [batch, 3, 128, 64]}",
                        "{shape: [batch, 3], min: [2, 3], opt: [2, 3], max: [4, 3]}")
    text += "include:\n  - {batch: 16}\n"
    found = problems(write(tmp_path, text))
    assert [p.message for p in found] == [
        "input 'images': profile batch range 2..4 does not contain batch 1 of the sweep"]
    assert (found[0].line, found[0].col) == pos(text, "[2, 3]")


def test_baseline_checks(tmp_path: Path) -> None:
    p = one_problem(write(tmp_path, GOOD + "baseline: {variant: {precision: int8}}\n"))
    assert p.message == "baseline.variant: no variant has precision int8"
    p = one_problem(write(tmp_path, GOOD + "baseline: {label: x, variant: {batch: 1}, latency_ms: {1: 2}}\n"))
    assert "exactly one of" in p.message
    p = one_problem(write(tmp_path, GOOD + "baseline: {latency_ms: {one: 2}}\n"))
    assert "must be an integer" in p.message


def test_bad_flag_and_version(tmp_path: Path) -> None:
    text = GOOD + "  build_flags: ['--iterations 100']\ntrtexec: {version: latest}\n"
    found = problems(write(tmp_path, text))
    assert [(p.line, p.col) for p in found] == [pos(text, "'--iterations"), pos(text, "latest")]
    assert "no space before the value" in found[0].message
    assert "trtexec.version must look like '10.3'" in found[1].message


# ---------------------------------------------------------------- many problems at once


def test_every_problem_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        models:
          - name: tracker
            onnx: models/missing.onnx
            inputs:
              images: {shape: [batch, 3, 128, 64]}
        matrix:
          precison: [fp16]
          batch: [1, two]
          shapes: [static, dynamc]
          cuda_graph: maybe
        run:
          repeats: 0
        bogus: 1
        """)
    found = problems(write(tmp_path, text))
    got = [(p.line, p.col, p.message) for p in found]
    assert got == [
        (*pos(text, "models/missing.onnx"), f"model file not found: 'models/missing.onnx' "
                                            f"(looked for {tmp_path / 'models' / 'missing.onnx'})"),
        (*pos(text, "precison"), "unknown key 'precison' in matrix; did you mean 'precision'?"),
        (*pos(text, "two"), "matrix.batch[1] must be an integer >= 1, got 'two' (a string)"),
        (*pos(text, "dynamc"), "unknown value 'dynamc' in matrix.shapes[1]; did you mean 'dynamic'?"),
        (*pos(text, "maybe"), "matrix.cuda_graph must be true or false, got 'maybe' (a string)"),
        (*pos(text, "0\n"), "run.repeats must be an integer >= 1, got 0"),
        (*pos(text, "bogus"), "unknown key 'bogus' in top level; did you mean 'gpus'?"),
    ]
    error = SpecError(found)
    line = f"{tmp_path / 'sweep.yaml'}:7:3: unknown key 'precison' in matrix; did you mean 'precision'?"
    assert str(error).splitlines()[1] == line


def test_parse_spec_names_the_file_it_is_given() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec("models: 3\n", "my sweep.yaml")
    assert str(info.value) == "my sweep.yaml:1:9: models must be a list, got '3' (an integer)"


def test_problem_without_position() -> None:
    assert str(Problem("--only", None, None, "bad")) == "--only: bad"
    assert str(Problem("s.yaml", 3, 5, "bad")) == "s.yaml:3:5: bad"


def test_unreadable_file(tmp_path: Path) -> None:
    p = one_problem(tmp_path / "absent.yaml")
    assert "cannot read sweep file" in p.message and p.file.endswith("absent.yaml")


# ---------------------------------------------------------------- docs


def test_describe_covers_the_schema() -> None:
    text = describe()
    for name in ("trtexec.path", "trtexec.version", "models[].name", "models[].onnx",
                 "models[].precision_onnx", "models[].inputs.<name>.shape", "run.repeats", "run.timeout_s",
                 "baseline.latency_ms", "baseline.variant", "expect_speedup", "gpus", "include", "exclude"):
        assert f"`{name}`" in text, name
    for axis in AXIS_NAMES:
        assert f"| `{axis}` |" in text and f"`matrix.{axis}`" in text
