"""The tracker model of ``tracker.onnx`` as a PyTorch module, with the ONNX file's own weights.

Same layers as ``make_tracker.py`` builds (Conv 3x3 + ReLU (+ MaxPool 2x2) x 3, global average pool,
flatten, Gemm): person crops ``images`` [batch, 3, 128, 64] -> ``embeddings`` [batch, 64]. The weights are
read from ``tracker.onnx`` next to this file, so the PyTorch baseline and the TensorRT engines compute
the same function. Used as a measured baseline in a sweep::

    baseline:
      pytorch: {model: "examples/models/tracker_torch.py:make_tracker", device: cuda, dtype: float16}
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

ONNX = Path(__file__).with_name("tracker.onnx")
BLOCKS = ((16, 2), (32, 1), (64, 1))  # (out channels, stride), as in make_tracker.py
EMBEDDING = 64


class Tracker(nn.Module):
    """Conv/ReLU/MaxPool encoder with a linear embedding head (DeepSORT-like appearance model)."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for i, (width, stride) in enumerate(BLOCKS):
            layers += [nn.Conv2d(channels, width, 3, stride=stride, padding=1), nn.ReLU()]
            if i < len(BLOCKS) - 1:
                layers.append(nn.MaxPool2d(2, 2))
            channels = width
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, EMBEDDING)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.features(images)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def load_onnx_weights(module: Tracker, path: Path = ONNX) -> Tracker:
    """Copy the initialisers of ``tracker.onnx`` (conv{i}.w/.b, fc.w/.b) into the module."""
    import onnx
    from onnx import numpy_helper

    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    convs = [m for m in module.features if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for i, conv in enumerate(convs):
            conv.weight.copy_(torch.from_numpy(weights[f"conv{i}.w"].copy()))
            conv.bias.copy_(torch.from_numpy(weights[f"conv{i}.b"].copy()))
        module.fc.weight.copy_(torch.from_numpy(weights["fc.w"].copy()))  # Gemm transB=1: [out, in]
        module.fc.bias.copy_(torch.from_numpy(weights["fc.b"].copy()))
    return module


def make_tracker() -> nn.Module:
    """The factory a sweep names: the tracker with the weights of ``tracker.onnx``, in eval mode."""
    return load_onnx_weights(Tracker()).eval()
