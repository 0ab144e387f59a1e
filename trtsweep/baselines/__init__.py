"""Measured baselines: PyTorch and ONNX Runtime timed by trtsweep with trtexec's protocol and statistics.

- :mod:`.protocol`: warm-up, then at least N iterations and D seconds, one synchronised inference each;
- :mod:`.frameworks`: the PyTorch (CUDA events) and ONNX Runtime inferences, and the setup checks;
- :mod:`.record`: the record (kind ``baseline_pytorch`` / ``baseline_onnxruntime``, same shape as a
  trtexec record, trtexec's statistics) and the ``--exportTimes``-like samples;
- :mod:`.runner`: ``python -m trtsweep.baselines.runner``, what a BASELINE step runs in its own process;
- :mod:`.folder`: where BASELINE steps live in a run folder, their argv, collecting and loading them;
- :mod:`.preflight`: the setup checks run before a sweep starts (exit 2 with file:line:col).
"""
