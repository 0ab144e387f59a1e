"""Real result sets for the import/report/diagnose tests, laid out from the corpus at test time.

Each set is one model's logs from one GPU, under the names a user would give them (a log and its export
share a stem, so ``trtsweep import`` pairs them). Files are copied from the corpus into a temporary folder;
nothing here ships a third-party file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from corpus_location import CORPUS

# NVIDIA/trt-samples-for-hackathon-cn, cookbook/07-Tool/trtexec/: one MNIST-style CNN (input x: Nx1x28x28).
SETS: dict[str, dict[str, str]] = {
    # NVIDIA H100 PCIe, TensorRT 10.16.1 (commit 353a4d73).
    "h100-model-trained": {
        "01-onnx-default.log": "hackcn__trt10.16.1_result-01.log",
        "02-build-fp16-dynamic.log": "hackcn__trt10.16.1_result-02.log",
        "03-fp16-b4-nocopy-graph.log": "hackcn__trt10.16.1_result-03.log",
        "04-build-detailed.log": "hackcn__trt10.16.1_result-04.log",
        "04-build-detailed.layers.json": "hackcn__trt10.16.1_model-trained-exportLayerInfo.log",
        "05-fp16-dumpprofile.log": "hackcn__trt10.16.1_result-05.log",
        "06-fp16-default-run.log": "hackcn__trt10.16.1_result-06.log",
    },
    # NVIDIA RTX 6000 Ada Generation, TensorRT 10.14.1 (commit 7e7e0c39).
    "ada-model-trained": {
        "01-onnx-default.log": "hackcn__trt10.14.1_result-01.log",
    },
}


def materialise(dest: Path, name: str) -> Path:
    """Copy set ``name`` into ``dest/name`` and return that folder."""
    folder = dest / name
    folder.mkdir(parents=True, exist_ok=True)
    for target, source in SETS[name].items():
        shutil.copyfile(CORPUS / source, folder / target)
    return folder
