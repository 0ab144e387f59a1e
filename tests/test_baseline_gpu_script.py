"""The CPU path of ``benchmarks/gpu_verify_baseline.py``: its numpy evaluation of ``tracker.onnx`` (what the
PyTorch module is checked against on the GPU) agrees with ONNX Runtime, and its checks and table say what
the numbers say (hand-made rows)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_verify_baseline.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("gpu_verify_baseline", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_numpy_evaluation_matches_onnxruntime(script) -> None:
    if os.environ.get("CI") != "true":
        pytest.importorskip("onnxruntime", reason="onnxruntime is in the dev extra")
    import onnxruntime as ort

    x = np.random.default_rng(3).standard_normal((3, 3, 128, 64)).astype(np.float32)
    got = script.numpy_reference(x)
    sess = ort.InferenceSession(str(script.ONNX), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"images": x})[0]
    assert got.shape == (3, 64)
    assert script.max_rel_error(got, want) < 1e-5
    assert script.main(["--reference-only"]) == 0


def test_checks_and_table(script) -> None:
    ok = script.Row(1, "float32", 0.101, 0.100, 0.30, 0.29, 0.05, 500)
    drift = script.Row(8, "float16", 0.103, 0.100, 0.30, 0.30, 0.05, 500)
    naive_high = script.Row(64, "float32", 0.2, 0.2, 0.30, 0.30, 0.31, 500)
    assert ok.gpu_diff_pct == pytest.approx(1.0)
    assert script.check_rows([ok], 2.0) == []
    [bad] = script.check_rows([drift], 2.0)
    assert "+3.00 %" in bad and "batch 8 float16" in bad
    [bad] = script.check_rows([naive_high], 2.0)
    assert "did not under-report" in bad
    table = script.format_table([ok])
    assert "| +1.00 % |" in table and "0.17x" in table  # 0.05 / 0.30
