"""The environment gate of a comparison: what two run folders were measured on, compared first.

GPU model and TensorRT version are the *factors* a hardware or upgrade comparison is about: when they
differ the output says which one, and the ratios are what the user asked for. Anything else that differs
(driver, CUDA, GPU UUID on one GPU model, clocks, power limit, host) is a *caution*: a change the user did
not plan that may explain a difference. Read from ``env.json`` and ``meta.json``, falling back to what the
records say (imported logs have no env.json facts). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trtsweep.store import ResultSet

FACTORS = ("gpu", "tensorrt")
SAME, FACTOR, CAUTION, UNKNOWN = "same", "factor", "caution", "unknown"


@dataclass(frozen=True)
class EnvFactor:
    """One fact of the environment on both sides and how it compares."""

    name: str
    label: str
    a: str | None
    b: str | None
    status: str  # SAME, FACTOR (a difference the comparison is about), CAUTION, UNKNOWN (a side lacks it)


def _gpu0(rs: ResultSet) -> dict[str, Any]:
    gpus = rs.env.get("gpus") or (rs.meta.gpus if rs.meta else None) or []
    return gpus[0] if gpus and isinstance(gpus[0], dict) else {}


def _first_record(rs: ResultSet, attr: str) -> Any:
    for v in rs.variants:
        for rec in v.records:
            value = rec.device.name if attr == "device" else getattr(rec, attr, None)
            if value:
                return value
    return None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def env_facts(rs: ResultSet) -> dict[str, str | None]:
    """The facts of one run folder the gate compares, by name."""
    gpu = _gpu0(rs)
    trt_env = rs.env.get("trtexec")
    trt: dict[str, Any] = trt_env if isinstance(trt_env, dict) else {}
    clocks = None
    if gpu.get("max_sm_clock_mhz") is not None:
        clocks = f"max SM {gpu.get('max_sm_clock_mhz')} MHz, memory {gpu.get('max_memory_clock_mhz')} MHz"
    return {
        "gpu": _text(gpu.get("name") or _first_record(rs, "device")),
        "gpu_uuid": _text(gpu.get("uuid")),
        "driver": _text(rs.env.get("driver_version") or gpu.get("driver_version")),
        "cuda": _text(rs.env.get("cuda_version")),
        "tensorrt": _text(
            (rs.meta.trtexec_version if rs.meta else None)
            or trt.get("version")
            or _first_record(rs, "trt_version")
        ),
        "clocks": _text(clocks),
        "power_limit": _text(
            f"{gpu['power_limit_w']:g} W" if isinstance(gpu.get("power_limit_w"), int | float) else None
        ),
        "host": _text((rs.meta.host if rs.meta else None) or rs.env.get("host")),
    }


LABELS = {
    "gpu": "GPU",
    "gpu_uuid": "GPU UUID",
    "driver": "driver",
    "cuda": "CUDA",
    "tensorrt": "TensorRT",
    "clocks": "clocks",
    "power_limit": "power limit",
    "host": "host",
}


def compare_env(a: ResultSet, b: ResultSet) -> list[EnvFactor]:
    """Every fact of both sides, in LABELS order, with its status."""
    fa, fb = env_facts(a), env_facts(b)
    gpu_changed = fa["gpu"] and fb["gpu"] and fa["gpu"] != fb["gpu"]
    out = []
    for name, label in LABELS.items():
        va, vb = fa[name], fb[name]
        if va is None or vb is None:
            status = UNKNOWN if va != vb else SAME if va is not None else UNKNOWN
        elif va == vb:
            status = SAME
        elif name in FACTORS:
            status = FACTOR
        elif gpu_changed and name in ("gpu_uuid", "clocks", "power_limit", "host"):
            status = FACTOR  # another GPU model is another board: these differ with it
        else:
            status = CAUTION
        out.append(EnvFactor(name, label, va, vb, status))
    return out


def factors_text(env: list[EnvFactor]) -> str:
    """One sentence: what kind of comparison this is."""
    differ = [f.label for f in env if f.status == FACTOR and f.name in FACTORS]
    if not differ:
        return "same GPU model and TensorRT version"
    return (
        " and ".join(differ)
        + (" differ: a " if len(differ) > 1 else " differs: a ")
        + (
            "hardware"
            if "GPU" in differ and "TensorRT" not in differ
            else "TensorRT upgrade"
            if "GPU" not in differ
            else "hardware and TensorRT"
        )
        + " comparison; ratios are B/A"
    )


def cautions(env: list[EnvFactor]) -> list[str]:
    """One line per unplanned difference."""
    return [
        f"caution: {f.label} differs ({f.a} vs {f.b}); a change may come from it"
        for f in env
        if f.status == CAUTION
    ]
