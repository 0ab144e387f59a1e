"""Build the small tracking-style (re-identification) model used by ``sweep.example.yaml``.

It maps person crops ``images`` [batch, 3, 128, 64] to ``embeddings`` [batch, 64] with
Conv/Relu/MaxPool blocks, a global average pool and a Gemm -- the shape of a DeepSORT-like appearance
encoder, small enough to commit. The batch dimension is symbolic (``batch``) so one file serves static
and dynamic engines.

Two files are written next to this script (or to ``--out``):

* ``tracker.onnx``: FP32 weights and I/O, for precision flags (TensorRT 8.6 / 10.x);
* ``tracker_fp16.onnx``: the same weights in FP16 with FP16 I/O, for TensorRT 11.x, which builds
  strongly typed networks and so takes the precision from the model.

Weights come from a seeded generator, so re-running the script reproduces the files byte for byte.

    python examples/models/make_tracker.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # supported by the ONNX parsers of TensorRT 8.6 and later
HEIGHT, WIDTH = 128, 64
EMBEDDING = 64
# (out channels, stride) of each Conv+Relu(+MaxPool) block
BLOCKS = ((16, 2), (32, 1), (64, 1))


def _weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-initialised weights, so activations keep a sensible range through the layers."""
    out: dict[str, np.ndarray] = {}
    channels = 3
    for i, (width, _) in enumerate(BLOCKS):
        fan_in = channels * 3 * 3
        out[f"conv{i}.w"] = rng.normal(0, np.sqrt(2 / fan_in), (width, channels, 3, 3))
        out[f"conv{i}.b"] = np.zeros(width)
        channels = width
    out["fc.w"] = rng.normal(0, np.sqrt(1 / channels), (EMBEDDING, channels))
    out["fc.b"] = np.zeros(EMBEDDING)
    return out


def build(dtype: type[np.floating], seed: int = 0) -> onnx.ModelProto:
    """The model with weights and I/O in ``dtype`` (np.float32 or np.float16)."""
    elem = TensorProto.FLOAT if dtype is np.float32 else TensorProto.FLOAT16
    weights = _weights(np.random.default_rng(seed))
    init = [numpy_helper.from_array(w.astype(dtype), name) for name, w in weights.items()]
    nodes = []
    x = "images"
    for i, (_, stride) in enumerate(BLOCKS):
        nodes.append(helper.make_node("Conv", [x, f"conv{i}.w", f"conv{i}.b"], [f"conv{i}"],
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride, stride]))
        nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"]))
        x = f"relu{i}"
        if i < len(BLOCKS) - 1:
            nodes.append(helper.make_node("MaxPool", [x], [f"pool{i}"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"pool{i}"
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["embeddings"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tracker",
        [helper.make_tensor_value_info("images", elem, ["batch", 3, HEIGHT, WIDTH])],
        [helper.make_tensor_value_info("embeddings", elem, ["batch", EMBEDDING])],
        initializer=init,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="trtsweep-make_tracker")
    model.ir_version = 8  # readable by the onnx versions bundled with TensorRT 8.6
    onnx.checker.check_model(model, full_check=True)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, dtype in (("tracker.onnx", np.float32), ("tracker_fp16.onnx", np.float16)):
        path = args.out / name
        onnx.save(build(dtype, args.seed), path)
        print(f"{path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
