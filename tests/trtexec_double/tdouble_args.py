"""Argument handling of the trtexec double: trtexec's ``--name=value`` parsing rules and option values.

Rules (reference §1): split each item at the first ``=``; a space-separated value is an unknown option; a
non-repeatable flag given twice leaves the extra copy over as an unknown option; booleans ignore values;
integers go through ``stoi`` and floats through ``stof`` (trailing junk ignored, no number = error).
"""

from __future__ import annotations

import re

from tdouble_log import reached

SHAPE_FLAGS = ("--minShapes", "--optShapes", "--maxShapes")
_INT = re.compile(r"\s*[+-]?\d+")
_FLOAT = re.compile(r"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|nan)", re.IGNORECASE)


class BadInput(Exception):
    """A value trtexec's parser rejects; the message is what trtexec prints after ``[E]``."""


def stoi(text: str) -> int:
    m = _INT.match(text)
    if not m:
        raise BadInput("stoi")
    return int(m.group(0))


def stof(text: str) -> float:
    m = _FLOAT.match(text)
    if not m:
        raise BadInput("stof")
    return float(m.group(0))


class Options:
    """Consumed options (name -> values in order) and the leftover items trtexec would reject."""

    def __init__(self, args: list[str], flags: dict[str, dict[str, str]]) -> None:
        items = [a.partition("=")[::2] for a in args]
        grouped = any(n == "--profile" for n, _ in items) and "--profile" in flags
        self.values: dict[str, list[str]] = {}
        leftover: list[tuple[str, str]] = []
        for name, value in items:
            name = "--help" if name == "-h" else name
            row = flags.get(name)
            repeatable = row is not None and (row["repeatable"] == "yes" or (grouped and name in SHAPE_FLAGS))
            if row is None or (name in self.values and not repeatable):
                leftover.append((name, value))
                continue
            self.values.setdefault(name, []).append(value)
        # trtexec keeps arguments in a std::multimap, so leftovers come out sorted by name.
        self.leftover = sorted(leftover, key=lambda kv: kv[0])

    def has(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default: str | None = None) -> str | None:
        vals = self.values.get(name)
        return vals[0] if vals else default

    def int(self, name: str, default: int) -> int:
        val = self.get(name)
        return default if val is None else stoi(val)

    def float(self, name: str, default: float) -> float:
        val = self.get(name)
        return default if val is None else stof(val)


def parse_shapes(spec: str | None) -> dict[str, list[int]]:
    """``name:AxBxC[,name:...]``; the name is everything before the last ``:`` (quotes stripped)."""
    out: dict[str, list[int]] = {}
    if not spec:
        return out
    for entry in spec.split(","):
        name, sep, dims = entry.rpartition(":")
        if not sep:
            raise BadInput(f"Invalid shape: {entry}")
        name = name.strip("'")
        try:
            out[name] = [int(d) for d in dims.split("x")] if dims and dims != "scalar" else []
        except ValueError as exc:
            raise BadInput(f"Invalid dimensions {dims} for input {name}") from exc
    return out


def dims_text(dims: list[int]) -> str:
    return "x".join(str(d) for d in dims)


_UNITS = {"B": 1.0, "K": 2.0**10, "M": 2.0**20, "G": 2.0**30}


def pool_size_mib(text: str, version: tuple[int, ...]) -> float:
    """Size of one ``--memPoolSize`` entry in MiB with the version's unit rules (reference §1.3)."""
    if not reached(version, (10, 0)):
        return stof(text)  # stod: suffix letters are ignored
    if not reached(version, (10, 1)):
        unit = text[-1:]
        if unit.isalpha():
            if unit not in _UNITS:
                raise BadInput(_unit_error(text, unit))
            return stof(text[:-1]) * _UNITS[unit]  # the 10.0 bug: the multiplier applies to MiB
        return stof(text)
    if text[-1:].isdigit() or text[-1:] == ".":
        text += "M"
    unit = text[-1]
    if unit not in _UNITS:
        raise BadInput(_unit_error(text, unit))
    return stof(text[:-1]) * _UNITS[unit] / 2.0**20


def _unit_error(text: str, unit: str) -> str:
    return (
        f"Error parsing \"{text}\": invalid unit specifier '{unit}'. Valid base-2 unit suffixes include: "
        "B (Bytes), G (Gibibytes), K (Kibibytes), M (Mebibytes). conversion failure: failed to parse "
        "--memPoolSize"
    )


def mem_pools(opts: Options, version: tuple[int, ...]) -> tuple[str, float | None]:
    """The ``Memory Pools:`` echo and the workspace size in MiB (None = default)."""
    pools = {
        "workspace": "default",
        "dlaSRAM": "default",
        "dlaLocalDRAM": "default",
        "dlaGlobalDRAM": "default",
    }
    if reached(version, (10, 0)):
        pools["tacticSharedMem"] = "default"
    workspace = None
    if opts.has("--workspace"):
        workspace = stof(opts.get("--workspace") or "")
    for entry in (opts.get("--memPoolSize") or "").split(","):
        if not entry:
            continue
        pool, _, size = entry.partition(":")
        if pool not in pools:
            raise BadInput(f"Unknown memory pool: {pool}")
        mib = pool_size_mib(size, version)
        if mib < 0:
            raise BadInput(f"Negative memory pool size: {mib}")
        pools[pool] = f"{mib:.6g} MiB"
        if pool == "workspace":
            workspace = mib
    if workspace is not None:
        pools["workspace"] = f"{workspace:.6g} MiB"
    return ", ".join(f"{k}: {v}" for k, v in pools.items()), workspace


def percentiles(opts: Options, version: tuple[int, ...]) -> list[float]:
    text = opts.get("--percentile")
    if text is None:
        return [90.0, 95.0, 99.0] if reached(version, (8, 5)) else [99.0]
    values = [stof(p) for p in text.split(",")] if reached(version, (8, 5)) else [stof(text)]
    for p in values:
        if not 0 <= p <= 100:
            raise BadInput(f"Percentile {p:f}is not in [0,100]")
    return values
