"""The seed case end to end (issue #7): a tracking model, 16 ms at batch 1 and 100 ms at batch 8 in FP32
(the trtexec double's default performance model), against PyTorch's 40 ms and 160 ms from
sweep.example.yaml. The FP32 slice alone must be diagnosed as batch saturation and FP32-only; the full
sweep must report the measured FP16 and CUDA-graph gains."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parent.parent
DOUBLE = ROOT / "tests" / "trtexec_double"


def _sweep(tmp_path: Path) -> Path:
    text = (ROOT / "sweep.example.yaml").read_text()
    text = text.replace("examples/models/", f"{ROOT / 'examples' / 'models'}/")
    text = text.replace("repeats: 3", "repeats: 1")  # noise is not what this test measures
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    return path


def _trtsweep(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{DOUBLE}{os.pathsep}{os.environ['PATH']}", TRTEXEC_DOUBLE_VERSION="10.8.0")
    return subprocess.run([sys.executable, "-m", "trtsweep.cli", *args], env=env, text=True,
                          capture_output=True, timeout=600, check=False)


def _findings(run_dir: Path) -> list[dict]:
    res = _trtsweep("diagnose", str(run_dir), "--format", "json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["findings"]


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("seed")


def test_fp32_slice_names_batch_saturation_and_fp32_only(seed_dir):
    sweep = _sweep(seed_dir)
    res = _trtsweep("run", str(sweep), "-o", str(seed_dir / "fp32"), "--only", "precision=fp32", "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    findings = _findings(seed_dir / "fp32")
    first = [f["code"] for f in findings[:4]]
    assert "batch_saturation" in first and "fp32_only" in first, first
    sat = next(f for f in findings if f["code"] == "batch_saturation")
    # The double's FP32 model: (4 + 12 * batch) ms of GPU compute -> 16 ms at batch 1, 100 ms at batch 8;
    # PyTorch 40 ms and 160 ms -> 2.50x shrinking to 1.60x.
    direct = [e for e in sat["evidence"] if e["values"].get("batch_from") == 1
              and e["values"].get("batch_to") == 8 and "speedup_from" in e["values"]]
    assert direct, sat["evidence"]
    values = direct[0]["values"]
    assert values["speedup_from"] == pytest.approx(40 / 16, rel=0.02)
    assert values["speedup_to"] == pytest.approx(160 / 100, rel=0.02)
    short = next(f for f in findings if f["code"] == "speedup_shortfall")
    assert "1.60x at batch 8" in short["title"]


def test_full_sweep_reports_measured_gains_instead_of_guessing(seed_dir):
    sweep = _sweep(seed_dir)
    res = _trtsweep("run", str(sweep), "-o", str(seed_dir / "full"), "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    by_code = {f["code"]: f for f in _findings(seed_dir / "full")}
    assert "fp32_only" not in by_code
    # FP16 factor 0.45 in the double: the measured gain is about 1 / 0.45.
    assert by_code["precision_gain"]["measured_gain"] == pytest.approx(1 / 0.45, rel=0.05)
    assert by_code["cuda_graph_gain"]["measured_gain"] is not None
