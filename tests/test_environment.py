"""env.json facts from real nvidia-smi output (H100 host, driver 580)."""

from __future__ import annotations

import pytest
from corpus_location import SMI

from trtsweep.orchestrate.host import capture_env, parse_cuda_version, parse_query_gpu_csv


@pytest.mark.corpus
def test_query_gpu_csv_of_an_h100():
    gpus = parse_query_gpu_csv((SMI / "h100-driver580__query-gpu.csv").read_text())
    assert len(gpus) == 1
    gpu = gpus[0]
    assert gpu["name"] == "NVIDIA H100 80GB HBM3"
    assert gpu["driver_version"] == "580.159.04"
    assert gpu["memory_mib"] == 81559
    assert gpu["sm_clock_mhz"] == 420
    assert gpu["max_sm_clock_mhz"] == 1980
    assert gpu["power_limit_w"] == 700.0
    assert gpu["compute_capability"] == "9.0"
    assert gpu["persistence_mode"] == "Enabled"


@pytest.mark.corpus
def test_cuda_version_from_plain_and_q_output():
    assert parse_cuda_version((SMI / "h100-driver580__nvidia-smi.txt").read_text()) == "13.0"
    assert parse_cuda_version((SMI / "h100-driver580__nvidia-smi-q.txt").read_text()) == "13.0"
    assert parse_cuda_version("no gpu here") is None


def test_capture_without_nvidia_smi_says_so(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"abc")
    env = capture_env("/x/trtexec", "10.8.0", {"m": model}, nvidia_smi=str(tmp_path / "missing-smi"))
    assert env["gpus"] == []
    assert env["models"]["m"]["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert env["trtexec"] == {"path": "/x/trtexec", "version": "10.8.0"}
