"""Real GPU load for the trtexec double's run phase (test tool only; never used by the product).

With ``TRTEXEC_DOUBLE_GPU_LOAD=1`` the double's inference phase first keeps the visible GPU busy with a
PyTorch bf16 matrix product for the run's duration (``--warmUp`` + ``--duration``, or
``TRTEXEC_DOUBLE_GPU_LOAD_S`` seconds), so trtsweep's telemetry sees a real load: clocks ramping from idle,
power rising to the cap. What it did goes to ``gpuload.json`` in the working folder (the step folder),
never to the log the parser reads. Without torch or CUDA it sleeps instead and says so (the CPU path).

If ``FAKE_NVML_PROCS`` names a file, the process appends its pid there, so the fake NVML of the tests
reports it as a compute process on GPU 0 (as real NVML would report a CUDA process).

Run as a script it is the *foreign* load ``benchmarks/gpu_verify_telemetry.sh`` starts on purpose:
``python tdouble_gpuload.py --seconds 4 [--device 0] [--out FILE]``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ENV = "TRTEXEC_DOUBLE_GPU_LOAD"


def wanted() -> bool:
    return os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes", "on")


def register_pid() -> None:
    path = os.environ.get("FAKE_NVML_PROCS")
    if path:
        with open(path, "a") as fh:
            fh.write(f"{os.getpid()}\n")


def load(seconds: float, device: int = 0, size: int = 8192) -> dict:
    """Keep CUDA device ``device`` (of the visible ones) busy for ``seconds``; what happened, as a dict."""
    register_pid()
    start = time.monotonic()
    info: dict = {"pid": os.getpid(), "seconds": seconds, "device": device,
                  "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is None or not torch.cuda.is_available():
        info["mode"] = "sleep (no torch)" if torch is None else "sleep (torch sees no CUDA device)"
        time.sleep(seconds)
        info["elapsed_s"] = round(time.monotonic() - start, 3)
        return info
    dev = torch.device(f"cuda:{device}")
    info["gpu"] = torch.cuda.get_device_name(dev)
    a = torch.randn(size, size, device=dev, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=dev, dtype=torch.bfloat16)
    n = 0
    while time.monotonic() - start < seconds:
        for _ in range(20):
            a = torch.matmul(a, b) * (1.0 / size)  # keeps values finite across iterations
        torch.cuda.synchronize(dev)
        n += 20
    elapsed = time.monotonic() - start
    info.update(mode="bf16 matmul", iterations=n, elapsed_s=round(elapsed, 3),
                tflops=round(2 * size**3 * n / elapsed / 1e12, 1))
    return info


def maybe_load(duration_s: float, warmup_ms: float, device: int, folder: str = ".") -> None:
    """The double's hook before its inference phase: load the GPU when ``TRTEXEC_DOUBLE_GPU_LOAD`` asks."""
    if not wanted():
        return
    seconds = float(os.environ.get("TRTEXEC_DOUBLE_GPU_LOAD_S") or (duration_s + warmup_ms / 1000.0))
    info = load(seconds, device)
    try:
        Path(folder, "gpuload.json").write_text(json.dumps(info, indent=1) + "\n")
    except OSError:
        pass


def main(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--device", type=int, default=0)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    info = load(args.seconds, args.device)
    text = json.dumps(info)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
