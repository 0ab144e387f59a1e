"""The two frameworks a baseline is measured in: PyTorch (the user's ``nn.Module``) and ONNX Runtime.

Each gives an :class:`~trtsweep.baselines.protocol.Inference` that runs one batch synchronised, with its
timing taken at the right place:

- PyTorch on CUDA: CUDA events on the current stream around the H2D copies, the forward pass and the D2H
  copies (GPU time), the host clock from the start to after the last event has completed (end to end);
- PyTorch on a CPU and ONNX Runtime (CPU or CUDA): the host clock around the synchronous call. ONNX
  Runtime gives no CUDA events on its own stream, so its baseline has no GPU compute time (the record
  says None, never a host time under that name) and is compared end to end.

Every error a user can make (torch or onnxruntime missing, a factory that cannot be imported or returns
no ``nn.Module``, inputs that do not match the model, CUDA asked for but absent) is a :class:`SetupError`
naming the spec key it concerns, so the caller can point at the line of the sweep file.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtsweep.baselines.protocol import Timing
from trtsweep.records import Device

DTYPES = ("float32", "float16")
EXTRA = {"pytorch": "torch", "onnxruntime": "onnxruntime"}


class SetupError(Exception):
    """A baseline that cannot be measured as configured; ``key`` is the spec key it is about."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class InputSpec:
    """One network input at the measured batch: its name and concrete shape."""

    name: str
    shape: tuple[int, ...]


def _missing(framework: str, key: str) -> SetupError:
    module = EXTRA[framework]
    return SetupError(key, f"{module} is not installed; install it with: pip install 'trtsweep[{module}]'")


# ---------------------------------------------------------------- PyTorch

def import_torch(key: str = "pytorch.model") -> Any:
    try:
        import torch
    except ImportError:
        raise _missing("pytorch", key) from None
    return torch


def load_factory(target: str, base: Path) -> Any:
    """``package.module:factory`` (imported with ``base`` first on ``sys.path``) or ``path/file.py:factory``
    (relative to ``base``) -> the factory callable."""
    module_part, sep, attr = target.rpartition(":")
    if not sep or not module_part or not attr.isidentifier():
        raise SetupError("pytorch.model", f"'{target}' is not 'package.module:factory' or 'file.py:factory'")
    try:
        if module_part.endswith(".py"):
            path = Path(module_part) if Path(module_part).is_absolute() else base / module_part
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None or not path.is_file():
                raise SetupError("pytorch.model", f"factory file not found: {path}")
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, str(path.parent))  # so the file can import its neighbours
            spec.loader.exec_module(module)
        else:
            sys.path.insert(0, str(base))
            module = importlib.import_module(module_part)
    except SetupError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's module may raise anything while importing
        raise SetupError("pytorch.model", f"cannot import '{module_part}' for '{target}': "
                         f"{type(exc).__name__}: {exc}") from None
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise SetupError("pytorch.model", f"'{module_part}' has no callable '{attr}'")
    return factory


def make_module(target: str, base: Path) -> Any:
    """Call the factory; it must return a ``torch.nn.Module``."""
    torch = import_torch()
    factory = load_factory(target, base)
    try:
        module = factory()
    except Exception as exc:  # noqa: BLE001 - the user's code
        raise SetupError("pytorch.model", f"{target}() raised {type(exc).__name__}: {exc}") from None
    if not isinstance(module, torch.nn.Module):
        raise SetupError("pytorch.model", f"{target}() returned {type(module).__name__}, expected a "
                         "torch.nn.Module")
    return module


def check_forward_names(module: Any, inputs: Sequence[InputSpec]) -> None:
    """The sweep's input names must be the forward's parameter names, in order (they are passed by
    position in that order); a forward taking ``*args`` accepts any names."""
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in positional if p.default is p.empty]
    names = [i.name for i in inputs]
    if names != [p.name for p in positional[:len(names)]] or len(names) < len(required):
        raise SetupError("pytorch.model", f"the sweep's inputs ({', '.join(names)}) do not match "
                         f"{type(module).__name__}.forward({', '.join(p.name for p in positional)})")


def _flat_tensors(value: Any, torch: Any) -> list[Any]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [t for v in value for t in _flat_tensors(v, torch)]
    return []


class TorchInference:
    """One synchronised PyTorch inference of ``module`` at fixed input shapes."""

    def __init__(self, module: Any, inputs: Sequence[InputSpec], device: str = "cuda",
                 dtype: str = "float32", channels_last: bool = False, compile: bool = False,
                 data_transfers: bool = True, seed: int = 0) -> None:
        torch = import_torch()
        self.torch = torch
        if device == "cuda" and not torch.cuda.is_available():
            raise SetupError("pytorch.device", "CUDA requested (device: cuda) but torch.cuda.is_available() "
                             "is False on this host")
        self.cuda = device == "cuda"
        self.dev = torch.device(device)
        self.data_transfers = data_transfers
        tdtype = {"float32": torch.float32, "float16": torch.float16}[dtype]
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        module = module.eval().to(self.dev, dtype=tdtype)
        if channels_last:
            module = module.to(memory_format=torch.channels_last)
        self.module = torch.compile(module) if compile else module
        gen = torch.Generator().manual_seed(seed)
        # Host inputs in pinned memory (what a serving loop uses for asynchronous copies); device inputs
        # allocated once, so each inference copies into them instead of allocating.
        self.host_in = []
        self.dev_in = []
        for spec in inputs:
            host = torch.randn(spec.shape, generator=gen, dtype=torch.float32).to(tdtype)
            if len(spec.shape) == 4:
                host = host.contiguous(memory_format=fmt)
            self.host_in.append(host.pin_memory() if self.cuda else host)
            self.dev_in.append(host.to(self.dev).contiguous(memory_format=fmt) if len(spec.shape) == 4
                               else host.to(self.dev))
        self.host_out: list[Any] | None = None
        if self.cuda:
            self.events = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
            self.zero = torch.cuda.Event(enable_timing=True)
            self.zero_recorded = False
        self._grad = torch.inference_mode()
        self._grad.__enter__()

    def start_timeline(self) -> None:
        if self.cuda:
            self.zero.record()
            self.zero_recorded = True

    def run_once(self) -> Timing:
        torch = self.torch
        if not self.cuda:
            t0 = time.perf_counter()
            self.module(*self.dev_in)
            t1 = time.perf_counter()
            return Timing(t0, t1, compute_ms=(t1 - t0) * 1000.0)
        e0, e1, e2, e3 = self.events
        t0 = time.perf_counter()
        e0.record()
        if self.data_transfers:
            for dev, host in zip(self.dev_in, self.host_in, strict=True):
                dev.copy_(host, non_blocking=True)
        e1.record()
        c0 = time.perf_counter()
        out = _flat_tensors(self.module(*self.dev_in), torch)
        c1 = time.perf_counter()
        e2.record()
        if self.data_transfers:
            if self.host_out is None or [h.shape for h in self.host_out] != [o.shape for o in out]:
                self.host_out = [torch.empty(o.shape, dtype=o.dtype, pin_memory=True) for o in out]
            for host, dev in zip(self.host_out, out, strict=True):
                host.copy_(dev, non_blocking=True)
        e3.record()
        e3.synchronize()  # the inference is over only when its last copy has landed
        t1 = time.perf_counter()
        start = self.zero.elapsed_time(e0) if self.zero_recorded else None
        return Timing(t0, t1, enqueue_ms=(c1 - c0) * 1000.0, h2d_ms=e0.elapsed_time(e1),
                      compute_ms=e1.elapsed_time(e2), d2h_ms=e2.elapsed_time(e3), gpu_start_ms=start)

    def device_info(self) -> Device:
        if not self.cuda:
            return Device(name="CPU")
        props = self.torch.cuda.get_device_properties(self.dev)
        return Device(name=props.name, compute_capability=f"{props.major}.{props.minor}",
                      sm_count=props.multi_processor_count, memory_gib=props.total_memory / 2**30)

    def version(self) -> str:
        return str(self.torch.__version__)


# ---------------------------------------------------------------- ONNX Runtime

def import_ort(key: str = "onnxruntime.providers") -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise _missing("onnxruntime", key) from None
    return onnxruntime


_ORT_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64"}


class OrtInference:
    """One synchronous ONNX Runtime inference (``session.run`` returns when the outputs are on the host)."""

    def __init__(self, onnx_path: Path, inputs: Sequence[InputSpec], providers: Sequence[str],
                 seed: int = 0) -> None:
        import numpy as np

        ort = import_ort()
        self.ort = ort
        available = ort.get_available_providers()
        for p in providers:
            if p not in available:
                cuda = " (CUDA requested but unavailable)" if "CUDA" in p or "Tensorrt" in p else ""
                raise SetupError("onnxruntime.providers", f"provider {p} is not available in this "
                                 f"onnxruntime{cuda}; available: {', '.join(available)}")
        try:
            options = ort.SessionOptions()
            options.log_severity_level = 3
            self.session = ort.InferenceSession(str(onnx_path), sess_options=options,
                                                providers=list(providers))
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise SetupError("onnxruntime.model", f"onnxruntime cannot load {onnx_path}: {exc}") from None
        self.providers = list(self.session.get_providers())
        self.cuda = any("CUDA" in p or "Tensorrt" in p for p in self.providers)
        rng = np.random.default_rng(seed)
        self.feed = {}
        for spec in check_onnx_inputs(self.session.get_inputs(), inputs):
            name, shape, dtype = spec
            self.feed[name] = rng.standard_normal(shape).astype(dtype)

    def start_timeline(self) -> None:
        pass

    def run_once(self) -> Timing:
        t0 = time.perf_counter()
        self.session.run(None, self.feed)
        t1 = time.perf_counter()
        # No CUDA event exists here: the compute figure is the host time of the synchronous call.
        return Timing(t0, t1, compute_ms=(t1 - t0) * 1000.0)

    def device_info(self) -> Device:
        return Device(name="CUDA device via onnxruntime" if self.cuda else "CPU")

    def version(self) -> str:
        return str(self.ort.__version__)


def check_onnx_inputs(model_inputs: Sequence[Any],
                      inputs: Sequence[InputSpec]) -> list[tuple[str, tuple, str]]:
    """Match the sweep's inputs with the ONNX model's (names, ranks, fixed dims); (name, shape, dtype)."""
    by_name = {i.name: i for i in model_inputs}
    wanted = {i.name for i in inputs}
    if set(by_name) != wanted:
        raise SetupError("onnxruntime.model", f"the sweep's inputs ({', '.join(sorted(wanted))}) "
                         f"do not match the model's ({', '.join(sorted(by_name))})")
    out = []
    for spec in inputs:
        mi = by_name[spec.name]
        dims = list(mi.shape)
        if len(dims) != len(spec.shape) or any(isinstance(d, int) and d > 0 and d != s
                                               for d, s in zip(dims, spec.shape, strict=False)):
            raise SetupError("onnxruntime.model", f"input '{spec.name}': shape "
                             f"{'x'.join(map(str, spec.shape))} does not fit the model's "
                             f"[{', '.join(map(str, dims))}]")
        out.append((spec.name, spec.shape, _ORT_DTYPES.get(mi.type, "float32")))
    return out
